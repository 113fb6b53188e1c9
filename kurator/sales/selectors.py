"""Every read of deals and pipelines (S3, R3: every member of the department reads every deal).

Each starts from :func:`kurator.access.scoping.visible_deals`; each says its own ``select_related`` and runs a
constant number of queries whatever the number of deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from kurator.access.scoping import visible_deals
from kurator.accounts.models import User
from kurator.core.text import fold
from kurator.sales.models import ChecklistItem, ChecklistMark, Deal, Pipeline, Stage, StageVisit

__all__ = [
    "SORTS",
    "BoardColumn",
    "StageStay",
    "deal_board",
    "deal_get",
    "deal_list",
    "deal_stage_history",
    "default_pipeline",
    "pipelines_with_stages",
]

# The columns a board card reads (kurator/sales/templatetags/sales_ui.py deal_card, the move permission).
CARD_FIELDS = (
    "id",
    "title",
    "version",
    "pipeline_id",
    "stage_id",
    "stage_entered_at",
    "amount",
    "owner_id",
    "co_owner_id",
    "company_id",
    "company__id",
    "company__short_name",
    "owner__id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "owner__patronymic",
)

# Won and lost columns of the board show only the deals closed this recently.
RECENT_CLOSED_DAYS = 30

SORTS: dict[str, tuple[str, ...]] = {
    "created": ("-created_at", "-id"),
    "-created": ("created_at", "id"),
    "amount": ("-amount", "-id"),
    "-amount": ("amount", "id"),
    "expected_close": ("expected_close", "id"),
    "-expected_close": ("-expected_close", "-id"),
    "stage_entered": ("-stage_entered_at", "-id"),
    "-stage_entered": ("stage_entered_at", "id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
}
STATUSES = ("open", "won", "lost")


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Deal] = field(default_factory=list)
    count: int = 0
    total: Decimal = Decimal("0")

    @property
    def more(self) -> int:
        """How many deals of the column are not shown as cards."""
        return max(0, self.count - len(self.cards))


@dataclass
class StageStay:
    stage: Stage
    entered_at: datetime
    left_at: datetime | None
    days: float
    entered_by: User | None
    override_reason: str
    unmet: list[dict[str, str]]


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first()


def _ordered_stages() -> Prefetch:
    return Prefetch(
        "stages",
        queryset=Stage.objects.order_by("order", "id").prefetch_related(
            Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order", "id"))
        ),
    )


def pipelines_with_stages(*, actor: User, include_inactive: bool = False) -> list[Pipeline]:
    """Pipelines with their stages in order (each with its checklist): three queries."""
    qs = Pipeline.objects.order_by("position", "id")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs.select_related("sales_technology").prefetch_related(_ordered_stages()))


def _board_scope(actor: User, pipeline: Pipeline, owner: Any) -> QuerySet[Deal]:
    qs = visible_deals(actor).filter(pipeline=pipeline)
    if owner is not None:
        qs = qs.filter(owner_id=getattr(owner, "pk", owner))
    return qs


def _capped_ids_sql(
    stages: list[Stage], pipeline: Pipeline, owner_id: int | None, since: datetime, per_stage: int
) -> tuple[str, list[Any]]:
    """``SELECT id`` of at most ``per_stage`` newest deals of each stage: a UNION ALL of one LIMIT query per
    stage, each walking the deal_board_idx index (pipeline, stage, -stage_entered_at) and stopping early, so
    the board costs the same at 300,000 deals as at 300. Written for both engines (SQLite needs the limited
    members wrapped in a sub-select; PostgreSQL 15 needs them named)."""
    table = connection.ops.quote_name(Deal._meta.db_table)
    parts: list[str] = []
    params: list[Any] = []
    for number, stage in enumerate(stages):
        where = "pipeline_id = %s AND stage_id = %s"
        member_params: list[Any] = [pipeline.pk, stage.pk]
        if owner_id is not None:
            where += " AND owner_id = %s"
            member_params.append(owner_id)
        if stage.is_closed:
            where += " AND stage_entered_at >= %s"
            member_params.append(since)
        member = (
            f"SELECT id FROM (SELECT id FROM {table} WHERE {where} "  # noqa: S608 - names and parameters only
            f"ORDER BY stage_entered_at DESC, id DESC LIMIT %s) AS board_{number}"
        )
        parts.append(member)
        # Closed deals are the record, not the work: their columns show the latest few.
        params.extend([*member_params, max(1, per_stage // 2) if stage.is_closed else per_stage])
    return " UNION ALL ".join(parts), params


def deal_board(
    *, actor: User, pipeline: Pipeline, owner: Any = None, per_stage: int = 20
) -> list[BoardColumn]:
    """The board of a pipeline: a column per active stage with its newest cards (at most ``per_stage``, half
    as many in the won and lost columns), the
    number of deals and their total amount. Won and lost columns hold the deals closed in the last 30 days.

    Three queries whatever the number of deals: the stages, the counts and sums (GROUP BY stage), the cards
    (with company and owner; only the columns a card shows, CARD_FIELDS — others load on access)."""
    stages = list(Stage.objects.filter(pipeline=pipeline, is_active=True).order_by("order", "id"))
    columns = {stage.pk: BoardColumn(stage=stage) for stage in stages}
    if not stages:
        return []
    since = timezone.now() - timedelta(days=RECENT_CLOSED_DAYS)
    scope = _board_scope(actor, pipeline, owner)
    open_ids = [s.pk for s in stages if not s.is_closed]
    closed_ids = [s.pk for s in stages if s.is_closed]

    # Two aggregates, UNION ALL'ed into one query: the open stages whole, the closed ones since ``since`` (a
    # closed deal's stage_entered_at is when it closed). Each is a range of the covering board index
    # (pipeline, stage, -stage_entered_at) INCLUDE (amount, owner), read without visiting the table on
    # PostgreSQL; one OR over both would read every matching row of the table instead.
    def totals(rows: QuerySet[Deal]) -> QuerySet[Any]:
        return rows.order_by().values("stage_id").annotate(count=Count("*"), total=Sum("amount"))

    parts = []
    if open_ids:
        parts.append(totals(scope.filter(stage_id__in=open_ids)))
    if closed_ids:
        parts.append(totals(scope.filter(stage_id__in=closed_ids, stage_entered_at__gte=since)))
    for row in parts[0].union(*parts[1:], all=True) if parts else []:
        column = columns[row["stage_id"]]
        column.count = row["count"]
        column.total = row["total"] or Decimal("0")
    if any(c.count for c in columns.values()) and per_stage > 0:
        owner_id = getattr(owner, "pk", owner)
        sql, params = _capped_ids_sql(stages, pipeline, owner_id, since, per_stage)
        cards = (
            scope.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - only quoted names and parameters
            .select_related("company", "owner")
            # What a card shows (a client row is wide: its search text, phones, addresses…).
            .only(*CARD_FIELDS)
            .order_by("-stage_entered_at", "-id")
        )
        for deal in cards:
            columns[deal.stage_id].cards.append(deal)
    return list(columns.values())


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def deal_list(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[Deal]:
    """Deals for the list page and the API, filtered and sorted; one query for a page of rows (company,
    owner, co-owner, stage and pipeline joined).

    Filters: ``pipeline``, ``stage``, ``owner``, ``company`` (ids or records), ``q`` (title, client's
    short name or INN, as written when the deal was created or retitled), ``status`` (open, won, lost;
    the stages' ids are read first, one more query), ``expected_close_from`` / ``expected_close_to``,
    ``sort`` (a key of SORTS)."""
    filters = filters or {}
    qs = visible_deals(actor).select_related("company", "owner", "co_owner", "stage", "pipeline")
    for name, column in (
        ("pipeline", "pipeline_id"),
        ("stage", "stage_id"),
        ("owner", "owner_id"),
        ("company", "company_id"),
    ):
        value = filters.get(name)
        if value not in (None, ""):
            pk = _id(value)
            qs = qs.filter(**{column: pk}) if pk is not None else qs.none()
    status = filters.get("status") or ""
    if status in STATUSES:
        # The stages' ids first (a query of a few rows): a join on the stage's kind would make PostgreSQL
        # read every deal to count them; an IN list uses the stage index.
        qs = qs.filter(stage_id__in=list(Stage.objects.filter(kind=status).values_list("pk", flat=True)))
    query = " ".join(str(filters.get("q") or "").split())
    if query:
        # search_text is folded by the services (kurator.core.text.fold), so a plain LIKE finds «Чужая» by
        # «чуж» on SQLite too; on PostgreSQL a trigram GIN index serves it.
        qs = qs.filter(search_text__contains=fold(query))
    close_from = _parse_date(filters.get("expected_close_from"))
    if close_from:
        qs = qs.filter(expected_close__gte=close_from)
    close_to = _parse_date(filters.get("expected_close_to"))
    if close_to:
        qs = qs.filter(expected_close__lte=close_to)
    return qs.order_by(*SORTS.get(str(filters.get("sort") or ""), SORTS["created"]))


def deal_get(*, actor: User, deal_id: Any) -> Deal:
    """One deal with what its page shows (404 when not visible): one query, plus the people and ticks."""
    try:
        return (
            visible_deals(actor)
            .select_related(
                "company__curator",
                "owner",
                "co_owner",
                "stage",
                "pipeline",
                "lost_reason",
                "source",
                "inquiry",
                "created_by",
            )
            .prefetch_related(
                "contacts",
                Prefetch("checklist_marks", queryset=ChecklistMark.objects.select_related("done_by")),
            )
            .get(pk=int(deal_id))
        )
    except (Deal.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def deal_stage_history(*, deal: Deal, now: datetime | None = None) -> list[StageStay]:
    """The deal's stays in stages, oldest first, with the days spent in each (the current one up to now)."""
    now = now or timezone.now()
    stays = []
    for visit in (
        StageVisit.objects.filter(deal=deal)
        .select_related("stage", "entered_by")
        .order_by("entered_at", "id")
    ):
        end = visit.left_at or now
        stays.append(
            StageStay(
                stage=visit.stage,
                entered_at=visit.entered_at,
                left_at=visit.left_at,
                days=round((end - visit.entered_at).total_seconds() / 86400, 1),
                entered_by=visit.entered_by,
                override_reason=visit.override_reason,
                unmet=list(visit.unmet or []),
            )
        )
    return stays
