"""Invoices and payments for tests, made through the services so that paid/status/allocated stay true (D6).

Other areas' tests (bank, solvency, bench, e2e) import these."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from kurator.accounts.models import Role, User
from kurator.companies.models import Company
from kurator.finance.models import Invoice, Payment
from kurator.finance.services import receivables as services

_numbers = itertools.count(1)


def finance_actor() -> User:
    """A finance user to enter invoices and payments when the test does not care who does."""
    return User.objects.get_or_create(
        username="finance-factory",
        defaults={"role": Role.FINANCE, "first_name": "Фин", "last_name": "Отдел"},
    )[0]


def invoice_factory(
    *,
    company: Company,
    actor: User | None = None,
    amount: Any = Decimal("1000.00"),
    issued_on: date | None = None,
    due_on: date | None = None,
    number: str | None = None,
    **fields: Any,
) -> Invoice:
    issued_on = issued_on or date(2025, 1, 10)
    return services.invoice_create(
        actor=actor or finance_actor(),
        company=company,
        number=number or f"T-{next(_numbers)}",
        issued_on=issued_on,
        due_on=due_on,
        amount=amount,
        **fields,
    )


def payment_factory(
    *,
    company: Company | None,
    actor: User | None = None,
    amount: Any = Decimal("1000.00"),
    paid_on: date | None = None,
    allocations: Any = (),
    **fields: Any,
) -> Payment:
    return services.payment_create(
        actor=actor or finance_actor(),
        company=company,
        paid_on=paid_on or date(2025, 2, 1),
        amount=amount,
        allocations=allocations,
        **fields,
    )
