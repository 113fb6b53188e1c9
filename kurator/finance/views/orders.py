"""Pages of the product catalogue, a client's orders and purchase statistics (D8, D9), and credit control
(D6).

Every member of the department reads the catalogue, the orders and the credit approvals (R3); the head of
sales keeps the catalogue and decides approvals; the client's curator (or the head) enters its orders;
finance or the head sets the credit limit. Reads go through kurator.finance.selectors.orders, writes through
kurator.finance.services.orders.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import ensure, require
from kurator.access.policy import can
from kurator.access.scoping import access_company_by_id
from kurator.accounts.models import User
from kurator.companies.views import follows_merged, render_dossier
from kurator.core.errors import EditConflict
from kurator.core.forms import apply_service_errors
from kurator.core.pagination import FewRowsPaginator
from kurator.finance.forms.orders import (
    CreditLimitForm,
    DecisionForm,
    OrderForm,
    ProductFilterForm,
    ProductForm,
    StatusForm,
    line_formset,
)
from kurator.finance.models import Invoice, OrderStatus, Product
from kurator.finance.selectors import orders as selectors
from kurator.finance.services import orders as services

ORDERS_PER_PAGE = 25
PRODUCTS_PER_PAGE = 50
DECIDED_PER_PAGE = 25

# How each status looks as a badge, and the label of the action that leads to it.
STATUS_BADGES = {
    OrderStatus.DRAFT: "bg-secondary-lt",
    OrderStatus.CONFIRMED: "bg-blue-lt",
    OrderStatus.SHIPPED: "bg-azure-lt",
    OrderStatus.COMPLETED: "bg-green-lt",
    OrderStatus.CANCELLED: "bg-red-lt",
}


def _actions() -> dict[str, tuple[str, str]]:
    return {
        OrderStatus.CONFIRMED: (_("Confirm"), "btn-primary"),
        OrderStatus.SHIPPED: (_("Mark shipped"), "btn-primary"),
        OrderStatus.COMPLETED: (_("Mark completed"), "btn-success"),
        OrderStatus.CANCELLED: (_("Cancel the order"), "btn-outline-danger"),
        OrderStatus.DRAFT: (_("Return to draft"), "btn-outline-secondary"),
    }


def _actor(request: HttpRequest) -> User:
    # Every view below is behind @require, so the user is a signed-in member.
    return cast(User, request.user)


def _page_range(page: Any) -> Any:
    return page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)


# The dossier's Purchases tab ------------------------------------------------------------------------------


@require("finance.view_order")
@follows_merged
def company_purchases(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's Purchases tab (D8, D9, D6): the purchase statistics computed from the orders, the
    categories bought, the credit limit and current exposure, and the client's orders, newest first."""
    me = _actor(request)
    company = access_company_by_id(me, pk)
    orders = selectors.order_list(actor=me, company=company)
    page = FewRowsPaginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    may_set_limit = can(me, "finance.set_credit_limit", company)
    exposure = selectors.credit_exposure(company=company)
    return render_dossier(
        request,
        pk,
        "purchases",
        "finance/orders_company.html",
        stats=selectors.purchase_stats(company=company),
        exposure=exposure,
        overdue_days=_overdue_allowed(),
        page=page,
        page_range=_page_range(page),
        badges=STATUS_BADGES,
        may_add=can(me, "finance.change_order", company),
        may_set_limit=may_set_limit,
        limit_form=CreditLimitForm(initial={"amount": exposure["limit"]}) if may_set_limit else None,
    )


def _overdue_allowed() -> int:
    from django.conf import settings

    return int(settings.KURATOR_CREDIT_OVERDUE_DAYS)


@require("finance.set_credit_limit")
@require_POST
def credit_limit(request: HttpRequest, pk: int) -> HttpResponse:
    """Set, change or (empty) remove the client's credit limit (finance, head of sales)."""
    me = _actor(request)
    company = access_company_by_id(me, pk)
    ensure(me, "finance.set_credit_limit", company)
    form = CreditLimitForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            if amount is None:
                services.credit_limit_remove(actor=me, company=company)
                messages.success(request, _("The credit limit was removed."))
            else:
                services.credit_limit_set(actor=me, company=company, amount=amount)
                messages.success(request, _("The credit limit was saved."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
    return redirect("finance:company_purchases", pk=company.pk)


# Catalogue ------------------------------------------------------------------------------------------------


@require("finance.view_order")
def products(request: HttpRequest) -> HttpResponse:
    """The product catalogue (D8) with search and a category filter; the head of sales keeps it."""
    me = _actor(request)
    form = ProductFilterForm(request.GET or None)
    values = form.values()
    rows = selectors.product_list(actor=me, **values)
    page = FewRowsPaginator(rows, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "page_range": _page_range(page),
        "may_manage": can(me, "finance.manage_catalogue"),
        "filtered": bool(request.GET.get("q") or request.GET.get("category") or request.GET.get("active")),
    }
    return render(request, "finance/products_list.html", context)


@require("finance.manage_catalogue")
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=_actor(request), **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was added to the catalogue.") % {"name": product.name})
            return redirect("finance:products")
    return render(request, "finance/products_form.html", {"form": form, "product": None})


@require("finance.manage_catalogue")
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404
    form = ProductForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=_actor(request), product=product, **form.service_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The product was saved."))
            return redirect("finance:products")
    return render(request, "finance/products_form.html", {"form": form, "product": product})


# Orders ---------------------------------------------------------------------------------------------------


def _place_line_errors(lines: Any, errors: list[Any]) -> list[Any]:
    """Put each «Line N: …» of the service on the field of its row (N counts the rows not left blank); the
    errors of no row (no line at all, too many, the total) are returned for the top of the lines' card."""
    given = [line for line in lines.forms if not line.is_blank()]
    unplaced = []
    for error in errors:
        if isinstance(error, services.LineError) and error.field and 0 < error.line <= len(given):
            given[error.line - 1].add_error(error.field, capfirst(str(error.text)))
        else:
            unplaced.append(error)
    return unplaced


def _save_order(request: HttpRequest, form: OrderForm, lines: Any, action: Any) -> Any:
    """Run the service when both the form and the lines parse; errors go next to their fields."""
    if "add_line" in request.POST:
        return None
    valid = form.is_valid()
    lines_valid = lines is None or lines.is_valid()
    if not (valid and lines_valid):
        return None
    try:
        return action(form.service_fields(), lines.lines() if lines is not None else None)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "lines" in exc.error_dict:
            # "Line 2: …" messages belong to the lines' card, not to the top of the form; each also marks
            # the field of its row.
            line_errors = exc.error_dict.pop("lines")
            unplaced = _place_line_errors(lines, line_errors) if lines is not None else line_errors
            form.line_errors = [m for e in unplaced for m in e.messages]  # type: ignore[attr-defined]
        if not hasattr(exc, "error_dict") or exc.error_dict:
            apply_service_errors(form, exc)
    return None


@require("finance.view_order")
def order_create(request: HttpRequest) -> HttpResponse:
    """A new order of a client (``?company=<id>``), entered as a draft by its curator or the head of sales."""
    company_id = request.GET.get("company") or request.POST.get("company")
    if not company_id:
        messages.info(request, _("Open the client's dossier and enter the order from its Purchases tab."))
        return redirect("companies:list")
    me = _actor(request)
    company = access_company_by_id(me, company_id)
    ensure(me, "finance.change_order", company)
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, company=company)
    lines = line_formset(data)
    order = _save_order(
        request,
        form,
        lines,
        lambda fields, given: services.order_create(actor=me, company=company, lines=given, **fields),
    )
    if order is not None:
        messages.success(request, _("The order was saved as a draft."))
        return redirect("finance:order_detail", pk=order.pk)
    if data is None:
        form.initial.setdefault("ordered_on", _today())
    return render(
        request, "finance/orders_form.html", {"form": form, "lines": lines, "company": company, "order": None}
    )


def _today() -> Any:
    from django.utils import timezone

    return timezone.localdate()


@require("finance.view_order")
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an order: a draft's lines freely; a confirmed order's number, contract, deal and notes only."""
    me = _actor(request)
    order = selectors.order_get(actor=me, order_id=pk)
    ensure(me, "finance.change_order", order)
    current = selectors.order_lines(order=order)
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, company=order.company, order=order)
    locked = order.status != OrderStatus.DRAFT
    lines = None if locked else line_formset(data, lines=current)
    conflict = False

    def update(fields: dict[str, Any], given: list[dict[str, Any]] | None) -> Any:
        if locked:
            fields.pop("ordered_on", None)
        else:
            fields["lines"] = given
        return services.order_update(
            actor=me, order=order, expected_version=form.cleaned_data.get("version"), **fields
        )

    try:
        saved = _save_order(request, form, lines, update)
    except EditConflict as exc:
        conflict, saved = True, None
        form.add_error(None, str(exc.message))
    if saved is not None:
        messages.success(request, _("The order was saved."))
        return redirect("finance:order_detail", pk=order.pk)
    context = {
        "form": form,
        "lines": lines,
        "company": order.company,
        "order": order,
        "current_lines": current,
        "lines_locked": locked,
        "conflict": conflict,
    }
    return render(request, "finance/orders_form.html", context, status=409 if conflict else 200)


@require("finance.view_order")
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An order: its lines, status actions, the linked contract, deal and invoices, credit approvals and
    history."""
    me = _actor(request)
    order = selectors.order_get(actor=me, order_id=pk)
    may_change = can(me, "finance.change_order", order)
    actions = _actions()
    context = {
        "order": order,
        "company": order.company,
        "lines": selectors.order_lines(order=order),
        "invoices": list(Invoice.objects.filter(order=order).order_by("-issued_on", "-id")),
        "approvals": selectors.order_approvals(order=order),
        "history": selectors.order_history(order=order),
        "badges": STATUS_BADGES,
        "may_change": may_change,
        "transitions": [(status, *actions[status]) for status in services.TRANSITIONS[order.status]]
        if may_change
        else [],
    }
    return render(request, "finance/orders_detail.html", context)


@require("finance.view_order")
@require_POST
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an order to another status (D8); a confirmation that breaks credit control becomes a request
    for the head of sales' approval (D6)."""
    me = _actor(request)
    order = selectors.order_get(actor=me, order_id=pk)
    ensure(me, "finance.change_order", order)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status of the order."))
        return redirect("finance:order_detail", pk=order.pk)
    try:
        order = services.order_set_status(
            actor=me,
            order=order,
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data.get("version"),
            comment=form.cleaned_data.get("comment") or "",
        )
    except services.CreditApprovalRequired as exc:
        messages.warning(request, " ".join(exc.messages()))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except EditConflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("The order is now “%(status)s”.") % {"status": order.get_status_display()}
        )
    return redirect("finance:order_detail", pk=order.pk)


# Credit approvals -----------------------------------------------------------------------------------------


@require("finance.view_order")
def credit_approvals(request: HttpRequest) -> HttpResponse:
    """Requests to confirm orders over credit control (D6): pending first, then the decided ones. The head of
    sales approves or refuses; everyone else reads."""
    me = _actor(request)
    pending = list(selectors.pending_approvals(actor=me)[:200])
    decided = FewRowsPaginator(selectors.decided_approvals(actor=me), DECIDED_PER_PAGE).get_page(
        request.GET.get("page")
    )
    may_decide = can(me, "finance.approve_credit")
    context = {
        "finance_tab": "approvals",
        "pending": pending,
        "page": decided,
        "page_range": _page_range(decided),
        "may_decide": may_decide,
        "badges": STATUS_BADGES,
    }
    return render(request, "finance/approvals_list.html", context)


@require("finance.approve_credit")
@require_POST
def credit_approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    me = _actor(request)
    approval = selectors.credit_approval_list(actor=me).filter(pk=pk).first()
    if approval is None:
        raise Http404
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Approve or refuse the request."))
        return redirect("finance:credit_approvals")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.credit_approval_decide(
            actor=me, approval=approval, approve=approve, comment=form.cleaned_data.get("comment") or ""
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The order is confirmed.") if approve else _("The request is refused; the requester is told."),
        )
    return redirect("finance:credit_approvals")


urlpatterns = [
    path("company/<int:pk>/purchases/", company_purchases, name="company_purchases"),
    path("company/<int:pk>/credit-limit/", credit_limit, name="credit_limit"),
    path("products/", products, name="products"),
    path("products/new/", product_create, name="product_create"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", order_edit, name="order_edit"),
    path("orders/<int:pk>/status/", order_status, name="order_status"),
    path("approvals/", credit_approvals, name="credit_approvals"),
    path("approvals/<int:pk>/decide/", credit_approval_decide, name="credit_approval_decide"),
]
