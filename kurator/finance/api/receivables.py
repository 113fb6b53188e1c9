"""API of invoices, payments with their allocations, the collection log and a client's receivables (D6).

Everyone in the department reads; finance and the head of sales write invoices and payments; the collection
log is written by them and the seller working with the client. Amounts are decimal strings. Serializers only
parse types; the services decide (400 naming the field, 403, 409 on a stale ``version``).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kurator.access.decorators import ensure
from kurator.access.scoping import access_company_by_id, visible_companies
from kurator.companies.api import MAX_ID, RelatedIdField, _id_filter
from kurator.core.api import ActorMixin, money_field, versioned_fields
from kurator.core.viewsets import RecordViewSet
from kurator.finance.models import (
    CollectionAction,
    CollectionKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.selectors import receivables as selectors
from kurator.finance.services import receivables as services

VIEW = "finance.view_invoice"
CHANGE_INVOICE = "finance.change_invoice"
CHANGE_PAYMENT = "finance.change_payment"
COLLECT = "finance.add_collection_action"


def _company(actor: Any, value: Any) -> Any:
    company = visible_companies(actor).filter(pk=value).first()
    if company is None:
        raise ValidationError({"company": [ValidationError(_("The company was not found."), code="invalid")]})
    return company


# Invoices -------------------------------------------------------------------------------------------------


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    contract = RelatedIdField(required=False, allow_null=True, help_text=_("A contract of the client."))
    order = RelatedIdField(required=False, allow_null=True, help_text=_("An order of the client."))
    number = serializers.CharField(max_length=50, help_text=_("Unique within the year of the invoice date."))
    issued_on = serializers.DateField()
    due_on = serializers.DateField(
        required=False,
        help_text=_("Defaults to the invoice date plus the contract's payment term (or the invoice date)."),
    )
    amount = money_field(_("Amount in roubles, more than zero."))
    paid = money_field(_("The sum allocated from payments."), read_only=True)
    balance = money_field(_("What is still owed: amount − paid."), read_only=True)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices, read_only=True)
    paid_on = serializers.DateField(
        read_only=True, allow_null=True, help_text=_("When the last kopeck came.")
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("On edit: the version you read. If someone saved the invoice since, 409."),
    )
    created_at = serializers.DateTimeField(read_only=True)


class InvoiceUpdateSerializer(InvoiceSerializer):
    company = RelatedIdField(read_only=True)
    number = serializers.CharField(max_length=50, required=False)
    issued_on = serializers.DateField(required=False)
    amount = money_field(_("Amount in roubles, not below what is paid."), required=False)


class InvoiceFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    status = django_filters.ChoiceFilter(
        choices=[*InvoiceStatus.choices, ("open", "open")],
        help_text=_("issued, partly_paid, paid, cancelled, or open (issued or partly paid)."),
    )
    overdue = django_filters.BooleanFilter(help_text=_("true: open and past the due date."))
    bucket = django_filters.ChoiceFilter(
        choices=[(key, key) for key in selectors.BUCKET_KEYS], help_text=_("Ageing bucket of open invoices.")
    )
    search = django_filters.CharFilter(max_length=50, help_text=_("Fragment of the invoice number."))

    class Meta:
        model = Invoice
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        data = dict(self.form.cleaned_data)
        return selectors.invoice_list(
            actor=self.request.user,
            company=data.get("company"),
            status=data.get("status") or None,
            overdue=data.get("overdue"),
            bucket=data.get("bucket") or None,
            q=data.get("search") or None,
        )


def _refuse(request: Request, fields: dict[str, Any], record: Any) -> None:
    """A field the client may not write is refused by name unless it repeats the current value."""
    data = request.data if hasattr(request.data, "get") else {}
    errors = {}
    for field, message in fields.items():
        if field in data and str(data.get(field)) != str(getattr(record, f"{field}_id", None)):
            errors[field] = [ValidationError(message, code="read_only")]
    if errors:
        raise ValidationError(errors)


class InvoiceViewSet(RecordViewSet):
    """Invoices (D6). Everyone in the department reads them; finance and the head of sales issue and correct
    them. ``paid``, ``balance``, ``status`` follow the payments allocated to them."""

    model = Invoice
    serializer_class = InvoiceSerializer
    update_serializer_class = InvoiceUpdateSerializer
    view_permission = VIEW
    change_permission = CHANGE_INVOICE
    # Unlike most records, creating and editing need the right to change invoices at the gate already.
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": CHANGE_INVOICE,
        "update": CHANGE_INVOICE,
        "partial_update": CHANGE_INVOICE,
    }
    filterset_class = InvoiceFilter

    def select_list(self) -> QuerySet[Invoice]:
        return selectors.invoice_list(actor=self.actor)

    def select_one(self, pk: Any) -> Invoice:
        return selectors.invoice_get(actor=self.actor, pk=pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = InvoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = _company(self.actor, data.pop("company"))
        invoice = services.invoice_create(actor=self.actor, company=company, **data)
        return self.answer(invoice, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        invoice = self.get_object()
        _refuse(request, {"company": _("The client of an invoice cannot change.")}, invoice)
        serializer = InvoiceUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        invoice = services.invoice_update(actor=self.actor, invoice=invoice, expected_version=version, **data)
        return self.answer(invoice)


# Payments -------------------------------------------------------------------------------------------------


class AllocationSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Id of the invoice."))
    amount = money_field(_("The part of the payment that settles the invoice."))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {"invoice": instance.invoice_id, "amount": f"{instance.amount:.2f}"}


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(
        allow_null=True, help_text=_("Id of the client company (null while awaiting review).")
    )
    paid_on = serializers.DateField()
    amount = money_field(_("Amount received in roubles, more than zero."))
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("Payment order number.")
    )
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    allocations = AllocationSerializer(
        many=True,
        required=False,
        help_text=_("Invoices of the client it settles; their sum is at most the amount."),
    )
    credit = money_field(_("What is not allocated: the client's credit (overpayment)."), read_only=True)
    source = serializers.ChoiceField(choices=PaymentSource.choices, read_only=True)  # type: ignore[assignment]  # a field, not Field.source
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["allocations"] = [
            {"invoice": a.invoice_id, "amount": f"{a.amount:.2f}"} for a in instance.allocations.all()
        ]
        return data


class PaymentFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    search = django_filters.CharFilter(max_length=100, help_text=_("Fragment of the reference or payer."))
    with_credit = django_filters.BooleanFilter(help_text=_("true: something is left unallocated."))

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        data = dict(self.form.cleaned_data)
        return selectors.payment_list(
            actor=self.request.user,
            company=data.get("company"),
            q=data.get("search") or None,
            with_credit=data.get("with_credit"),
        )


@extend_schema_view(create=extend_schema(request=PaymentSerializer, responses={201: PaymentSerializer}))
class PaymentViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Payments received (D6), each with its allocations to invoices; what is not allocated is the
    client's credit. Finance and the head of sales enter them."""

    serializer_class = PaymentSerializer
    permissions = {"list": VIEW, "retrieve": VIEW, "create": CHANGE_PAYMENT}
    filterset_class = PaymentFilter

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return selectors.payment_list(actor=self.actor)

    def get_object(self) -> Payment:
        payment = selectors.payment_get(actor=self.actor, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, payment)
        return payment

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = _company(self.actor, data.pop("company"))
        allocations = [(a["invoice"], a["amount"]) for a in data.pop("allocations", [])]
        payment = services.payment_create(actor=self.actor, company=company, allocations=allocations, **data)
        fresh = selectors.payment_get(actor=self.actor, pk=payment.pk)
        return Response(PaymentSerializer(fresh).data, status=status.HTTP_201_CREATED)


# Collection log -------------------------------------------------------------------------------------------


class CollectionActionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    invoice = RelatedIdField(required=False, allow_null=True, help_text=_("An invoice of the client."))
    kind = serializers.ChoiceField(choices=CollectionKind.choices)
    happened_on = serializers.DateField()
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    promised_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("Promised payment date (required for a promise).")
    )
    promised_amount = money_field(required=False, allow_null=True)
    promise_kept = serializers.BooleanField(
        read_only=True, allow_null=True, help_text=_("Null until the promised date is decided.")
    )
    author = RelatedIdField(read_only=True, help_text=_("Who did it."))
    created_at = serializers.DateTimeField(read_only=True)


class CollectionActionUpdateSerializer(CollectionActionSerializer):
    company = RelatedIdField(read_only=True)
    kind = serializers.ChoiceField(choices=CollectionKind.choices, required=False)
    happened_on = serializers.DateField(required=False)


class CollectionActionFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    invoice = _id_filter("invoice_id", _("Invoice id."))

    class Meta:
        model = CollectionAction
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[CollectionAction]) -> QuerySet[CollectionAction]:
        data = dict(self.form.cleaned_data)
        return selectors.collection_action_list(
            actor=self.request.user, company=data.get("company"), invoice=data.get("invoice")
        )


class CollectionActionViewSet(RecordViewSet):
    """The collection log (D6): calls, letters, claims, court, agreed schedules and promised payment
    dates, with who and the outcome. Finance, the head of sales and the seller working with the client
    write it."""

    model = CollectionAction
    serializer_class = CollectionActionSerializer
    update_serializer_class = CollectionActionUpdateSerializer
    view_permission = VIEW
    change_permission = COLLECT
    filterset_class = CollectionActionFilter

    def select_list(self) -> QuerySet[CollectionAction]:
        return selectors.collection_action_list(actor=self.actor)

    def select_one(self, pk: Any) -> CollectionAction:
        return selectors.collection_action_get(actor=self.actor, pk=pk)

    def policy_object(self, action: CollectionAction) -> Any:
        return action.company

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CollectionActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = _company(self.actor, data.pop("company"))
        ensure(self.actor, COLLECT, company)
        action = services.collection_action_create(actor=self.actor, company=company, **data)
        return self.answer(action, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        action = self.get_object()
        _refuse(request, {"company": _("The client of a collection action cannot change.")}, action)
        serializer = CollectionActionUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        action = services.collection_action_update(actor=self.actor, action=action, **data)
        return self.answer(action)


# A client's receivables ---------------------------------------------------------------------------------


class BucketsSerializer(serializers.Serializer):
    not_due = money_field(_("Not yet due (due today included)."))
    d1_30 = money_field(_("1–30 days overdue."))
    d31_60 = money_field(_("31–60 days overdue."))
    d61_90 = money_field(_("61–90 days overdue."))
    over_90 = money_field(_("Over 90 days overdue."))


class ReceivablesSerializer(serializers.Serializer):
    total = money_field(_("Balance of the open invoices."))
    overdue = money_field(_("Balance of the open invoices past their due date."))
    buckets = BucketsSerializer()
    credit = money_field(_("The client's payments not allocated to invoices (overpayment)."))


class CompanyReceivablesView(ActorMixin, APIView):
    """D6: what the client owes, aged by days overdue, and its credit."""

    permissions = {"get": VIEW}

    @extend_schema(responses={200: ReceivablesSerializer, 403: OpenApiResponse(), 404: OpenApiResponse()})
    def get(self, request: Request, pk: int) -> Response:
        company = access_company_by_id(self.actor, pk)
        return Response(ReceivablesSerializer(selectors.company_receivables(company=company)).data)


# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = [
    ("invoices", InvoiceViewSet, "invoice"),
    ("payments", PaymentViewSet, "payment"),
    ("collection-actions", CollectionActionViewSet, "collection-action"),
]
PATHS: list[URLPattern] = [
    path("companies/<int:pk>/receivables/", CompanyReceivablesView.as_view(), name="company-receivables"),
]
