"""D6: receivables aged by days overdue — hand-computed buckets with their boundaries, per client and in
total, and the client's credit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from kurator.finance.models import ReviewStatus
from kurator.finance.selectors.receivables import company_receivables, invoice_list, receivables_ageing
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2025, 6, 30)


def due(days_overdue: int) -> date:
    return TODAY - timedelta(days=days_overdue)


def make(company, finance, days_overdue: int, amount: str):
    day = due(days_overdue)
    return invoice_factory(actor=finance, company=company, amount=amount, issued_on=day, due_on=day)


def test_buckets_boundaries_by_hand(finance, company):
    """D6: due today → not due; 1 day → 1–30; 30/31, 60/61, 90/91 fall on each side of the boundaries."""
    amounts = {
        -5: "1.00",  # due in 5 days: not due
        0: "2.00",  # due today: not due
        1: "10.00",
        30: "20.00",
        31: "100.00",
        60: "200.00",
        61: "1000.00",
        90: "2000.00",
        91: "10000.00",
        400: "20000.00",
    }
    for days, amount in amounts.items():
        if days < 0:
            invoice_factory(
                actor=finance, company=company, amount=amount, issued_on=TODAY, due_on=TODAY + timedelta(5)
            )
        else:
            make(company, finance, days, amount)
    result = company_receivables(company=company, today=TODAY)
    assert result["buckets"] == {
        "not_due": D("3.00"),
        "d1_30": D("30.00"),
        "d31_60": D("300.00"),
        "d61_90": D("3000.00"),
        "over_90": D("30000.00"),
    }
    assert result["total"] == D("33333.00")
    assert result["overdue"] == D("33330.00")
    assert result["credit"] == D("0.00")


def test_buckets_count_balances_and_skip_paid_and_cancelled_invoices(finance, company):
    """D6: 1 000,00 due 45 days ago with 400,00 paid → 600,00 in 31–60; a paid and a cancelled invoice count
    nothing; a payment of 1 500,00 allocated 1 000,00 leaves credit 500,00 (a pending bank payment is not the
    client's)."""
    partly = make(company, finance, 45, "1000.00")
    paid = make(company, finance, 10, "1000.00")
    cancelled = make(company, finance, 100, "5.00")
    from kurator.finance.services.receivables import invoice_cancel

    invoice_cancel(actor=finance, invoice=cancelled, reason="ошибка")
    payment_factory(actor=finance, company=company, amount="400", allocations=[(partly, "400")])
    payment_factory(actor=finance, company=company, amount="1500", allocations=[(paid, "1000")])
    payment_factory(actor=finance, company=None, amount="77", review_status=ReviewStatus.PENDING)
    result = company_receivables(company=company, today=TODAY)
    assert result["buckets"]["d31_60"] == D("600.00")
    assert result["total"] == result["overdue"] == D("600.00")
    assert result["credit"] == D("500.00")


def test_ageing_of_all_clients_totals_and_top_debtors(
    finance, manager, company, django_assert_max_num_queries
):
    """D6: two clients — A owes 100,00 (5 days) + 50,00 not due; B owes 300,00 (95 days); C owes nothing
    overdue. Totals 450,00 / overdue 400,00; debtors B then A; C is not a debtor."""
    b = company_factory(actor=manager)
    c = company_factory(actor=manager)
    make(company, finance, 5, "100.00")
    make(company, finance, 0, "50.00")
    make(b, finance, 95, "300.00")
    make(c, finance, 0, "70.00")
    with django_assert_max_num_queries(5):
        result = receivables_ageing(actor=manager, today=TODAY)
        rows = result["rows"]
    assert result["total"] == D("520.00")
    assert result["overdue"] == D("400.00")
    assert result["buckets"] == {
        "not_due": D("120.00"),
        "d1_30": D("100.00"),
        "d31_60": D("0.00"),
        "d61_90": D("0.00"),
        "over_90": D("300.00"),
    }
    assert [(r["company_id"], r["overdue"]) for r in rows] == [(b.pk, D("300.00")), (company.pk, D("100.00"))]
    assert rows[1]["buckets"]["not_due"] == D("50.00")
    assert rows[1]["total"] == D("150.00")
    # Whose client each debtor is, read with the names (no query per row).
    assert [r["curator"] for r in rows] == [manager.short_name, manager.short_name]


def test_invoice_list_drills_down_by_bucket(finance, manager, company):
    """D6: each bucket of the report is a link to the open invoices of that bucket."""
    thirty = make(company, finance, 30, "1.00")
    thirty_one = make(company, finance, 31, "1.00")
    today = make(company, finance, 0, "1.00")
    ids = lambda **kw: {i.pk for i in invoice_list(actor=manager, today=TODAY, **kw)}  # noqa: E731
    assert ids(bucket="d1_30") == {thirty.pk}
    assert ids(bucket="d31_60") == {thirty_one.pk}
    assert ids(bucket="not_due") == {today.pk}
    assert ids(overdue=True) == {thirty.pk, thirty_one.pk}
    assert ids(bucket="nonsense") == set()
    assert ids(q=thirty.number) >= {thirty.pk}
