"""Forms of the contract pages (D5). They only parse input; the services decide and their errors are shown
next to the fields (``kurator.core.forms.apply_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.forms import MoneyField
from kurator.core.widgets import UserChoiceField, date_widget
from kurator.finance.models import Contract, ContractStatus, Obligation, ObligationParty
from kurator.finance.services.contracts import CONTRACT_FIELDS
from kurator.sales.models import Deal


class ContractForm(forms.Form):
    """A new contract or an edit of one; the version it was loaded at travels with it (a colleague's change
    in between is an edit conflict, not a silent overwrite)."""

    number = forms.CharField(label=_("Number"), max_length=100, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ContractStatus.choices, required=False)
    amount = MoneyField(label=_("Amount, ₽"), required=False)
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=date_widget())
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=date_widget())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=date_widget())
    execution_planned_on = forms.DateField(
        label=_("Execution planned on"), required=False, widget=date_widget()
    )
    executed_on = forms.DateField(label=_("Executed on"), required=False, widget=date_widget())
    terminated_on = forms.DateField(label=_("Terminated on"), required=False, widget=date_widget())
    payment_term_days = forms.IntegerField(label=_("Payment term, days"), required=False)
    prepayment_percent = forms.DecimalField(
        label=_("Prepayment, %"), required=False, max_digits=6, decimal_places=2, localize=True
    )
    delivery_terms = forms.CharField(
        label=_("Delivery terms"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, data: Any = None, *, company: Company, contract: Contract | None = None, initial: Any = None
    ) -> None:
        values: dict[str, Any] = dict(initial or {})
        if contract is not None:
            # The deal is chosen by id below; every other field the service takes is shown as it is now.
            fields = (*(name for name in CONTRACT_FIELDS if name != "deal"), "version")
            values = {name: getattr(contract, name) for name in fields}
            values["deal"] = contract.deal_id
        super().__init__(data, initial=values)
        self.fields["deal"].queryset = Deal.objects.filter(company=company).order_by("-created_at")  # type: ignore[attr-defined]
        self.fields["deal"].label_from_instance = lambda d: d.title  # type: ignore[attr-defined]
        self.fields["payment_term_days"].help_text = _(
            "Days from an invoice to its due date (0 to 365); invoices under the contract take it."
        )
        if contract is None:
            del self.fields["version"]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class ObligationForm(forms.Form):
    """An obligation under a contract: whose, what, by when, who answers for it."""

    party = forms.ChoiceField(label=_("Whose"), choices=ObligationParty.choices)
    description = forms.CharField(label=_("What"), max_length=500, required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=date_widget())
    responsible = UserChoiceField(label=_("Responsible"), queryset=User.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, obligation: Obligation | None = None, prefix: Any = None) -> None:
        initial: dict[str, Any] = {"party": ObligationParty.OURS}
        if obligation is not None:
            initial = {
                "party": obligation.party,
                "description": obligation.description,
                "due_on": obligation.due_on,
                "responsible": obligation.responsible_id,
                "version": obligation.version,
            }
        super().__init__(data, initial=initial, prefix=prefix)
        people = User.objects.filter(is_active=True)
        if obligation is not None and obligation.responsible_id:
            people = people | User.objects.filter(pk=obligation.responsible_id)
        self.fields["responsible"].queryset = people.distinct().order_by("last_name", "first_name")  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class DoneForm(forms.Form):
    """Mark an obligation done (today unless another day is given)."""

    done_on = forms.DateField(label=_("Done on"), required=False, widget=date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StatusForm(forms.Form):
    """Move a contract to another status; the date of the step (signing, execution, termination) is today
    unless given."""

    status = forms.ChoiceField(label=_("New status"), choices=ContractStatus.choices)
    on = forms.DateField(label=_("On"), required=False, widget=date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
