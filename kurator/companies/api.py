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
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import ResolverMatch, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kurator.access.policy import can
from kurator.access.scoping import (
    access_bank_account_by_id,
    access_company_by_id,
    access_contact_by_id,
    visible_companies,
)
from kurator.accounts.models import User
from kurator.companies import reports, services
from kurator.companies.dossier import checklist_status, missing_items
from kurator.companies.forms import ReportPeriodForm
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
from kurator.core.api import ActorMixin, versioned_fields
from kurator.core.viewsets import RecordViewSet

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


# History --------------------------------------------------------------------------------------------------


class HistoryUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    """One changed field: ``field`` is the field's code, ``label`` its translated name, ``old`` and ``new``
    the values as the History tab shows them."""

    field = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    old = serializers.CharField()
    new = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    """One entry of a dossier's history (D11), newest first.

    Codes are stable whatever the language: ``object_type`` is ``company``, ``bank_account`` or ``contact``;
    ``action`` is ``created``, ``changed`` or ``deleted``; each change's ``field`` is the field's name in this
    API. ``object_type_label``, ``action_label`` and each change's ``label`` are the same in words, in the
    request's language (Accept-Language).

    ``old`` and ``new`` are display text, exactly what the History tab shows, because the history is read
    by people: related records by name (a person deleted since keeps their last name), choices by label,
    flags as yes/no, lists comma-separated and phones formatted (``+7 495 123-45-67``, not the stored
    E.164). Machines that need the raw values read them from the resources themselves. A ``deleted``
    entry lists the record's last values as ``old`` with an empty ``new``.
    """

    when = serializers.DateTimeField()
    user = HistoryUserSerializer(allow_null=True)
    object_type = serializers.ChoiceField(choices=["company", "bank_account", "contact"])
    object_type_label = serializers.CharField()
    object_label = serializers.CharField()
    object_id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    action_label = serializers.CharField()
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


class CompanyMoved(APIException):
    """A merged duplicate's id: 301 (reads) or 308 (writes, which keeps the method and the body) to the same
    route of the survivor. Nothing is read from or written to the old id."""

    default_detail = _("This company was merged into another one.")
    default_code = "moved"

    def __init__(self, request: Request, survivor: Company) -> None:
        self.status_code = 301 if request.method in ("GET", "HEAD") else 308
        match = cast(ResolverMatch, request.resolver_match)
        path = reverse(match.view_name, kwargs={**match.kwargs, "pk": survivor.pk})
        query = request.META.get("QUERY_STRING", "")
        self.location = request.build_absolute_uri(path + (f"?{query}" if query else ""))
        self.body = {
            "detail": str(self.default_detail),
            "merged_into": survivor.pk,
            "location": self.location,
        }
        super().__init__(self.default_detail)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Id of the duplicate company merged into this one.")
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("Why; kept in the history.")
    )


class ReassignSerializer(serializers.Serializer):
    curator = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("User id of the new curator.")
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("Why (required); kept in the history.")
    )


def _service_fields(serializer: serializers.BaseSerializer[Any]) -> tuple[dict[str, Any], int | None, str]:
    data, version = versioned_fields(serializer)
    return data, version, data.pop("reason", "")


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
        "merge": "companies.merge_company",
        "reassign": "companies.change_curator",
    }
    object_permissions = {"update": "companies.change_company", "partial_update": "companies.change_company"}
    filterset_class = CompanyFilter

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "list":
            return CompanySerializer
        if self.action == "merge":
            return MergeSerializer
        if self.action == "reassign":
            return ReassignSerializer
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
        if company.pk != int(self.kwargs["pk"]):
            # A merged duplicate's id: send the client to the survivor before anything is read or written.
            raise CompanyMoved(self.request, company)
        self.check_object_permissions(self.request, company)
        return company

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, CompanyMoved):
            return Response(exc.body, status=exc.status_code, headers={"Location": exc.location})
        return super().handle_exception(exc)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, _version, _reason = _service_fields(serializer)
        serializer.instance = services.company_create(actor=self.actor, **data)

    @transaction.atomic
    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data, version, reason = _service_fields(serializer)
        company = cast(Company, serializer.instance)
        new_curator = data.get("curator")
        # A curator change through the API is the same act as on the curator page (reason, notices, open
        # inquiries follow); for anyone else company_update itself refuses the field.
        reassign = (
            new_curator is not None
            and getattr(new_curator, "pk", new_curator) != company.curator_id
            and can(self.actor, "companies.change_curator")
        )
        if reassign:
            data.pop("curator")
        company = services.company_update(
            actor=self.actor, company=company, expected_version=version, reason=reason, **data
        )
        if reassign:
            company = services.company_reassign(
                actor=self.actor, company=company, curator=new_curator, reason=reason
            )
        serializer.instance = company

    @extend_schema(responses=HistoryEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who changed what in the dossier, newest first: the company, its accounts and its people (D11)."""
        company = self.get_object()
        page: list[Any] | None = self.paginate_queryset(company_history(company=company))  # type: ignore[arg-type]
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    @extend_schema(request=MergeSerializer, responses=CompanyDetailSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge a duplicate into this company (head of sales; R2, D12). People, bank accounts, inquiries,
        recommendations and history move here, nothing is lost; the duplicate's id then redirects here.
        Answers with this company as it is after the merge."""
        survivor = self.get_object()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicate = (
            visible_companies(self.actor, include_merged=True)
            .filter(pk=serializer.validated_data["duplicate"])
            .first()
        )
        if duplicate is None:
            raise ValidationError(
                {"duplicate": [ValidationError(_("The company was not found."), code="invalid")]}
            )
        survivor = services.company_merge(
            actor=self.actor,
            survivor=survivor,
            duplicate=duplicate,
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(CompanyDetailSerializer(company_get(actor=self.actor, company_id=survivor.pk)).data)

    @extend_schema(request=ReassignSerializer, responses=CompanyDetailSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        """Hand the client to another curator (head of sales; R2). The reason is required and kept in the
        history; both curators are notified and the open inquiries follow the new curator."""
        company = self.get_object()
        serializer = ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.company_reassign(
            actor=self.actor,
            company=company,
            curator=serializer.validated_data["curator"],
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(CompanyDetailSerializer(company_get(actor=self.actor, company_id=company.pk)).data)


# Records of a company: bank accounts and people ----------------------------------------------------------


class CompanyRecordViewSet(mixins.DestroyModelMixin, RecordViewSet):
    """Shared shape of bank accounts and people: whoever may edit the company edits its records."""

    # The gate asks for a dossier reader; the record's company decides about writes (object check here,
    # and the service checks the company named in a new record).
    view_permission = VIEW
    change_permission = EDIT_RECORDS
    change_actions = ("destroy",)

    def policy_object(self, record: Any) -> Company:
        return record.company

    def company_for_create(self, serializer: serializers.BaseSerializer[Any]) -> Company:
        try:
            # A merged duplicate's id resolves to the survivor, where its records now live.
            return access_company_by_id(self.request.user, serializer.validated_data["company"])
        except Http404:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid")]}
            ) from None

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

    model = BankAccount
    serializer_class = BankAccountSerializer
    filterset_class = BankAccountFilter

    def select_list(self) -> QuerySet[BankAccount]:
        return bank_account_list(actor=self.actor)

    def select_one(self, pk: Any) -> BankAccount:
        return access_bank_account_by_id(self.actor, pk)

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

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter

    def select_list(self) -> QuerySet[Contact]:
        return contact_list(actor=self.actor)

    def select_one(self, pk: Any) -> Contact:
        return access_contact_by_id(self.actor, pk)

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


# Reports (R2, S2) ------------------------------------------------------------------------------------------

REPORTS = "companies.view_reports"
PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description=_("First day (default: 89 days before `to`).")),
    OpenApiParameter("to", OpenApiTypes.DATE, description=_("Last day, included (default: today).")),
]


def _report_period(request: Request) -> reports.Period:
    form = ReportPeriodForm(request.query_params)
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return form.period()


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class CompanyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    short_name = serializers.CharField()
    inn = serializers.CharField()
    completeness = serializers.IntegerField()
    curator = UserBriefSerializer()


class SourceCountsSerializer(serializers.Serializer):
    inquiries = serializers.IntegerField(help_text=_("Inquiries received in the period."))
    new_clients = serializers.IntegerField(help_text=_("Companies created with this source in the period."))
    qualified = serializers.IntegerField(help_text=_("Of those inquiries: qualified or converted."))
    converted = serializers.IntegerField(help_text=_("Of those inquiries: converted."))
    conversion = serializers.FloatField(
        allow_null=True, help_text=_("Qualified or converted inquiries among those received, %.")
    )


class SourceRowSerializer(SourceCountsSerializer):
    # DRF fields have attributes named source and parent; here they are names of the answer's fields.
    source = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=_("Contact source id; null for records without one.")
    )
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=_("Id of the parent source of a sub-source.")
    )
    name = serializers.CharField()
    level = serializers.IntegerField(
        help_text=_("0 for a source (its line includes its sub-sources), 1 for a sub-source.")
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_source(self, row: reports.SourceRow) -> int | None:
        return row.source.pk if row.source is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_parent(self, row: reports.SourceRow) -> int | None:
        return row.source.parent_id if row.source is not None else None


class ReferrerSerializer(serializers.Serializer):
    company = CompanyBriefSerializer()
    new_clients = serializers.IntegerField()
    inquiries = serializers.IntegerField()


class SourcesReportSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="period.date_from")
    date_to = serializers.DateField(source="period.date_to")
    rows = SourceRowSerializer(many=True)
    totals = SourceCountsSerializer()
    referrers = ReferrerSerializer(many=True, help_text=_("Clients who recommended others in the period."))


class SourcesReportView(APIView):
    """S2: inquiries, new clients and conversion per contact source and sub-source for a period."""

    permissions = {"get": REPORTS}

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SourcesReportSerializer)
    def get(self, request: Request) -> Response:
        report = reports.sources_report(actor=cast(User, request.user), period=_report_period(request))
        return Response(SourcesReportSerializer(report).data)


class TouchSerializer(serializers.Serializer):
    user = UserBriefSerializer()
    inquiries = serializers.IntegerField(help_text=_("Inquiries assigned to or taken by this manager."))
    edits = serializers.IntegerField(help_text=_("Changes this manager made to the dossier."))
    is_curator = serializers.BooleanField()


class OverlapRowSerializer(serializers.Serializer):
    company = CompanyBriefSerializer()
    managers = TouchSerializer(many=True, source="touches")


class DuplicateReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["name", "phone", "email"])
    value = serializers.CharField()


class DuplicateGroupSerializer(serializers.Serializer):
    reasons = DuplicateReasonSerializer(many=True)
    survivor = serializers.IntegerField(source="survivor.pk", help_text=_("Suggested survivor of a merge."))
    companies = CompanyBriefSerializer(many=True)


class OverlapReportSerializer(serializers.Serializer):
    date_from = serializers.DateField(source="period.date_from")
    date_to = serializers.DateField(source="period.date_to")
    overlaps = OverlapRowSerializer(many=True, help_text=_("Companies more than one manager worked on."))
    duplicates = DuplicateGroupSerializer(many=True, help_text=_("Likely duplicate companies."))


class OverlapReportView(APIView):
    """R2: companies touched by more than one manager in the period, and likely duplicates to merge."""

    permissions = {"get": REPORTS}

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OverlapReportSerializer)
    def get(self, request: Request) -> Response:
        report = reports.overlap_report(actor=cast(User, request.user), period=_report_period(request))
        return Response(OverlapReportSerializer(report).data)
