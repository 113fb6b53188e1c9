"""The client's financial statements by year (D4); ratios and the rating are computed from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped
from kurator.finance.models.common import money_field


class StatementSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Imported")


class FinancialStatement(TimeStamped):
    """Indicators of one year, in roubles. Profit and equity may be negative; a missing figure is empty."""

    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="financial_statements",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    revenue = money_field(_("revenue"), null=True, blank=True)
    net_profit = money_field(_("net profit"), null=True, blank=True)
    total_assets = money_field(_("assets"), null=True, blank=True)
    equity = money_field(_("equity"), null=True, blank=True)
    liabilities = money_field(_("liabilities"), null=True, blank=True)
    current_assets = money_field(_("current assets"), null=True, blank=True)
    current_liabilities = money_field(_("current liabilities"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=StatementSource.choices, default=StatementSource.MANUAL
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("financial statement")
        verbose_name_plural = _("financial statements")
        ordering = ["company", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "year"],
                name="statement_unique_year",
                violation_error_message=_("The statements of this year are already entered."),
            ),
            models.CheckConstraint(condition=Q(year__gte=1990, year__lte=2100), name="statement_year_range"),
            models.CheckConstraint(
                condition=Q(source__in=[c.value for c in StatementSource]), name="statement_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)
