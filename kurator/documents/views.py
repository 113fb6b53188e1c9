"""Document pages (D12: nothing is lost; R4: confidential by default), mounted at /documents/.

- The dossier's Documents tab: the client's documents by section with their latest version, the links to the
  contract, deal or conflict, the upload form and «move to the trash». Confidential: the curator, the head of
  sales, finance and the administrator see it; anyone else in the department gets a lock notice (403) with no
  name and no count, and a button to ask for access — unless a grant opens single documents to them, which
  are then listed alone. Every opening of the tab is written to the audit log, refusals too.
- A document's page: its versions (each downloadable), a new version, the trash, restore and purge.
- Downloads: only through these views (never a public URL), after the clearance and checksum checks of
  ``services.document_open``; both are audited.
- The trash (the head of sales): who moved what, when and why; restore; the administrator purges what has
  been there longer than the retention period.

Views name ``companies.view_company`` (every member opens the dossier) for the coverage test and check the
document permissions on the object; reads go through kurator.documents.selectors, writes through
kurator.documents.services.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.audit import audit_record
from kurator.access.confidential import clearance
from kurator.access.decorators import ensure, require
from kurator.access.models import AuditAction
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id, visible_deals
from kurator.access.selectors import pending_request_for
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import AccessDenied
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.documents import selectors, services
from kurator.documents.forms import TrashForm, UploadForm, VersionForm
from kurator.documents.models import Document, DocumentSection
from kurator.documents.responses import download_response

MEMBERS = "companies.view_company"
ADD = "documents.add_document"
TRASH = "documents.trash_document"
RESTORE = "documents.restore_document"
PURGE = "documents.purge_document"
# A section shown in full («Show all N» on the tab), a page at a time.
SECTION_PER_PAGE = 50


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _safe_next(request: HttpRequest, value: Any) -> str:
    where = str(value or "")
    if where.startswith("/") and url_has_allowed_host_and_scheme(
        where, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return where
    return ""


def _error_text(exc: ValidationError) -> str:
    """A service's refusal as one line naming the fields, for a page that redirects back."""
    labels = {
        "file": _("File"),
        "section": _("Section"),
        "comment": _("Comment"),
        "reason": _("Reason"),
        "contract": _("Contract"),
        "deal": _("Deal"),
        "conflict": _("Conflict"),
    }
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for field, errors in exc.error_dict.items():
        text = " ".join(m for e in errors for m in e.messages)
        label = labels.get(field)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


# The dossier tab --------------------------------------------------------------------------------------------


def _upload_form(request: HttpRequest, company: Company, data: Any = None, files: Any = None) -> UploadForm:
    from kurator.finance.selectors.conflicts import visible_conflicts
    from kurator.finance.selectors.contracts import visible_contracts

    actor = _actor(request)
    contracts = visible_contracts(actor).filter(company=company).only("pk", "number")
    deals = visible_deals(actor).filter(company=company).only("pk", "title")
    conflicts = visible_conflicts(actor).filter(company=company).only("pk", "title")
    return UploadForm(
        data,
        files,
        contracts=list(contracts.order_by("number", "pk")),
        deals=list(deals.order_by("-pk")),
        conflicts=list(conflicts.order_by("-occurred_on", "-pk")),
    )


def _locked_tab(request: HttpRequest, company: Company, granted: list[Document]) -> HttpResponse:
    response = render_dossier(
        request,
        company.pk,
        "documents",
        "documents/locked_tab.html",
        granted=granted,
        pending_request=pending_request_for(actor=request.user, company=company),
        may_request=can(request.user, "access.request_access"),
    )
    response.status_code = 200 if granted else 403
    return response


def _tab(request: HttpRequest, company: Company, form: UploadForm | None, status: int = 200) -> HttpResponse:
    """The tab: each section with its newest documents and «Show all N»; with ``?section=<code>`` that
    section alone in full, paged. A fixed size and a fixed number of queries however many documents."""
    actor = _actor(request)
    code = request.GET.get("section")
    page = None
    if code in DocumentSection.values:
        listing = selectors.section_documents(actor=actor, company=company, section=str(code))
        page = FewRowsPaginator(listing, SECTION_PER_PAGE).get_page(request.GET.get("page"))
        group = selectors.SectionGroup(
            str(code), DocumentSection(code).label, list(page.object_list), page.paginator.count
        )
        groups = [group]
    else:
        groups = selectors.company_sections(actor=actor, company=company)
    response = render_dossier(
        request,
        company.pk,
        "documents",
        "documents/company_tab.html",
        groups=groups,
        page=page,
        page_range=page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        if page
        else None,
        form=form,
        may_trash=can(actor, TRASH, company),
        may_restore=can(actor, RESTORE),
    )
    response.status_code = status
    return response


@require(MEMBERS)
@follows_merged
def company_documents(request: HttpRequest, pk: int) -> HttpResponse:
    """D12/R4: the Documents tab for those cleared; a lock notice (403, nothing named) for the others."""
    company = access_company_by_id(request.user, pk)
    allowed = clearance(request.user, company)
    audit_record(
        action=AuditAction.VIEW_DOCUMENTS,
        allowed=allowed.allowed,
        rule=allowed.rule,
        user=request.user,
        obj=company,
        request=request,
    )
    if not allowed.allowed:
        # Grants to single documents open those documents alone (the section stays locked).
        granted = selectors.company_documents(actor=_actor(request), company=company)
        return _locked_tab(request, company, granted)
    form = _upload_form(request, company) if can(request.user, ADD, company) else None
    return _tab(request, company, form)


@require(MEMBERS)
@require_POST
def company_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a document to the client's dossier (from the tab, or from a contract, deal or conflict card,
    which send ``next`` to come back to)."""
    company = access_company_by_id(request.user, pk)
    if company.pk != pk:  # a merged duplicate: upload to the survivor's tab instead
        return redirect("documents:company_documents", pk=company.pk)
    ensure(request.user, ADD, company)
    form = _upload_form(request, company, request.POST, request.FILES)
    back = _safe_next(request, request.POST.get("next"))
    if form.is_valid():
        try:
            document = services.document_upload(
                actor=_actor(request), company=company, request=request, **form.service_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            if back:
                messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The document %(name)s was uploaded.") % {"name": document.name})
            return redirect(back or reverse("documents:company_documents", args=[company.pk]))
    elif back:
        fields, errors = form.fields, form.errors.items()
        labelled = (f"{fields[f].label}: {' '.join(map(str, e))}" for f, e in errors if f in fields)
        messages.error(request, " ".join(labelled))
    if back:
        return redirect(back)
    return _tab(request, company, form, status=400)


# A document -------------------------------------------------------------------------------------------------


def _any_document(pk: int) -> Document:
    """The document with ``pk`` whoever may see it (the views then ask for clearance and log the answer)."""
    document = Document.objects.select_related("company__curator").filter(pk=pk).first()
    if document is None:
        raise Http404
    return document


def _locked_document(request: HttpRequest, document: Document) -> HttpResponse:
    # A request still waiting for this document, or for the client's whole section (which covers it).
    pending = pending_request_for(
        actor=request.user, company=document.company, document=document
    ) or pending_request_for(actor=request.user, company=document.company)
    return render(
        request,
        "documents/locked_document.html",
        {
            "company": document.company,
            "document_id": document.pk,
            "pending_request": pending,
            "may_request": can(request.user, "access.request_access"),
        },
        status=403,
    )


def _detail(
    request: HttpRequest,
    document: Document,
    *,
    version_form: VersionForm | None = None,
    trash_form: TrashForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = _actor(request)
    trashed = document.trashed_at is not None
    may_add = can(actor, ADD, document.company) and not trashed
    may_trash = can(actor, TRASH, document) and not trashed
    context = {
        "document": document,
        "company": document.company,
        "versions": selectors.document_versions(document=document),
        "version_form": version_form or (VersionForm() if may_add else None),
        "trash_form": trash_form or (TrashForm() if may_trash else None),
        "may_restore": trashed and can(actor, RESTORE, document),
        "may_purge": trashed and can(actor, PURGE, document),
        "purgeable": trashed and services.purgeable(document),
        "purge_from": services.purgeable_from(document),
    }
    return render(request, "documents/detail.html", context, status=status)


@require(MEMBERS)
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A document: its versions (each downloadable), a new version, the trash (D12). Audited."""
    document = _any_document(pk)
    allowed = clearance(request.user, document)
    audit_record(
        action=AuditAction.VIEW_DOCUMENTS,
        allowed=allowed.allowed,
        rule=allowed.rule,
        user=request.user,
        obj=document,
        request=request,
    )
    if not allowed.allowed:
        return _locked_document(request, document)
    return _detail(request, selectors.document_get(actor=_actor(request), document_id=pk))


@require(MEMBERS)
def document_download(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    """The bytes of a version (the latest unless ``number``), after the clearance and checksum checks; both
    outcomes are in the audit log. Refused: the lock notice (403). Damaged or missing in storage: a page that
    says so (409), never the damaged bytes."""
    document = _any_document(pk)
    try:
        handle, version = services.document_open(
            actor=_actor(request), document=document, version=number, request=request
        )
    except AccessDenied:
        return _locked_document(request, document)
    except services.DocumentUnavailable as exc:
        return render(
            request,
            "documents/unavailable.html",
            {"document": document, "company": document.company, "message": str(exc.message)},
            status=409,
        )
    # Streamed from the verified copy; `require` types plain responses.
    return cast(HttpResponse, download_response(handle, version))


@require(MEMBERS)
@require_POST
def document_add_version(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a new version of a document; the earlier ones stay."""
    document = selectors.document_get(actor=_actor(request), document_id=pk)
    ensure(request.user, ADD, document.company)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.document_add_version(
                actor=_actor(request),
                document=document,
                file=form.cleaned_data["file"],
                comment=form.cleaned_data.get("comment") or "",
                request=request,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Version %(number)s was uploaded.") % {"number": version.number})
            return redirect("documents:detail", pk=document.pk)
    return _detail(request, document, version_form=form, status=400)


@require(MEMBERS)
@require_POST
def document_trash(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a document to the trash with a reason (the head of sales can restore it)."""
    document = selectors.document_get(actor=_actor(request), document_id=pk)
    ensure(request.user, TRASH, document)
    form = TrashForm(request.POST)
    back = _safe_next(request, request.POST.get("next"))
    if form.is_valid():
        try:
            services.document_trash(
                actor=_actor(request), document=document, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            text = _("%(name)s was moved to the trash; the head of sales can restore it.")
            messages.success(request, text % {"name": document.name})
            return redirect(back or reverse("documents:company_documents", args=[document.company_id]))
    return _detail(request, document, trash_form=form, status=400)


@require(MEMBERS)
@require_POST
def document_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a document out of the trash (the head of sales)."""
    document = selectors.document_get(actor=_actor(request), document_id=pk)
    try:
        services.document_restore(actor=_actor(request), document=document, request=request)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(name)s was restored from the trash.") % {"name": document.name})
    back = _safe_next(request, request.POST.get("next"))
    return redirect(back or reverse("documents:detail", args=[document.pk]))


@require(MEMBERS)
@require_POST
def document_purge(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a document for good after the retention period (the administrator)."""
    document = selectors.document_get(actor=_actor(request), document_id=pk)
    name = document.name
    try:
        services.document_purge(actor=_actor(request), document=document, request=request)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("documents:detail", pk=document.pk)
    messages.success(request, _("%(name)s was purged for good.") % {"name": name})
    return redirect("documents:trash")


# The trash --------------------------------------------------------------------------------------------------


@require(RESTORE)
def trash(request: HttpRequest) -> HttpResponse:
    """The trash (the head of sales): who moved what, when and why; restore; the administrator purges what
    has been there longer than the retention period."""
    return render(
        request,
        "documents/trash.html",
        {
            "documents": selectors.trash_list(actor=_actor(request)),
            "may_purge": can(request.user, PURGE),
            "retention_days": services.retention_days(),
        },
    )


urlpatterns = [
    path("company/<int:pk>/", company_documents, name="company_documents"),
    path("company/<int:pk>/upload/", company_upload, name="company_upload"),
    path("trash/", trash, name="trash"),
    path("<int:pk>/", document_detail, name="detail"),
    path("<int:pk>/download/", document_download, name="download"),
    path("<int:pk>/versions/<int:number>/download/", document_download, name="download_version"),
    path("<int:pk>/versions/new/", document_add_version, name="add_version"),
    path("<int:pk>/trash/", document_trash, name="trash_document"),
    path("<int:pk>/restore/", document_restore, name="restore"),
    path("<int:pk>/purge/", document_purge, name="purge"),
]
