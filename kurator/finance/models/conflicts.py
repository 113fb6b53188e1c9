"""The register of conflict situations with a client (D7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped


class ConflictSeverity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ConflictStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("conflict", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("conflict", "Being resolved")
    RESOLVED = "resolved", pgettext_lazy("conflict", "Resolved")


# Conflicts shown on the dossier header.
OPEN_CONFLICT_STATUSES = (ConflictStatus.OPEN, ConflictStatus.IN_PROGRESS)


class Conflict(TimeStamped):
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="conflicts"
    )
    occurred_on = models.DateField(_("date"))
    title = models.CharField(_("in short"), max_length=300)
    description = models.TextField(_("description"))
    severity = models.CharField(
        _("severity"), max_length=16, choices=ConflictSeverity.choices, default=ConflictSeverity.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    our_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("our people involved"), blank=True, related_name="+"
    )
    client_people = models.ManyToManyField(
        "companies.Contact",
        verbose_name=_("the client's people involved"),
        blank=True,
        related_name="conflicts",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conflicts",
    )
    contract = models.ForeignKey(
        "finance.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conflicts",
    )
    invoice = models.ForeignKey(
        "finance.Invoice",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conflicts",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at", "version"], m2m_fields=[our_people, client_people]
    )

    class Meta:
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=[c.value for c in ConflictSeverity]), name="conflict_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in ConflictStatus]), name="conflict_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_on__isnull=False),
                name="conflict_resolved_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["company"], condition=Q(status__in=["open", "in_progress"]), name="conflict_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title
