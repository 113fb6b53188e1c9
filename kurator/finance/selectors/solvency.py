"""Reads of the confidential solvency section (D4, R4): statements, ratios, payment discipline, the rating and
the suggested credit limit.

Lists start from :func:`kurator.access.scoping.visible_financial_statements`. :func:`company_solvency` reads
one client's figures and does not check access itself: callers (the dossier tab, the API) check
``finance.view_solvency`` with the company first.

**Ratios** (per year, rounded to 4 decimals; None when a figure is missing or the divisor is zero):

- current liquidity = current assets / current liabilities;
- equity ratio = equity / total assets;
- net margin = net profit / revenue.

**Payment discipline** (from the client's own invoices; cancelled ones are left out). The invoices *counted*
are those whose outcome is known today: every invoice paid in full, and every open (issued or partly paid)
invoice already overdue (``due_on < today``). Open invoices not yet due are not counted.

- an invoice is *late* when it was paid in full after its due date (days late = ``paid_on − due_on``) or is
  open and overdue (days late = ``today − due_on``, so far);
- share paid late = late / counted (4 decimals; None when nothing is counted);
- average days late = the mean days late over the late invoices (1 decimal; 0 when none is late);
- worst days late = the most days late of any counted invoice (0 when none is late);
- current overdue = the open overdue invoices: their count, their balance (amount − paid) and the days the
  oldest of them is overdue (0 when none).

**Rating** A–D from six factors, each scored 3 (good), 2 (fair), 1 (weak) or 0 (poor), or unknown:

============================  ==========  =========  ==========  ==========
factor                        3 points    2 points   1 point     0 points
============================  ==========  =========  ==========  ==========
current liquidity (latest y)  ≥ 2.0       ≥ 1.5      ≥ 1.0       < 1.0
equity ratio (latest year)    ≥ 0.50      ≥ 0.30     ≥ 0.10      < 0.10
net margin (latest year)      ≥ 0.10      ≥ 0.05     ≥ 0         < 0
share paid late               ≤ 0.10      ≤ 0.25     ≤ 0.50      > 0.50
worst days late               ≤ 5         ≤ 30       ≤ 90        > 90
current overdue (oldest, d)   0           —          ≤ N         > N
============================  ==========  =========  ==========  ==========

(N = ``KURATOR_CREDIT_OVERDUE_DAYS``, 30 by default; the "latest year" is the client's most recent statement —
a figure missing there makes the factor unknown, older years are not used instead). The financial factors
are unknown without statements, the two discipline factors are unknown while no invoice is counted, and the
current overdue factor is unknown for a client without invoices.

score = points / (3 × known factors); **A** ≥ 0.80, **B** ≥ 0.60, **C** ≥ 0.40, **D** below. With fewer than
three known factors there is **no rating** (None) and ``rating_reason`` says there is too little data.

**Suggested credit limit** = the average monthly invoiced amount over the last 12 months (the non-cancelled
invoices issued in the 365 days up to today, summed, / 12) × the rating's multiplier (A 2, B 1.5, C 1, D 0),
capped at 20 % of the latest year's equity when that is known (0 when equity is not positive), rounded down
to whole thousands of roubles. None when there is no rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.access.scoping import visible_financial_statements
from kurator.companies.models import Company
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    CreditLimit,
    FinancialStatement,
    Invoice,
    InvoiceStatus,
)

__all__ = [
    "EQUITY_SHARE",
    "MIN_FACTORS",
    "MULTIPLIERS",
    "RATING_BANDS",
    "company_solvency",
    "statement_list",
]

RATIO_PLACES = Decimal("0.0001")
DAYS_PLACES = Decimal("0.1")
MAX_POINTS = 3
# The least share of the points each rating needs.
RATING_BANDS = (("A", Decimal("0.80")), ("B", Decimal("0.60")), ("C", Decimal("0.40")))
LOWEST_RATING = "D"
MIN_FACTORS = 3
MULTIPLIERS = {"A": Decimal("2"), "B": Decimal("1.5"), "C": Decimal("1"), "D": Decimal("0")}
EQUITY_SHARE = Decimal("0.20")
LIMIT_STEP = Decimal("1000")
LIMIT_WINDOW_DAYS = 365
LIMIT_MONTHS = 12

VERDICTS = {3: "good", 2: "fair", 1: "weak", 0: "poor"}
UNKNOWN = "unknown"
VERDICT_LABELS: dict[str, Any] = {
    "good": _("good"),
    "fair": _("fair"),
    "weak": _("weak"),
    "poor": _("poor"),
    UNKNOWN: _("unknown"),
}


# Lists ----------------------------------------------------------------------------------------------------


def statement_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[FinancialStatement]:
    """The statements ``actor`` may read (R4), newest year first; ``filters``: ``company``, ``year``."""
    filters = filters or {}
    qs = visible_financial_statements(actor)
    if filters.get("company"):
        qs = qs.filter(company_id=filters["company"])
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    return qs.order_by("company_id", "-year", "-id")


# Ratios ---------------------------------------------------------------------------------------------------


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def statement_ratios(statement: FinancialStatement) -> dict[str, Any]:
    return {
        "year": statement.year,
        "current_liquidity": _ratio(statement.current_assets, statement.current_liabilities),
        "equity_ratio": _ratio(statement.equity, statement.total_assets),
        "net_margin": _ratio(statement.net_profit, statement.revenue),
    }


# Payment discipline ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _InvoiceRow:
    issued_on: date
    due_on: date
    paid_on: date | None
    status: str
    amount: Decimal
    paid: Decimal


def payment_discipline(rows: list[_InvoiceRow], today: date) -> dict[str, Any]:
    """See the module docstring for the definitions."""
    counted = 0
    days_late: list[int] = []
    overdue_count = 0
    overdue_amount = Decimal("0.00")
    oldest_overdue = 0
    for row in rows:
        if row.status == InvoiceStatus.PAID and row.paid_on is not None:
            counted += 1
            if row.paid_on > row.due_on:
                days_late.append((row.paid_on - row.due_on).days)
        elif row.status in OPEN_INVOICE_STATUSES and row.due_on < today:
            counted += 1
            late = (today - row.due_on).days
            days_late.append(late)
            overdue_count += 1
            overdue_amount += row.amount - row.paid
            oldest_overdue = max(oldest_overdue, late)
    share = (
        (Decimal(len(days_late)) / Decimal(counted)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)
        if counted
        else None
    )
    average = (
        (Decimal(sum(days_late)) / Decimal(len(days_late))).quantize(DAYS_PLACES, rounding=ROUND_HALF_UP)
        if days_late
        else (Decimal("0.0") if counted else None)
    )
    return {
        "invoices_total": len(rows),
        "invoices_counted": counted,
        "late_count": len(days_late),
        "share_paid_late": share,
        "average_days_late": average,
        "worst_days_late": max(days_late, default=0) if counted else None,
        "overdue_count": overdue_count,
        "overdue_amount": overdue_amount,
        "oldest_overdue_days": oldest_overdue if rows else None,
    }


# The rating -----------------------------------------------------------------------------------------------


def _higher_is_better(value: Decimal | None, bounds: tuple[Decimal, Decimal, Decimal]) -> int | None:
    if value is None:
        return None
    for points, bound in zip((3, 2, 1), bounds, strict=True):
        if value >= bound:
            return points
    return 0


def _lower_is_better(
    value: Decimal | int | None, bounds: tuple[Any, ...], points: tuple[int, ...]
) -> int | None:
    if value is None:
        return None
    for score, bound in zip(points, bounds, strict=True):
        if value <= bound:
            return score
    return 0


def overdue_days_limit() -> int:
    return int(getattr(settings, "KURATOR_CREDIT_OVERDUE_DAYS", 30))


def _factor(code: str, label: Any, unit: str, value: Any, points: int | None) -> dict[str, Any]:
    verdict = VERDICTS[points] if points is not None else UNKNOWN
    return {
        "code": code,
        "label": str(label),
        "unit": unit,
        "value": value,
        "verdict": verdict,
        "verdict_label": str(VERDICT_LABELS[verdict]),
        "points": points,
        "max_points": MAX_POINTS,
    }


def rating_factors(latest: dict[str, Any] | None, discipline: dict[str, Any]) -> list[dict[str, Any]]:
    latest = latest or {}
    liquidity = latest.get("current_liquidity")
    equity_ratio = latest.get("equity_ratio")
    margin = latest.get("net_margin")
    share = discipline["share_paid_late"]
    worst = discipline["worst_days_late"]
    oldest = discipline["oldest_overdue_days"]
    return [
        _factor(
            "current_liquidity",
            _("Current liquidity"),
            "ratio",
            liquidity,
            _higher_is_better(liquidity, (Decimal("2.0"), Decimal("1.5"), Decimal("1.0"))),
        ),
        _factor(
            "equity_ratio",
            _("Equity ratio"),
            "percent",
            equity_ratio,
            _higher_is_better(equity_ratio, (Decimal("0.50"), Decimal("0.30"), Decimal("0.10"))),
        ),
        _factor(
            "net_margin",
            _("Net margin"),
            "percent",
            margin,
            _higher_is_better(margin, (Decimal("0.10"), Decimal("0.05"), Decimal("0"))),
        ),
        _factor(
            "share_paid_late",
            _("Invoices paid late"),
            "percent",
            share,
            _lower_is_better(share, (Decimal("0.10"), Decimal("0.25"), Decimal("0.50")), (3, 2, 1)),
        ),
        _factor(
            "worst_days_late",
            _("Worst delay"),
            "days",
            worst,
            _lower_is_better(worst, (5, 30, 90), (3, 2, 1)),
        ),
        _factor(
            "current_overdue",
            _("Oldest invoice overdue now"),
            "days",
            oldest,
            _lower_is_better(oldest, (0, overdue_days_limit()), (3, 1)),
        ),
    ]


def rating_from(factors: list[dict[str, Any]]) -> tuple[str | None, Decimal | None, str]:
    """The rating, the score (share of the points) and the reason in words."""
    known = [f for f in factors if f["points"] is not None]
    if len(known) < MIN_FACTORS:
        return (
            None,
            None,
            gettext(
                "Too little data for a rating: %(known)s of %(total)s factors are known, at least %(min)s "
                "are needed. Enter the client's financial statements, or wait until its invoices fall due."
            )
            % {"known": len(known), "total": len(factors), "min": MIN_FACTORS},
        )
    points = sum(f["points"] for f in known)
    score = (Decimal(points) / Decimal(MAX_POINTS * len(known))).quantize(
        RATIO_PLACES, rounding=ROUND_HALF_UP
    )
    rating = next((name for name, least in RATING_BANDS if score >= least), LOWEST_RATING)
    return (
        rating,
        score,
        gettext("%(points)s of %(max)s points from %(known)s of %(total)s factors.")
        % {"points": points, "max": MAX_POINTS * len(known), "known": len(known), "total": len(factors)},
    )


# The suggested credit limit -------------------------------------------------------------------------------


def suggested_limit(
    rating: str | None, rows: list[_InvoiceRow], latest_equity: Decimal | None, today: date
) -> tuple[Decimal | None, dict[str, Any]]:
    since = today - timedelta(days=LIMIT_WINDOW_DAYS)
    invoiced = sum((r.amount for r in rows if since < r.issued_on <= today), Decimal("0.00"))
    monthly = (invoiced / LIMIT_MONTHS).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    cap = max(Decimal("0.00"), latest_equity * EQUITY_SHARE) if latest_equity is not None else None
    basis = {
        "invoiced_12_months": invoiced,
        "monthly_average": monthly,
        "multiplier": MULTIPLIERS.get(rating or ""),
        "equity_cap": cap,
    }
    if rating is None:
        return None, basis
    limit = invoiced / LIMIT_MONTHS * MULTIPLIERS[rating]
    if cap is not None:
        limit = min(limit, cap)
    limit = (limit / LIMIT_STEP).to_integral_value(rounding=ROUND_DOWN) * LIMIT_STEP
    return limit.quantize(Decimal("0.01")), basis


# The whole section ----------------------------------------------------------------------------------------


def company_solvency(*, company: Company, today: date | None = None) -> dict[str, Any]:
    """D4: the client's solvency as the dossier and the API show it (see the module docstring for every
    formula). Three queries: the statements, the invoices, the credit limit. Confidential (R4): the caller
    checks ``finance.view_solvency``."""
    today = today or timezone.localdate()
    statements = list(FinancialStatement.objects.filter(company=company).order_by("-year"))
    ratios = [statement_ratios(s) for s in statements]
    latest = statements[0] if statements else None
    rows = [
        _InvoiceRow(*values)
        for values in Invoice.objects.filter(company=company)
        .exclude(status=InvoiceStatus.CANCELLED)
        .values_list("issued_on", "due_on", "paid_on", "status", "amount", "paid")
    ]
    discipline = payment_discipline(rows, today)
    factors = rating_factors(ratios[0] if ratios else None, discipline)
    rating, score, reason = rating_from(factors)
    limit, basis = suggested_limit(rating, rows, latest.equity if latest else None, today)
    current_limit = CreditLimit.objects.filter(company=company).values_list("amount", flat=True).first()
    return {
        "today": today,
        "statements": statements,
        "latest_year": latest.year if latest else None,
        "ratios": ratios,
        "payment_discipline": discipline,
        "factors": factors,
        "rating": rating,
        "score": score,
        "rating_reason": reason,
        "suggested_credit_limit": limit,
        "credit_limit_basis": basis,
        "credit_limit": current_limit,
    }
