"""D4: ratios, payment discipline, the rating and the suggested credit limit against hand-computed examples,
and the boundaries of every factor (formulas: kurator/finance/selectors/solvency.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kurator.finance.models import CreditLimit, InvoiceStatus
from kurator.finance.selectors.solvency import company_solvency, rating_factors, rating_from
from kurator.finance.tests.factories_solvency import invoice, statement

TODAY = date(2025, 6, 30)
D = Decimal


def _factor(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in data["factors"] if f["code"] == code)


@pytest.fixture
def worked_example(company):
    """The example of the module docstring, computed by hand below."""
    statement(
        company,
        2023,
        revenue="10000000",
        net_profit="600000",
        total_assets="8000000",
        equity="3200000",
        liabilities="4800000",
        current_assets="5000000",
        current_liabilities="2500000",
    )
    statement(
        company,
        2022,
        revenue="8000000",
        net_profit="-200000",
        total_assets="7000000",
        equity="2000000",
        liabilities="5000000",
        current_assets="3000000",
        current_liabilities="0",
    )
    # Paid 4 days early: on time.
    invoice(
        company, issued=date(2024, 7, 15), due=date(2024, 8, 14), amount=120000, paid_on=date(2024, 8, 10)
    )
    # Paid 20 days late.
    invoice(
        company, issued=date(2024, 10, 1), due=date(2024, 10, 31), amount=240000, paid_on=date(2024, 11, 20)
    )
    # Paid on the due date: on time.
    invoice(company, issued=date(2025, 1, 10), due=date(2025, 2, 9), amount=360000, paid_on=date(2025, 2, 9))
    # Partly paid, overdue since 1 May: 60 days late so far, 120 000 owed.
    invoice(company, issued=date(2025, 4, 1), due=date(2025, 5, 1), amount=180000, paid="60000")
    # Not yet due: not counted, but invoiced within the 12 months.
    invoice(company, issued=date(2025, 6, 20), due=date(2025, 7, 20), amount=300000)
    # Cancelled: ignored everywhere.
    invoice(
        company,
        issued=date(2025, 3, 1),
        due=date(2025, 3, 31),
        amount=999000,
        status=InvoiceStatus.CANCELLED,
    )
    # Two years ago, 10 days late: counted for discipline, outside the 12 months.
    invoice(company, issued=date(2023, 5, 1), due=date(2023, 5, 31), amount=500000, paid_on=date(2023, 6, 10))
    return company


def test_ratios_by_year_match_the_hand_computation(worked_example):
    """D4: 5 000 000 / 2 500 000 = 2; 3 200 000 / 8 000 000 = 0.4; 600 000 / 10 000 000 = 0.06. In 2022 the
    current liabilities are zero (no liquidity), 2 / 7 = 0.2857 and −200 000 / 8 000 000 = −0.025."""
    data = company_solvency(company=worked_example, today=TODAY)
    assert data["ratios"] == [
        {
            "year": 2023,
            "current_liquidity": D("2.0000"),
            "equity_ratio": D("0.4000"),
            "net_margin": D("0.0600"),
        },
        {"year": 2022, "current_liquidity": None, "equity_ratio": D("0.2857"), "net_margin": D("-0.0250")},
    ]
    assert data["latest_year"] == 2023


def test_payment_discipline_matches_the_hand_computation(worked_example):
    """D4: counted 5 (3 paid + 1 overdue + the old one; not the one not yet due nor the cancelled one); late 3
    (20, 60 and 10 days): share 3/5 = 0.6, average 90/3 = 30, worst 60; overdue now 1 invoice, 120 000 ₽,
    60 days."""
    discipline = company_solvency(company=worked_example, today=TODAY)["payment_discipline"]
    assert discipline == {
        "invoices_total": 6,
        "invoices_counted": 5,
        "late_count": 3,
        "share_paid_late": D("0.6000"),
        "average_days_late": D("30.0"),
        "worst_days_late": 60,
        "overdue_count": 1,
        "overdue_amount": D("120000.00"),
        "oldest_overdue_days": 60,
    }


def test_rating_and_factors_match_the_hand_computation(worked_example):
    """D4: liquidity 2.0 → 3, equity ratio 0.40 → 2, margin 0.06 → 2, 60 % late → 0, worst 60 days → 1,
    60 days overdue now (> 30) → 0: 8 of 18 points = 0.4444 → C; every factor is shown."""
    data = company_solvency(company=worked_example, today=TODAY)
    assert [(f["code"], f["value"], f["verdict"], f["points"]) for f in data["factors"]] == [
        ("current_liquidity", D("2.0000"), "good", 3),
        ("equity_ratio", D("0.4000"), "fair", 2),
        ("net_margin", D("0.0600"), "fair", 2),
        ("share_paid_late", D("0.6000"), "poor", 0),
        ("worst_days_late", 60, "weak", 1),
        ("current_overdue", 60, "poor", 0),
    ]
    assert all(f["label"] for f in data["factors"])
    assert data["score"] == D("0.4444")
    assert data["rating"] == "C"


def test_suggested_limit_matches_the_hand_computation(worked_example):
    """D4: invoiced in the 12 months to 30.06.2025: 120 000 + 240 000 + 360 000 + 180 000 + 300 000 =
    1 200 000 → 100 000 a month × 1 (C) = 100 000; the cap, 20 % of 3 200 000 = 640 000, does not bite."""
    data = company_solvency(company=worked_example, today=TODAY)
    assert data["credit_limit_basis"] == {
        "invoiced_12_months": D("1200000.00"),
        "monthly_average": D("100000.00"),
        "multiplier": D("1"),
        "equity_cap": D("640000.000"),
    }
    assert data["suggested_credit_limit"] == D("100000.00")
    assert data["credit_limit"] is None


def test_a_strong_client_gets_a_and_the_equity_cap_rounds_down_to_thousands(company, manager):
    """D4: liquidity 2.5, equity ratio 0.6, margin 0.12, every invoice paid on time, none overdue: 18/18 → A.
    1 200 000 invoiced → 100 000 a month × 2 = 200 000, capped at 20 % of 612 345.67 = 122 469.13 → 122 000.
    The client's current credit limit is shown beside it."""
    statement(
        company,
        2024,
        revenue="5000000",
        net_profit="600000",
        total_assets="1020576.12",
        equity="612345.67",
        liabilities="408230.45",
        current_assets="500000",
        current_liabilities="200000",
    )
    for month in (1, 3, 5):
        invoice(
            company,
            issued=date(2025, month, 1),
            due=date(2025, month, 15),
            amount=400000,
            paid_on=date(2025, month, 14),
        )
    CreditLimit.objects.create(company=company, amount=D("150000.00"), set_by=manager)
    data = company_solvency(company=company, today=TODAY)
    assert [f["points"] for f in data["factors"]] == [3, 3, 3, 3, 3, 3]
    assert data["ratios"][0]["equity_ratio"] == D("0.6000")
    assert data["rating"] == "A"
    assert data["suggested_credit_limit"] == D("122000.00")
    assert data["credit_limit"] == D("150000.00")


def test_negative_equity_caps_the_limit_at_zero(company):
    """D4: a client with negative equity is suggested no credit whatever its rating."""
    statement(company, 2024, revenue="1000000", net_profit="-50000", total_assets="400000", equity="-100000")
    invoice(company, issued=date(2025, 3, 1), due=date(2025, 3, 31), amount=600000, paid_on=date(2025, 3, 30))
    data = company_solvency(company=company, today=TODAY)
    assert data["credit_limit_basis"]["equity_cap"] == D("0")
    assert data["rating"] is not None
    assert data["suggested_credit_limit"] == D("0.00")


def test_too_little_data_gives_no_rating_and_says_why(company):
    """D4: no statements and only an invoice not yet due: one factor known (nothing overdue) → no rating, no
    limit, and the reason says what is missing."""
    invoice(company, issued=date(2025, 6, 1), due=date(2025, 7, 1), amount=100000)
    data = company_solvency(company=company, today=TODAY)
    assert [f["points"] for f in data["factors"]] == [None, None, None, None, None, 3]
    assert data["rating"] is None
    assert data["suggested_credit_limit"] is None
    assert "Too little data" in data["rating_reason"]
    assert "1 of 6" in data["rating_reason"]


def test_a_client_without_anything_has_every_factor_unknown(company):
    data = company_solvency(company=company, today=TODAY)
    assert all(f["verdict"] == "unknown" and f["points"] is None for f in data["factors"])
    assert data["payment_discipline"]["share_paid_late"] is None
    assert data["rating"] is None
    assert data["ratios"] == []


def test_discipline_alone_is_enough_for_a_rating(company):
    """D4: without statements, the three invoice factors make a rating: 1 of 2 paid 10 days late → 50 % (1),
    worst 10 (2), nothing overdue (3) → 6/9 = 0.6667 → B."""
    invoice(company, issued=date(2025, 1, 1), due=date(2025, 1, 31), amount=1000, paid_on=date(2025, 1, 31))
    invoice(company, issued=date(2025, 2, 1), due=date(2025, 2, 28), amount=1000, paid_on=date(2025, 3, 10))
    data = company_solvency(company=company, today=TODAY)
    assert [f["points"] for f in data["factors"]] == [None, None, None, 1, 2, 3]
    assert data["score"] == D("0.6667")
    assert data["rating"] == "B"


def test_an_invoice_due_today_is_not_counted_and_one_due_yesterday_is_one_day_late(company):
    """D4: overdue means due_on < today."""
    invoice(company, issued=date(2025, 6, 1), due=TODAY, amount=1000)
    data = company_solvency(company=company, today=TODAY)
    assert data["payment_discipline"]["invoices_counted"] == 0
    invoice(company, issued=date(2025, 6, 1), due=date(2025, 6, 29), amount=1000)
    discipline = company_solvency(company=company, today=TODAY)["payment_discipline"]
    assert discipline["invoices_counted"] == 1
    assert discipline["worst_days_late"] == 1
    assert discipline["oldest_overdue_days"] == 1


def test_a_missing_figure_makes_the_ratio_unknown_and_older_years_are_not_used(company):
    """D4: the latest year decides; its missing revenue leaves the margin unknown even if 2022 has one."""
    statement(company, 2022, revenue="1000", net_profit="100")
    statement(company, 2023, net_profit="100", current_assets="100", current_liabilities="50")
    data = company_solvency(company=company, today=TODAY)
    assert data["ratios"][0] == {
        "year": 2023,
        "current_liquidity": D("2.0000"),
        "equity_ratio": None,
        "net_margin": None,
    }
    assert _factor(data, "net_margin")["points"] is None
    assert _factor(data, "current_liquidity")["points"] == 3


def test_the_limit_window_is_the_365_days_up_to_today(company):
    """D4: an invoice issued exactly 365 days ago is outside, one issued 364 days ago inside."""
    invoice(company, issued=date(2024, 6, 30), due=date(2024, 7, 30), amount=120000, paid_on=date(2024, 7, 1))
    invoice(company, issued=date(2024, 7, 1), due=date(2024, 7, 31), amount=240000, paid_on=date(2024, 7, 2))
    invoice(company, issued=date(2025, 1, 1), due=date(2025, 1, 31), amount=1, paid_on=date(2025, 1, 2))
    data = company_solvency(company=company, today=TODAY)
    assert data["credit_limit_basis"]["invoiced_12_months"] == D("240001.00")


# Boundaries of every factor -------------------------------------------------------------------------------


def _discipline(share: Any = None, worst: Any = None, oldest: Any = None) -> dict[str, Any]:
    return {"share_paid_late": share, "worst_days_late": worst, "oldest_overdue_days": oldest}


@pytest.mark.parametrize(
    ("code", "value", "points"),
    [
        ("current_liquidity", "2.0", 3),
        ("current_liquidity", "1.9999", 2),
        ("current_liquidity", "1.5", 2),
        ("current_liquidity", "1.4999", 1),
        ("current_liquidity", "1.0", 1),
        ("current_liquidity", "0.9999", 0),
        ("equity_ratio", "0.50", 3),
        ("equity_ratio", "0.4999", 2),
        ("equity_ratio", "0.30", 2),
        ("equity_ratio", "0.2999", 1),
        ("equity_ratio", "0.10", 1),
        ("equity_ratio", "0.0999", 0),
        ("equity_ratio", "-0.5", 0),
        ("net_margin", "0.10", 3),
        ("net_margin", "0.0999", 2),
        ("net_margin", "0.05", 2),
        ("net_margin", "0.0499", 1),
        ("net_margin", "0", 1),
        ("net_margin", "-0.0001", 0),
    ],
)
def test_financial_factor_boundaries(code, value, points):
    """D4: a bound itself earns the higher score."""
    factors = rating_factors({code: D(value)}, _discipline())
    assert next(f for f in factors if f["code"] == code)["points"] == points


@pytest.mark.parametrize(
    ("code", "value", "points"),
    [
        ("share_paid_late", D("0"), 3),
        ("share_paid_late", D("0.10"), 3),
        ("share_paid_late", D("0.1001"), 2),
        ("share_paid_late", D("0.25"), 2),
        ("share_paid_late", D("0.2501"), 1),
        ("share_paid_late", D("0.50"), 1),
        ("share_paid_late", D("0.5001"), 0),
        ("worst_days_late", 0, 3),
        ("worst_days_late", 5, 3),
        ("worst_days_late", 6, 2),
        ("worst_days_late", 30, 2),
        ("worst_days_late", 31, 1),
        ("worst_days_late", 90, 1),
        ("worst_days_late", 91, 0),
        ("current_overdue", 0, 3),
        ("current_overdue", 1, 1),
        ("current_overdue", 30, 1),
        ("current_overdue", 31, 0),
    ],
)
def test_discipline_factor_boundaries(code, value, points):
    """D4: the current overdue bound is KURATOR_CREDIT_OVERDUE_DAYS (30)."""
    key = {"share_paid_late": "share", "worst_days_late": "worst", "current_overdue": "oldest"}[code]
    factors = rating_factors(None, _discipline(**{key: value}))
    assert next(f for f in factors if f["code"] == code)["points"] == points


def test_the_overdue_bound_follows_the_setting(settings):
    settings.KURATOR_CREDIT_OVERDUE_DAYS = 10
    factors = rating_factors(None, _discipline(oldest=11))
    assert factors[-1]["points"] == 0


def _known(*points: int) -> list[dict[str, Any]]:
    return [{"points": p} for p in points] + [{"points": None}] * (6 - len(points))


@pytest.mark.parametrize(
    ("points", "rating", "score"),
    [
        ((3, 3, 3, 3, 0), "A", "0.8000"),  # 12/15
        ((3, 3, 3, 2, 0), "B", "0.7333"),  # 11/15
        ((3, 3, 3, 0, 0), "B", "0.6000"),  # 9/15
        ((3, 3, 2, 0, 0), "C", "0.5333"),  # 8/15
        ((3, 3, 0, 0, 0), "C", "0.4000"),  # 6/15
        ((3, 2, 0, 0, 0), "D", "0.3333"),  # 5/15
        ((0, 0, 0), "D", "0.0000"),
    ],
)
def test_rating_bands(points, rating, score):
    """D4: A from 0.80 of the points, B from 0.60, C from 0.40, D below."""
    assert rating_from(_known(*points))[:2] == (rating, D(score))


def test_two_known_factors_are_not_enough():
    assert rating_from(_known(3, 3))[0] is None
