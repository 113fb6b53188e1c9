"""Contracts, obligations and conflicts for the tests, made through the services (D5, D7)."""

from __future__ import annotations

from typing import Any

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.finance.models import Conflict, Contract, Obligation


def contract_factory(*, actor: User, company: Company, **fields: Any) -> Contract:
    from kurator.finance.services.contracts import contract_create

    fields.setdefault("number", f"Д-{Contract.objects.count() + 1}")
    return contract_create(actor=actor, company=company, **fields)


def obligation_factory(*, actor: User, contract: Contract, **fields: Any) -> Obligation:
    from kurator.finance.services.contracts import obligation_create

    fields.setdefault("party", "ours")
    fields.setdefault("description", "Поставить оборудование")
    fields.setdefault("due_on", "2026-01-15")
    return obligation_create(actor=actor, contract=contract, **fields)


def conflict_factory(*, actor: User, company: Company, **fields: Any) -> Conflict:
    from kurator.finance.services.conflicts import conflict_create

    fields.setdefault("occurred_on", "2026-01-10")
    fields.setdefault("title", "Сорвана поставка")
    fields.setdefault("description", "Клиент недоволен сроками")
    return conflict_create(actor=actor, company=company, **fields)
