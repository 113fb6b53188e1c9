"""Public API of the client dossier (D1, D2, D9, D10, D11; R2, R3, R4).

Serializers here only parse types; every rule (requisite checksums, who may edit, curator changes, edit
conflicts) lives in the services, whose errors reach the client through kurator.core.api.exception_handler.
Reads go through the selectors, which start from the actor's visible set.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.scoping import (
    access_bank_account_by_id,
    access_company_by_id,
    access_contact_by_id,
    visible_companies,
)
from kurator.accounts.models import User
from kurator.companies import services
from kurator.companies.dossier import checklist_status, missing_items
from kurator.companies.models import (
    BankAccount,
    Company,
    CompanyStatus,
    Contact,
    DecisionRole,
    LegalForm,
)
from kurator.companies.selectors import (
    SORTS,
    bank_account_list,
    company_get,
    company_history,
    company_list,
    contact_list,
)

# Keys are 64-bit on both engines; bounding them keeps absurd ids a 400/404 instead of a database error.
MAX_ID = 2**63 - 1

VIEW = "companies.view_company"
EDIT_RECORDS = "companies.change_company_records"


# Fields ---------------------------------------------------------------------------------------------------


class RelatedIdField(serializers.IntegerField):
    """A relation as its primary key, read from ``<name>_id`` so that no related row is loaded.

    On write the key is handed to the service, which resolves it and names the field if it is wrong."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return getattr(instance, f"{self.source!s}_id")


class RelatedIdsField(serializers.ListField):
    """A many-to-many relation as a list of primary keys (prefetched by the list endpoints)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return [item.pk for item in getattr(instance, str(self.source)).all()]


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=max_length, **kwargs)


def _strings(max_length: int, help_text: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=max_length), required=False, max_length=50, help_text=help_text
    )


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _id_filter(field_name: str, help_text: Any) -> IntegerFilter:
    return IntegerFilter(field_name=field_name, min_value=1, max_value=MAX_ID, help_text=help_text)


class ActorMixin:
    @property
    def actor(self) -> User:
        # PolicyPermission has let only members in by the time a handler runs.
        return cast(User, self.request.user)  # type: ignore[attr-defined]


# History --------------------------------------------------------------------------------------------------


class HistoryUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    # Values are shown as people read them (names of related records, labels of choices).
    old = serializers.CharField()
    new = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    user = HistoryUserSerializer(allow_null=True)
    object_type = serializers.CharField()
    object_label = serializers.CharField()
    object_id = serializers.IntegerField()
    action = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeSerializer(many=True)


# Companies ------------------------------------------------------------------------------------------------


class CompanySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(max_length=500, help_text=_("Full legal name."))
    short_name = _text(255, help_text=_("Short name; the full name is used when empty."))
    legal_form = serializers.ChoiceField(choices=LegalForm.choices, required=False, allow_blank=True)
    inn = _text(40, help_text=_("INN: 10 digits for an organisation, 12 for a sole trader."))
    kpp = _text(40, help_text=_("KPP: 9 characters; empty for a sole trader."))
    ogrn = _text(40, help_text=_("OGRN (13 digits) or OGRNIP (15 digits)."))
    legal_address = _text(2000)
    actual_address = _text(2000)
    city = _text(120)
    phones = _strings(64, _("Phone numbers in any usual spelling; stored in E.164."))
    emails = _strings(254, _("E-mail addresses."))
    website = _text(300)
    founded_on = serializers.DateField(required=False, allow_null=True, help_text=_("Founding date."))
    status = serializers.ChoiceField(choices=CompanyStatus.choices, required=False)
    curator = RelatedIdField(
        required=False,
        help_text=_("User id of the curator. Defaults to the creator; only the head of sales changes it."),
    )
    source = RelatedIdField(  # type: ignore[assignment]  # a field, not Field.source
        required=False, allow_null=True, help_text=_("Contact source id.")
    )
    referred_by = RelatedIdField(
        required=False, allow_null=True, help_text=_("Id of the recommending client.")
    )
    application_sphere = RelatedIdField(required=False, allow_null=True)
    delivery_method = RelatedIdField(required=False, allow_null=True)
    sales_technology = RelatedIdField(required=False, allow_null=True)
    product_categories = RelatedIdsField(required=False, max_length=500)
    completeness = serializers.IntegerField(
        read_only=True, help_text=_("Share of the dossier checklist filled, %.")
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_(
            "On edit: the version you read. If someone saved the company since, the edit is refused with 409."
        ),
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=_("Why the change was made (kept in the history, e.g. for a curator change)."),
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class MissingItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class CompanyDetailSerializer(CompanySerializer):
    missing = serializers.SerializerMethodField(help_text=_("Checklist items the dossier still lacks."))

    @extend_schema_field(MissingItemSerializer(many=True))
    def get_missing(self, company: Company) -> list[dict[str, str]]:
        # Uses the prefetched people and accounts of company_get; after a write it reads them afresh.
        status_ = checklist_status(
            company,
            list(company.contacts.all()),
            bool(company.bank_accounts.all()),
            bool(company.product_categories.all()),
        )
        return [{"code": item.code, "label": str(item.label)} for item in missing_items(status_)]


class CompanyFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(help_text=_("Name fragment, INN, phone or e-mail (case-insensitive)."))
    curator = _id_filter("curator_id", _("Curator's user id."))
    status = django_filters.ChoiceFilter(choices=CompanyStatus.choices)
    source = _id_filter("source_id", _("Contact source id."))
    city = django_filters.CharFilter(max_length=120)
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in SORTS], help_text=_("Sort order; a leading minus reverses it.")
    )

    class Meta:
        model = Company
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Company]) -> QuerySet[Company]:
        # The selector owns search, filters and sorting, so the page, the API and the bench agree.
        data = self.form.cleaned_data
        return company_list(
            actor=self.request.user,
            search=data.get("search") or "",
            curator=data.get("curator"),
            status=data.get("status") or "",
            source=data.get("source"),
            city=data.get("city") or "",
            sort=data.get("ordering") or "name",
        )


def _service_fields(serializer: serializers.BaseSerializer[Any]) -> tuple[dict[str, Any], int | None, str]:
    data = dict(serializer.validated_data)
    return data, data.pop("version", None), data.pop("reason", "")


@extend_schema_view(
    create=extend_schema(request=CompanySerializer, responses={201: CompanyDetailSerializer}),
    update=extend_schema(request=CompanySerializer, responses=CompanyDetailSerializer),
    partial_update=extend_schema(request=CompanySerializer, responses=CompanyDetailSerializer),
)
class CompanyViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Client dossiers. There is no delete: a dossier is never lost (a former client keeps its history)."""

    # Editing needs a dossier reader at the gate; whether this company may be edited is the object check.
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "history": VIEW,
        "create": "companies.add_company",
        "update": VIEW,
        "partial_update": VIEW,
    }
    object_permissions = {"update": "companies.change_company", "partial_update": "companies.change_company"}
    filterset_class = CompanyFilter

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return CompanySerializer
        if self.action == "history":
            return HistoryEntrySerializer
        return CompanyDetailSerializer

    def get_queryset(self) -> QuerySet[Company]:
        if getattr(self, "swagger_fake_view", False):
            return Company.objects.none()
        return visible_companies(self.request.user)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # One query for every row's categories: the list costs the same for 10 rows as for 50.
        return super().filter_queryset(queryset).prefetch_related("product_categories")

    def get_object(self) -> Company:
        if self.action == "retrieve":
            company = company_get(actor=self.actor, company_id=self.kwargs["pk"])
        else:
            company = access_company_by_id(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, company)
        return company

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, _version, _reason = _service_fields(serializer)
        serializer.instance = services.company_create(actor=self.actor, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, version, reason = _service_fields(serializer)
        serializer.instance = services.company_update(
            actor=self.actor,
            company=cast(Company, serializer.instance),
            expected_version=version,
            reason=reason,
            **data,
        )

    @extend_schema(responses=HistoryEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who changed what in the dossier, newest first: the company, its accounts and its people (D11)."""
        company = access_company_by_id(request.user, pk)
        page: list[Any] | None = self.paginate_queryset(company_history(company=company))  # type: ignore[arg-type]
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)


# Records of a company: bank accounts and people ----------------------------------------------------------


class CompanyRecordViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Shared shape of bank accounts and people: whoever may edit the company edits its records."""

    # The gate asks for a dossier reader; the record's company decides about writes (object check here,
    # and the service checks the company named in a new record).
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": VIEW,
        "update": VIEW,
        "partial_update": VIEW,
        "destroy": VIEW,
    }
    object_permissions = {"update": EDIT_RECORDS, "partial_update": EDIT_RECORDS, "destroy": EDIT_RECORDS}

    def policy_object(self, record: Any) -> Company:
        return record.company

    def company_for_create(self, serializer: serializers.BaseSerializer[Any]) -> Company:
        company = visible_companies(self.request.user).filter(pk=serializer.validated_data["company"]).first()
        if company is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid")]}
            )
        return company

    def record_fields(self, serializer: serializers.BaseSerializer[Any], record: Any) -> dict[str, Any]:
        data = dict(serializer.validated_data)
        company_id = data.pop("company", None)
        if company_id is not None and company_id != record.company_id:
            raise ValidationError(
                {
                    "company": [
                        ValidationError(_("A record cannot move to another company."), code="immutable")
                    ]
                }
            )
        return data


class BankAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Company id; set on creation."))
    bik = serializers.CharField(max_length=40, help_text=_("BIK: 9 digits."))
    settlement_account = serializers.CharField(max_length=40, help_text=_("20 digits, checked with the BIK."))
    correspondent_account = _text(40)
    bank_name = _text(255)
    is_primary = serializers.BooleanField(required=False, help_text=_("The first account is primary."))


class BankAccountFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Company id."))

    class Meta:
        model = BankAccount
        fields: list[str] = []


class BankAccountViewSet(CompanyRecordViewSet):
    """Bank accounts of client companies (D1): several per company, one primary."""

    serializer_class = BankAccountSerializer
    filterset_class = BankAccountFilter

    def get_queryset(self) -> QuerySet[BankAccount]:
        if getattr(self, "swagger_fake_view", False):
            return BankAccount.objects.none()
        return bank_account_list(actor=self.actor)

    def get_object(self) -> BankAccount:
        account = access_bank_account_by_id(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, account)
        return account

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        company = self.company_for_create(serializer)
        data = dict(serializer.validated_data)
        data.pop("company")
        serializer.instance = services.bank_account_create(actor=self.actor, company=company, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        account = cast(BankAccount, serializer.instance)
        data = self.record_fields(serializer, account)
        serializer.instance = services.bank_account_update(actor=self.actor, account=account, **data)

    def perform_destroy(self, instance: BankAccount) -> None:
        services.bank_account_delete(actor=self.actor, account=instance)


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Company id; set on creation."))
    full_name = serializers.CharField(max_length=255)
    position = _text(255)
    department = _text(255)
    reports_to = RelatedIdField(
        required=False,
        allow_null=True,
        help_text=_("Id of the person of the same company this one reports to."),
    )
    decision_role = serializers.ChoiceField(choices=DecisionRole.choices, required=False)
    phones = _strings(64, _("Phone numbers in any usual spelling; stored in E.164."))
    emails = _strings(254, _("E-mail addresses."))
    birthday = serializers.DateField(required=False, allow_null=True)
    is_leader = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text=_("False once the person has left the company.")
    )


class ContactFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Company id."))
    decision_role = django_filters.ChoiceFilter(choices=DecisionRole.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Contact
        fields: list[str] = []


class ContactViewSet(CompanyRecordViewSet):
    """People of client companies and their part in the buying decision (D2)."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilter

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        return contact_list(actor=self.actor)

    def get_object(self) -> Contact:
        contact = access_contact_by_id(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, contact)
        return contact

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        company = self.company_for_create(serializer)
        data = dict(serializer.validated_data)
        data.pop("company")
        serializer.instance = services.contact_create(actor=self.actor, company=company, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        contact = cast(Contact, serializer.instance)
        data = self.record_fields(serializer, contact)
        serializer.instance = services.contact_update(actor=self.actor, contact=contact, **data)

    def perform_destroy(self, instance: Contact) -> None:
        services.contact_delete(actor=self.actor, contact=instance)
