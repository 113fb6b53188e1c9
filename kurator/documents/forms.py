"""Forms of the document pages: they only parse input; kurator.documents.services decides what is accepted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.documents.models import DocumentSection

ACCEPT = (
    ".pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.odg,.rtf,.png,.jpg,.jpeg,.gif,.webp,.tif,.tiff,"
    "application/pdf,image/*"
)


def _file_field() -> forms.FileField:
    # Empty files reach the service, which says why it refuses them (with the other field errors).
    return forms.FileField(
        label=_("File"),
        allow_empty_file=True,
        help_text=_("PDF, office documents or images; the type is checked by the content."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )


def _choice(label: Any, records: list[Any], text: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((record.pk, text(record)) for record in records)],
    )


class UploadForm(forms.Form):
    """Upload a document to the dossier; the links offer the client's own contracts, deals and conflicts. The
    cards of a contract, deal or conflict page send the same form with the link as a hidden field."""

    section = forms.ChoiceField(label=pgettext_lazy("document", "Section"), choices=DocumentSection.choices)
    file = _file_field()
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
    # Where to go back to: the contract, deal or conflict page whose card the form was sent from.
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        contracts: list[Any] | None = None,
        deals: list[Any] | None = None,
        conflicts: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"] = _choice(_("Contract"), contracts or [], lambda c: c.number)
        self.fields["deal"] = _choice(_("Deal"), deals or [], lambda d: d.title)
        self.fields["conflict"] = _choice(_("Conflict"), conflicts or [], lambda c: c.title)

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "section": data["section"],
            "file": data["file"],
            "contract": data.get("contract"),
            "deal": data.get("deal"),
            "conflict": data.get("conflict"),
            "comment": data.get("comment") or "",
        }


class VersionForm(forms.Form):
    file = _file_field()
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)


class TrashForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Why the document goes to the trash; the head of sales can restore it."),
    )
