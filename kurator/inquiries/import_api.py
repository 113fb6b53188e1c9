"""/api/v1/imports/: the primary client-base import (S1) for integrations.

``POST /imports/`` takes a multipart ``file`` (CSV or XLSX) with optional ``curator`` (user id), ``source``
(contact source id or name) and ``mapping`` (JSON: column index or heading → field or ``"ignore"``).
With ``?dry_run=1`` it answers what the import would do and writes nothing at all (not even a batch); with
``?preview=1`` it keeps the batch for a later ``POST /imports/{id}/apply/``; otherwise it applies at once.
The answer lists every row as ``{row, status, company, reasons}`` with totals per status.
"""

from __future__ import annotations

import io
import json
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kurator.accounts.models import User
from kurator.core.api import Pagination
from kurator.inquiries import importing
from kurator.inquiries.models import ImportBatch

PERMISSION = "companies.import_clients"
MAX_ID = 2**63 - 1
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("The client list: CSV (UTF-8 or Windows-1251; `;`, `,` or tab) or XLSX.")
    )
    curator = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("User id of the curator of the new companies (required unless dry_run)."),
    )
    source = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.source
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Contact source (id or name) of rows that name none or an unknown one."),
    )
    mapping = serializers.JSONField(
        required=False,
        help_text=_('Corrections of the column mapping: {"3": "inn", "Комментарий": "ignore"}.'),
    )


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("inn, ogrn, phone, email, domain, name; or a field error code."))
    text = serializers.CharField()
    company = serializers.IntegerField(required=False, allow_null=True)
    row = serializers.IntegerField(required=False, help_text=_("The earlier row of the file it repeats."))
    field = serializers.CharField(
        required=False, help_text=_("The import field a refusal or a note is about.")
    )
    column = serializers.CharField(required=False, help_text=_("The file's heading of that field."))
    score = serializers.FloatField(required=False, allow_null=True)


class RowSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text=_("Row number as a spreadsheet shows it (the heading is row 1).")
    )
    status = serializers.ChoiceField(choices=importing.STATUSES)
    company = serializers.IntegerField(
        allow_null=True, help_text=_("The company created (new) or repeated (duplicate).")
    )
    reasons = ReasonSerializer(many=True)


class TotalsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    refused = serializers.IntegerField()


class ImportSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("The batch; null for a dry run."))
    status = serializers.CharField(help_text=_("dry_run, preview, applied or failed."))
    file_name = serializers.CharField()
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    mapping = serializers.DictField(child=serializers.CharField(), help_text=_("Column index → field."))
    totals = TotalsSerializer()
    rows = RowSerializer(many=True)
    curator = serializers.IntegerField(allow_null=True)
    source = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]  # a field, not Field.source
    created_at = serializers.DateTimeField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)


class ImportListSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="original_name")

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "status",
            "file_name",
            "totals",
            "curator",
            "source",
            "created_by",
            "created_at",
            "applied_at",
        ]
        read_only_fields = fields


def _rows(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "row": entry["row"],
            "status": entry["status"],
            "company": entry.get("company"),
            "reasons": [_public_reason(r) for r in entry.get("reasons", [])],
        }
        for entry in report
    ]


def _public_reason(reason: dict[str, Any]) -> dict[str, Any]:
    # The rendering keys (key/params) are internal; the text is shown in the caller's language.
    result = {k: v for k, v in reason.items() if k not in ("key", "params")}
    result["text"] = importing.reason_text(reason)
    return result


def _batch_answer(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "status": batch.status,
        "file_name": batch.original_name,
        "encoding": batch.encoding,
        "delimiter": batch.delimiter,
        "mapping": batch.mapping,
        "totals": batch.totals,
        "rows": _rows(batch.report),
        "curator": batch.curator_id,
        "source": batch.source_id,
        "created_at": batch.created_at,
        "applied_at": batch.applied_at,
    }


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, request.data.get(name, "") if hasattr(request.data, "get") else "")
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _error(field: str, message: Any, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _mapping(value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _error("mapping", _("The column mapping is not valid JSON."), "mapping_invalid") from None
    if not isinstance(value, dict):
        raise _error("mapping", _("The column mapping must map columns to fields."), "mapping_invalid")
    return value


class ImportViewSet(viewsets.GenericViewSet):
    """Imports of client lists (S1): dry run, preview, apply, the result as XLSX."""

    permissions = {"*": PERMISSION}
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    pagination_class = Pagination
    serializer_class = ImportSerializer

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)

    def get_queryset(self) -> Any:
        return ImportBatch.objects.select_related("created_by").defer("report")

    def get_batch(self, pk: Any) -> ImportBatch:
        try:
            return ImportBatch.objects.get(pk=int(pk))
        except (ImportBatch.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None

    @extend_schema(responses=ImportListSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Earlier imports, newest first (without their rows)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportListSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, description=str(_("Answer what would happen; write nothing."))
            ),
            OpenApiParameter(
                "preview",
                OpenApiTypes.BOOL,
                description=str(_("Keep the batch for a later apply instead of applying.")),
            ),
        ],
        responses={200: ImportSerializer, 201: ImportSerializer},
    )
    def create(self, request: Request) -> Response:
        """Upload a client list: dry run (nothing written), preview (a batch to apply later) or import."""
        upload = request.FILES.get("file")
        if upload is None:
            raise _error("file", _("Attach the client list as the “file” field."), "required")
        try:
            importing.check_size(upload.size or 0)
        except importing.ImportFileError as exc:
            raise exc.as_validation_error() from None
        data = upload.read()
        name = str(upload.name or "clients.csv")
        mapping = _mapping(request.data.get("mapping"))
        curator = request.data.get("curator") or None
        source = request.data.get("source") or None
        if _flag(request, "dry_run"):
            analysis = importing.import_dry_run(
                actor=self.actor, data=data, filename=name, mapping=mapping, curator=curator, source=source
            )
            if analysis.problems:
                raise ValidationError({"mapping": analysis.problems})
            return Response(
                {
                    "id": None,
                    "status": "dry_run",
                    "file_name": name,
                    "encoding": analysis.table.encoding,
                    "delimiter": analysis.table.delimiter,
                    "mapping": importing.mapping_to_json(analysis.mapping),
                    "totals": analysis.totals,
                    "rows": _rows(analysis.report()),
                    "curator": int(str(curator)) if str(curator or "").isdigit() else None,
                    "source": None,
                    "created_at": None,
                    "applied_at": None,
                }
            )
        batch = importing.import_prepare(
            actor=self.actor,
            data=data,
            filename=name,
            curator=curator,
            source=source,
            mapping=mapping,
            strict=True,
        )
        if not _flag(request, "preview"):
            batch = importing.import_apply(actor=self.actor, batch=batch)
        return Response(_batch_answer(batch), status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """One import with every row."""
        return Response(_batch_answer(self.get_batch(pk)))

    @extend_schema(request=None, responses=ImportSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Write the new rows of a previewed batch (checked again against the base as it is now)."""
        batch = importing.import_apply(actor=self.actor, batch=self.get_batch(pk))
        return Response(_batch_answer(batch))

    @extend_schema(responses={(200, XLSX_TYPE): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        """The file with a status, the company and the reasons for every row, as XLSX."""
        batch = self.get_batch(pk)
        out = io.BytesIO()
        importing.export_xlsx(batch, out)
        out.seek(0)
        return FileResponse(
            out, as_attachment=True, filename=importing.result_file_name(batch), content_type=XLSX_TYPE
        )
