"""Every read of invoices, payments, receivables ageing and the collection log (D6).

The whole department reads invoices and payments (``finance.view_invoice``, R3 openness). Ageing is set-based:
one query with conditional aggregation over the open invoices (the partial index ``invoice_open_due_idx``
holds exactly them), never a loop over clients. Lists run a constant number of queries whatever their
length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.paginator import Page
from django.db.models import DecimalField, ExpressionWrapper, F, Min, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.policy import can
from kurator.companies.models import Company
from kurator.core.pagination import FewRowsPaginator
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    Allocation,
    CollectionAction,
    Invoice,
    InvoiceStatus,
    Payment,
    ReviewStatus,
)
from kurator.finance.models.common import ZERO

__all__ = [
    "BUCKETS",
    "Bucket",
    "bucket_condition",
    "collection_action_get",
    "company_collection_actions",
    "company_open_invoices",
    "company_receivables",
    "company_recent_payments",
    "invoice_get",
    "invoice_list",
    "payment_get",
    "payment_list",
    "receivables_ageing",
    "visible_collection_actions",
    "visible_invoices",
    "visible_payments",
]


@dataclass(frozen=True)
class Bucket:
    key: str
    label: Any
    # Days overdue, inclusive; None for open-ended.
    low: int | None
    high: int | None


# Days overdue = today − due date. Due today is not overdue yet.
BUCKETS = (
    Bucket("not_due", _("Not yet due"), None, 0),
    Bucket("d1_30", _("1–30 days"), 1, 30),
    Bucket("d31_60", _("31–60 days"), 31, 60),
    Bucket("d61_90", _("61–90 days"), 61, 90),
    Bucket("over_90", _("Over 90 days"), 91, None),
)
BUCKET_KEYS = tuple(b.key for b in BUCKETS)
# Payments that are a client's money (not waiting in the bank review queue, not dismissed).
CLIENT_PAYMENT_STATUSES = (ReviewStatus.NONE, ReviewStatus.RESOLVED)
# The top debtors of the ageing report, a page at a time.
DEBTORS_PER_PAGE = 20
RECENT_PAYMENTS = 10
COLLECTION_LOG_LIMIT = 50

_MONEY_FIELD: DecimalField[Any, Any] = DecimalField(max_digits=16, decimal_places=2)
_BALANCE = ExpressionWrapper(F("amount") - F("paid"), output_field=_MONEY_FIELD)
_CREDIT = ExpressionWrapper(F("amount") - F("allocated"), output_field=_MONEY_FIELD)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def bucket_condition(key: str, today: date, prefix: str = "") -> Q:
    """The due dates of an open invoice in bucket ``key`` on ``today`` (days overdue = today − due_on)."""
    bucket = next(b for b in BUCKETS if b.key == key)
    field = f"{prefix}due_on"
    condition = Q()
    if bucket.high is not None:  # at most ``high`` days overdue: due on or after today − high
        condition &= Q(**{f"{field}__gte": today - timedelta(days=bucket.high)})
    if bucket.low is not None:  # at least ``low`` days overdue: due on or before today − low
        condition &= Q(**{f"{field}__lte": today - timedelta(days=bucket.low)})
    return condition


def _sum(condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(_BALANCE, filter=condition), Value(ZERO), output_field=_MONEY_FIELD)


def _ageing_aggregates(today: date) -> dict[str, Coalesce]:
    aggregates = {"total": _sum(), "overdue": _sum(Q(due_on__lt=today))}
    for key in BUCKET_KEYS:
        aggregates[key] = _sum(bucket_condition(key, today))
    return aggregates


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": row["total"],
        "overdue": row["overdue"],
        "buckets": {key: row[key] for key in BUCKET_KEYS},
    }


# Scoping --------------------------------------------------------------------------------------------------


def visible_invoices(actor: Any) -> QuerySet[Invoice]:
    return Invoice.objects.all() if can(actor, "finance.view_invoice") else Invoice.objects.none()


def visible_payments(actor: Any) -> QuerySet[Payment]:
    return Payment.objects.all() if can(actor, "finance.view_invoice") else Payment.objects.none()


def visible_collection_actions(actor: Any) -> QuerySet[CollectionAction]:
    if can(actor, "finance.view_invoice"):
        return CollectionAction.objects.all()
    return CollectionAction.objects.none()


# Receivables ----------------------------------------------------------------------------------------------


def _open(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return queryset.filter(status__in=OPEN_INVOICE_STATUSES)


def company_credit(*, company: Company | int) -> Decimal:
    """The client's money not allocated to any invoice (overpayments), in one query."""
    row = Payment.objects.filter(
        company=company, review_status__in=CLIENT_PAYMENT_STATUSES, allocated__lt=F("amount")
    ).aggregate(credit=Coalesce(Sum(_CREDIT), Value(ZERO), output_field=_MONEY_FIELD))
    return row["credit"]


def company_receivables(*, company: Company | int, today: date | None = None) -> dict[str, Any]:
    """D6: what the client owes, aged by days overdue on ``today`` (by each open invoice's balance), and its
    credit: ``{total, overdue, buckets: {not_due, d1_30, d31_60, d61_90, over_90}, credit}`` in Decimals.
    Two queries."""
    today = _today(today)
    row = _open(Invoice.objects.filter(company=company)).aggregate(**_ageing_aggregates(today))
    result = _shape(row)
    result["credit"] = company_credit(company=company)
    return result


def receivables_ageing(
    *, actor: Any, today: date | None = None, page: Any = 1, per_page: int = DEBTORS_PER_PAGE
) -> dict[str, Any]:
    """D6: receivables of all clients aged on ``today`` — ``{total, overdue, buckets, credit, debtors}``
    where ``debtors`` is a page of the clients with the most overdue, each with its own buckets
    (``company_id, company_name`` and the sums). A fixed number of queries: totals, credit, and the page's
    count, rows and names."""
    today = _today(today)
    invoices = _open(visible_invoices(actor))
    aggregates = _ageing_aggregates(today)
    result = _shape(invoices.aggregate(**aggregates))
    result["credit"] = (
        visible_payments(actor)
        .filter(company__isnull=False, review_status__in=CLIENT_PAYMENT_STATUSES, allocated__lt=F("amount"))
        .aggregate(credit=Coalesce(Sum(_CREDIT), Value(ZERO), output_field=_MONEY_FIELD))["credit"]
    )
    # Grouped by the company id alone: joining the companies before grouping made PostgreSQL walk the whole
    # company index (100,000 rows) for a few thousand open invoices. The page's names come in one more query.
    debtors: QuerySet[Any] = (
        invoices.values("company_id")
        .annotate(**aggregates)
        .filter(**{"overdue__gt": 0})  # a keyword the annotation makes (mypy cannot see it)
        .order_by("-overdue", "company_id")
    )
    paginator = FewRowsPaginator(debtors, per_page)
    page_obj = paginator.get_page(page)
    rows = list(page_obj.object_list)
    # The head of sales' first question about a debtor is whose client it is: the curator comes with the name.
    companies = Company.objects.select_related("curator").only("pk", "short_name", "curator")
    names = {c.pk: c for c in companies.filter(pk__in=[row["company_id"] for row in rows])}
    result["debtors"] = page_obj
    result["rows"] = [
        {
            "company_id": row["company_id"],
            "company_name": names[row["company_id"]].short_name if row["company_id"] in names else "",
            "curator": names[row["company_id"]].curator.short_name if row["company_id"] in names else "",
            **_shape(row),
        }
        for row in rows
    ]
    result["today"] = today
    return result


# Invoices -------------------------------------------------------------------------------------------------

INVOICE_FILTERS = ("company", "status", "overdue", "bucket", "q")


def invoice_list(
    *,
    actor: Any,
    company: Any = None,
    status: str | None = None,
    overdue: bool | None = None,
    bucket: str | None = None,
    q: str | None = None,
    today: date | None = None,
) -> QuerySet[Invoice]:
    """Invoices newest first, filtered by client, status (``open`` = issued or partly paid), overdue (open and
    past due), ageing bucket (open, by days overdue) and a number fragment."""
    today = _today(today)
    invoices = visible_invoices(actor).select_related("company", "contract")
    if company not in (None, ""):
        try:
            invoices = invoices.filter(company_id=int(getattr(company, "pk", company)))
        except (TypeError, ValueError):
            return invoices.none()
    if status == "open":
        invoices = _open(invoices)
    elif status:
        if status not in InvoiceStatus.values:
            return invoices.none()
        invoices = invoices.filter(status=status)
    if overdue is True:
        invoices = _open(invoices).filter(due_on__lt=today)
    elif overdue is False:
        invoices = invoices.exclude(Q(status__in=OPEN_INVOICE_STATUSES) & Q(due_on__lt=today))
    if bucket:
        if bucket not in BUCKET_KEYS:
            return invoices.none()
        invoices = _open(invoices).filter(bucket_condition(bucket, today))
    text = " ".join(str(q or "").split())
    if text:
        invoices = invoices.filter(number__icontains=text)
    return invoices.order_by("-issued_on", "-id")


def invoice_get(*, actor: Any, pk: Any) -> Invoice:
    try:
        return (
            visible_invoices(actor)
            .select_related("company", "contract", "order", "created_by")
            .get(pk=int(pk))
        )
    except (Invoice.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def invoice_allocations(invoice: Invoice) -> QuerySet[Allocation]:
    return invoice.allocations.select_related("payment", "created_by").order_by("payment__paid_on", "id")


def company_open_invoices(*, company: Company, limit: int | None = None) -> list[Invoice]:
    invoices = _open(Invoice.objects.filter(company=company)).select_related("contract")
    invoices = invoices.order_by("due_on", "id")
    return list(invoices[:limit] if limit else invoices)


# Payments -------------------------------------------------------------------------------------------------


def _with_allocations(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    return payments.prefetch_related(
        Prefetch(
            "allocations",
            queryset=Allocation.objects.select_related("invoice").order_by("id"),
        )
    )


def payment_list(
    *, actor: Any, company: Any = None, q: str | None = None, with_credit: bool | None = None
) -> QuerySet[Payment]:
    """Payments newest first with their allocations (two queries for any page), filtered by client, a
    reference fragment and whether anything is left unallocated. Only the clients' money: a bank payment
    awaiting review or dismissed (not a client payment) is the bank review queue's, never a client's
    credit."""
    payments = _with_allocations(
        visible_payments(actor).filter(review_status__in=CLIENT_PAYMENT_STATUSES).select_related("company")
    )
    if company not in (None, ""):
        try:
            company_id = int(getattr(company, "pk", company))
        except (TypeError, ValueError):
            return payments.none()
        if not 0 < company_id < 2**63:  # keys are 64-bit; SQLite cannot even bind a larger number
            return payments.none()
        payments = payments.filter(company_id=company_id)
    # A NUL is no character of a reference or a name (and PostgreSQL refuses it in a text parameter).
    text = " ".join(str(q or "").replace("\x00", "").split())
    if text:
        payments = payments.filter(Q(reference__icontains=text) | Q(payer_name__icontains=text))
    if with_credit:
        payments = payments.filter(allocated__lt=F("amount"), company__isnull=False)
    return payments.order_by("-paid_on", "-id")


def payment_get(*, actor: Any, pk: Any) -> Payment:
    try:
        return _with_allocations(visible_payments(actor).select_related("company", "created_by")).get(
            pk=int(pk)
        )
    except (Payment.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def company_recent_payments(*, company: Company, limit: int = RECENT_PAYMENTS) -> list[Payment]:
    return list(
        _with_allocations(
            Payment.objects.filter(company=company, review_status__in=CLIENT_PAYMENT_STATUSES)
        ).order_by("-paid_on", "-id")[:limit]
    )


def company_credit_payments(*, company: Company | int) -> list[Payment]:
    """The client's payments with something left to allocate (its credit), oldest first."""
    return list(
        Payment.objects.filter(
            company=company, review_status__in=CLIENT_PAYMENT_STATUSES, allocated__lt=F("amount")
        ).order_by("paid_on", "id")
    )


# Collection log -------------------------------------------------------------------------------------------


def company_collection_actions(
    *, company: Company, limit: int = COLLECTION_LOG_LIMIT
) -> list[CollectionAction]:
    """The client's collection log, newest first, each broken promise marked ``kept_late`` when the debt
    was paid after all (two queries)."""
    return mark_promises_kept_late(
        list(
            CollectionAction.objects.filter(company=company)
            .select_related("invoice", "author")
            .order_by("-happened_on", "-id")[:limit]
        )
    )


def mark_promises_kept_late(actions: list[CollectionAction]) -> list[CollectionAction]:
    """Set ``kept_late`` on each action: a promise flagged broken (not paid by the promised date) whose debt
    was paid since — the invoice it names is paid, or, for a promise about the client's overdue receivables,
    nothing due before the promised date is still open. It is shown as kept late, not broken, and is not
    counted among the broken promises. At most one query (the clients' earliest open due dates)."""
    broken = [a for a in actions if a.promise_kept is False]
    general = {a.company_id for a in broken if a.invoice_id is None}
    earliest: dict[int, date] = {}
    if general:
        earliest = dict(
            Invoice.objects.filter(company_id__in=general, status__in=OPEN_INVOICE_STATUSES)
            .values("company_id")
            .annotate(first=Min("due_on"))
            .values_list("company_id", "first")
        )
    for action in actions:
        action.kept_late = False  # type: ignore[attr-defined]
        if action.promise_kept is not False:
            continue
        if action.invoice_id is not None:
            action.kept_late = action.invoice.status == InvoiceStatus.PAID  # type: ignore[attr-defined,union-attr]
        else:
            first = earliest.get(action.company_id)
            action.kept_late = first is None or (  # type: ignore[attr-defined]
                action.promised_on is not None and first >= action.promised_on
            )
    return actions


def collection_action_list(*, actor: Any, company: Any = None, invoice: Any = None) -> QuerySet[Any]:
    actions = visible_collection_actions(actor).select_related("invoice", "author")
    for field, value in (("company_id", company), ("invoice_id", invoice)):
        if value not in (None, ""):
            try:
                actions = actions.filter(**{field: int(getattr(value, "pk", value))})
            except (TypeError, ValueError):
                return actions.none()
    return actions.order_by("-happened_on", "-id")


def collection_action_get(*, actor: Any, pk: Any) -> CollectionAction:
    try:
        return (
            visible_collection_actions(actor).select_related("company", "invoice", "author").get(pk=int(pk))
        )
    except (CollectionAction.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def broken_promises_count(*, company: Company) -> int:
    """Broken promises whose debt is still unpaid (a promise kept late does not count)."""
    actions = list(
        CollectionAction.objects.filter(company=company, promise_kept=False).select_related("invoice")
    )
    marked = mark_promises_kept_late(actions)
    return len([action for action in marked if not action.kept_late])  # type: ignore[attr-defined]


def paginate(queryset: Any, page: Any, per_page: int = 50) -> Page:
    return FewRowsPaginator(queryset, per_page).get_page(page)
