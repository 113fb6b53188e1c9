"""Forms of the bank page (D6): they parse input only; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Bank statement"),
        # An empty or malformed file is the parser's to explain, with the line.
        allow_empty_file=True,
        help_text=_(
            "The 1C exchange file (1CClientBankExchange, usually kl_to_1c.txt) exported by the bank's "
            "client or by 1C."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".txt"}),
    )


class ResolveForm(forms.Form):
    """The client chosen for a queued payment, and optionally which of its open invoices it pays."""

    company = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    invoices = forms.TypedMultipleChoiceField(
        label=_("Invoices it pays"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the oldest open invoices first. What is left stays the client's credit."),
    )
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: object, invoice_choices: list[tuple[int, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["invoices"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = invoice_choices or []


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why this is not a client payment"),
        max_length=500,
        help_text=_("A refund, a transfer between our own accounts, a loan…"),
    )
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
