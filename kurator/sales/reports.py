"""The sales funnel for a period (S3): deals entering each stage, conversion from stage to stage, average days
per stage, and the win rate by manager and by source.

Everything is read from the stage history (StageVisit) and the closed deals with a fixed number of set-based
queries (GROUP BY over the period), whatever the number of deals: the stages, the entries with their
conversion and durations in one, the win rate by manager and by source in another, then the managers'
and sources' names — five queries.

Definitions (the page and the API show the same numbers):

- *entered*: distinct deals with a stay in the stage that began in the period;
- *passed*: of those, the deals that later (at or after that entry) entered a further stage of the funnel —
  any open or won stage placed after it; a deal that skipped the next stage counts as passing it, a lost deal
  does not pass; *conversion* is passed / entered. deal_move records it on each earlier stay
  (``StageVisit.passed``), so the report reads a flag instead of searching each deal's later history; the
  order of the stages is the one at the time of the move (reordering stages does not rewrite history:
  :func:`recompute_passed` does, on request);
- *average days*: closed stays (left_at − entered_at) that began in the period;
- *win rate*: won / (won + lost) among the deals closed in the period, by owner and by the deal's source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from kurator.access.policy import can
from kurator.accounts.models import User
from kurator.companies.models import ContactSource
from kurator.companies.reports import Period
from kurator.sales.models import Deal, Pipeline, Stage, StageKind, StageVisit

FUNNEL_KINDS = (StageKind.OPEN, StageKind.WON)


def current_month(today: date | None = None) -> Period:
    """The funnel's default period: the current month up to today."""
    today = today or timezone.localdate()
    return Period(today.replace(day=1), today)


@dataclass
class StageRow:
    stage: Stage
    entered: int = 0
    passed: int = 0
    # The stage the conversion leads to (the next stage of the funnel); None for the last and for "lost".
    next_stage: Stage | None = None
    closed_stays: int = 0
    total_seconds: float = 0.0

    @property
    def conversion(self) -> float | None:
        """Passed / entered, % with one decimal; None when nothing entered or there is no next stage."""
        if self.next_stage is None or not self.entered:
            return None
        return _percent(self.passed, self.entered)

    @property
    def average_days(self) -> float | None:
        if not self.closed_stays:
            return None
        days = Decimal(self.total_seconds / self.closed_stays / 86400)
        return float(days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class WinRow:
    key: int | None
    name: str
    won: int = 0
    lost: int = 0

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return _percent(self.won, self.closed) if self.closed else None


@dataclass
class FunnelReport:
    period: Period
    pipeline: Pipeline
    stages: list[StageRow]
    managers: list[WinRow]
    sources: list[WinRow]
    totals: WinRow = field(default_factory=lambda: WinRow(None, ""))

    def chart(self) -> dict[str, Any]:
        """What the chart draws: entries per stage of the funnel."""
        rows = [row for row in self.stages if row.stage.kind != StageKind.LOST]
        return {
            "labels": [row.stage.name for row in rows],
            "entered": [row.entered for row in rows],
            "passed": [row.passed for row in rows],
        }


def _percent(part: int, whole: int) -> float:
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _visible_deals(actor: User) -> QuerySet[Deal]:
    # Openness (R3): every member who may see the funnel reads every deal; nobody else reads any.
    if can(actor, "sales.view_funnel") and can(actor, "sales.view_deal"):
        return Deal.objects.all()
    return Deal.objects.none()


# Whether a stay was followed (at or after its entry) by an entry into a further open or won stage of the same
# pipeline (the same statement backfilled sales migration 0003).
_PASSED_SQL = """
UPDATE sales_stagevisit SET passed = EXISTS (
    SELECT 1 FROM sales_stagevisit later
    JOIN sales_stage later_stage ON later_stage.id = later.stage_id
    JOIN sales_stage this_stage ON this_stage.id = sales_stagevisit.stage_id
    WHERE later.deal_id = sales_stagevisit.deal_id
      AND later_stage.pipeline_id = this_stage.pipeline_id
      AND later_stage.kind IN ('open', 'won')
      AND later_stage."order" > this_stage."order"
      AND later.entered_at >= sales_stagevisit.entered_at
)"""


def recompute_passed(*, deal_ids: list[int] | None = None, pipeline_id: int | None = None) -> None:
    """Set StageVisit.passed from the stage history in one statement (all deals, those given, or those of a
    pipeline): for stays written other than by deal_move (imports, fills, tests) or after stages were
    reordered or changed kind."""
    sql, params = _PASSED_SQL, []
    if deal_ids is not None:
        if not deal_ids:
            return
        sql += " WHERE deal_id IN (" + ", ".join(["%s"] * len(deal_ids)) + ")"
        params = list(deal_ids)
    elif pipeline_id is not None:
        sql += " WHERE deal_id IN (SELECT id FROM sales_deal WHERE pipeline_id = %s)"
        params = [pipeline_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def funnel_report(
    *, actor: User, date_from: date, date_to: date, pipeline: Pipeline | None = None
) -> FunnelReport:
    """The funnel of ``pipeline`` (the default one when None) for the days ``date_from``–``date_to``."""
    period = Period(min(date_from, date_to), max(date_from, date_to))
    if pipeline is None:
        pipeline = (
            Pipeline.objects.filter(is_default=True).first()
            or Pipeline.objects.order_by("position", "id").first()
        )
    if pipeline is None:  # no pipeline at all: an empty report
        return FunnelReport(period=period, pipeline=Pipeline(name=""), stages=[], managers=[], sources=[])
    every_stage = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    stages = [s for s in every_stage if s.is_active]
    rows = {stage.pk: StageRow(stage) for stage in stages}
    funnel = [s for s in stages if s.kind in FUNNEL_KINDS]
    for current, following in pairwise(funnel):
        rows[current.pk].next_stage = following

    empty = not can(actor, "sales.view_funnel") or not can(actor, "sales.view_deal")
    visits = StageVisit.objects.none() if empty else StageVisit.objects.all()
    in_period = visits.filter(
        stage_id__in=list(rows), entered_at__gte=period.start, entered_at__lt=period.end
    )

    # Entries, conversion and days per stage: one GROUP BY over the stays begun in the period. Each stay is
    # marked (StageVisit.passed, kept by deal_move) by whether the deal later entered a further stage of the
    # funnel; the closed ones (left_at set) give the days. Filtering on the stage ids instead of joining the
    # stages lets PostgreSQL read the stays from the covering index alone.
    entries = (
        in_period.values("stage")
        .annotate(
            entered=Count("deal", distinct=True),
            passed=Count("deal", distinct=True, filter=Q(passed=True)),
            stays=Count("left_at"),
            total=Sum(ExpressionWrapper(F("left_at") - F("entered_at"), output_field=DurationField())),
        )
        .order_by()
    )
    for entry in entries:
        row = rows.get(entry["stage"])
        if row is None:
            continue
        row.entered = entry["entered"]
        row.passed = entry["passed"] if row.next_stage is not None else 0
        row.closed_stays = entry["stays"]
        total = entry["total"]
        row.total_seconds = total.total_seconds() if isinstance(total, timedelta) else float(total or 0) / 1e6

    # Win rate: deals of the pipeline closed in the period, won or lost, counted by owner and source in one
    # GROUP BY (read from the deal_closed_cover_idx index on PostgreSQL), summed here by owner and by source.
    won_ids = [s.pk for s in every_stage if s.kind == StageKind.WON]
    lost_ids = [s.pk for s in every_stage if s.kind == StageKind.LOST]
    closed = (
        (Deal.objects.none() if empty else _visible_deals(actor))
        .filter(pipeline=pipeline, closed_at__gte=period.start, closed_at__lt=period.end)
        .filter(stage_id__in=won_ids + lost_ids)
    )
    # Grouped by the ids alone (joining the names first made PostgreSQL sort 100,000 wide rows); the few
    # owners' and sources' names are read after.
    by_owner: dict[Any, WinRow] = {}
    by_source: dict[Any, WinRow] = {}
    for item in (
        closed.values("owner", "source")
        .annotate(
            won=Count("stage", filter=Q(stage_id__in=won_ids)),
            lost=Count("stage", filter=Q(stage_id__in=lost_ids)),
        )
        .order_by()
    ):
        for row_ in (
            by_owner.setdefault(item["owner"], WinRow(item["owner"], "")),
            by_source.setdefault(item["source"], WinRow(item["source"], "")),
        ):
            row_.won += item["won"]
            row_.lost += item["lost"]
    if by_owner:
        for user in User.objects.filter(pk__in=list(by_owner)).only(
            "id", "username", "first_name", "last_name", "patronymic"
        ):
            by_owner[user.pk].name = user.full_name
    known_sources = [key for key in by_source if key is not None]
    if known_sources:
        for source_id, name in ContactSource.objects.filter(pk__in=known_sources).values_list("pk", "name"):
            by_source[source_id].name = name
    managers = list(by_owner.values())
    sources = list(by_source.values())
    managers.sort(key=lambda r: (-(r.win_rate or 0), -r.closed, r.name))
    sources.sort(key=lambda r: (r.key is None, -(r.win_rate or 0), -r.closed, r.name))
    totals = WinRow(None, "", sum(r.won for r in managers), sum(r.lost for r in managers))
    return FunnelReport(
        period=period,
        pipeline=pipeline,
        stages=list(rows.values()),
        managers=managers,
        sources=sources,
        totals=totals,
    )
