"""The sales funnel (S3): entries per stage, conversion, average days per stage and win rates, checked against
a small history computed by hand; the page and the API give the same numbers (R3: every seller reads them)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.accounts.models import User
from kurator.companies.models import Company, ContactSource
from kurator.sales import services
from kurator.sales.models import Deal, LostReason, Stage, StageKind, StageVisit
from kurator.sales.reports import current_month, funnel_report, recompute_passed
from tests.factories import company_factory

MARCH_FROM, MARCH_TO = date(2026, 3, 1), date(2026, 3, 31)


def at(month: int, day: int) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, 12, 0))


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def with_history(actor: User, company: Company, steps: list[tuple[str, datetime]], **fields: Any) -> Deal:
    """A deal whose stage history is ``steps`` (stage code, entered at), the last one current."""
    deal = services.deal_create(actor=actor, company=company, **fields)
    StageVisit.objects.filter(deal=deal).delete()
    for (code, entered), following in zip(steps, [*steps[1:], None], strict=True):
        StageVisit.objects.create(
            deal=deal,
            stage=stage(code),
            entered_at=entered,
            left_at=following[1] if following else None,
            entered_by=actor,
        )
    recompute_passed(deal_ids=[deal.pk])
    last_code, last_at = steps[-1]
    last = stage(last_code)
    Deal.objects.filter(pk=deal.pk).update(
        stage=last, stage_entered_at=last_at, closed_at=None if last.kind == StageKind.OPEN else last_at
    )
    return deal


@pytest.fixture
def march(manager: User, other_manager: User) -> dict[str, Any]:
    """Six deals; the numbers each test expects are worked out in the comments."""
    sources = list(ContactSource.objects.filter(is_active=True, parent__isnull=True).order_by("id")[:2])
    alpha, beta = sources
    ours = company_factory(actor=manager)
    theirs = company_factory(actor=other_manager)
    deals = {
        # acquaintance 2→5, negotiations 5→10, contract 10→20, won 20: won in March.
        "d1": with_history(
            manager,
            ours,
            [
                ("acquaintance", at(3, 2)),
                ("negotiations", at(3, 5)),
                ("contract", at(3, 10)),
                ("won", at(3, 20)),
            ],
            source=alpha,
        ),
        # acquaintance 3→8, skips negotiations, contract 8→15, lost 15.
        "d2": with_history(
            manager,
            ours,
            [("acquaintance", at(3, 3)), ("contract", at(3, 8)), ("lost", at(3, 15))],
            source=alpha,
        ),
        # acquaintance 4→6, negotiations since 6 (open).
        "d3": with_history(other_manager, theirs, [("acquaintance", at(3, 4)), ("negotiations", at(3, 6))]),
        # acquaintance in February, negotiations 2→12, skips contract, payment 12→25, won 25.
        "d4": with_history(
            other_manager,
            theirs,
            [
                ("acquaintance", at(2, 20)),
                ("negotiations", at(3, 2)),
                ("payment", at(3, 12)),
                ("won", at(3, 25)),
            ],
            source=beta,
        ),
        # acquaintance 10→11, lost 11.
        "d5": with_history(manager, ours, [("acquaintance", at(3, 10)), ("lost", at(3, 11))]),
        # Everything in February: not in the March funnel at all.
        "d6": with_history(manager, ours, [("acquaintance", at(2, 1)), ("won", at(2, 15))]),
    }
    return {"deals": deals, "alpha": alpha, "beta": beta}


def rows_by_code(report: Any) -> dict[str, Any]:
    return {row.stage.code: row for row in report.stages}


def test_entries_and_conversion_per_stage_match_the_hand_count(head, march) -> None:
    """S3: entered = deals entering the stage in the period; conversion = the share that later reached a
    further stage, a skipped stage counting as passed and a lost deal as not."""
    rows = rows_by_code(funnel_report(actor=head, date_from=MARCH_FROM, date_to=MARCH_TO))
    entered = {code: row.entered for code, row in rows.items()}
    assert entered == {"acquaintance": 4, "negotiations": 3, "contract": 2, "payment": 1, "won": 2, "lost": 2}
    assert rows["acquaintance"].passed == 3 and rows["acquaintance"].conversion == 75.0
    assert rows["negotiations"].passed == 2 and rows["negotiations"].conversion == 66.7
    assert rows["contract"].passed == 1 and rows["contract"].conversion == 50.0
    assert rows["payment"].passed == 1 and rows["payment"].conversion == 100.0
    assert rows["won"].conversion is None and rows["lost"].conversion is None
    assert rows["acquaintance"].next_stage == stage("negotiations")


def test_average_days_per_stage_counts_closed_stays_begun_in_the_period(head, march) -> None:
    """S3: (3 + 5 + 2 + 1) / 4 = 2.75 days of acquaintance (the February stay left out), (5 + 10) / 2 in
    negotiations (the open stay left out), (10 + 7) / 2 in contract, 13 in payment."""
    rows = rows_by_code(funnel_report(actor=head, date_from=MARCH_FROM, date_to=MARCH_TO))
    assert rows["acquaintance"].average_days == 2.8
    assert rows["negotiations"].average_days == 7.5
    assert rows["contract"].average_days == 8.5
    assert rows["payment"].average_days == 13.0
    assert rows["won"].average_days is None


def test_win_rate_by_manager_and_by_source(head, manager, other_manager, march) -> None:
    """S3: won / (won + lost) among the deals closed in the period."""
    report = funnel_report(actor=head, date_from=MARCH_FROM, date_to=MARCH_TO)
    managers = {row.key: (row.won, row.lost, row.win_rate) for row in report.managers}
    assert managers == {manager.pk: (1, 2, 33.3), other_manager.pk: (1, 0, 100.0)}
    sources = {row.key: (row.won, row.lost, row.win_rate) for row in report.sources}
    assert sources == {march["alpha"].pk: (1, 1, 50.0), march["beta"].pk: (1, 0, 100.0), None: (0, 1, 0.0)}
    assert (report.totals.won, report.totals.lost, report.totals.win_rate) == (2, 2, 50.0)


def test_the_funnel_runs_a_fixed_number_of_queries(head, manager, march) -> None:
    """S3: set-based queries; more deals cost no more queries."""
    with CaptureQueriesContext(connection) as before:
        funnel_report(actor=head, date_from=MARCH_FROM, date_to=MARCH_TO)
    company = company_factory(actor=manager)
    for day in range(1, 11):
        with_history(manager, company, [("acquaintance", at(3, day)), ("lost", at(3, day + 1))])
    with CaptureQueriesContext(connection) as after:
        funnel_report(actor=head, date_from=MARCH_FROM, date_to=MARCH_TO)
    assert len(after) == len(before) <= 6


def test_the_default_period_is_the_current_month() -> None:
    period = current_month(date(2026, 5, 17))
    assert (period.date_from, period.date_to) == (date(2026, 5, 1), date(2026, 5, 17))


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_funnel_page_shows_the_numbers_and_the_chart_data(manager, march) -> None:
    """S3, R3: a seller reads the funnel; the chart's data travel as JSON, drawn by a static script."""
    response = login(manager).get(reverse("sales:funnel"), {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="funnel-acquaintance"' in html and "75.0" in html and "66.7" in html
    chart = json.loads(
        html.split('<script id="funnel-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["entered"][:5] == [4, 3, 2, 1, 2]
    assert "sales/funnel.js" in html and "chart.umd.min.js" in html


def test_finance_does_not_see_the_funnel(finance) -> None:
    assert login(finance).get(reverse("sales:funnel")).status_code == 403


def test_the_api_gives_the_same_numbers(head, manager, march) -> None:
    """S3: GET /api/v1/reports/funnel/ answers the page's numbers."""
    response = login(head).get("/api/v1/reports/funnel/", {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    body = response.json()
    stages = {row["code"]: row for row in body["stages"]}
    assert stages["acquaintance"]["entered"] == 4 and stages["acquaintance"]["conversion"] == 75.0
    assert stages["negotiations"]["average_days"] == 7.5 and stages["won"]["conversion"] is None
    assert {row["id"]: row["win_rate"] for row in body["managers"]}[manager.pk] == 33.3
    assert {row["id"]: row["win_rate"] for row in body["sources"]}[None] == 0.0
    assert body["totals"]["win_rate"] == 50.0
    assert body["date_from"] == "2026-03-01" and body["date_to"] == "2026-03-31"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"pipeline": "x"}, "pipeline")],
)
def test_the_api_names_the_bad_parameter(head, params, field) -> None:
    response = login(head).get("/api/v1/reports/funnel/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_api_refuses_finance(finance) -> None:
    assert login(finance).get("/api/v1/reports/funnel/").status_code == 403


def test_moves_keep_the_passed_mark_of_each_stay_as_the_history_defines_it(manager, head) -> None:
    """S3: deal_move marks a stay "passed" when the deal enters a further open or won stage — a skipped stage
    passes the one before it, a move back does not pass the stage left, a loss passes nothing, a reopening
    into a further stage passes the stays before it; the marks equal those recomputed from the history."""
    company = company_factory(actor=manager)
    deal = services.deal_create(actor=manager, company=company, amount=10)
    reason = "тест"
    lost = LostReason.objects.filter(is_active=True).first()

    def marks() -> list[tuple[str, bool]]:
        return [
            (v.stage.code, v.passed)
            for v in StageVisit.objects.filter(deal=deal).select_related("stage").order_by("entered_at", "id")
        ]

    deal = services.deal_move(actor=head, deal=deal, stage=stage("contract"), override_reason=reason)  # skip
    deal = services.deal_move(actor=head, deal=deal, stage=stage("negotiations"))  # back
    assert marks() == [("acquaintance", True), ("contract", False), ("negotiations", False)]
    deal = services.deal_move(actor=head, deal=deal, stage=stage("lost"), lost_reason=lost)
    assert marks()[-2:] == [("negotiations", False), ("lost", False)]
    deal = services.deal_move(actor=head, deal=deal, stage=stage("payment"), override_reason=reason)  # reopen
    expected = [
        ("acquaintance", True),
        ("contract", True),
        ("negotiations", True),
        ("lost", False),
        ("payment", False),
    ]
    assert marks() == expected
    StageVisit.objects.filter(deal=deal).update(passed=False)
    recompute_passed(deal_ids=[deal.pk])
    assert marks() == expected


def test_reordering_stages_recounts_which_stays_passed(
    manager, head, django_capture_on_commit_callbacks
) -> None:
    """S3: after the head of sales swaps two stages, the funnel counts the stays by the new order."""
    company = company_factory(actor=manager)
    deal = services.deal_create(actor=manager, company=company, amount=10)
    deal = services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    first = StageVisit.objects.get(deal=deal, stage__code="acquaintance")
    assert first.passed
    # «Переговоры» before «Знакомство»: entering negotiations no longer passes acquaintance.
    with django_capture_on_commit_callbacks(execute=True):
        services.stage_move_order(actor=head, stage=stage("negotiations"), order=1)
    first.refresh_from_db()
    assert not first.passed
