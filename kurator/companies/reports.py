"""Reports of the head of sales: overlap of managers on one client (R2) and contact sources (S2).

Every figure is computed with a few set-based queries (GROUP BY over the period), whatever the number of
companies; nothing here loops over companies with a query each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from kurator.access.scoping import sellers, visible_companies
from kurator.accounts.models import User
from kurator.companies.models import BankAccount, Company, Contact, ContactSource

DEFAULT_PERIOD_DAYS = 90
# Likely duplicates are listed by the largest groups first; a base with more than this many groups per kind
# of evidence has a data problem the first pages already show.
DUPLICATE_GROUP_LIMIT = 200
# A name, phone or e-mail shared by more companies than this is a common name or a shared switchboard, not
# the trace of one client entered twice.
MAX_GROUP = 10

QUALIFIED_STATUSES = ("qualified", "converted")


# The period ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days from ``date_from`` to ``date_to`` inclusive, in the local time zone."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def default_period(today: date | None = None) -> Period:
    """The last 90 days, today included."""
    today = today or timezone.localdate()
    return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today)


def _in(period: Period, field_name: str) -> Q:
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})


# Sources (S2) ----------------------------------------------------------------------------------------------


@dataclass
class SourceRow:
    source: ContactSource | None
    name: str
    level: int
    inquiries: int = 0
    new_clients: int = 0
    qualified: int = 0
    converted: int = 0

    @property
    def conversion(self) -> float | None:
        """Share of the inquiries received that were qualified or converted, %."""
        if not self.inquiries:
            return None
        return round(100 * self.qualified / self.inquiries, 1)

    def add(self, other: SourceRow) -> None:
        self.inquiries += other.inquiries
        self.new_clients += other.new_clients
        self.qualified += other.qualified
        self.converted += other.converted

    @property
    def empty(self) -> bool:
        return not (self.inquiries or self.new_clients)


@dataclass
class ReferrerRow:
    company: Company
    new_clients: int
    inquiries: int


@dataclass
class SourcesReport:
    period: Period
    rows: list[SourceRow]
    totals: SourceRow
    referrers: list[ReferrerRow]


def sources_report(*, actor: User, period: Period) -> SourcesReport:
    """Per source and sub-source for the period (S2): inquiries received, new clients (companies created with
    the source), inquiries qualified (or further) and converted, and the conversion.

    A top-level source's line includes its sub-sources, which follow it; the totals add up the top-level
    lines and the line of records without a source."""
    from kurator.inquiries.models import Inquiry

    inquiries = {
        row["source_id"]: row
        for row in Inquiry.objects.filter(_in(period, "received_at"))
        .values("source_id")
        .annotate(
            inquiries=Count("id"),
            qualified=Count("id", filter=Q(status__in=QUALIFIED_STATUSES)),
            converted=Count("id", filter=Q(status="converted")),
        )
        .order_by()
    }
    clients = {
        row["source_id"]: row["n"]
        for row in visible_companies(actor)
        .filter(_in(period, "created_at"))
        .values("source_id")
        .annotate(n=Count("id"))
        .order_by()
    }

    def own(source: ContactSource | None, name: str, level: int) -> SourceRow:
        key = source.pk if source is not None else None
        counts = inquiries.get(key, {})
        return SourceRow(
            source=source,
            name=name,
            level=level,
            inquiries=counts.get("inquiries", 0),
            new_clients=clients.get(key, 0),
            qualified=counts.get("qualified", 0),
            converted=counts.get("converted", 0),
        )

    sources = list(ContactSource.objects.order_by("position", "name"))
    children: dict[int, list[ContactSource]] = defaultdict(list)
    for source in sources:
        if source.parent_id is not None:
            children[source.parent_id].append(source)
    rows: list[SourceRow] = []
    totals = SourceRow(source=None, name="", level=0)
    for top in (s for s in sources if s.parent_id is None):
        group = own(top, top.name, 0)
        child_rows = [own(child, child.name, 1) for child in children.get(top.pk, [])]
        for child in child_rows:
            group.add(child)
        # Inactive sources with nothing in the period would only be noise.
        if group.empty and not top.is_active:
            continue
        rows.append(group)
        rows.extend(c for c in child_rows if not (c.empty and not c.source.is_active))  # type: ignore[union-attr]
        totals.add(group)
    unknown = own(None, "", 0)
    if not unknown.empty:
        rows.append(unknown)
        totals.add(unknown)
    return SourcesReport(period=period, rows=rows, totals=totals, referrers=_referrers(actor, period))


def _referrers(actor: User, period: Period) -> list[ReferrerRow]:
    """Which clients recommended whom in the period (S2: recommendations of loyal clients)."""
    from kurator.inquiries.models import Inquiry

    companies = dict(
        visible_companies(actor)
        .filter(_in(period, "created_at"), referred_by__isnull=False)
        .values("referred_by_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("referred_by_id", "n")
    )
    inquiries = dict(
        Inquiry.objects.filter(_in(period, "received_at"), referred_by__isnull=False)
        .values("referred_by_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("referred_by_id", "n")
    )
    ids = set(companies) | set(inquiries)
    referrers = visible_companies(actor, include_merged=True).filter(pk__in=ids).select_related("curator")
    rows = [ReferrerRow(c, companies.get(c.pk, 0), inquiries.get(c.pk, 0)) for c in referrers]
    rows.sort(key=lambda r: (-(r.new_clients + r.inquiries), r.company.sort_name))
    return rows


# Overlap (R2) ----------------------------------------------------------------------------------------------


@dataclass
class Touch:
    """What one manager did with one company in the period."""

    user: User
    inquiries: int = 0
    edits: int = 0
    is_curator: bool = False


@dataclass
class OverlapRow:
    company: Company
    touches: list[Touch]

    @property
    def managers(self) -> int:
        return len(self.touches)

    @property
    def activity(self) -> int:
        return sum(t.inquiries + t.edits for t in self.touches)


@dataclass
class DuplicateReason:
    code: str  # "name", "phone" or "email"
    value: str


@dataclass
class DuplicateGroup:
    companies: list[Company]
    reasons: list[DuplicateReason] = field(default_factory=list)

    @property
    def survivor(self) -> Company:
        """The suggested survivor: the fullest dossier, then the oldest."""
        return min(self.companies, key=lambda c: (-c.completeness, c.created_at, c.pk))

    @property
    def duplicates(self) -> list[Company]:
        survivor = self.survivor
        return [c for c in self.companies if c.pk != survivor.pk]


@dataclass
class OverlapReport:
    period: Period
    overlaps: list[OverlapRow]
    duplicates: list[DuplicateGroup]


def _touch_pairs(period: Period) -> dict[tuple[int, int], list[int]]:
    """(company id, seller id) -> [inquiries, dossier edits] in the period, from a handful of GROUP BYs."""
    from kurator.inquiries.models import Inquiry

    seller_ids = sellers().values("pk")
    pairs: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    inquiry_sources: list[tuple[QuerySet[Any], str]] = [
        # Assigned to a curator in the period …
        (
            Inquiry.objects.filter(_in(period, "received_at"), company__isnull=False, curator__in=seller_ids),
            "curator_id",
        ),
        # … and taken by someone else than that curator.
        (
            Inquiry.objects.filter(
                _in(period, "taken_at"), company__isnull=False, taken_by__in=seller_ids
            ).exclude(taken_by=F("curator")),
            "taken_by_id",
        ),
    ]
    for qs, user_field in inquiry_sources:
        for company_id, user_id, n in (
            qs.values("company_id", user_field)
            .annotate(n=Count("id"))
            .order_by()
            .values_list("company_id", user_field, "n")
        ):
            pairs[(company_id, user_id)][0] += n
    history_sources: list[tuple[QuerySet[Any], str]] = [
        (Company.history.all(), "id"),
        (Contact.history.all(), "company_id"),
        (BankAccount.history.all(), "company_id"),
    ]
    for qs, company_field in history_sources:
        for company_id, user_id, n in (
            qs.filter(_in(period, "history_date"), history_user__in=seller_ids)
            .values(company_field, "history_user_id")
            .annotate(n=Count("history_id"))
            .order_by()
            .values_list(company_field, "history_user_id", "n")
        ):
            pairs[(company_id, user_id)][1] += n
    return pairs


# SQLite takes at most 32,766 parameters in one statement; a busy quarter touches more companies than that.
ID_CHUNK = 10_000


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), ID_CHUNK):
        yield items[start : start + ID_CHUNK]


def _overlaps(actor: User, period: Period) -> list[OverlapRow]:
    pairs = _touch_pairs(period)
    # What was done to a merged duplicate was done to the client it now lives in.
    survivors: dict[int, int] = {}
    for chunk in _chunks({c for c, _u in pairs}):
        survivors.update(
            Company.objects.filter(pk__in=chunk, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
    by_company: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (company_id, user_id), (inquiries, edits) in pairs.items():
        counts = by_company[survivors.get(company_id, company_id)][user_id]
        counts[0] += inquiries
        counts[1] += edits
    # The curator is one of the people on the client even when they did nothing in the period: another
    # manager's work on it is already an overlap. Curators are read as bare ids first, so that only the
    # overlapping companies are loaded whole.
    curators: dict[int, int] = {}
    for chunk in _chunks(by_company):
        curators.update(
            visible_companies(actor).filter(pk__in=chunk).values_list("pk", "curator_id").order_by()
        )
    overlapping = [pk for pk, curator_id in curators.items() if len(set(by_company[pk]) | {curator_id}) > 1]
    companies: dict[int, Company] = {}
    for chunk in _chunks(overlapping):
        companies.update((c.pk, c) for c in Company.objects.filter(pk__in=chunk).select_related("curator"))
    user_ids = {u for touched in by_company.values() for u in touched}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
    rows: list[OverlapRow] = []
    for company_id, touched in by_company.items():
        company = companies.get(company_id)
        if company is None:
            continue
        people = set(touched) | {company.curator_id}
        if len(people) < 2:
            continue
        touches = [
            Touch(
                user=users.get(user_id) or company.curator,
                inquiries=touched.get(user_id, [0, 0])[0],
                edits=touched.get(user_id, [0, 0])[1],
                is_curator=user_id == company.curator_id,
            )
            for user_id in people
        ]
        touches.sort(key=lambda t: (not t.is_curator, -(t.inquiries + t.edits), t.user.full_name))
        rows.append(OverlapRow(company, touches))
    rows.sort(key=lambda r: (-r.managers, -r.activity, r.company.sort_name))
    return rows


def _shared_values(column: str, limit: int) -> list[tuple[str, list[int]]]:
    """Values of a JSON list column (phones or e-mails) found on two to MAX_GROUP companies, counting the
    company's own list and its people's: [(value, [company ids])], the most shared first.

    People are counted without a look at their company: a merge moves them all to the survivor, so no live
    person belongs to a merged company. Pairs are made distinct by hashing before values are grouped, and
    compared bytewise, which is what an exact match needs and cheaper than the locale's collation."""
    company_table = connection.ops.quote_name(Company._meta.db_table)
    contact_table = connection.ops.quote_name(Contact._meta.db_table)
    col = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        elements = "CROSS JOIN LATERAL jsonb_array_elements_text({src}.{col}) AS e(value)"
        value = 'e.value COLLATE "C"'
        ids = "string_agg(d.company_id::text, ',')"
    else:
        elements = "CROSS JOIN json_each({src}.{col}) AS e"
        value = "e.value"
        ids = "group_concat(d.company_id)"
    # Only quoted names of our own tables and columns are formatted in; the numbers are parameters.
    sql = f"""
        SELECT d.value, {ids} FROM (
            SELECT t.value, t.company_id FROM (
                SELECT c.id AS company_id, {value} AS value FROM {company_table} c
                    {elements.format(src="c", col=col)}
                    WHERE c.merged_into_id IS NULL
                UNION ALL
                SELECT p.company_id, {value} FROM {contact_table} p
                    {elements.format(src="p", col=col)}
            ) t
            WHERE t.value <> ''
            GROUP BY t.value, t.company_id
        ) d
        GROUP BY d.value
        HAVING COUNT(*) BETWEEN 2 AND %s
        ORDER BY COUNT(*) DESC, d.value
        LIMIT %s
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling this one-off aggregate costs PostgreSQL's JIT more than the whole query without it
            # (measured at 100,000 companies: 2.4 s with JIT, 0.7 s without).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [MAX_GROUP, limit])
        rows = cursor.fetchall()
    return [(value, sorted(int(i) for i in str(joined).split(","))) for value, joined in rows]


def _duplicates(actor: User) -> list[DuplicateGroup]:
    """Likely duplicates among the active companies: the same normalised name, phone or e-mail."""
    live = visible_companies(actor)
    evidence: list[tuple[str, str, list[int]]] = []
    names = list(
        live.exclude(sort_name="")
        .values("sort_name")
        .annotate(n=Count("id"))
        .filter(n__gt=1, n__lte=MAX_GROUP)
        .order_by("-n", "sort_name")
        .values_list("sort_name", flat=True)[:DUPLICATE_GROUP_LIMIT]
    )
    by_name: dict[str, list[int]] = defaultdict(list)
    for pk, sort_name in live.filter(sort_name__in=names).values_list("pk", "sort_name"):
        by_name[sort_name].append(pk)
    evidence += [("name", name, sorted(ids)) for name, ids in by_name.items()]
    if live.exists():
        evidence += [("phone", v, ids) for v, ids in _shared_values("phones", DUPLICATE_GROUP_LIMIT)]
        evidence += [("email", v, ids) for v, ids in _shared_values("emails", DUPLICATE_GROUP_LIMIT)]

    # The same set of companies found by several kinds of evidence is one group with several reasons.
    groups: dict[tuple[int, ...], list[DuplicateReason]] = {}
    for code, value, found in evidence:
        groups.setdefault(tuple(found), []).append(DuplicateReason(code, value))
    companies = {
        c.pk: c for c in live.filter(pk__in={pk for key in groups for pk in key}).select_related("curator")
    }
    result = []
    for key, reasons in groups.items():
        members = [companies[pk] for pk in key if pk in companies]
        if len(members) > 1:
            result.append(DuplicateGroup(members, reasons))
    result.sort(key=lambda g: (-len(g.reasons), -len(g.companies), g.survivor.sort_name))
    return result


def overlap_report(*, actor: User, period: Period) -> OverlapReport:
    """R2: companies more than one manager worked on in the period (inquiries assigned to or taken by them,
    dossier edits), and likely duplicate companies, each a candidate for a merge."""
    return OverlapReport(period=period, overlaps=_overlaps(actor, period), duplicates=_duplicates(actor))
