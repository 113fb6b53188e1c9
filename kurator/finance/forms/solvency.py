"""Forms of the solvency section (D4): a year's statement and the statements file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kurator.core.forms import MoneyField
from kurator.finance.services.solvency import FIGURES, IMPORT_MAX_BYTES, YEAR_MAX, YEAR_MIN


class StatementForm(forms.Form):
    """Figures in roubles; an empty figure is unknown. The service checks signs, the year and uniqueness."""

    year = forms.IntegerField(label=_("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX)
    revenue = MoneyField(label=_("Revenue"), required=False)
    net_profit = MoneyField(label=_("Net profit"), required=False, help_text=_("A loss with a minus."))
    total_assets = MoneyField(label=_("Total assets"), required=False)
    equity = MoneyField(label=_("Equity"), required=False, help_text=_("May be negative."))
    liabilities = MoneyField(label=_("Liabilities"), required=False)
    current_assets = MoneyField(label=_("Current assets"), required=False)
    current_liabilities = MoneyField(label=_("Current liabilities"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("year", *FIGURES)}


class StatementImportForm(forms.Form):
    file = forms.FileField(
        label=_("Statements file"),
        help_text=_(
            "CSV (UTF-8 or Windows-1251, “;” or “,”) or XLSX: a row per year with the columns Год, Выручка, "
            "Чистая прибыль, Активы, Капитал, Обязательства, Оборотные активы, Краткосрочные обязательства "
            "(or year, revenue, net_profit, total_assets, equity, liabilities, current_assets, "
            "current_liabilities). A year already entered is updated."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large for a statements file (at most 1 MB)."), code="too_large"
            )
        return upload
