from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TimeStamped(models.Model):
    """created/updated stamps every domain record carries."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class DictionaryItem(TimeStamped):
    """An entry of a dictionary the head of sales edits (sources, spheres, delivery methods, …)."""

    name = models.CharField(pgettext_lazy("dictionary entry", "name"), max_length=200)
    position = models.PositiveIntegerField(pgettext_lazy("order in lists", "position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
