"""Pages of invoices, payments, receivables ageing and the collection log (D6).

Everyone in the department reads them; finance and the head of sales enter invoices and payments; the
collection log is written by them and the seller working with the client. Reads go through
kurator.finance.selectors.receivables, writes through kurator.finance.services.receivables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.companies.selectors import company_choices
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.finance.forms.receivables import (
    AllocateForm,
    CancelForm,
    CollectionActionForm,
    InvoiceFilterForm,
    InvoiceForm,
    PaymentForm,
)
from kurator.finance.models import Allocation, InvoiceStatus
from kurator.finance.selectors import receivables as selectors
from kurator.finance.services import receivables as services

PER_PAGE = 50
VIEW = "finance.view_invoice"


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _company_from(request: HttpRequest) -> Company:
    return access_company_by_id(request.user, request.GET.get("company") or request.POST.get("company") or "")


def _wants_client(request: HttpRequest) -> bool:
    return not (request.GET.get("company") or request.POST.get("company"))


def _pick_client(request: HttpRequest, title: str, tab: str) -> HttpResponse:
    """The first step of a new invoice or payment opened from the Finance pages: which client (by name or
    INN); the chosen one comes back to the same page with ``?company=``."""
    query = " ".join((request.GET.get("q") or "").split())[:100]
    return render(
        request,
        "finance/pick_client.html",
        {
            "finance_tab": tab,
            "title": title,
            "q": query,
            "choices": company_choices(actor=_actor(request), query=query),
        },
    )


# The finance page: ageing of all receivables ----------------------------------------------------------------


@require("finance.view_receivables_report")
def receivables(request: HttpRequest) -> HttpResponse:
    """D6: receivables of all clients by ageing bucket (table and chart), the top debtors with their buckets;
    every sum links to the invoices behind it."""
    report = selectors.receivables_ageing(actor=request.user, page=request.GET.get("page") or 1)
    chart = {
        "labels": [str(b.label) for b in selectors.BUCKETS],
        "values": [str(report["buckets"][b.key].quantize(Decimal("0.01"))) for b in selectors.BUCKETS],
    }
    for row in report["rows"]:
        row["cells"] = [(b, row["buckets"][b.key]) for b in selectors.BUCKETS]
    page = report["debtors"]
    return render(
        request,
        "finance/receivables_ageing.html",
        {
            "finance_tab": "receivables",
            "report": report,
            "buckets": selectors.BUCKETS,
            "totals": [(b, report["buckets"][b.key]) for b in selectors.BUCKETS],
            "chart": chart,
            "page_range": page.paginator.get_elided_page_range(page.number),
        },
    )


# Invoices -------------------------------------------------------------------------------------------------


@require(VIEW)
def invoices(request: HttpRequest) -> HttpResponse:
    """D6: invoices with filters (client, status, overdue, ageing bucket, number), 50 a page."""
    form = InvoiceFilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    company = None
    if data.get("company"):
        company = Company.objects.filter(pk=data["company"]).only("id", "short_name").first()
    listing = selectors.invoice_list(
        actor=request.user,
        company=data.get("company"),
        status=data.get("status") or None,
        overdue=True if data.get("overdue") else None,
        bucket=data.get("bucket") or None,
        q=data.get("q") or None,
    )
    page = selectors.paginate(listing, request.GET.get("page"), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "finance/invoices_list.html",
        {
            "finance_tab": "invoices",
            "today": timezone.localdate(),
            "page_range": page.paginator.get_elided_page_range(page.number),
            "form": form,
            "page": page,
            "company": company,
            "query": query.urlencode(),
            "may_add": can(request.user, "finance.change_invoice"),
        },
    )


@require("finance.change_invoice")
def invoice_create(request: HttpRequest) -> HttpResponse:
    if _wants_client(request):
        return _pick_client(request, _("New invoice"), "invoices")
    company = _company_from(request)
    ensure(request.user, "finance.change_invoice", company)
    form = InvoiceForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            invoice = services.invoice_create(actor=_actor(request), company=company, **data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
            return redirect("finance:invoice_detail", pk=invoice.pk)
    return render(request, "finance/invoices_form.html", {"form": form, "company": company, "invoice": None})


@require("finance.change_invoice")
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_get(actor=request.user, pk=pk)
    ensure(request.user, "finance.change_invoice", invoice)
    form = InvoiceForm(request.POST or None, company=invoice.company, invoice=invoice)
    conflict = False
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        if data.get("due_on") is None:
            data.pop("due_on")  # empty keeps the due date it has
        try:
            services.invoice_update(actor=_actor(request), invoice=invoice, expected_version=version, **data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict:
            conflict = True
        else:
            messages.success(request, _("Invoice saved."))
            return redirect("finance:invoice_detail", pk=invoice.pk)
    return render(
        request,
        "finance/invoices_form.html",
        {"form": form, "company": invoice.company, "invoice": invoice, "conflict": conflict},
        status=409 if conflict else 200,
    )


@require("finance.change_invoice")
def invoice_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_get(actor=request.user, pk=pk)
    ensure(request.user, "finance.change_invoice", invoice)
    form = CancelForm(request.POST or None, initial={"version": invoice.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_cancel(
                actor=_actor(request),
                invoice=invoice,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Invoice cancelled."))
            return redirect("finance:invoice_detail", pk=invoice.pk)
    return render(request, "finance/invoices_cancel.html", {"form": form, "invoice": invoice})


@require(VIEW)
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: an invoice with the payments allocated to it and the collection work about it."""
    invoice = selectors.invoice_get(actor=request.user, pk=pk)
    me = _actor(request)
    return render(
        request,
        "finance/invoices_detail.html",
        {
            "finance_tab": "invoices",
            "today": timezone.localdate(),
            "invoice": invoice,
            "allocations": list(selectors.invoice_allocations(invoice)),
            "actions": selectors.mark_promises_kept_late(
                list(selectors.collection_action_list(actor=me, invoice=invoice.pk)[:50])
            ),
            "may_change": can(me, "finance.change_invoice", invoice)
            and invoice.status != InvoiceStatus.CANCELLED,
            "may_cancel": can(me, "finance.change_invoice", invoice)
            and invoice.status == InvoiceStatus.ISSUED
            and invoice.paid == 0,
            "may_pay": can(me, "finance.change_payment") and invoice.status in ("issued", "partly_paid"),
            "may_remove": can(me, "finance.change_payment"),
        },
    )


# Payments -------------------------------------------------------------------------------------------------


@require(VIEW)
def payments(request: HttpRequest) -> HttpResponse:
    """D6: payments received with their allocations and credit, 50 a page."""
    q = (request.GET.get("q") or "").strip()[:100]
    company_id = request.GET.get("company") or None
    with_credit = request.GET.get("credit") == "1"
    listing = selectors.payment_list(actor=request.user, company=company_id, q=q, with_credit=with_credit)
    page = selectors.paginate(listing, request.GET.get("page"), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "finance/payments_list.html",
        {
            "finance_tab": "payments",
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number),
            "q": q,
            "with_credit": with_credit,
            "query": query.urlencode(),
            "may_add": can(request.user, "finance.change_payment"),
        },
    )


@require("finance.change_payment")
def payment_create(request: HttpRequest) -> HttpResponse:
    """D6: a payment of a client, allocated at once to its open invoices; the rest is its credit."""
    if _wants_client(request):
        return _pick_client(request, _("New payment"), "payments")
    company = _company_from(request)
    ensure(request.user, "finance.change_payment", company)
    open_invoices = selectors.company_open_invoices(company=company)
    form = PaymentForm(request.POST or None, invoices=open_invoices)
    if request.method == "POST":
        # Every field is checked, not only those the form could parse: the service is asked too (with what
        # the user typed in a box the form refused) and nothing it would write is kept while the form has
        # errors, so «-5» in the amount is reported next to «abc» in an allocation box.
        valid = form.is_valid()
        try:
            with transaction.atomic():
                payment = services.payment_create(
                    actor=_actor(request),
                    company=company,
                    paid_on=form.value_for("paid_on"),
                    amount=form.value_for("amount"),
                    reference=form.value_for("reference") or "",
                    purpose=form.value_for("purpose") or "",
                    allocations=form.allocations(),
                )
                if not valid:
                    transaction.set_rollback(True)
        except ValidationError as exc:
            _apply_payment_errors(form, exc)
        else:
            if valid:
                messages.success(request, _("Payment recorded."))
                return redirect("finance:payment_detail", pk=payment.pk)
    return render(request, "finance/payments_form.html", {"form": form, "company": company})


def _apply_payment_errors(form: PaymentForm, exc: ValidationError) -> None:
    """The service's errors next to their fields: an allocation's on its invoice's row, the others of the
    allocations above the table; a field the form already marked keeps the form's message."""
    if not hasattr(exc, "error_dict"):
        apply_service_errors(form, exc)
        return
    for error in exc.error_dict.pop("allocations", []):
        box = f"alloc_{getattr(error, 'invoice_id', '')}"
        if isinstance(error, services.AllocationError) and box in form.fields:
            if not form.has_error(box):
                form.add_error(box, capfirst(str(error.text)))
        else:
            form.allocation_errors.extend(error.messages)
    for field in [f for f in exc.error_dict if f in form.fields and form.has_error(f)]:
        del exc.error_dict[field]
    if exc.error_dict:
        apply_service_errors(form, exc)


@require(VIEW)
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: a payment, its allocations (removable by finance and the head) and its credit, which may be
    allocated to another open invoice of the client."""
    payment = selectors.payment_get(actor=request.user, pk=pk)
    me = _actor(request)
    may_change = can(me, "finance.change_payment", payment.company) and payment.company_id is not None
    open_invoices = (
        selectors.company_open_invoices(company=payment.company)
        if may_change and payment.company is not None and payment.credit
        else []
    )
    form = AllocateForm(invoices=open_invoices) if open_invoices else None
    return render(
        request,
        "finance/payments_detail.html",
        {
            "finance_tab": "payments",
            "payment": payment,
            "allocations": list(payment.allocations.all()),
            "may_change": may_change,
            "form": form,
        },
    )


@require("finance.change_payment")
@require_POST
def payment_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.payment_get(actor=request.user, pk=pk)
    ensure(request.user, "finance.change_payment", payment.company)
    open_invoices = (
        selectors.company_open_invoices(company=payment.company) if payment.company is not None else []
    )
    form = AllocateForm(request.POST, invoices=open_invoices)
    if form.is_valid():
        try:
            if form.cleaned_data["amount"] in (None, ""):
                services.payment_allocate(
                    actor=_actor(request),
                    payment=payment,
                    invoice=form.cleaned_data["invoice"],
                    amount=min(payment.credit, form.cleaned_data["invoice"].balance),
                )
            else:
                services.payment_allocate(
                    actor=_actor(request),
                    payment=payment,
                    invoice=form.cleaned_data["invoice"],
                    amount=form.cleaned_data["amount"],
                )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Allocated."))
    else:
        messages.error(request, _("Choose an open invoice of the client."))
    return redirect("finance:payment_detail", pk=payment.pk)


@require("finance.change_payment")
@require_POST
def allocation_remove(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = get_object_or_404(Allocation.objects.select_related("payment__company"), pk=pk)
    ensure(request.user, "finance.change_payment", allocation.payment.company)
    try:
        services.allocation_remove(
            actor=_actor(request), allocation=allocation, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The allocation was removed; the amount is the client's credit again."))
    where = request.POST.get("next") or ""
    if where == "invoice":
        return redirect("finance:invoice_detail", pk=allocation.invoice_id)
    return redirect("finance:payment_detail", pk=allocation.payment_id)


# The dossier tab ------------------------------------------------------------------------------------------


@require(VIEW)
@follows_merged
def company_receivables(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: the client's receivables by ageing bucket, credit, open invoices, recent payments and the
    collection log (broken promises in red)."""
    company = access_company_by_id(request.user, pk)
    return _render_tab(request, company)


def _render_tab(
    request: HttpRequest, company: Company, form: CollectionActionForm | None = None, status: int = 200
) -> HttpResponse:
    me = _actor(request)
    may_collect = can(me, "finance.add_collection_action", company)
    if form is None and may_collect:
        form = CollectionActionForm(company=company, initial={"kind": "call"})
    summary = selectors.company_receivables(company=company)
    actions = selectors.company_collection_actions(company=company)
    response = render_dossier(
        request,
        company.pk,
        "receivables",
        "finance/receivables_tab.html",
        receivables=summary,
        bucket_rows=[(b, summary["buckets"][b.key]) for b in selectors.BUCKETS],
        # A promise kept late (the debt paid after the promised date) is not broken any more.
        broken_count=len(
            [a for a in actions if a.promise_kept is False and not a.kept_late]  # type: ignore[attr-defined]
        ),
        today=timezone.localdate(),
        open_invoices=selectors.company_open_invoices(company=company, limit=100),
        recent_payments=selectors.company_recent_payments(company=company),
        actions=actions,
        collection_form=form,
        may_collect=may_collect,
        may_invoice=can(me, "finance.change_invoice", company),
        may_pay=can(me, "finance.change_payment", company),
    )
    response.status_code = status
    return response


@require(VIEW)
@require_POST
def collection_add(request: HttpRequest, pk: int) -> HttpResponse:
    company = access_company_by_id(request.user, pk)
    ensure(request.user, "finance.add_collection_action", company)
    form = CollectionActionForm(request.POST, company=company)
    if form.is_valid():
        try:
            services.collection_action_create(actor=_actor(request), company=company, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Added to the collection log."))
            return redirect(reverse("finance:company_receivables", args=[company.pk]) + "#collection")
    return _render_tab(request, company, form, status=400)


urlpatterns = [
    path("company/<int:pk>/receivables/", company_receivables, name="company_receivables"),
    path("company/<int:pk>/collection/", collection_add, name="collection_add"),
    path("", receivables, name="receivables"),
    path("invoices/", invoices, name="invoices"),
    path("invoices/new/", invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/cancel/", invoice_cancel, name="invoice_cancel"),
    path("payments/", payments, name="payments"),
    path("payments/new/", payment_create, name="payment_create"),
    path("payments/<int:pk>/", payment_detail, name="payment_detail"),
    path("payments/<int:pk>/allocate/", payment_allocate, name="payment_allocate"),
    path("allocations/<int:pk>/remove/", allocation_remove, name="allocation_remove"),
]
