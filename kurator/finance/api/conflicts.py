"""API of the conflict register (D7): ``/api/v1/conflicts/`` — list, retrieve, create, update; no deletion
(the register and its history are kept). Every rule lives in kurator.finance.services.conflicts: 400 names
the field, 403 for who may not, 404, 409 for a stale ``version``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.scoping import visible_companies
from kurator.companies.api import MAX_ID, RelatedIdField, RelatedIdsField, _id_filter
from kurator.core.api import versioned_fields
from kurator.core.viewsets import RecordViewSet
from kurator.finance.models import Conflict, ConflictSeverity, ConflictStatus
from kurator.finance.selectors import conflicts as selectors
from kurator.finance.services import conflicts as services

VIEW = "finance.view_conflict"
CHANGE = "finance.change_conflict"


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    occurred_on = serializers.DateField(help_text=_("The day of the conflict; not in the future."))
    title = serializers.CharField(max_length=300, help_text=_("What happened, in short."))
    description = serializers.CharField(max_length=20_000)
    severity = serializers.ChoiceField(choices=ConflictSeverity.choices, required=False)
    status = serializers.ChoiceField(choices=ConflictStatus.choices, required=False)
    our_people = RelatedIdsField(
        required=False, max_length=100, help_text=_("User ids of our people involved.")
    )
    client_people = RelatedIdsField(
        required=False, max_length=100, help_text=_("Ids of the client's own people involved.")
    )
    deal = RelatedIdField(required=False, allow_null=True, help_text=_("A deal of the same client."))
    contract = RelatedIdField(required=False, allow_null=True, help_text=_("A contract of the same client."))
    invoice = RelatedIdField(required=False, allow_null=True, help_text=_("An invoice of the same client."))
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    resolved_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Required with the resolved status; not before the conflict."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_(
            "On edit: the version you read. If someone saved the conflict since, the edit is refused (409)."
        ),
    )


class ConflictUpdateSerializer(ConflictSerializer):
    company = RelatedIdField(read_only=True)
    occurred_on = serializers.DateField(required=False)
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(max_length=20_000, required=False)


class ConflictFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    status = django_filters.ChoiceFilter(choices=ConflictStatus.choices)
    severity = django_filters.ChoiceFilter(choices=ConflictSeverity.choices)

    class Meta:
        model = Conflict
        fields: list[str] = []


class ConflictViewSet(RecordViewSet):
    """The register of conflicts with clients (D7). Every member reads it (R3); the head of sales, finance
    and whoever works with the client register and resolve conflicts."""

    model = Conflict
    serializer_class = ConflictSerializer
    update_serializer_class = ConflictUpdateSerializer
    view_permission = VIEW
    change_permission = CHANGE
    filterset_class = ConflictFilter

    def select_list(self) -> QuerySet[Conflict]:
        return selectors.conflict_list(actor=self.actor)

    def select_one(self, pk: Any) -> Conflict:
        return selectors.conflict_get(actor=self.actor, conflict_id=pk)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # One query for each of the two sets of people: a page costs the same for 1 conflict as for 50.
        return selectors.with_people(super().filter_queryset(queryset))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ConflictSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = visible_companies(self.actor).filter(pk=data.pop("company")).first()
        if company is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid_choice")]}
            )
        conflict = services.conflict_create(actor=self.actor, company=company, **data)
        return self.answer(conflict, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        conflict = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        if "company" in body and str(body.get("company")) != str(conflict.company_id):
            raise ValidationError(
                {"company": [ValidationError(_("The client of a conflict cannot change."), code="read_only")]}
            )
        serializer = ConflictUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        conflict = services.conflict_update(
            actor=self.actor, conflict=conflict, expected_version=version, **data
        )
        return self.answer(conflict)


ROUTES: list[tuple[str, Any, str]] = [("conflicts", ConflictViewSet, "conflict")]
PATHS: list[URLPattern] = []
