"""Public API of the sales pipeline (S3, R1): pipelines with their stages, deals, and moving a deal.

Serializers only parse types; every rule (standards, who may move, co-owner, versions) lives in the services,
whose errors reach the client through kurator.core.api.exception_handler. A move refused by a stage standard
answers ``400 {"unmet": [{"code", "message"}, …]}``; a stale ``version`` answers 409.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.scoping import access_deal_by_id, visible_companies
from kurator.companies.api import MAX_ID, RelatedIdField, RelatedIdsField, _id_filter
from kurator.core.api import ActorMixin, versioned_fields
from kurator.core.viewsets import RecordViewSet
from kurator.sales import selectors, services
from kurator.sales.models import ChecklistItem, Deal, Pipeline, Stage, StageKind
from kurator.sales.standards import StandardsNotMet, stage_standard_summary

VIEW = "sales.view_deal"


# Pipelines ------------------------------------------------------------------------------------------------


class StageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True, help_text=_("Stable machine name of the stage."))
    order = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=StageKind.choices, read_only=True)
    probability = serializers.IntegerField(read_only=True, help_text=_("Probability of a deal here, %."))
    max_days = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Longest stay in the stage, days.")
    )
    required_fields = serializers.ListField(child=serializers.CharField(), read_only=True)
    required_activity_kinds = serializers.ListField(child=serializers.CharField(), read_only=True)
    activity_with_decision_maker = serializers.BooleanField(read_only=True)
    requires_signed_contract = serializers.BooleanField(read_only=True)
    checklist = serializers.SerializerMethodField()
    standard = serializers.SerializerMethodField(help_text=_("The entry standard in words, a line per rule."))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_checklist(self, stage: Stage) -> list[str]:
        return [item.text for item in stage.checklist.all() if item.is_active]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_standard(self, stage: Stage) -> list[str]:
        return stage_standard_summary(stage)


class PipelineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    is_default = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    sales_technology = RelatedIdField(read_only=True, allow_null=True)
    stages = StageSerializer(many=True, read_only=True, help_text=_("The stages in their order."))


class PipelineViewSet(ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pipelines of the sales technology (S3), each with its ordered stages and their entry standards (R1).
    The default pipeline's stage codes are acquaintance, negotiations, contract, payment, won, lost."""

    serializer_class = PipelineSerializer
    permissions = {"list": VIEW, "retrieve": VIEW}

    def get_queryset(self) -> QuerySet[Pipeline]:
        stages = Stage.objects.filter(is_active=True).order_by("order", "id")
        return (
            Pipeline.objects.filter(is_active=True)
            .order_by("position", "id")
            .prefetch_related(
                Prefetch("stages", queryset=stages),
                Prefetch("stages__checklist", queryset=ChecklistItem.objects.order_by("order", "id")),
            )
        )


# Deals ----------------------------------------------------------------------------------------------------


class DealSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text=_("Defaults to «Deal with <client>».")
    )
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    contacts = RelatedIdsField(required=False, max_length=200, help_text=_("Ids of the client's people."))
    owner = RelatedIdField(read_only=True, help_text=_("The client's curator."))
    co_owner = RelatedIdField(
        required=False, allow_null=True, help_text=_("User id of a co-owner; only the head of sales sets it.")
    )
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, help_text=_("Amount in roubles.")
    )
    expected_close = serializers.DateField(required=False, allow_null=True)
    pipeline = RelatedIdField(required=False, help_text=_("Defaults to the client's sales technology's one."))
    stage = RelatedIdField(
        required=False, help_text=_("On creation only (defaults to the first); later use the move action.")
    )
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    lost_reason = RelatedIdField(read_only=True, allow_null=True)
    lost_note = serializers.CharField(read_only=True)
    source = RelatedIdField(  # type: ignore[assignment]  # a field, not Field.source
        required=False, allow_null=True, help_text=_("Contact source id.")
    )
    inquiry = RelatedIdField(read_only=True, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    stage_entered_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_(
            "On edit: the version you read. If someone saved the deal since, the edit is refused (409)."
        ),
    )
    created_at = serializers.DateTimeField(read_only=True)


class DealUpdateSerializer(DealSerializer):
    company = RelatedIdField(read_only=True)
    pipeline = RelatedIdField(read_only=True)
    stage = RelatedIdField(read_only=True)


class UnmetSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class UnmetResponseSerializer(serializers.Serializer):
    unmet = UnmetSerializer(many=True, help_text=_("What the deal lacks to enter the stage."))


class MoveSerializer(serializers.Serializer):
    stage = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Id of the target stage."))
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=_("The version you read (409 if stale).")
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("Head of sales only: move past unmet standards; the reason is recorded."),
    )
    lost_reason = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("Required for a lost stage."),
    )
    lost_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DealFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    stage = _id_filter("stage_id", _("Stage id."))
    owner = _id_filter("owner_id", _("Owner's user id."))
    pipeline = _id_filter("pipeline_id", _("Pipeline id."))
    status = django_filters.ChoiceFilter(
        choices=[("open", "open"), ("won", "won"), ("lost", "lost")], help_text=_("Open, won or lost deals.")
    )
    search = django_filters.CharFilter(
        max_length=200, help_text=_("Fragment of the title or the client's name.")
    )
    expected_close_from = django_filters.DateFilter()
    expected_close_to = django_filters.DateFilter()
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in selectors.SORTS],
        help_text=_("Sort order; a leading minus reverses it."),
    )

    class Meta:
        model = Deal
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Deal]) -> QuerySet[Deal]:
        data = dict(self.form.cleaned_data)
        data["q"] = data.pop("search", "")
        data["sort"] = data.pop("ordering", "")
        return selectors.deal_list(actor=self.request.user, filters=data)


class DealViewSet(RecordViewSet):
    """Deals (S3). Every member of the department reads every deal (R3); the owner (the client's curator),
    the co-owner and the head of sales change and move it. Stages change only through ``move``."""

    model = Deal
    serializer_class = DealSerializer
    update_serializer_class = DealUpdateSerializer
    view_permission = VIEW
    create_permission = "sales.add_deal"
    change_permission = "sales.change_deal"
    change_actions = ("move",)
    filterset_class = DealFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "move":
            return MoveSerializer
        return super().get_serializer_class()

    def select_list(self) -> QuerySet[Deal]:
        return selectors.deal_list(actor=self.actor)

    def select_one(self, pk: Any) -> Deal:
        return access_deal_by_id(self.actor, pk)

    def fresh(self, deal: Deal) -> Deal:
        return Deal.objects.prefetch_related("contacts").get(pk=deal.pk)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # One query for every row's people: a page costs the same for 1 deal as for 50.
        return super().filter_queryset(queryset).prefetch_related("contacts")

    def _refuse_read_only(self, request: Request, fields: dict[str, Any], deal: Deal | None = None) -> None:
        """A field the client may not write is refused by name rather than silently ignored — unless it
        only repeats the deal's current value (a PUT of what a GET returned)."""
        data = request.data if hasattr(request.data, "get") else {}
        errors = {}
        for field, message in fields.items():
            if field not in data:
                continue
            current = getattr(deal, f"{field}_id", None) if deal is not None else None
            if current is not None and str(data.get(field)) == str(current):
                continue
            errors[field] = [ValidationError(message, code="read_only")]
        if errors:
            raise ValidationError(errors)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._refuse_read_only(request, {"owner": _("The owner of a deal is the client's curator.")})
        serializer = DealSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = visible_companies(self.actor).filter(pk=data.pop("company")).first()
        if company is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid")]}
            )
        for field in ("pipeline", "stage"):
            if field in data:
                model = Pipeline if field == "pipeline" else Stage
                found = model.objects.filter(pk=data[field]).first()
                if found is None:
                    raise ValidationError(
                        {
                            field: [
                                ValidationError(
                                    _("Choose a stage of the deal's pipeline."), code="invalid_choice"
                                )
                            ]
                        }
                    )
                data[field] = found
        try:
            deal = services.deal_create(actor=self.actor, company=company, **data)
        except StandardsNotMet as exc:
            return Response({"unmet": [u.as_dict() for u in exc.unmet]}, status=status.HTTP_400_BAD_REQUEST)
        return self.answer(deal, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        deal = self.get_object()
        self._refuse_read_only(
            request,
            {
                "stage": _("A deal changes stage through POST /api/v1/deals/{id}/move/ (standards apply)."),
                "pipeline": _("The pipeline of a deal is chosen when it is opened."),
                "company": _("The client of a deal is fixed when it is opened."),
                "owner": _("The owner of a deal is the client's curator."),
            },
            deal,
        )
        serializer = DealUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        deal = services.deal_update(actor=self.actor, deal=deal, expected_version=version, **data)
        return self.answer(deal)

    @extend_schema(
        request=MoveSerializer,
        responses={
            200: DealSerializer,
            400: OpenApiResponse(UnmetResponseSerializer, description=_("A stage standard is not met.")),
            409: OpenApiResponse(description=_("The deal changed since you read it.")),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move the deal to another stage of its pipeline (S3). Moving forward needs the entry standards of
        every stage passed (R1): otherwise 400 with ``unmet``. The head of sales may pass them with an
        ``override_reason``, which is recorded. A lost stage needs ``lost_reason``."""
        deal = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = Stage.objects.filter(pk=data["stage"]).first()
        if target is None:
            raise ValidationError(
                {
                    "stage": [
                        ValidationError(_("Choose a stage of the deal's pipeline."), code="invalid_choice")
                    ]
                }
            )
        try:
            deal = services.deal_move(
                actor=self.actor,
                deal=deal,
                stage=target,
                expected_version=data.get("version"),
                override_reason=data.get("override_reason", ""),
                lost_reason=data.get("lost_reason"),
                lost_note=data.get("lost_note", ""),
            )
        except StandardsNotMet as exc:
            return Response({"unmet": [u.as_dict() for u in exc.unmet]}, status=status.HTTP_400_BAD_REQUEST)
        return self.answer(deal)
