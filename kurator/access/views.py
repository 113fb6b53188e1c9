"""Pages of restricted access (R4, D12): asking for access, the head of sales' requests and grants, «My access
requests» and the audit log with its CSV export.

Everyone in the department asks (``access.request_access``); the head of sales and the administrator decide,
grant, revoke (``access.decide_request``) and read the log (``access.view_audit_log``). Writes go through
kurator.access.services, reads through kurator.access.selectors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from itertools import islice
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access import selectors, services
from kurator.access.audit import audit_record
from kurator.access.confidential import clearance
from kurator.access.decorators import require
from kurator.access.forms import (
    MAX_ID,
    AccessRequestForm,
    ApproveForm,
    AuditFilterForm,
    GrantFilterForm,
    GrantForm,
    RefuseForm,
    RevokeForm,
    default_expiry,
)
from kurator.access.labels import detail_texts, grant_id_of, label_lookup, object_type_choices, rule_label
from kurator.access.models import AccessGrant, AccessRequest, AuditAction, AuditEvent
from kurator.access.scoping import access_company_by_id, visible_documents
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.companies.selectors import company_choices
from kurator.core.forms import apply_service_errors
from kurator.core.net import client_ip
from kurator.core.pagination import FewRowsPaginator, UncountedPaginator
from kurator.documents.models import Document

REQUEST = "access.request_access"
DECIDE = "access.decide_request"
AUDIT = "access.view_audit_log"
PER_PAGE = 50
PENDING_SHOWN = 200


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request) or None


def _page_range(page: Any) -> Any:
    return page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)


def _error_messages(request: HttpRequest, exc: ValidationError, labels: dict[str, str]) -> None:
    """A service's refusal as messages that name the field (the row forms on the lists are small)."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            messages.error(request, message)
        return
    for field, errors in exc.error_dict.items():
        label = labels.get(field)
        for error in errors:
            for message in error.messages:
                messages.error(request, f"{label}: {message}" if label else message)


def _id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


# Asking for access ----------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require(REQUEST)
def request_access(request: HttpRequest) -> HttpResponse:
    """R4: ask the head of sales for access to a client's confidential section (``?company=``) or to one of
    its documents (``&document=``), with a reason. A document's name is confidential: the page says «a
    document of <client>» to whoever may not open it."""
    me = _actor(request)
    company = access_company_by_id(me, _id(request.POST.get("company") or request.GET.get("company")) or "")
    document: Document | None = None
    document_id = request.POST.get("document") or request.GET.get("document")
    if document_id:
        number = _id(document_id)
        document = Document.objects.filter(pk=number, company_id=company.pk).first() if number else None
        if document is None:
            raise Http404
    cleared = clearance(me, document or company)
    back = _safe_next(request, services.back_url(company, document))
    form = AccessRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.access_request_create(
                actor=me,
                company=company,
                document=document,
                reason=form.cleaned_data.get("reason") or "",
                ip=_ip(request),
            )
        except ValidationError as exc:
            status = 400
            by_field = exc.error_dict if hasattr(exc, "error_dict") else {"": exc.error_list}
            for field, errors in by_field.items():
                for error in errors:
                    form.add_error("reason" if field == "reason" else None, error)
        else:
            messages.success(
                request,
                _("Your request is sent to the head of sales. A notification will bring the decision."),
            )
            return redirect(back)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "access/request_form.html",
        {
            "form": form,
            "company": company,
            "document": document,
            "what": services.target_label(company, document, reveal=cleared.allowed),
            "cleared": cleared.allowed,
            "pending": selectors.pending_request_for(actor=me, company=company, document=document),
            "back": back,
        },
        status=status,
    )


# The head of sales' requests ------------------------------------------------------------------------------


@require(DECIDE)
def requests_page(request: HttpRequest) -> HttpResponse:
    """R4: requests waiting for a decision (oldest first, approve until a day — a week by default — or refuse
    with a comment), then the decided ones."""
    me = _actor(request)
    pending = list(selectors.pending_requests(actor=me)[:PENDING_SHOWN])
    decided = FewRowsPaginator(selectors.decided_requests(actor=me), PER_PAGE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    return render(
        request,
        "access/requests.html",
        {
            "access_tab": "requests",
            "pending": pending,
            "page": decided,
            "page_range": _page_range(decided),
            "default_expiry": default_expiry(),
            "today": today,
            "latest_expiry": today + timedelta(days=services.grant_max_days()),
        },
    )


def _decision_labels() -> dict[str, str]:
    return {
        "expires_on": _("Access until"),
        "comment": _("Comment"),
        "reason": _("Reason"),
        "status": _("Request"),
        "requester": _("Requester"),
        "grant": _("Access"),
        "user": _("Who"),
        "document": _("Document"),
    }


def _pending_request(request: HttpRequest, pk: int) -> AccessRequest:
    return selectors.access_request_get(actor=request.user, request_id=pk)


@require(DECIDE)
@require_POST
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = _pending_request(request, pk)
    form = ApproveForm(request.POST)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    if "expires_on" in form.errors:
        messages.error(request, f"{_('Access until')}: {' '.join(str(e) for e in form.errors['expires_on'])}")
        return redirect("access:requests")
    try:
        grant = services.access_request_approve(
            actor=_actor(request),
            request=access_request,
            expires_on=data.get("expires_on"),
            comment=data.get("comment") or "",
            ip=_ip(request),
        )
    except ValidationError as exc:
        _error_messages(request, exc, _decision_labels())
    else:
        messages.success(
            request,
            _("Access is given to %(who)s until %(date)s; they are told.")
            % {
                "who": access_request.requester.full_name,
                "date": date_format(grant.expires_on, "SHORT_DATE_FORMAT"),
            },
        )
    return redirect("access:requests")


@require(DECIDE)
@require_POST
def request_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = _pending_request(request, pk)
    form = RefuseForm(request.POST)
    form.is_valid()
    try:
        services.access_request_refuse(
            actor=_actor(request),
            request=access_request,
            comment=form.cleaned_data.get("comment") or "",
            ip=_ip(request),
        )
    except ValidationError as exc:
        _error_messages(request, exc, _decision_labels())
    else:
        messages.success(request, _("The request is refused; the requester is told."))
    return redirect("access:requests")


# My requests ----------------------------------------------------------------------------------------------


@require(REQUEST)
def my_requests(request: HttpRequest) -> HttpResponse:
    """R4: the actor's own requests (status, expiry, withdraw one still waiting) and the access they hold."""
    me = _actor(request)
    page = FewRowsPaginator(selectors.access_request_list(actor=me, mine=True), PER_PAGE).get_page(
        request.GET.get("page")
    )
    grants = list(selectors.access_grant_list(actor=me, mine=True, state="live")[:100])
    shown = selectors.document_names_shown(
        actor=me, document_ids=[r.document_id for r in page.object_list] + [g.document_id for g in grants]
    )
    today = timezone.localdate()
    return render(
        request,
        "access/my_requests.html",
        {
            "access_tab": "mine",
            "page": page,
            "page_range": _page_range(page),
            "grants": [_grant_row(g, today) for g in grants],
            "shown": shown,
            "today": today,
        },
    )


@require(REQUEST)
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    me = _actor(request)
    access_request = selectors.access_request_get(actor=me, request_id=pk)
    if access_request.requester_id != me.pk:
        raise Http404
    try:
        services.access_request_withdraw(actor=me, request=access_request)
    except ValidationError as exc:
        _error_messages(request, exc, _decision_labels())
    else:
        messages.success(request, _("The request is withdrawn."))
    return redirect("access:my_requests")


# Grants ---------------------------------------------------------------------------------------------------


def _grant_row(grant: Any, today: Any) -> dict[str, Any]:
    if grant.revoked_at is not None:
        state = "revoked"
    elif grant.expires_on < today:
        state = "expired"
    else:
        state = "live"
    return {"grant": grant, "state": state, "days_left": (grant.expires_on - today).days}


@require(DECIDE)
def grants_page(request: HttpRequest) -> HttpResponse:
    """R4: every grant — live («expires in N days»), expired, revoked — with revoking and a direct grant. A
    wrong filter (an id that is none, an unknown state) lists nothing and the form names it."""
    me = _actor(request)
    form = GrantFilterForm(request.GET or None)
    valid = not request.GET or form.is_valid()
    data: dict[str, Any] = form.cleaned_data if request.GET and valid else {}
    qs = (
        selectors.access_grant_list(
            actor=me,
            state=data.get("state") or None,
            user=data.get("user"),
            company=data.get("company"),
            grant_id=data.get("grant"),
        )
        if valid
        else AccessGrant.objects.none()
    )
    page = FewRowsPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "access/grants.html",
        {
            "access_tab": "grants",
            "form": form,
            "page": page,
            "page_range": _page_range(page),
            "rows": [_grant_row(g, today) for g in page.object_list],
            "narrowed": bool(data.get("user") or data.get("company") or data.get("grant")) or not valid,
        },
        status=200 if valid else 400,
    )


@require(DECIDE)
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.access_grant_get(actor=request.user, grant_id=pk)
    form = RevokeForm(request.POST)
    form.is_valid()
    try:
        services.access_grant_revoke(
            actor=_actor(request), grant=grant, reason=form.cleaned_data.get("reason") or "", ip=_ip(request)
        )
    except ValidationError as exc:
        _error_messages(request, exc, _decision_labels())
    else:
        messages.success(request, _("Access is revoked; %(who)s is told.") % {"who": grant.user.full_name})
    return redirect(_safe_next(request, reverse("access:grants")))


@require(DECIDE)
def grant_create(request: HttpRequest) -> HttpResponse:
    """R4: give a colleague access without a request — first the client (by name or INN), then who, what
    (the whole section or one document), until when and why."""
    me = _actor(request)
    company_id = request.POST.get("company") or request.GET.get("company")
    if not company_id:
        query = " ".join((request.GET.get("q") or "").split())[:100]
        return render(
            request,
            "access/grant_pick_client.html",
            {"access_tab": "grants", "q": query, "choices": company_choices(actor=me, query=query)},
        )
    company = access_company_by_id(me, _id(company_id) or "")
    documents = list(
        visible_documents(me)
        .filter(company_id=company.pk, trashed_at__isnull=True)
        .order_by("name", "id")[:500]
    )
    form = GrantForm(request.POST or None, users=selectors.grantable_users(), documents=documents)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.access_grant_create(
                    actor=me,
                    user=data.get("user"),
                    company=company,
                    document=data.get("document") or None,
                    expires_on=data.get("expires_on"),
                    reason=data.get("reason") or "",
                    ip=_ip(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Access is given to %(who)s until %(date)s; they are told.")
                    % {
                        "who": grant.user.full_name,
                        "date": date_format(grant.expires_on, "SHORT_DATE_FORMAT"),
                    },
                )
                return redirect(f"{reverse('access:grants')}?company={company.pk}")
    today = timezone.localdate()
    return render(
        request,
        "access/grant_form.html",
        {
            "access_tab": "grants",
            "form": form,
            "company": company,
            "today": today,
            "latest_expiry": today + timedelta(days=services.grant_max_days()),
        },
        status=status,
    )


# The audit log --------------------------------------------------------------------------------------------


def _audit_filters(request: HttpRequest) -> tuple[AuditFilterForm, selectors.AuditFilters | None]:
    """The filter form and the filters it gives; None when the input is wrong (the page then lists nothing
    and the form says why)."""
    form = AuditFilterForm(request.GET or None, object_types=object_type_choices())
    if not request.GET:
        return form, selectors.AuditFilters()
    if not form.is_valid():
        return form, None
    return form, selectors.AuditFilters.from_data(form.cleaned_data)


def audit_rows(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """The lines of the log as the page shows them: codes in words, the detail for people (one query for the
    colleagues it names, none if it names nobody)."""
    actions, objects, rules = label_lookup()
    details = detail_texts([(e.action, e.detail) for e in events])
    rows = []
    for event, detail in zip(events, details, strict=True):
        rows.append(
            {
                "event": event,
                "action_label": actions.get(event.action, event.action),
                "object_label": objects.get(event.object_type, event.object_type),
                "rule_label": rules.get(event.rule) or rule_label(event.rule),
                "rule_grant": grant_id_of(event.rule),
                "object_grant": event.object_id if event.object_type == "accessgrant" else None,
                "company": event.company if event.company_id else None,
                "user_name": event.user.full_name if event.user_id and event.user else event.username,
                "detail": detail,
            }
        )
    return rows


@require(AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    """D12: who saw or did what, when, from which address, and the rule or grant that allowed it — or why it
    was refused. Filters by user, action, client, outcome, object, period and IP; export to CSV.

    Without a filter the log (a million lines and growing) is not counted: the page shows the next-page link
    and an estimate of the total (UncountedPaginator)."""
    me = _actor(request)
    form, filters = _audit_filters(request)
    qs = (
        selectors.audit_event_list(actor=me, filters=filters)
        if filters is not None
        else AuditEvent.objects.none()
    )
    page = UncountedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    company = None
    if filters is not None and filters.company:
        company = Company.objects.filter(pk=filters.company).only("id", "short_name").first()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/audit_log.html",
        {
            "access_tab": "audit",
            "form": form,
            "page": page,
            "page_range": _page_range(page),
            "rows": audit_rows(list(page.object_list)),
            "company": company,
            "query": query.urlencode(),
        },
        status=200 if filters is not None else 400,
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) is written as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


EXPORT_CHUNK = 2000
# The columns an export reads: the log's own, the user's names, the client's short name (not whole rows).
EXPORT_COLUMNS = (
    "at",
    "username",
    "action",
    "object_type",
    "object_id",
    "company_id",
    "company__short_name",
    "ip",
    "allowed",
    "rule",
    "detail",
    "user_id",
    "user__last_name",
    "user__first_name",
    "user__patronymic",
    "user__username",
)


def _csv_lines(qs: Any) -> Iterator[str]:
    """The export, a block of EXPORT_CHUNK lines at a time. The labels are looked up once, the rows read as
    tuples of the columns it writes (a server-side cursor on PostgreSQL), times turned into Moscow time by
    one zone object. The detail is in words as on the page (the colleagues a block names read in one query),
    and as stored in the last column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")  # the BOM: Excel opens the file as UTF-8 (Cyrillic names stay readable)
    writer.writerow(
        [
            _("Time"),
            _("User"),
            _("Login"),
            _("Action"),
            _("Action code"),
            _("Object"),
            _("Object id"),
            _("Client"),
            _("Client id"),
            _("IP address"),
            _("Allowed"),
            _("Rule"),
            _("Rule code"),
            _("Detail"),
            _("Detail as stored"),
        ]
    )
    yes, no = _("yes"), _("no")
    actions, objects, rules = label_lookup()
    zone = timezone.get_current_timezone()
    names: dict[int, str] = {}
    rows = qs.values_list(*EXPORT_COLUMNS).iterator(chunk_size=EXPORT_CHUNK)
    while block := list(islice(rows, EXPORT_CHUNK)):
        details = detail_texts([(row[2], row[10]) for row in block])
        for row, detail_words in zip(block, details, strict=True):
            (at, username, action, object_type, object_id, company_id, company_name, ip, allowed, rule,
             detail, user_id, last, first, patronymic, login) = row  # fmt: skip
            if user_id:
                name = names.get(user_id)
                if name is None:
                    person = User(username=login, last_name=last, first_name=first, patronymic=patronymic)
                    name = names[user_id] = _cell(person.full_name)
            else:
                name = _cell(username)
            rule_text = rules.get(rule)
            if rule_text is None:
                rule_text = rules[rule] = rule_label(rule)
            local = at.astimezone(zone)
            writer.writerow(
                [
                    f"{local.day:02d}.{local.month:02d}.{local.year:04d} "
                    f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}",
                    name,
                    _cell(username),
                    actions.get(action, action),  # the application's codes and their words: no formula
                    action,
                    objects.get(object_type, object_type),
                    "" if object_id is None else object_id,
                    _cell(company_name or ""),
                    company_id or "",
                    ip or "",
                    yes if allowed else no,
                    _cell(rule_text),
                    _cell(rule),
                    _cell(detail_words),
                    _cell(detail),
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # the header of an empty export
        yield buffer.getvalue()


@require(AUDIT)
def audit_export(request: HttpRequest) -> HttpResponse:
    """D12: the log with the page's filters as CSV for Russian Excel — UTF-8 with a BOM, «;» between columns.
    The export is itself recorded (EXPORT_AUDIT, with the filters)."""
    me = _actor(request)
    _form, filters = _audit_filters(request)
    if filters is None:
        messages.error(request, _("Correct the filters to export the log."))
        return redirect(f"{reverse('access:audit_log')}?{request.GET.urlencode()}")
    qs = selectors.audit_event_list(actor=me, filters=filters)
    audit_record(
        action=AuditAction.EXPORT_AUDIT,
        allowed=True,
        rule=str(me.role),
        user=me,
        company=Company(pk=filters.company) if filters.company else None,
        request=request,
        detail=request.GET.urlencode()[:500],
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d_%H-%M")
    response = StreamingHttpResponse(_csv_lines(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return cast(HttpResponse, response)  # streamed (the log may be long); `require` types plain responses
