"""API of the dossier's documents (D12, R4): ``/api/v1/documents/``.

- ``GET /documents/`` (filters ``company``, ``section``, ``contract``, ``deal``, ``conflict``) and
  ``GET /documents/{id}/``: the documents the caller may see — the head of sales, finance and the
  administrator every client's, anyone else those of the clients they curate and those a live grant opens.
  A document the caller may not see is simply not there (404), and trashed documents are not listed.
  ``sha256``, ``size``, ``uploaded_by`` and ``uploaded_at`` are the latest version's.
- ``POST /documents/`` (multipart: ``company``, ``section``, ``file``, optionally ``contract``/``deal``/
  ``conflict``, ``name``, ``comment``): upload — the curator, finance, the head of sales and the administrator
  (403 for others). The file is checked by its content; 400 names the field.
- ``GET /documents/{id}/download/``: the latest version's bytes (attachment, detected type, ``nosniff``,
  ``no-store``), after the clearance and SHA-256 checks; audited. An id the caller may not open is logged as
  refused and answered 404; stored bytes that fail the checksum are refused with 409.
- ``GET /documents/{id}/versions/`` and ``POST /documents/{id}/versions/`` (multipart ``file``, optional
  ``comment``): the versions, and a new one.
- ``DELETE /documents/{id}/`` moves the document to the trash (nothing is deleted); the reason is the
  ``reason`` query parameter (or body field), «Moved to the trash through the API» when none is given.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from django.urls import URLPattern
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.access.scoping import visible_companies
from kurator.companies.api import MAX_ID, RelatedIdField, _id_filter
from kurator.core.api import ActorMixin
from kurator.core.errors import AccessDenied
from kurator.documents import selectors, services
from kurator.documents.content import CONTENT_TYPES
from kurator.documents.models import Document, DocumentSection, DocumentVersion
from kurator.documents.responses import download_response

MEMBERS = "companies.view_company"
REASON_LENGTH = services.REASON_LENGTH


class _LatestField(serializers.Field):
    """A field of the document's latest version (read with the list's prefetch)."""

    def __init__(self, attribute: str, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.attribute = attribute

    def get_attribute(self, instance: Document) -> Any:
        version = selectors.latest_version(instance)
        return getattr(version, self.attribute) if version is not None else None

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.STR)
class _LatestSha(_LatestField):
    pass


@extend_schema_field(OpenApiTypes.INT64)
class _LatestInt(_LatestField):
    pass


@extend_schema_field(OpenApiTypes.DATETIME)
class _LatestTime(_LatestField):
    def to_representation(self, value: Any) -> Any:
        return serializers.DateTimeField().to_representation(value) if value is not None else None


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(read_only=True, help_text=_("Id of the client company."))
    section = serializers.ChoiceField(choices=DocumentSection.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True, help_text=_("The number of the latest version."))
    sha256 = _LatestSha("sha256", help_text=_("SHA-256 of the latest version's bytes (hex)."))
    size = _LatestInt("size", help_text=_("Size of the latest version in bytes."))
    uploaded_by = _LatestInt("uploaded_by_id", help_text=_("User id of who uploaded the latest version."))
    uploaded_at = _LatestTime("uploaded_at", help_text=_("When the latest version was uploaded."))
    contract = RelatedIdField(read_only=True, allow_null=True, help_text=_("A contract of the same client."))
    deal = RelatedIdField(read_only=True, allow_null=True, help_text=_("A deal of the same client."))
    conflict = RelatedIdField(read_only=True, allow_null=True, help_text=_("A conflict of the same client."))


def _link(help_text: Any) -> RelatedIdField:
    return RelatedIdField(required=False, allow_null=True, help_text=help_text)


class DocumentUploadSerializer(serializers.Serializer):
    company = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Id of the client company.")
    )
    section = serializers.ChoiceField(choices=DocumentSection.choices)
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=_(
            "PDF, an office document (docx, xlsx, pptx, odt, ods, odp, odg, doc, xls, ppt, rtf) or an image "
            "(png, jpeg, gif, webp, tiff); the type is checked by the content."
        ),
    )
    contract = _link(_("Id of a contract of the same client."))
    deal = _link(_("Id of a deal of the same client."))
    conflict = _link(_("Id of a conflict of the same client."))
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text=_("The document's name; the file's if empty."),
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DocumentVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True, help_text=_("The file's name."))
    content_type = serializers.CharField(read_only=True, help_text=_("The type detected from the content."))
    size = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    uploaded_by = RelatedIdField(read_only=True)
    uploaded_at = serializers.DateTimeField(read_only=True)
    comment = serializers.CharField(read_only=True)


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DocumentFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    section = django_filters.ChoiceFilter(choices=DocumentSection.choices)
    contract = _id_filter("contract_id", _("Contract id."))
    deal = _id_filter("deal_id", _("Deal id."))
    conflict = _id_filter("conflict_id", _("Conflict id."))

    class Meta:
        model = Document
        fields: list[str] = []


_NOT_FOUND = OpenApiResponse(description=_("No such document, or one you may not open."))
_DOWNLOAD = {(200, content_type): OpenApiTypes.BINARY for content_type in CONTENT_TYPES}


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, 400: OpenApiResponse(), 403: OpenApiResponse()},
    ),
    destroy=extend_schema(
        parameters=[
            OpenApiParameter(
                "reason",
                str,
                OpenApiParameter.QUERY,
                description=str(_("Why the document goes to the trash (kept with it).")),
            )
        ],
        request=None,
        responses={204: None, 403: OpenApiResponse(), 404: _NOT_FOUND},
    ),
)
class DocumentViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The dossier's documents (D12). Confidential (R4): the list and the records hold only what the caller
    may see. Deleting moves a document to the trash; the head of sales restores it."""

    permissions = dict.fromkeys(("list", "retrieve", "create", "destroy", "download", "versions"), MEMBERS)
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[Document]:
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        # The serializer reads the links' ids only: no joins.
        return selectors.document_list(actor=self.actor).select_related(None)

    def get_object(self) -> Document:
        """A document the caller may see and not in the trash; 404 otherwise."""
        document = selectors.document_get(actor=self.actor, document_id=self.kwargs["pk"])
        if document.trashed_at is not None:
            raise Http404
        return document

    def _company(self, company_id: Any) -> Any:
        company = visible_companies(self.actor).filter(pk=company_id).first()
        if company is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid_choice")]}
            )
        return company

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = self._company(data.pop("company"))
        document = services.document_upload(actor=self.actor, company=company, request=request, **data)
        fresh = selectors.document_get(actor=self.actor, document_id=document.pk)
        return Response(DocumentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        document = self.get_object()
        body = request.data if hasattr(request.data, "get") else {}
        reason = request.query_params.get("reason") or body.get("reason") or ""
        if not str(reason).strip():
            reason = gettext("Moved to the trash through the API")
        services.document_trash(actor=self.actor, document=document, reason=str(reason), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={**_DOWNLOAD, 404: _NOT_FOUND, 409: OpenApiResponse(description=_("Damaged in storage."))},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """The latest version's bytes, after the clearance and checksum checks; every attempt is audited."""
        document = (
            Document.objects.select_related("company").filter(pk=_int(pk), trashed_at__isnull=True).first()
        )
        if document is None:
            raise Http404
        try:
            handle, version = services.document_open(actor=self.actor, document=document, request=request)
        except AccessDenied:
            raise Http404 from None  # logged as refused; the API does not tell what it will not show
        except services.DocumentUnavailable as exc:
            return Response({"detail": str(exc.message)}, status=status.HTTP_409_CONFLICT)
        return download_response(handle, version)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: DocumentVersionSerializer(many=True), 404: _NOT_FOUND},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": VersionUploadSerializer},
        responses={
            201: DocumentVersionSerializer,
            400: OpenApiResponse(),
            403: OpenApiResponse(),
            404: _NOT_FOUND,
        },
        filters=False,
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """GET: every version, the latest first. POST: upload a new version (the earlier ones stay)."""
        document = self.get_object()
        if request.method == "POST":
            serializer = VersionUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            version = services.document_add_version(
                actor=self.actor,
                document=document,
                file=serializer.validated_data["file"],
                comment=serializer.validated_data.get("comment", ""),
                request=request,
            )
            return Response(DocumentVersionSerializer(version).data, status=status.HTTP_201_CREATED)
        versions: list[DocumentVersion] = selectors.document_versions(document=document)
        return Response(DocumentVersionSerializer(versions, many=True).data)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


ROUTES: list[tuple[str, Any, str]] = [("documents", DocumentViewSet, "document")]
PATHS: list[URLPattern] = []
