"""The policy of contracts, orders, receivables, solvency and conflicts (D4–D8, R3, R4) as one table.

Objects are built unsaved: the predicates look at ids only, so the table needs no database rows."""

from __future__ import annotations

from typing import Any

import pytest

from kurator.access.policy import can
from kurator.access.tests.test_policy_sales import ACTOR_ID, CO_OWNER_ID, CURATOR_ID, OTHER_ID, _actor
from kurator.accounts.models import Role
from kurator.companies.models import Company
from kurator.finance.models import Conflict, Contract, Order
from kurator.sales.models import Deal

COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("finance.view_contract", None),
    ("finance.change_contract", "contract"),
    ("finance.manage_catalogue", None),
    ("finance.view_order", None),
    ("finance.change_order", "order"),
    ("finance.approve_credit", None),
    ("finance.set_credit_limit", None),
    ("finance.view_invoice", None),
    ("finance.change_invoice", None),
    ("finance.change_payment", None),
    ("finance.import_bank_statement", None),
    ("finance.view_receivables_report", None),
    ("finance.add_collection_action", "company"),
    ("finance.view_solvency", "company"),
    ("finance.change_financial_statement", "company"),
    ("finance.view_conflict", None),
    ("finance.change_conflict", "conflict"),
)
T, F = True, False
CURATOR_ROW = (T, T, F, T, T, F, F, T, F, F, F, T, T, T, T, T, T)
OTHER_ROW = (T, F, F, T, F, F, F, T, F, F, F, T, F, F, F, T, F)
# The client is curated by CURATOR_ID; the contract and the conflict are tied to a deal co-owned by
# CO_OWNER_ID; the order is not tied to a deal.
TABLE: list[tuple[str, Role | None, int, tuple[bool, ...]]] = [
    ("curator manager", Role.MANAGER, CURATOR_ID, CURATOR_ROW),
    ("co-owner manager", Role.MANAGER, CO_OWNER_ID, (T, T, F, T, F, F, F, T, F, F, F, T, F, F, F, T, T)),
    ("other manager", Role.MANAGER, OTHER_ID, OTHER_ROW),
    ("curator senior manager", Role.SENIOR_MANAGER, CURATOR_ID, CURATOR_ROW),
    ("other senior manager", Role.SENIOR_MANAGER, OTHER_ID, OTHER_ROW),
    ("head of sales", Role.HEAD_OF_SALES, ACTOR_ID, (T,) * 17),
    ("admin", Role.ADMIN, ACTOR_ID, (T,) * 17),
    ("finance", Role.FINANCE, ACTOR_ID, (T, F, F, T, F, F, T, T, T, T, T, T, T, T, T, T, T)),
    ("inactive head of sales", None, ACTOR_ID, (F,) * 17),
    ("anonymous", None, 0, (F,) * 17),
]


def _objects() -> dict[str, Any]:
    company = Company(pk=10, curator_id=CURATOR_ID)
    deal = Deal(pk=20, company=company, owner_id=CURATOR_ID, co_owner_id=CO_OWNER_ID)
    contract = Contract(pk=30, company=company, deal=deal)
    order = Order(pk=40, company=company)
    conflict = Conflict(pk=50, company=company, deal=deal)
    return {"company": company, "contract": contract, "order": order, "conflict": conflict}


@pytest.mark.django_db  # a colleague's solvency access asks for live grants
@pytest.mark.parametrize(("who", "role", "pk", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_finance_policy_table(who, role, pk, expected):
    """R3: the department reads contracts, orders, invoices, receivables and conflicts of every client.
    D8: the curator enters orders. D6: finance and the head of sales enter invoices and payments and import
    statements. R4/D4: the solvency section is seen by the curator, the head of sales, finance and the
    administrator only."""
    actor = _actor(who, role, pk)
    objects = _objects()
    answers = {perm: can(actor, perm, objects[obj] if obj else None) for perm, obj in COLUMNS}
    assert answers == dict(zip([perm for perm, _ in COLUMNS], expected, strict=True))


def test_solvency_is_closed_without_a_company():
    """R4: without the client to ask about, a manager is refused the confidential section."""
    assert not can(_actor("curator manager", Role.MANAGER, CURATOR_ID), "finance.view_solvency")
