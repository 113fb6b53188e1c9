"""Bank statements in the 1C exchange format and the review queue of unplaced payments (D6).

The pages only collect input and show results: reading and matching are the services'
(kurator/finance/services/bank.py), the same functions the API calls. Finance and the head of sales only.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kurator.access.decorators import require
from kurator.accounts.models import User
from kurator.companies.selectors import company_choices
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.finance import onec
from kurator.finance.forms.bank import DismissForm, ResolveForm, StatementUploadForm
from kurator.finance.models import Payment, ReviewStatus
from kurator.finance.selectors import bank as selectors
from kurator.finance.services import bank as services
from kurator.ui.templatetags.ui import rub

PERMISSION = "finance.import_bank_statement"
QUEUE_PER_PAGE = 25
RECENT_STATEMENTS = 20
RECENTLY_REVIEWED = 10


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _payment(request: HttpRequest, pk: int) -> Payment:
    payment = selectors.bank_payments(actor=_actor(request)).filter(pk=pk).select_related("statement").first()
    if payment is None:
        raise Http404
    return payment


def _import_message(result: services.ImportResult) -> str:
    """D6: what an import added, in words; a statement whose every payment came before says nothing is new."""
    new = len(result.matched) + len(result.queued)
    duplicates = len(result.duplicates)
    if not new and duplicates == 1:
        return _("Nothing new: the only payment of this statement was imported before.")
    if not new and duplicates:
        return ngettext(
            "Nothing new: all %(count)s payment of this statement was imported before.",
            "Nothing new: all %(count)s payments of this statement were imported before.",
            duplicates,
        ) % {"count": duplicates}
    if not new:
        return _("Statement imported: it holds no incoming payments.")
    text = _("Statement imported: %(matched)s matched, %(queued)s sent to review.") % {
        "matched": len(result.matched),
        "queued": len(result.queued),
    }
    if duplicates:
        text += " " + ngettext(
            "%(count)s payment was imported before and skipped.",
            "%(count)s payments were imported before and skipped.",
            duplicates,
        ) % {"count": duplicates}
    return text


@require(PERMISSION)
def bank(request: HttpRequest) -> HttpResponse:
    """D6: upload a statement; the review queue; recently reviewed payments; the statements imported."""
    actor = _actor(request)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.bank_statement_import(actor=actor, file=form.cleaned_data["file"])
        except onec.StatementError as exc:
            form.add_error("file", exc.text)
        else:
            messages.success(request, _import_message(result))
            return redirect("finance:bank_statement", result.statement.pk)
    page = FewRowsPaginator(selectors.review_queue(actor=actor), QUEUE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "finance/bank_page.html",
        {
            "finance_tab": "bank",
            "form": form,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "reviewed": selectors.recently_reviewed(actor=actor, limit=RECENTLY_REVIEWED),
            "statements": selectors.bank_statements(actor=actor)[:RECENT_STATEMENTS],
        },
        status=400 if form.errors else 200,
    )


@require(PERMISSION)
def bank_statement(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: what an import did: the payments matched (client, invoices, credit) and those sent to review."""
    actor = _actor(request)
    statement = selectors.bank_statements(actor=actor).filter(pk=pk).first()
    if statement is None:
        raise Http404
    payments = selectors.statement_payments(actor=actor, statement=statement)
    return render(
        request,
        "finance/bank_statement.html",
        {
            "finance_tab": "bank",
            "statement": statement,
            # Sent to review: pending, or reviewed since (a payment waiting may already name its client).
            "matched": [p for p in payments if p.review_status == ReviewStatus.NONE],
            "queued": [p for p in payments if p.review_status != ReviewStatus.NONE],
        },
    )


def _invoice_choices(invoices: list[Any]) -> list[tuple[int, str]]:
    return [
        (
            invoice.pk,
            _("№ %(number)s of %(date)s, balance %(balance)s")
            % {
                "number": invoice.number,
                "date": invoice.issued_on.strftime("%d.%m.%Y"),
                "balance": rub(invoice.amount - invoice.paid),
            },
        )
        for invoice in invoices
    ]


@require(PERMISSION)
def bank_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: review a queued payment: find the client by name or INN (preselected when the import found it by
    INN but not its invoice), choose invoices, resolve; or dismiss."""
    actor = _actor(request)
    payment = _payment(request, pk)
    query = (request.GET.get("q") or "").strip()[:200]
    company = None
    company_id = request.POST.get("company") if request.method == "POST" else request.GET.get("company")
    if not company_id and request.method != "POST" and not query and payment.company_id is not None:
        # The client found by INN, whose invoice the import could not tell: preselected.
        company_id = str(payment.company_id)
    if company_id:
        try:
            company = selectors.visible_companies_by_id(actor=actor, company_id=int(company_id))
        except (TypeError, ValueError):
            company = None
    invoices = selectors.open_invoices(actor=actor, company=company) if company is not None else []
    form = ResolveForm(
        request.POST if request.method == "POST" else None,
        invoice_choices=_invoice_choices(invoices),
        initial={"company": company.pk if company else None, "version": payment.version},
    )
    if request.method == "POST" and payment.review_status == ReviewStatus.PENDING and form.is_valid():
        try:
            services.bank_payment_resolve(
                actor=actor,
                payment=payment,
                company=form.cleaned_data["company"],
                allocations=form.cleaned_data["invoices"],
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The payment was assigned to %(company)s.") % {"company": company})
            return redirect("finance:bank")
    return render(
        request,
        "finance/bank_payment.html",
        {
            "finance_tab": "bank",
            "payment": payment,
            "query": query,
            "choices": company_choices(actor=actor, query=query) if query else [],
            "company": company,
            "invoices": invoices,
            "form": form,
            "dismiss_form": DismissForm(initial={"version": payment.version}),
        },
        status=400 if form.errors else 200,
    )


@require(PERMISSION)
@require_POST
def bank_payment_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """D6: a queued payment that is not a client's leaves the queue with the reason; it is kept."""
    actor = _actor(request)
    payment = _payment(request, pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            services.bank_payment_dismiss(
                actor=actor,
                payment=payment,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except EditConflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The payment was dismissed as not a client payment."))
            return redirect("finance:bank")
    return render(
        request,
        "finance/bank_payment.html",
        {
            "finance_tab": "bank",
            "payment": payment,
            "query": "",
            "choices": [],
            "company": None,
            "invoices": [],
            "form": ResolveForm(initial={"version": payment.version}),
            "dismiss_form": form,
        },
        status=400,
    )


urlpatterns = [
    path("bank/", bank, name="bank"),
    path("bank/statements/<int:pk>/", bank_statement, name="bank_statement"),
    path("bank/payments/<int:pk>/", bank_payment, name="bank_payment"),
    path("bank/payments/<int:pk>/dismiss/", bank_payment_dismiss, name="bank_payment_dismiss"),
]
