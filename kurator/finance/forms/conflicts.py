"""Forms of the conflict pages (D7). They only parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.widgets import UserChoiceField, date_widget
from kurator.finance.models import Conflict, ConflictSeverity, ConflictStatus, Contract, Invoice
from kurator.sales.models import Deal


class UsersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


class ConflictForm(forms.Form):
    """A new conflict or an edit of one; the version it was loaded at travels with it."""

    occurred_on = forms.DateField(label=_("Date"), required=False, widget=date_widget())
    title = forms.CharField(label=_("In short"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=ConflictSeverity.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ConflictStatus.choices)
    our_people = UsersField(
        label=_("Our people involved"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    client_people = forms.ModelMultipleChoiceField(
        label=_("The client's people involved"),
        queryset=Company.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none(), required=False)
    invoice = forms.ModelChoiceField(label=_("Invoice"), queryset=Invoice.objects.none(), required=False)
    resolution = forms.CharField(
        label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    resolved_on = forms.DateField(label=_("Resolved on"), required=False, widget=date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, company: Company, conflict: Conflict | None = None) -> None:
        initial: dict[str, Any] = {"severity": ConflictSeverity.MEDIUM, "status": ConflictStatus.OPEN}
        if conflict is not None:
            initial = {
                name: getattr(conflict, name)
                for name in (
                    "occurred_on",
                    "title",
                    "description",
                    "severity",
                    "status",
                    "resolution",
                    "resolved_on",
                    "version",
                )
            }
            initial.update(
                deal=conflict.deal_id,
                contract=conflict.contract_id,
                invoice=conflict.invoice_id,
                our_people=[u.pk for u in conflict.our_people.all()],
                client_people=[c.pk for c in conflict.client_people.all()],
            )
        super().__init__(data, initial=initial)
        users = User.objects.filter(is_active=True)
        if conflict is not None:
            users = User.objects.filter(pk__in=[u.pk for u in conflict.our_people.all()]) | users
        self.fields["our_people"].queryset = users.distinct().order_by("last_name", "first_name")  # type: ignore[attr-defined]
        self.fields["client_people"].queryset = company.contacts.order_by("full_name")  # type: ignore[attr-defined]
        self.fields["client_people"].label_from_instance = lambda c: str(c)  # type: ignore[attr-defined]
        self.fields["deal"].queryset = Deal.objects.filter(company=company).order_by("-created_at")  # type: ignore[attr-defined]
        self.fields["deal"].label_from_instance = lambda d: d.title  # type: ignore[attr-defined]
        contracts = Contract.objects.filter(company=company).order_by("-signed_on", "-id")
        invoices = Invoice.objects.filter(company=company).order_by("-issued_on", "-id")
        self.fields["contract"].queryset = contracts  # type: ignore[attr-defined]
        self.fields["invoice"].queryset = invoices  # type: ignore[attr-defined]
        if conflict is None:
            del self.fields["version"]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["our_people"] = list(data.get("our_people") or [])
        data["client_people"] = list(data.get("client_people") or [])
        return data


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("How it was resolved"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    resolved_on = forms.DateField(label=_("Resolved on"), required=False, widget=date_widget())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


__all__ = ["ConflictForm", "ResolveForm", "UserChoiceField"]
