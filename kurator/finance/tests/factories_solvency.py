"""Statements and invoices for the solvency tests (D4). Invoices are written directly, so that a test sets the
exact due and payment dates a hand-computed example needs."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from kurator.companies.models import Company
from kurator.finance.models import FinancialStatement, Invoice, InvoiceStatus

_numbers = itertools.count(1)


def statement(company: Company, year: int, **figures: Any) -> FinancialStatement:
    return FinancialStatement.objects.create(
        company=company, year=year, **{k: None if v is None else Decimal(str(v)) for k, v in figures.items()}
    )


def invoice(
    company: Company,
    *,
    issued: date,
    due: date,
    amount: Any,
    paid_on: date | None = None,
    paid: Any = None,
    status: str | None = None,
) -> Invoice:
    """An invoice; ``paid_on`` makes it paid in full on that day, ``paid`` alone partly paid."""
    amount = Decimal(str(amount))
    if paid_on is not None:
        paid_amount, state = amount, InvoiceStatus.PAID
    elif paid:
        paid_amount, state = Decimal(str(paid)), InvoiceStatus.PARTLY_PAID
    else:
        paid_amount, state = Decimal("0"), InvoiceStatus.ISSUED
    return Invoice.objects.create(
        company=company,
        number=f"S-{next(_numbers)}",
        year=issued.year,
        issued_on=issued,
        due_on=due,
        amount=amount,
        paid=paid_amount,
        paid_on=paid_on,
        status=status or state,
    )
