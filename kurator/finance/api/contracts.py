"""API of contracts and their obligations (D5): ``/api/v1/contracts/`` and ``/api/v1/obligations/``.

Serializers only parse types; every rule (numbers, amounts, dates in order, who may write, versions) lives in
kurator.finance.services.contracts, whose errors reach the client through kurator.core.api.exception_handler:
400 names the field, 403 for who may not, 404, 409 for a stale ``version``. No deletion: a contract's and an
obligation's history is kept.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.scoping import visible_companies
from kurator.companies.api import MAX_ID, RelatedIdField, _id_filter
from kurator.core.api import money_field, versioned_fields
from kurator.core.viewsets import RecordViewSet
from kurator.finance.models import Contract, ContractStatus, Obligation, ObligationParty
from kurator.finance.selectors import contracts as selectors
from kurator.finance.services import contracts as services

VIEW = "finance.view_contract"
CHANGE = "finance.change_contract"


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_(
            "On edit: the version you read. If someone saved the record since, the edit is refused (409)."
        ),
    )


def _not_found(field: str, message: Any) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code="invalid_choice")]})


# Contracts ------------------------------------------------------------------------------------------------


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    deal = RelatedIdField(required=False, allow_null=True, help_text=_("Id of a deal of the same client."))
    number = serializers.CharField(max_length=100, help_text=_("Unique per client."))
    subject = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ContractStatus.choices, required=False)
    amount = money_field(
        required=False, allow_null=True, help_text=_("Amount in roubles, greater than zero.")
    )
    signed_on = serializers.DateField(required=False, allow_null=True)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    execution_planned_on = serializers.DateField(required=False, allow_null=True)
    executed_on = serializers.DateField(required=False, allow_null=True)
    terminated_on = serializers.DateField(required=False, allow_null=True)
    payment_term_days = serializers.IntegerField(
        required=False, min_value=0, max_value=365, help_text=_("Days from an invoice to its due date.")
    )
    prepayment_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, required=False, min_value=0, max_value=100
    )
    delivery_terms = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    version = _version_field()
    overdue_obligations = serializers.IntegerField(
        read_only=True, help_text=_("Obligations of either side not done and due before today.")
    )


class ContractUpdateSerializer(ContractSerializer):
    company = RelatedIdField(read_only=True)
    number = serializers.CharField(max_length=100, required=False)


class ContractFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    deal = _id_filter("deal_id", _("Deal id."))
    status = django_filters.ChoiceFilter(choices=ContractStatus.choices)

    class Meta:
        model = Contract
        fields: list[str] = []


class ContractViewSet(RecordViewSet):
    """Contracts with clients (D5). Every member reads them (R3); the client's curator, the owners of its
    deals and the head of sales keep them."""

    model = Contract
    serializer_class = ContractSerializer
    update_serializer_class = ContractUpdateSerializer
    view_permission = VIEW
    change_permission = CHANGE
    filterset_class = ContractFilter

    def select_list(self) -> QuerySet[Contract]:
        return selectors.contract_list(actor=self.actor)

    def select_one(self, pk: Any) -> Contract:
        return selectors.contract_get(actor=self.actor, contract_id=pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ContractSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = visible_companies(self.actor).filter(pk=data.pop("company")).first()
        if company is None:
            raise _not_found("company", _("The company was not found."))
        contract = services.contract_create(actor=self.actor, company=company, **data)
        return self.answer(contract, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        contract = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        if "company" in body and str(body.get("company")) != str(contract.company_id):
            raise ValidationError(
                {"company": [ValidationError(_("The client of a contract cannot change."), code="read_only")]}
            )
        serializer = ContractUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        contract = services.contract_update(
            actor=self.actor, contract=contract, expected_version=version, **data
        )
        return self.answer(contract)


# Obligations ----------------------------------------------------------------------------------------------


class ObligationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    contract = RelatedIdField(help_text=_("Id of the contract; it cannot change."))
    party = serializers.ChoiceField(choices=ObligationParty.choices, help_text=_("Whose obligation it is."))
    description = serializers.CharField(max_length=500, help_text=_("What is to be done."))
    due_on = serializers.DateField()
    done_on = serializers.DateField(required=False, allow_null=True, help_text=_("Empty while not done."))
    responsible = RelatedIdField(
        required=False, allow_null=True, help_text=_("User id of who answers for it.")
    )
    overdue = serializers.SerializerMethodField(help_text=_("Not done and due before today."))
    version = _version_field()

    def get_overdue(self, obligation: Obligation) -> bool:
        today = self.context.get("today") or timezone.localdate()
        return obligation.done_on is None and obligation.due_on < today


class ObligationUpdateSerializer(ObligationSerializer):
    contract = RelatedIdField(read_only=True)
    party = serializers.ChoiceField(choices=ObligationParty.choices, required=False)
    description = serializers.CharField(max_length=500, required=False)
    due_on = serializers.DateField(required=False)


class ObligationFilter(django_filters.FilterSet):
    contract = _id_filter("contract_id", _("Contract id."))
    company = _id_filter("contract__company_id", _("Client company id."))
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text=_("Only the overdue ones."))

    class Meta:
        model = Obligation
        fields: list[str] = []

    def filter_overdue(
        self, queryset: QuerySet[Obligation], name: str, value: bool | None
    ) -> QuerySet[Obligation]:
        if value is None:
            return queryset
        return queryset.filter(selectors.overdue()) if value else queryset.exclude(selectors.overdue())


class ObligationViewSet(RecordViewSet):
    """The obligations of both sides under contracts (D5); ``overdue`` flags ours as the client's."""

    model = Obligation
    serializer_class = ObligationSerializer
    update_serializer_class = ObligationUpdateSerializer
    view_permission = VIEW
    change_permission = CHANGE
    filterset_class = ObligationFilter

    def select_list(self) -> QuerySet[Obligation]:
        return selectors.obligation_list(actor=self.actor)

    def select_one(self, pk: Any) -> Obligation:
        return selectors.obligation_get(actor=self.actor, obligation_id=pk)

    def policy_object(self, obligation: Obligation) -> Contract:
        return obligation.contract

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ObligationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        contract = selectors.visible_contracts(self.actor).filter(pk=data.pop("contract")).first()
        if contract is None:
            raise _not_found("contract", _("The contract was not found."))
        obligation = services.obligation_create(actor=self.actor, contract=contract, **data)
        return self.answer(obligation, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        obligation = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        if "contract" in body and str(body.get("contract")) != str(obligation.contract_id):
            raise ValidationError(
                {
                    "contract": [
                        ValidationError(_("An obligation cannot move to another contract."), code="read_only")
                    ]
                }
            )
        serializer = ObligationUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        obligation = services.obligation_update(
            actor=self.actor, obligation=obligation, expected_version=version, **data
        )
        return self.answer(obligation)


ROUTES: list[tuple[str, Any, str]] = [
    ("contracts", ContractViewSet, "contract"),
    ("obligations", ObligationViewSet, "obligation"),
]
PATHS: list[URLPattern] = []
