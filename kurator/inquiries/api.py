"""/api/v1/inquiries/ and /api/v1/sources/ (R2, R1, S2).

Inquiries: list and read for every member of the department; ``POST`` registers one through
:func:`kurator.inquiries.services.inquiry_create` (matching and routing included); ``take``, ``qualify``,
``reject`` for whoever may work the inquiry (a colleague's client is refused with 403 naming its curator);
``confirm-match`` for the head of sales. Sources: the S2 dictionary with sub-sources, read by everyone and
written by the head of sales through :func:`kurator.companies.services.dictionary_item_save`.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.companies import services as company_services
from kurator.companies.api import MAX_ID, IntegerFilter, RelatedIdField
from kurator.companies.models import ContactSource
from kurator.core.api import ActorMixin
from kurator.core.net import client_ip
from kurator.inquiries import matching, selectors, services
from kurator.inquiries.models import Channel, Inquiry, InquiryStatus

VIEW = "inquiries.view_inquiry"
ADD = "inquiries.add_inquiry"
REVIEW = "inquiries.review_match"


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=max_length, **kwargs)


# Inquiries ------------------------------------------------------------------------------------------------


class MatchReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("inn, ogrn, phone, email, domain or name."))
    text = serializers.CharField(help_text=_("What matched, as a sentence."))
    company = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text=_("Name similarity 0-100; null otherwise."))


class MatchCandidateSerializer(serializers.Serializer):
    company = serializers.IntegerField()
    name = serializers.CharField()
    curator = serializers.IntegerField()
    confidence = serializers.CharField()
    score = serializers.FloatField(allow_null=True)


class MatchSerializer(serializers.Serializer):
    confidence = serializers.ChoiceField(choices=["certain", "strong", "possible", "none"])
    reasons = MatchReasonSerializer(many=True)
    candidates = MatchCandidateSerializer(many=True, help_text=_("Companies found, best first."))


def _reason(reason: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": reason.get("code", ""),
        "text": matching.reason_text(reason),
        "company": reason.get("company"),
        "score": reason.get("score"),
    }


class InquirySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    source = RelatedIdField(  # type: ignore[assignment]  # a field, not Field.source
        required=False, allow_null=True, help_text=_("Contact source id.")
    )
    referred_by = RelatedIdField(
        required=False, allow_null=True, help_text=_("Id of the recommending client.")
    )
    company_name = _text(500, help_text=_("The company as the caller names it."))
    inn = _text(40, help_text=_("INN: 10 digits for an organisation, 12 for a sole trader."))
    kpp = _text(40, help_text=_("KPP: 9 characters; empty for a sole trader."))
    city = _text(120)
    contact_name = _text(255, help_text=_("The person who wrote or called."))
    phone = _text(64, help_text=_("Any usual spelling; stored in E.164."))
    email = _text(254)
    text = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TEXT)
    received_at = serializers.DateTimeField(
        required=False, help_text=_("When it arrived; defaults to now (for calls logged afterwards).")
    )
    status = serializers.ChoiceField(choices=InquiryStatus.choices, read_only=True)
    company = RelatedIdField(read_only=True, allow_null=True)
    curator = RelatedIdField(read_only=True, allow_null=True)
    match = serializers.SerializerMethodField()
    respond_by = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("To be taken by (response standard).")
    )
    taken_at = serializers.DateTimeField(read_only=True, allow_null=True)
    taken_by = RelatedIdField(read_only=True, allow_null=True)
    is_late = serializers.SerializerMethodField()
    needs_review = serializers.BooleanField(read_only=True)
    routing_explanation = serializers.CharField(read_only=True)
    reject_reason = serializers.CharField(read_only=True)

    @extend_schema_field(MatchSerializer)
    def get_match(self, inquiry: Inquiry) -> dict[str, Any]:
        return {
            "confidence": inquiry.match_confidence,
            "reasons": [_reason(r) for r in inquiry.match_reasons or []],
            "candidates": [
                {
                    "company": c.get("company"),
                    "name": c.get("name", ""),
                    "curator": c.get("curator"),
                    "confidence": c.get("confidence", ""),
                    "score": c.get("score"),
                }
                for c in inquiry.match_candidates or []
            ],
        }

    def get_is_late(self, inquiry: Inquiry) -> bool:
        # Annotated by the selectors every answer is read through.
        return bool(getattr(inquiry, "is_late", False))


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_TEXT, allow_blank=True)


class ConvertSerializer(serializers.Serializer):
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text=_("The deal's title (made up when empty)."),
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True)
    expected_close = serializers.DateField(required=False, allow_null=True)


class ConvertResultSerializer(serializers.Serializer):
    deal = serializers.IntegerField(help_text=_("Id of the new deal."))
    inquiry = InquirySerializer()


class ConfirmMatchSerializer(serializers.Serializer):
    company = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        help_text=_("The client the inquiry comes from; null declares a new client."),
    )


class InquiryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*InquiryStatus.choices, ("open", _("Open (new and taken)"))],
        method="filter_nothing",
        help_text=_("One status, or `open` for new and taken ones; all statuses by default."),
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, method="filter_nothing")
    curator = IntegerFilter(min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("User id."))
    source = IntegerFilter(
        min_value=1, max_value=MAX_ID, method="filter_nothing", help_text=_("Source id (sub-sources too).")
    )
    late = django_filters.BooleanFilter(method="filter_nothing", help_text=_("Only late ones."))
    needs_review = django_filters.BooleanFilter(
        method="filter_nothing", help_text=_("Only those waiting for the head of sales.")
    )
    mine = django_filters.BooleanFilter(method="filter_nothing", help_text=_("Mine and unassigned ones."))
    search = django_filters.CharFilter(
        method="filter_nothing", help_text=_("Company, INN, person, phone or e-mail.")
    )

    class Meta:
        model = Inquiry
        fields: list[str] = []

    def filter_nothing(self, queryset: QuerySet[Inquiry], name: str, value: Any) -> QuerySet[Inquiry]:
        return queryset  # the selector applies every filter in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
        data = self.form.cleaned_data
        wanted = data.get("status") or ""
        return selectors.inquiry_list(
            actor=self.request.user,
            status={"": "all", "open": ""}.get(wanted, wanted),
            channel=data.get("channel") or "",
            curator=data.get("curator"),
            source=data.get("source"),
            late=bool(data.get("late")),
            needs_review=bool(data.get("needs_review")),
            mine=bool(data.get("mine")),
            search=data.get("search") or "",
        )


@extend_schema(responses=InquirySerializer)
class InquiryViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Inquiries (обращения): matched with the base and routed to one curator (R2); late ones flagged (R1).

    A seller who is not the client's curator cannot take, qualify or reject its inquiry: 403 with a message
    naming the curator."""

    serializer_class = InquirySerializer
    filterset_class = InquiryFilter
    # Working an inquiry is checked on the inquiry by the services (whose refusal names the curator).
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": ADD,
        "take": ADD,
        "qualify": ADD,
        "reject": ADD,
        "convert": ADD,
        "confirm_match": REVIEW,
    }

    def get_queryset(self) -> QuerySet[Inquiry]:
        if getattr(self, "swagger_fake_view", False):
            return Inquiry.objects.none()
        return selectors.inquiry_list(actor=self.actor, status="all")

    def get_object(self) -> Inquiry:
        inquiry = selectors.inquiry_get(actor=self.actor, inquiry_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, inquiry)
        return inquiry

    def _answer(self, inquiry: Inquiry, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.inquiry_get(actor=self.actor, inquiry_id=inquiry.pk)
        return Response(InquirySerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inquiry = services.inquiry_create(
            actor=self.actor, client_ip=client_ip(request) or None, **serializer.validated_data
        )
        return self._answer(inquiry, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InquirySerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def take(self, request: Request, pk: str | None = None) -> Response:
        """Take a new inquiry (the first response, R1)."""
        return self._answer(services.inquiry_take(actor=self.actor, inquiry=self.get_object()))

    @extend_schema(request=None, responses=InquirySerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def qualify(self, request: Request, pk: str | None = None) -> Response:
        """A taken inquiry is a real need."""
        return self._answer(services.inquiry_qualify(actor=self.actor, inquiry=self.get_object()))

    @extend_schema(request=RejectSerializer, responses=InquirySerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Close an inquiry with a reason."""
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inquiry = services.inquiry_reject(
            actor=self.actor, inquiry=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._answer(inquiry)

    @extend_schema(request=ConvertSerializer, responses={201: ConvertResultSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        """Turn a taken or qualified inquiry of a settled client into a deal (S3); answers the deal's id and
        the inquiry, now converted. The deal is then at ``/api/v1/deals/{id}/``."""
        serializer = ConvertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deal = services.inquiry_convert(
            actor=self.actor, inquiry=self.get_object(), **serializer.validated_data
        )
        fresh = selectors.inquiry_get(actor=self.actor, inquiry_id=deal.inquiry_id)
        inquiry = InquirySerializer(fresh, context=self.get_serializer_context()).data
        return Response({"deal": deal.pk, "inquiry": inquiry}, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfirmMatchSerializer, responses=InquirySerializer)
    @action(detail=True, methods=["post"], url_path="confirm-match", filter_backends=[])
    def confirm_match(self, request: Request, pk: str | None = None) -> Response:
        """Head of sales: the client the inquiry comes from (``company``), or a new client (``null``)."""
        serializer = ConfirmMatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inquiry = services.inquiry_confirm_match(
            actor=self.actor, inquiry=self.get_object(), company=serializer.validated_data["company"]
        )
        return self._answer(inquiry)


# Sources (S2) ---------------------------------------------------------------------------------------------


class SourceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    parent = RelatedIdField(  # type: ignore[assignment]  # a field, not Field.parent
        required=False, allow_null=True, help_text=_("The source this one is a sub-source of.")
    )
    is_recommendation = serializers.BooleanField(
        required=False, help_text=_("Companies from this source name the client who recommended them.")
    )
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


def _invalid(field: str, message: Any, code: str = "invalid_choice") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


class SourceViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contact sources and their sub-sources (a named magazine, an exhibition, a site). No delete: a source
    used by companies is deactivated instead."""

    serializer_class = SourceSerializer
    filterset_fields: list[str] = []
    permissions = {
        "list": "companies.view_company",
        "retrieve": "companies.view_company",
        "create": "companies.manage_dictionaries",
        "update": "companies.manage_dictionaries",
        "partial_update": "companies.manage_dictionaries",
    }

    def get_queryset(self) -> QuerySet[ContactSource]:
        return ContactSource.objects.order_by("position", "name", "id")

    def get_object(self) -> ContactSource:
        try:
            item = ContactSource.objects.get(pk=int(self.kwargs["pk"]))
        except (ContactSource.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None
        self.check_object_permissions(self.request, item)
        return item

    def _parent(self, value: Any, item: ContactSource | None) -> ContactSource | None:
        if value is None:
            return None
        parent = ContactSource.objects.filter(pk=value).first()
        if parent is None:
            raise _invalid("parent", _("The parent source was not found."))
        if parent.parent_id is not None:
            raise _invalid("parent", _("A sub-source cannot have sub-sources of its own."), "too_deep")
        if item is not None and parent.pk == item.pk:
            raise _invalid("parent", _("A source cannot be its own parent."), "self_reference")
        if item is not None and item.children.exists():
            raise _invalid("parent", _("This source has sub-sources: it stays at the top."), "has_children")
        return parent

    def _save(self, serializer: serializers.BaseSerializer[Any], item: ContactSource | None) -> ContactSource:
        data = dict(serializer.validated_data)
        parent = (
            self._parent(data["parent"], item)
            if "parent" in data
            else (item.parent if item is not None else None)
        )
        return cast(
            ContactSource,
            company_services.dictionary_item_save(
                actor=self.actor,
                kind="sources",
                item=item,
                name=data.get("name", item.name if item else ""),
                position=data.get("position"),  # none given: a new source goes last, an old one stays
                is_active=data.get("is_active", item.is_active if item else True),
                parent=parent,
                is_recommendation=data.get("is_recommendation", item.is_recommendation if item else False),
            ),
        )

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = self._save(serializer, None)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = self._save(serializer, cast(ContactSource, serializer.instance))
