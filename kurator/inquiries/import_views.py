"""HTML pages of the primary client-base import (S1): upload, preview with the mapping, apply, download.

The pages only collect input and show results: reading, mapping, matching, applying and the XLSX export
are the engine's (kurator/inquiries/importing.py), the same functions the API and ``import_clients`` call.
Batches are read only after the head-of-sales permission is checked, on the object too.
"""

from __future__ import annotations

import io
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.scoping import visible_companies
from kurator.accounts.models import User
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.inquiries import importing
from kurator.inquiries.forms_import import ImportMappingForm, ImportUploadForm
from kurator.inquiries.models import ImportBatch, ImportStatus

PERMISSION = "companies.import_clients"
ROWS_PER_PAGE = 50
RECENT_BATCHES = 10
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_BADGES = {
    importing.NEW: "bg-green-lt",
    importing.DUPLICATE: "bg-yellow-lt",
    importing.REFUSED: "bg-red-lt",
}
BATCH_BADGES = {
    ImportStatus.PREVIEW: "bg-blue-lt",
    ImportStatus.APPLIED: "bg-green-lt",
    ImportStatus.FAILED: "bg-red-lt",
}


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    batch = (
        ImportBatch.objects.select_related("curator", "source", "source__parent", "created_by")
        .filter(pk=pk)
        .first()
    )
    if batch is None:
        raise Http404
    ensure(_actor(request), PERMISSION, batch)
    return batch


def _messages_of(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


@require(PERMISSION)
def upload(request: HttpRequest) -> HttpResponse:
    """S1: upload a client list; the engine keeps it as a batch with its preview, nothing is imported yet."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            importing.check_size(file.size or 0)
            batch = importing.import_prepare(
                actor=_actor(request),
                data=file.read(),
                filename=str(file.name or "clients.csv"),
                curator=form.cleaned_data["curator"],
                source=form.cleaned_data["source"],
            )
        except importing.ImportFileError as exc:
            form.add_error("file", exc.text)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("imports:preview", batch.pk)
    elif request.method == "POST" and form.cleaned_data.get("file") is not None:
        _check_file(form)
    batches = ImportBatch.objects.select_related("created_by").defer("report", "mapping")[:RECENT_BATCHES]
    return render(
        request,
        "inquiries/import_upload.html",
        {"form": form, "batches": batches, "batch_badges": BATCH_BADGES},
        status=400 if form.errors else 200,
    )


def _check_file(form: ImportUploadForm) -> None:
    """While other fields are wrong, say at once whether the file itself can be read (the engine's words)."""
    file = form.cleaned_data["file"]
    try:
        importing.check_size(file.size or 0)
        importing.read_table(file.read(), str(file.name or ""))
    except importing.ImportFileError as exc:
        form.add_error("file", exc.text)


def _read(batch: ImportBatch) -> importing.Table | None:
    """The batch's file as a table; None if the stored file cannot be read any more."""
    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
        return importing.read_table(data, batch.original_name)
    except (OSError, ValueError, importing.ImportFileError):
        return None


def _key_columns(mapping: dict[int, str]) -> dict[str, int]:
    """The first column of each key field shown in the rows table."""
    keys: dict[str, int] = {}
    for index, code in sorted(mapping.items()):
        if code in ("phones", "contact_phones") and "phone" not in keys:
            keys["phone"] = index
    return keys


def _reason_view(reason: dict[str, Any]) -> dict[str, Any]:
    field = importing.FIELDS_BY_CODE.get(reason.get("field", ""))
    return {
        "text": importing.reason_text(reason),
        "where": reason.get("column") or (field.label if field is not None else ""),
        "row": reason.get("row"),
        "code": reason.get("code", ""),
    }


@require(PERMISSION)
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """S1: a batch's dry run — encoding, delimiter, column mapping (correctable), totals and every row."""
    actor = _actor(request)
    batch = _batch(request, pk)
    table = _read(batch)
    headers = table.headers if table is not None else []
    mapping = importing.mapping_from_json(batch.mapping)
    applied = batch.status == ImportStatus.APPLIED
    form = ImportMappingForm(
        request.POST if request.method == "POST" else None,
        headers=headers,
        mapping=mapping,
        sample=table.rows[0][1] if table is not None and table.rows else None,
        disabled=applied,
    )
    if request.method == "POST":
        if applied:
            messages.error(
                request, _("This import is already applied: upload the file again to import it anew.")
            )
            return redirect("imports:preview", batch.pk)
        if form.is_valid():
            try:
                importing.import_remap(actor=actor, batch=batch, mapping=form.mapping())
            except ValidationError as exc:
                for message in _messages_of(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("The preview is made again with the new column mapping."))
                return redirect("imports:preview", batch.pk)

    status = request.GET.get("status", "")
    if status not in importing.STATUSES:
        status = ""
    report = [entry for entry in batch.report if not status or entry.get("status") == status]
    page = FewRowsPaginator(report, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    keys = _key_columns(mapping)
    cells = dict(table.rows) if table is not None and keys else {}
    company_ids = {entry["company"] for entry in page.object_list if entry.get("company")}
    companies = (
        {c.pk: c for c in visible_companies(actor).filter(pk__in=company_ids).only("pk", "short_name", "inn")}
        if company_ids
        else {}
    )
    rows = []
    for entry in page.object_list:
        line = cells.get(entry["row"], [])
        phone_index = keys.get("phone")
        rows.append(
            {
                "row": entry["row"],
                "status": entry["status"],
                "status_label": importing.STATUS_LABELS.get(entry["status"], entry["status"]),
                "badge": STATUS_BADGES.get(entry["status"], "bg-secondary-lt"),
                "name": entry.get("name", ""),
                "inn": entry.get("inn", ""),
                "phone": line[phone_index] if phone_index is not None and phone_index < len(line) else "",
                "company_id": entry.get("company"),
                "company": companies.get(entry.get("company")),
                "duplicate_of_row": entry.get("duplicate_of_row"),
                "reasons": [_reason_view(r) for r in entry.get("reasons", [])],
            }
        )
    totals = {code: int(batch.totals.get(code, 0)) for code in importing.STATUSES}
    filters = [
        {
            "code": code,
            "label": importing.STATUS_LABELS[code],
            "count": totals[code],
            "badge": STATUS_BADGES[code],
        }
        for code in importing.STATUSES
    ]
    problems = importing.mapping_problems(mapping) if table is not None else []
    context = {
        "batch": batch,
        "table": table,
        "form": form,
        "applied": applied,
        "totals": totals,
        "total_rows": sum(totals.values()),
        "filters": filters,
        "status": status,
        "page": page,
        "rows": rows,
        "problems": problems,
        "batch_badges": BATCH_BADGES,
        "can_apply": batch.status == ImportStatus.PREVIEW and not problems and table is not None,
    }
    return render(request, "inquiries/import_preview.html", context, status=400 if form.errors else 200)


@require(PERMISSION)
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    """S1: write the batch's new rows in one transaction; an applied batch is not applied again."""
    batch = _batch(request, pk)
    try:
        batch = importing.import_apply(actor=_actor(request), batch=batch)
    except ValidationError as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        created = int(batch.totals.get(importing.NEW, 0))
        messages.success(
            request,
            ngettext(
                "The import is applied: %(count)d new company created.",
                "The import is applied: %(count)d new companies created.",
                created,
            )
            % {"count": created},
        )
    return redirect(reverse("imports:preview", args=[batch.pk]))


@require(PERMISSION)
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """S1: the file with a status, the company and the reasons for every row, as XLSX (formulas escaped)."""
    batch = _batch(request, pk)
    out = io.BytesIO()
    try:
        importing.export_xlsx(batch, out)
    except (OSError, importing.ImportFileError):
        raise Http404 from None
    disposition = content_disposition_header(True, importing.result_file_name(batch))
    return HttpResponse(
        out.getvalue(), content_type=XLSX_TYPE, headers={"Content-Disposition": disposition or "attachment"}
    )
