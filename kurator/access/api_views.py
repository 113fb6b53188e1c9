"""API of restricted access (R4, D12): ``/api/v1/access-requests/``, ``/api/v1/access-grants/`` and
``GET /api/v1/audit-log/``.

- access requests: anyone in the department lists their own and asks (``company``, optional ``document``,
  ``reason``); the head of sales and the administrator list all and decide: ``POST …/{id}/approve/`` with
  ``{"expires_on": "YYYY-MM-DD", "comment": ""}``, ``POST …/{id}/refuse/`` with ``{"comment": …}``; the
  requester takes back a waiting one with ``POST …/{id}/withdraw/``.
- access grants: the head of sales lists all and gives access directly (``user, company, document,
  expires_on, reason``); ``POST …/{id}/revoke/`` with ``{"reason": …}``; anyone else lists their own.
- the audit log: the head of sales and the administrator only; filters as on the page.

Every rule lives in kurator.access.services (400 names the field, 403 for who may not, 404 for what the caller
may not read). Not in kurator/access/api.py: the settings name that module's PolicyPermission, which DRF
imports while its views are still loading, so it cannot import them itself.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access import selectors, services
from kurator.access.labels import rule_label
from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus, AuditAction, AuditEvent
from kurator.access.scoping import visible_companies
from kurator.companies.api import RelatedIdField, _id_filter
from kurator.core.api import ActorMixin, Pagination
from kurator.core.net import client_ip
from kurator.core.pagination import UncountedPaginator

REQUEST = "access.request_access"
DECIDE = "access.decide_request"
AUDIT = "access.view_audit_log"


def _ip(request: Request) -> str | None:
    return client_ip(request._request) or None


def _company(actor: Any, company_id: Any) -> Any:
    company = visible_companies(actor).filter(pk=company_id).first()
    if company is None:
        raise ValidationError({"company": [ValidationError(_("The company was not found."), code="invalid")]})
    return company


# Access requests ------------------------------------------------------------------------------------------


class AccessRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    requester = RelatedIdField(read_only=True, help_text=_("User id of the person who asked."))
    company = RelatedIdField(help_text=_("Id of the client whose confidential section is asked for."))
    document = RelatedIdField(
        required=False,
        allow_null=True,
        help_text=_("Id of one document of the client; null asks for the whole confidential section."),
    )
    reason = serializers.CharField(max_length=2000, help_text=_("Why access is needed; required."))
    status = serializers.ChoiceField(choices=AccessRequestStatus.choices, read_only=True)
    expires_on = serializers.DateField(
        read_only=True, allow_null=True, help_text=_("When approved: the last day access works.")
    )
    decided_by = RelatedIdField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decision_comment = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ApproveSerializer(serializers.Serializer):
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_(
            "The last day access works (inclusive): today at the earliest, at most "
            "KURATOR_ACCESS_GRANT_MAX_DAYS (90 by default) days ahead."
        ),
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RefuseSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("Why; required (the requester reads it)."),
    )


class AccessRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AccessRequestStatus.choices)
    company = _id_filter("company_id", _("Client company id."))
    requester = _id_filter("requester_id", _("User id of the requester."))

    class Meta:
        model = AccessRequest
        fields: list[str] = []


class AccessRequestViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """R4: requests for access to a client's confidential section or to one document. The head of sales and
    the administrator see and decide every request; anyone else sees their own."""

    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilter
    permissions = {
        "list": REQUEST,
        "retrieve": REQUEST,
        "create": REQUEST,
        "approve": DECIDE,
        "refuse": DECIDE,
        "withdraw": REQUEST,
    }

    def get_queryset(self) -> QuerySet[AccessRequest]:
        if getattr(self, "swagger_fake_view", False):
            return AccessRequest.objects.none()
        return selectors.access_request_list(actor=self.actor)

    def get_object(self) -> AccessRequest:
        return selectors.access_request_get(actor=self.actor, request_id=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AccessRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        access_request = services.access_request_create(
            actor=self.actor,
            company=_company(self.actor, data["company"]),
            document=data.get("document"),
            reason=data["reason"],
            ip=_ip(request),
        )
        fresh = selectors.access_request_get(actor=self.actor, request_id=access_request.pk)
        return Response(AccessRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def _answer(self, access_request: AccessRequest) -> Response:
        fresh = selectors.access_request_get(actor=self.actor, request_id=access_request.pk)
        return Response(AccessRequestSerializer(fresh).data)

    @extend_schema(request=ApproveSerializer, responses=AccessRequestSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request: Request, pk: Any = None) -> Response:
        """Approve a waiting request until ``expires_on``: the requester gets a grant and is told."""
        access_request = self.get_object()
        payload = ApproveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.access_request_approve(
            actor=self.actor,
            request=access_request,
            expires_on=payload.validated_data.get("expires_on"),
            comment=payload.validated_data.get("comment", ""),
            ip=_ip(request),
        )
        return self._answer(access_request)

    @extend_schema(request=RefuseSerializer, responses=AccessRequestSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def refuse(self, request: Request, pk: Any = None) -> Response:
        """Refuse a waiting request with a comment the requester reads."""
        access_request = self.get_object()
        payload = RefuseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.access_request_refuse(
            actor=self.actor,
            request=access_request,
            comment=payload.validated_data.get("comment", ""),
            ip=_ip(request),
        )
        return self._answer(access_request)

    @extend_schema(request=None, responses=AccessRequestSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        """The requester takes back a request still waiting."""
        access_request = self.get_object()  # 404 for what the caller may not read
        if access_request.requester_id != self.actor.pk:
            # Another person's request the head of sales reads: not theirs to withdraw.
            return Response(
                {"detail": str(_("Only the person who asked may withdraw a request."))},
                status=status.HTTP_403_FORBIDDEN,
            )
        services.access_request_withdraw(actor=self.actor, request=access_request)
        return self._answer(access_request)


# Access grants --------------------------------------------------------------------------------------------


class AccessGrantSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    user = RelatedIdField(help_text=_("User id of the colleague given access."))
    company = RelatedIdField(help_text=_("Id of the client."))
    document = RelatedIdField(
        required=False, allow_null=True, help_text=_("One document of the client; null: the whole section.")
    )
    request = RelatedIdField(read_only=True, allow_null=True, help_text=_("The request it answered, if any."))
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("The last day access works (inclusive).")
    )
    granted_by = RelatedIdField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_by = RelatedIdField(read_only=True, allow_null=True)
    revoke_reason = serializers.CharField(read_only=True)
    is_live = serializers.SerializerMethodField(help_text=_("Whether the grant works today."))
    reason = serializers.CharField(
        write_only=True, max_length=2000, required=False, allow_blank=True, help_text=_("Why; required.")
    )

    def get_is_live(self, grant: AccessGrant) -> bool:
        return grant.revoked_at is None and grant.expires_on >= timezone.localdate()


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text=_("Why; required (the user reads it).")
    )


class AccessGrantFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[(s, s) for s in selectors.GRANT_STATES],
        method="filter_state",
        help_text=_("live (works today), expired or revoked."),
    )
    user = _id_filter("user_id", _("User id."))
    company = _id_filter("company_id", _("Client company id."))

    class Meta:
        model = AccessGrant
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet[AccessGrant], name: str, value: str) -> QuerySet[AccessGrant]:
        return selectors.grant_state_filter(queryset, value)


class AccessGrantViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """R4: access given to a colleague until a day. The head of sales and the administrator see all, give
    and revoke; anyone else sees their own."""

    serializer_class = AccessGrantSerializer
    filterset_class = AccessGrantFilter
    permissions = {"list": REQUEST, "retrieve": REQUEST, "create": DECIDE, "revoke": DECIDE}

    def get_queryset(self) -> QuerySet[AccessGrant]:
        if getattr(self, "swagger_fake_view", False):
            return AccessGrant.objects.none()
        return selectors.access_grant_list(actor=self.actor)

    def get_object(self) -> AccessGrant:
        return selectors.access_grant_get(actor=self.actor, grant_id=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AccessGrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.access_grant_create(
            actor=self.actor,
            user=data["user"],
            company=_company(self.actor, data["company"]),
            document=data.get("document"),
            expires_on=data.get("expires_on"),
            reason=data.get("reason", ""),
            ip=_ip(request),
        )
        fresh = selectors.access_grant_get(actor=self.actor, grant_id=grant.pk)
        return Response(AccessGrantSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses=AccessGrantSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def revoke(self, request: Request, pk: Any = None) -> Response:
        """End the grant now, saying why; the user is told."""
        grant = self.get_object()
        payload = RevokeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.access_grant_revoke(
            actor=self.actor, grant=grant, reason=payload.validated_data.get("reason", ""), ip=_ip(request)
        )
        fresh = selectors.access_grant_get(actor=self.actor, grant_id=grant.pk)
        return Response(AccessGrantSerializer(fresh).data)


# The audit log --------------------------------------------------------------------------------------------


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    user = RelatedIdField(read_only=True, allow_null=True, help_text=_("User id; null for an unknown name."))
    username = serializers.CharField(read_only=True, help_text=_("The login, as typed at a failed sign-in."))
    action = serializers.ChoiceField(choices=AuditAction.choices, read_only=True)
    object_type = serializers.CharField(
        read_only=True, help_text=_("company, document, accessrequest, accessgrant, user …; empty for none.")
    )
    object_id = serializers.IntegerField(read_only=True, allow_null=True)
    company = RelatedIdField(read_only=True, allow_null=True, help_text=_("The client concerned, if any."))
    ip = serializers.IPAddressField(read_only=True, allow_null=True)
    allowed = serializers.BooleanField(read_only=True)
    rule = serializers.CharField(
        read_only=True,
        help_text=_(
            "What allowed it (admin, head_of_sales, finance, curator, grant:<id>) or why it was refused "
            "(no_grant, not_member, …)."
        ),
    )
    rule_label = serializers.SerializerMethodField(
        help_text=_("The rule in words, in the request's language.")
    )
    detail = serializers.CharField(read_only=True)

    def get_rule_label(self, event: AuditEvent) -> str:
        return rule_label(event.rule)


@extend_schema_field({"type": "string", "format": "date"})
class _DayFilter(django_filters.DateFilter):
    pass


class AuditEventFilter(django_filters.FilterSet):
    user = _id_filter("user_id", _("User id."))
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    company = _id_filter("company_id", _("Client company id."))
    allowed = django_filters.BooleanFilter(help_text=_("true: allowed only; false: refused only."))
    object_type = django_filters.CharFilter(max_length=32)
    date_from = _DayFilter(method="noop", help_text=_("First day (Moscow time), inclusive."))
    date_to = _DayFilter(method="noop", help_text=_("Last day (Moscow time), inclusive."))
    ip = django_filters.CharFilter(method="noop", help_text=_("An exact IP address."))

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def noop(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> QuerySet[AuditEvent]:
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = dict(self.form.cleaned_data)
        ip = data.get("ip")
        if ip:
            try:
                forms.GenericIPAddressField().clean(ip)
            except ValidationError:
                raise ValidationError(
                    {"ip": [ValidationError(_("Enter a valid IPv4 or IPv6 address."), code="invalid")]}
                ) from None
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(
                {
                    "date_to": [
                        ValidationError(_("The end of the period is before its start."), code="invalid")
                    ]
                }
            )
        return selectors.filter_audit_events(queryset, selectors.AuditFilters.from_data(data))


class AuditPagination(Pagination):
    """Pages of the log. Without a filter the log (a million lines and growing) is not counted: ``count`` is
    then PostgreSQL's estimate of the table's rows (``pg_class.reltuples``, as of the last ANALYZE; at least
    the rows up to the page) and ``next`` is exact; with any filter, and on SQLite, ``count`` is exact."""

    django_paginator_class = UncountedPaginator

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["description"] = str(
            _(
                "Entries matching the filters. Without any filter, on PostgreSQL: an estimate of the whole "
                "log's size (the log is not counted); follow next to read on."
            )
        )
        return answer


class AuditEventViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """D12: the audit log, newest first — who saw or did what, when, from which address, and the rule or
    grant that allowed it, or why it was refused. The head of sales and the administrator only. Without a
    filter ``count`` is an estimate on PostgreSQL (see AuditPagination)."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = AuditPagination
    permissions = {"list": AUDIT}

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.audit_event_list(actor=self.actor)


# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = [
    ("access-requests", AccessRequestViewSet, "access-request"),
    ("access-grants", AccessGrantViewSet, "access-grant"),
    ("audit-log", AuditEventViewSet, "audit-log"),
]
PATHS: list[URLPattern] = []
