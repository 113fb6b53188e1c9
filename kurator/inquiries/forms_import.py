"""Forms of the client-list import pages (S1): they parse input only; the engine (importing.py) decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kurator.access.scoping import curator_candidates
from kurator.companies import selectors
from kurator.companies.forms import CuratorChoiceField, SourceChoiceField
from kurator.companies.models import ContactSource
from kurator.inquiries import importing


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Client list"),
        # An empty file is the engine's to explain, in the same words as the API and the command.
        allow_empty_file=True,
        help_text=_(
            "CSV (UTF-8 or Windows-1251; semicolon, comma or tab) or XLSX; the first row holds headings."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    curator = CuratorChoiceField(
        queryset=curator_candidates(),
        label=_("Curator of the new companies"),
    )
    source = SourceChoiceField(
        queryset=ContactSource.objects.none(),
        required=False,
        label=_("Default contact source"),
        help_text=_("For rows that name no source or one the dictionary does not know."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.sources_in_tree_order(ContactSource.objects.filter(is_active=True))


def field_choices() -> list[tuple[str, Any]]:
    return [(importing.IGNORE, _("— ignore —")), *((f.code, f.label) for f in importing.FIELDS)]


class ImportMappingForm(forms.Form):
    """One select per column of the file: ``column_<index>`` → an import field or "ignore"."""

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        mapping: dict[int, str],
        sample: list[str] | None = None,
        disabled: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.sample = sample or []
        choices = field_choices()
        for index, heading in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=heading,
                choices=choices,
                initial=mapping.get(index, importing.IGNORE),
                disabled=disabled,  # an applied batch keeps the mapping it was applied with
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def columns(self) -> list[tuple[str, str, forms.BoundField]]:
        """(heading, the first row's value, the select) per column of the file."""
        return [
            (heading, self.sample[index] if index < len(self.sample) else "", self[f"column_{index}"])
            for index, heading in enumerate(self.headers)
        ]

    def mapping(self) -> dict[int, str]:
        return {index: self.cleaned_data[f"column_{index}"] for index in range(len(self.headers))}
