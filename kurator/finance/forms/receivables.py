"""Forms of the receivables pages (D6). They only parse input; the services decide and their errors are shown
next to the fields (``kurator.core.forms.apply_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.core.forms import MoneyField
from kurator.core.widgets import date_widget
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    PURCHASE_STATUSES,
    CollectionKind,
    Contract,
    Invoice,
    InvoiceStatus,
    Order,
)
from kurator.finance.selectors.receivables import BUCKETS


class InvoiceForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=50, required=False)
    issued_on = forms.DateField(label=_("Invoice date"), required=False, widget=date_widget())
    due_on = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=date_widget(),
        help_text=_("Empty: the invoice date plus the contract's payment term."),
    )
    amount = MoneyField(label=_("Amount, ₽"), required=False)
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none(), required=False)
    order = forms.ModelChoiceField(
        label=pgettext_lazy("sales order", "Order"), queryset=Order.objects.none(), required=False
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, company: Any, invoice: Invoice | None = None) -> None:
        initial: dict[str, Any] = {}
        if invoice is not None:
            initial = {
                "number": invoice.number,
                "issued_on": invoice.issued_on,
                "due_on": invoice.due_on,
                "amount": invoice.amount,
                "contract": invoice.contract_id,
                "order": invoice.order_id,
                "notes": invoice.notes,
                "version": invoice.version,
            }
        super().__init__(data, initial=initial)
        contract_field: Any = self.fields["contract"]
        contract_field.queryset = Contract.objects.filter(company=company).order_by("-signed_on", "-id")
        order_field: Any = self.fields["order"]
        # Only a purchase is invoiced (not a draft or a cancelled order); the order an invoice already names
        # stays on the list.
        purchases = Q(status__in=PURCHASE_STATUSES)
        if invoice is not None and invoice.order_id is not None:
            purchases |= Q(pk=invoice.order_id)
        order_field.queryset = Order.objects.filter(purchases, company=company).order_by("-ordered_on", "-id")


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the invoice cancelled?"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PaymentForm(forms.Form):
    """A payment with one amount field per open invoice of the client (``alloc_<invoice id>``)."""

    paid_on = forms.DateField(label=_("Payment date"), required=False, widget=date_widget())
    amount = MoneyField(label=_("Amount, ₽"), required=False)
    reference = forms.CharField(label=_("Reference (payment order no.)"), max_length=100, required=False)
    purpose = forms.CharField(
        label=_("Payment purpose"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any = None, *, invoices: list[Invoice]) -> None:
        super().__init__(data)
        self.invoices = invoices
        # Problems of the allocation as a whole (more than the payment, …), shown above the table.
        self.allocation_errors: list[str] = []
        for invoice in invoices:
            self.fields[f"alloc_{invoice.pk}"] = MoneyField(label=invoice.number, required=False)

    def allocation_rows(self) -> list[tuple[Invoice, Any]]:
        return [(invoice, self[f"alloc_{invoice.pk}"]) for invoice in self.invoices]

    def value_for(self, field: str) -> Any:
        """The parsed value, or what was typed when the form could not parse it (the service then names the
        problem too); call after ``is_valid()``."""
        if field in self.cleaned_data:
            return self.cleaned_data[field]
        return self[field].value()

    def allocations(self) -> list[tuple[Invoice, Any]]:
        given = [(invoice, self.value_for(f"alloc_{invoice.pk}")) for invoice in self.invoices]
        return [(invoice, value) for invoice, value in given if value not in (None, "")]


class AllocateForm(forms.Form):
    invoice = forms.ModelChoiceField(label=_("Invoice"), queryset=Invoice.objects.none(), required=True)
    amount = MoneyField(label=_("Amount, ₽"), required=False)

    def __init__(self, data: Any = None, *, invoices: list[Invoice]) -> None:
        super().__init__(data)
        field: Any = self.fields["invoice"]
        field.queryset = Invoice.objects.filter(pk__in=[i.pk for i in invoices])
        field.label_from_instance = lambda invoice: f"{invoice.number} — {invoice.balance}"


class CollectionActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was done"), choices=CollectionKind.choices)
    happened_on = forms.DateField(label=_("Date"), required=False, widget=date_widget())
    invoice = forms.ModelChoiceField(label=_("Invoice"), queryset=Invoice.objects.none(), required=False)
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    promised_on = forms.DateField(label=_("Promised payment date"), required=False, widget=date_widget())
    promised_amount = MoneyField(label=_("Promised amount, ₽"), required=False)

    def __init__(self, data: Any = None, *, company: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        field: Any = self.fields["invoice"]
        # Collection work is about what is still owed: the open invoices, not the client's whole history
        # (hundreds of options made a busy client's tab slow and the list useless).
        field.queryset = Invoice.objects.filter(company=company, status__in=OPEN_INVOICE_STATUSES).order_by(
            "due_on", "id"
        )


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Number"), required=False, max_length=50)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", pgettext_lazy("invoices", "Open")), *InvoiceStatus.choices],
    )
    bucket = forms.ChoiceField(
        label=_("Ageing"), required=False, choices=[("", _("Any")), *[(b.key, b.label) for b in BUCKETS]]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    # Keys are 64-bit: a larger id is invalid here rather than an overflow in the database (SQLite).
    company = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1)
