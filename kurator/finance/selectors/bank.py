"""Reads of the bank area (D6): imported statements, their payments and the review queue.

Only those who import statements (finance, the head of sales) reach these pages and endpoints; the views check
the permission before calling. Each list is one query (plus one for the allocations of a page of payments).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from kurator.access.scoping import visible_companies
from kurator.companies.models import Company
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    Allocation,
    BankStatement,
    Invoice,
    Payment,
    PaymentSource,
    ReviewStatus,
)


def bank_statements(*, actor: Any) -> QuerySet[BankStatement]:
    return BankStatement.objects.select_related("uploaded_by").order_by("-created_at", "-id")


def _with_allocations(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    allocations = Allocation.objects.select_related("invoice").order_by("id")
    return payments.select_related("company", "reviewed_by").prefetch_related(
        Prefetch("allocations", queryset=allocations)
    )


def bank_payments(*, actor: Any) -> QuerySet[Payment]:
    """Payments that came from bank statements: those awaiting review first, then the newest."""
    return _with_allocations(Payment.objects.filter(source=PaymentSource.BANK)).order_by("-paid_on", "-id")


def review_queue(*, actor: Any) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(review_status=ReviewStatus.PENDING)
        .select_related("statement", "company")
        .order_by("-paid_on", "-id")
    )


def recently_reviewed(*, actor: Any, limit: int = 10) -> list[Payment]:
    return list(
        _with_allocations(
            Payment.objects.filter(review_status__in=[ReviewStatus.RESOLVED, ReviewStatus.DISMISSED])
        ).order_by("-reviewed_at", "-id")[:limit]
    )


def statement_payments(*, actor: Any, statement: BankStatement) -> list[Payment]:
    return list(_with_allocations(statement.payments.all()).order_by("id"))


def open_invoices(*, actor: Any, company: Company) -> list[Invoice]:
    return list(
        Invoice.objects.filter(company=company, status__in=OPEN_INVOICE_STATUSES).order_by(
            "due_on", "issued_on", "pk"
        )
    )


def visible_companies_by_id(*, actor: Any, company_id: int) -> Company | None:
    """A live client the actor may read, or None."""
    return visible_companies(actor).filter(pk=company_id).first()
