"""Every read of the catalogue, the orders, purchase statistics (D8, D9) and credit control (D6).

Every member of the department reads the catalogue, the orders and credit approvals (R3). Each list runs a
constant number of queries whatever its length.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kurator.access.policy import can
from kurator.access.scoping import visible_companies
from kurator.companies.models import Company, ProductCategory
from kurator.core.text import fold
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    PURCHASE_STATUSES,
    ApprovalStatus,
    CreditApproval,
    CreditLimit,
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)

__all__ = [
    "DAYS_PER_MONTH",
    "credit_approval_list",
    "credit_exposure",
    "order_get",
    "order_list",
    "product_list",
    "purchase_stats",
]

# The average length of a month (365.25 / 12 days).
DAYS_PER_MONTH = Decimal("30.4375")
KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")
# Orders that the client owes for once confirmed, until they are invoiced (then the invoice counts): an order
# shipped or even completed without an invoice is still money the client will owe.
EXPOSURE_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


def _may_read(actor: Any) -> bool:
    return bool(can(actor, "finance.view_order"))


# Catalogue ------------------------------------------------------------------------------------------------


def product_list(
    *, actor: Any, q: str = "", category: Any = None, active: bool | None = None
) -> QuerySet[Product]:
    """The catalogue, by name, with each product's category (one query per page)."""
    if not _may_read(actor):
        return Product.objects.none()
    qs = Product.objects.select_related("category").order_by("name", "id")
    q = " ".join(str(q or "").split())
    if q:
        # icontains folds only ASCII on SQLite: match the Cyrillic as typed and in the usual cases too.
        variants = {q, q.lower(), q.upper(), q.capitalize(), fold(q)}
        condition = Q()
        for v in variants:
            condition |= Q(name__icontains=v) | Q(code__icontains=v)
        qs = qs.filter(condition)
    if category not in (None, ""):
        qs = qs.filter(category_id=getattr(category, "pk", category))
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def product_categories(*, actor: Any, include_inactive: bool = True) -> QuerySet[ProductCategory]:
    if not _may_read(actor):
        return ProductCategory.objects.none()
    qs = ProductCategory.objects.order_by("position", "name", "id")
    return qs if include_inactive else qs.filter(is_active=True)


# Orders ---------------------------------------------------------------------------------------------------


def order_list(*, actor: Any, company: Any = None, status: Any = None) -> QuerySet[Order]:
    """Orders of the clients the actor sees, newest first, with the client's and contract's names (lines
    are prefetched by the callers that show them)."""
    if not _may_read(actor):
        return Order.objects.none()
    qs = Order.objects.filter(company__in=visible_companies(actor)).select_related("company", "contract")
    if company not in (None, ""):
        qs = qs.filter(company_id=getattr(company, "pk", company))
    if status not in (None, ""):
        qs = qs.filter(status=status)
    return qs.order_by("-ordered_on", "-id")


def order_get(*, actor: Any, order_id: Any) -> Order:
    """One order with its client, contract, deal and lines (404 for what the actor may not see)."""
    try:
        pk = int(order_id)
    except (TypeError, ValueError):
        raise Http404 from None
    order = (
        order_list(actor=actor).select_related("deal", "created_by", "company__curator").filter(pk=pk).first()
    )
    if order is None:
        raise Http404
    return order


def order_lines(*, order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("product", "product__category").order_by("position", "id"))


def _company_id(company: Company | int) -> int:
    return int(company.pk if isinstance(company, Company) else company)


# Purchase statistics (D8, D9) -----------------------------------------------------------------------------


def _round(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def purchase_stats(*, company: Company | int, today: date | None = None) -> dict[str, Any]:
    """The client's purchase statistics, computed from its purchase orders (status confirmed, shipped or
    completed: drafts and cancelled orders are not purchases), never typed in (D8, D9). Two queries.

    - ``orders_count``: the number of purchase orders;
    - ``total``: the sum of their totals (Decimal, roubles);
    - ``average``: ``total / orders_count`` rounded half-up to kopecks; None without purchases;
    - ``first_purchase_on`` / ``last_purchase_on``: the earliest and latest order dates; None without;
    - ``purchases_per_month``: ``orders_count / max(1, months)`` where ``months`` = days from the first
      purchase to ``today`` / 30.4375 (the average month), rounded half-up to 2 decimals; 0 without
      purchases. A client who bought 3 times within its first month thus buys 3 times a month;
    - ``average_interval_days``: ``(last − first).days / (orders_count − 1)`` rounded half-up to 1 decimal,
      when there are at least two purchases; else None;
    - ``categories_count``: how many distinct product categories the purchase orders' lines hold (the
      assortment breadth), with ``categories`` (their names, alphabetical) for the page.
    """
    today = today or timezone.localdate()
    company_id = _company_id(company)
    purchases = Order.objects.filter(company_id=company_id, status__in=PURCHASE_STATUSES)
    row = purchases.aggregate(
        count=Count("id"), total=Sum("total"), first=Min("ordered_on"), last=Max("ordered_on")
    )
    count: int = row["count"] or 0
    total: Decimal = row["total"] or ZERO
    first: date | None = row["first"]
    last: date | None = row["last"]
    categories: list[str] = []
    if count:
        # From the client's purchase orders (order_company_status_idx) to their lines (the order_id index)
        # and the products' categories: the lines of other clients are never read.
        categories = sorted(
            set(
                OrderLine.objects.filter(order__company_id=company_id, order__status__in=PURCHASE_STATUSES)
                .values_list("product__category__name", flat=True)
                .distinct()
            )
        )
    average = _round(total / count, "0.01") if count else None
    per_month = Decimal("0.00")
    interval: Decimal | None = None
    if count and first is not None and last is not None:
        months = Decimal(max(0, (today - first).days)) / DAYS_PER_MONTH
        per_month = _round(Decimal(count) / max(Decimal(1), months), "0.01")
        if count >= 2:
            interval = _round(Decimal((last - first).days) / Decimal(count - 1), "0.1")
    return {
        "orders_count": count,
        "total": _round(total, "0.01"),
        "average": average,
        "purchases_per_month": per_month,
        "average_interval_days": interval,
        "last_purchase_on": last,
        "first_purchase_on": first,
        "categories_count": len(categories),
        "categories": categories,
    }


# Credit control (D6) --------------------------------------------------------------------------------------


def credit_exposure(
    *, company: Company | int, exclude_order: Order | None = None, today: date | None = None
) -> dict[str, Any]:
    """What the client owes and has on order: three queries.

    - ``invoices``: the open invoices' balances (amount − paid, status issued or partly paid);
    - ``orders``: confirmed, shipped and completed orders with no invoice issued for them yet (cancelled
      invoices do not count: an order delivered but not invoiced is still owed), ``exclude_order`` left out;
    - ``total`` = the two; ``limit`` (None: no limit set) and ``available`` = limit − total;
    - ``overdue_invoices``: open invoices past their due date, most overdue first, each ``{id, number,
      due_on, days, balance}`` (days = today − due date).
    """
    today = today or timezone.localdate()
    company_id = _company_id(company)
    open_invoices = Invoice.objects.filter(company_id=company_id, status__in=OPEN_INVOICE_STATUSES)
    invoices_due = open_invoices.aggregate(s=Sum(F("amount") - F("paid")))["s"] or ZERO
    invoiced = Invoice.objects.filter(order_id=OuterRef("pk")).exclude(status=InvoiceStatus.CANCELLED)
    orders = Order.objects.filter(company_id=company_id, status__in=EXPOSURE_ORDER_STATUSES).exclude(
        Exists(invoiced)
    )
    if exclude_order is not None and exclude_order.pk:
        orders = orders.exclude(pk=exclude_order.pk)
    orders_due = orders.aggregate(s=Sum("total"))["s"] or ZERO
    limit = CreditLimit.objects.filter(company_id=company_id).values_list("amount", flat=True).first()
    overdue = [
        {
            "id": pk,
            "number": number,
            "due_on": due_on,
            "days": (today - due_on).days,
            "balance": amount - paid,
        }
        for pk, number, due_on, amount, paid in open_invoices.filter(due_on__lt=today)
        .order_by("due_on", "id")
        .values_list("pk", "number", "due_on", "amount", "paid")
    ]
    total = invoices_due + orders_due
    return {
        "invoices": invoices_due,
        "orders": orders_due,
        "total": total,
        "limit": limit,
        "available": (limit - total) if limit is not None else None,
        "overdue_invoices": overdue,
    }


def credit_limit_history(*, company: Company) -> list[Any]:
    """The client's limit changes, newest first (simple-history keeps removed limits too)."""
    model = CreditLimit.history.model
    return list(
        model.objects.filter(company_id=company.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:20]
    )


def credit_approval_list(*, actor: Any, status: str = "") -> QuerySet[CreditApproval]:
    """Credit approvals, pending first (oldest request first), then the decided ones (latest first)."""
    if not _may_read(actor):
        return CreditApproval.objects.none()
    qs = CreditApproval.objects.filter(order__company__in=visible_companies(actor)).select_related(
        "order", "order__company", "requested_by", "decided_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def pending_approvals(*, actor: Any) -> QuerySet[CreditApproval]:
    return credit_approval_list(actor=actor, status=ApprovalStatus.PENDING).order_by("created_at", "id")


def decided_approvals(*, actor: Any) -> QuerySet[CreditApproval]:
    return (
        credit_approval_list(actor=actor)
        .exclude(status=ApprovalStatus.PENDING)
        .order_by("-decided_at", "-id")
    )


def order_approvals(*, order: Order) -> list[CreditApproval]:
    return list(
        CreditApproval.objects.filter(order=order)
        .select_related("requested_by", "decided_by")
        .order_by("-created_at", "-id")
    )


def order_history(*, order: Order) -> list[Any]:
    return list(order.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])
