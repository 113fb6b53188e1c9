from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    SENIOR_MANAGER = "senior_manager", _("Senior manager (key accounts)")
    HEAD_OF_SALES = "head_of_sales", _("Head of sales")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A member of the department. What a role may do is decided in kurator.access, never here."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.MANAGER)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in Role]), name="user_role_valid"
            )
        ]

    @property
    def full_name(self) -> str:
        parts = [self.last_name, self.first_name, self.patronymic]
        name = " ".join(p for p in parts if p)
        return name or self.username

    @property
    def short_name(self) -> str:
        """Surname and initials, as Russian offices write names in tight places: «Петров А. В.»."""
        if not self.last_name:
            return self.full_name
        initials = " ".join(f"{name[0]}." for name in (self.first_name, self.patronymic) if name)
        return f"{self.last_name} {initials}".strip()

    def __str__(self) -> str:
        return self.full_name
