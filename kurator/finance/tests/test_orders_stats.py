"""Purchase statistics (D8, D9) against hand-computed examples; they follow the orders as they change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kurator.finance.selectors.orders import purchase_stats
from kurator.finance.services import orders as services
from kurator.finance.tests.factories_orders import category_factory, line, order_factory, product_factory

pytestmark = pytest.mark.django_db

TODAY = date(2024, 7, 8)


@pytest.fixture
def catalogue():
    return {
        name: product_factory(
            name=f"Товар {name}", category=category_factory(f"Категория {name}"), base_price=1
        )
        for name in "ABCDE"
    }


def _example(company, manager, catalogue):
    p = catalogue
    order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-01-10",
        lines=[line(p["A"], 1, "1000")],
        status="confirmed",
    )
    order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-02-09",
        lines=[line(p["B"], 2, "1000.25"), line(p["A"], 1, "500")],
        status="shipped",
    )
    third = order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-04-09",
        lines=[line(p["C"], 1, "555", "10")],
        status="completed",
    )
    # Not purchases: a draft and a cancelled order (D8).
    order_factory(company=company, actor=manager, ordered_on="2024-05-01", lines=[line(p["D"], 1, "5000")])
    order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-03-01",
        lines=[line(p["E"], 1, "7000")],
        status="cancelled",
    )
    return third


def test_statistics_of_a_hand_computed_example(manager, company, catalogue):
    """D8/D9: 3 purchases (1000.00, 2500.50, 499.50) between 10 Jan and 9 Apr 2024, seen on 8 Jul 2024.

    total 4000.00; average 4000/3 = 1333.33; first → last 90 days (leap February) / 2 intervals = 45.0 days;
    first → today 180 days = 180/30.4375 = 5.914 months, 3/5.914 = 0.51 a month; categories A, B, C; the draft
    (D) and the cancelled order (E) are not purchases."""
    _example(company, manager, catalogue)
    stats = purchase_stats(company=company, today=TODAY)
    assert stats == {
        "orders_count": 3,
        "total": Decimal("4000.00"),
        "average": Decimal("1333.33"),
        "purchases_per_month": Decimal("0.51"),
        "average_interval_days": Decimal("45.0"),
        "last_purchase_on": date(2024, 4, 9),
        "first_purchase_on": date(2024, 1, 10),
        "categories_count": 3,
        "categories": ["Категория A", "Категория B", "Категория C"],
    }


def test_a_client_without_purchases(manager, company, catalogue):
    """D8: no purchases yet — zero count and total, nothing to average (drafts do not count)."""
    order_factory(company=company, actor=manager, lines=[line(catalogue["A"], 1)])
    assert purchase_stats(company=company, today=TODAY) == {
        "orders_count": 0,
        "total": Decimal("0.00"),
        "average": None,
        "purchases_per_month": Decimal("0.00"),
        "average_interval_days": None,
        "last_purchase_on": None,
        "first_purchase_on": None,
        "categories_count": 0,
        "categories": [],
    }


def test_a_first_month_counts_as_one_month(manager, company, catalogue):
    """D8: one purchase 10 days ago: months = max(1, 10/30.4375) = 1, so 1.00 purchase a month; one purchase
    has no interval."""
    order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-06-28",
        lines=[line(catalogue["A"], 3, "10")],
        status="confirmed",
    )
    stats = purchase_stats(company=company, today=TODAY)
    assert (stats["purchases_per_month"], stats["average_interval_days"], stats["average"]) == (
        Decimal("1.00"),
        None,
        Decimal("30.00"),
    )


def test_statistics_follow_orders_added_changed_and_cancelled(manager, company, catalogue):
    """D8: the statistics are computed, never stored: they change as soon as an order is added, its lines
    change (back to a draft and confirmed again) or it is cancelled."""
    third = _example(company, manager, catalogue)
    # Added: a purchase of category D on 8 Jun 2024 for 1000.00.
    added = order_factory(
        company=company,
        actor=manager,
        ordered_on="2024-06-08",
        lines=[line(catalogue["D"], 1, "1000")],
        status="confirmed",
    )
    stats = purchase_stats(company=company, today=TODAY)
    # 5000.00 / 4 = 1250.00; 10 Jan → 8 Jun = 150 days / 3 = 50.0; 4 / 5.914 = 0.68; A B C D.
    assert (stats["orders_count"], stats["total"], stats["average"]) == (
        4,
        Decimal("5000.00"),
        Decimal("1250.00"),
    )
    assert (stats["average_interval_days"], stats["purchases_per_month"]) == (
        Decimal("50.0"),
        Decimal("0.68"),
    )
    assert (stats["last_purchase_on"], stats["categories_count"]) == (date(2024, 6, 8), 4)
    # Changed: the added order back to a draft, 3 pieces instead of 1, confirmed again.
    added = services.order_set_status(actor=manager, order=added, status="draft")
    assert purchase_stats(company=company, today=TODAY)["orders_count"] == 3
    added = services.order_update(actor=manager, order=added, lines=[line(catalogue["D"], 3, "1000")])
    services.order_set_status(actor=manager, order=added, status="confirmed")
    assert purchase_stats(company=company, today=TODAY)["total"] == Decimal("7000.00")
    # Cancelled: the shipped order of A and B goes; B leaves the assortment, the count drops.
    second = company.orders.get(ordered_on=date(2024, 2, 9))
    services.order_set_status(actor=manager, order=second, status="cancelled")
    stats = purchase_stats(company=company, today=TODAY)
    assert (stats["orders_count"], stats["total"]) == (3, Decimal("4499.50"))
    assert stats["categories"] == ["Категория A", "Категория C", "Категория D"]
    assert third.status == "completed"


def test_statistics_take_two_queries(manager, company, catalogue, django_assert_num_queries):
    """D8: the dossier's statistics cost two queries however many orders the client has."""
    _example(company, manager, catalogue)
    with django_assert_num_queries(2):
        purchase_stats(company=company, today=TODAY)
