"""Every read of inquiries (R2, R1, S2). Lists run a constant number of queries whatever their length."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.policy import can
from kurator.accounts.models import User
from kurator.companies.selectors import search_terms
from kurator.core.history import ACTION_CODES, ACTIONS, Change, HistoryEntry, display_value
from kurator.core.text import fold
from kurator.inquiries.models import Channel, Inquiry, InquiryStatus

__all__ = [
    "OPEN_STATUSES",
    "ResponseReport",
    "ResponseRow",
    "first_response_minutes",
    "inquiry_get",
    "inquiry_history",
    "inquiry_list",
    "response_report",
    "visible_inquiries",
    "with_is_late",
]

# The list's default: what still waits for someone.
OPEN_STATUSES = (InquiryStatus.NEW, InquiryStatus.TAKEN)


def visible_inquiries(actor: Any) -> QuerySet[Inquiry]:
    # Openness (R3): the whole department sees every inquiry; who may work one is the policy's object check.
    if can(actor, "inquiries.view_inquiry"):
        return Inquiry.objects.all()
    return Inquiry.objects.none()


def late_condition(now: datetime | None = None) -> Q:
    """R1: late = not taken by ``respond_by`` — still new past it, or taken (or first answered) after it."""
    now = now or timezone.now()
    return Q(respond_by__isnull=False) & (
        Q(taken_at__isnull=True, status=InquiryStatus.NEW, respond_by__lt=now)
        | Q(taken_at__isnull=False, taken_at__gt=F("respond_by"))
    )


def with_is_late(queryset: QuerySet[Inquiry], now: datetime | None = None) -> QuerySet[Inquiry]:
    """Annotate ``is_late`` (bool) on each inquiry."""
    return queryset.annotate(
        is_late=Case(
            When(late_condition(now), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )


def _spellings(token: str) -> list[str]:
    # SQLite cannot fold Cyrillic case in SQL: match the usual spellings of a typed word.
    return list(dict.fromkeys([token, token.lower(), token.capitalize(), token.upper(), token.title()]))


def _search(queryset: QuerySet[Inquiry], search: str) -> QuerySet[Inquiry]:
    for alternatives in search_terms(search):
        match = Q()
        for term in alternatives:
            # The attached company's folded search text covers its names, phones, e-mails and people.
            match |= Q(company__search_text__contains=fold(term))
            if term.isdigit():
                match |= Q(inn__contains=term) | Q(phone__contains=term)
                continue
            for spelling in _spellings(term):
                match |= (
                    Q(company_name__contains=spelling)
                    | Q(contact_name__contains=spelling)
                    | Q(email__contains=spelling)
                )
        queryset = queryset.filter(match)
    return queryset


def inquiry_list(
    *,
    actor: User,
    status: str = "",
    channel: str = "",
    curator: int | None = None,
    late: bool | None = None,
    needs_review: bool | None = None,
    search: str = "",
    source: int | None = None,
    mine: bool = False,
) -> QuerySet[Inquiry]:
    """Inquiries the actor sees, newest first, with ``is_late`` annotated.

    ``status``: "" — the open ones (new and taken); "all" — any; or one status. ``late``/``needs_review``:
    True keeps only those (False or None: no filter). ``source`` includes its sub-sources. ``mine``: the
    actor's own and the unassigned ones. ``search``: company name, INN, person, phone or e-mail, also those
    of the attached company."""
    qs = with_is_late(
        visible_inquiries(actor).select_related(
            "company", "company__curator", "curator", "taken_by", "source", "referred_by"
        )
    )
    if status == "":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if curator:
        qs = qs.filter(curator_id=curator)
    if late:
        qs = qs.filter(late_condition())
    if needs_review:
        qs = qs.filter(needs_review=True)
    if source:
        qs = qs.filter(Q(source_id=source) | Q(source__parent_id=source))
    if mine:
        qs = qs.filter(Q(curator=actor) | Q(curator__isnull=True))
    if search:
        qs = _search(qs, search)
    return qs.order_by("-received_at", "-id")


def inquiry_get(*, actor: User, inquiry_id: Any) -> Inquiry:
    """One inquiry with what its page shows; 404 for an unknown id or an outsider."""
    qs = with_is_late(
        visible_inquiries(actor).select_related(
            "company",
            "company__curator",
            "curator",
            "taken_by",
            "source",
            "source__parent",
            "referred_by",
            "created_by",
        )
    )
    try:
        return qs.get(pk=int(inquiry_id))
    except (Inquiry.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None


def first_response_minutes(inquiry: Inquiry) -> float | None:
    """R1: minutes from arrival to the first response (taken, or rejected while new); None while waiting."""
    if inquiry.taken_at is None:
        return None
    return max((inquiry.taken_at - inquiry.received_at).total_seconds() / 60, 0.0)


# History -------------------------------------------------------------------------------------------------

_HISTORY_SKIP = {
    # The sender's IP is shown only to those who review matches (the detail page's timeline), not here.
    "client_ip",
    "id",
    "created_at",
    "updated_at",
    "match_reasons",
    "match_candidates",
    "history_id",
    "history_date",
    "history_user",
    "history_type",
    "history_change_reason",
}


def inquiry_history(*, inquiry: Inquiry) -> list[HistoryEntry]:
    """Who did what with the inquiry, newest first (creation, routing, taking, rejection, …)."""
    records = list(
        Inquiry.history.filter(id=inquiry.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    fields = [f for f in Inquiry._meta.concrete_fields if f.name not in _HISTORY_SKIP]
    wanted: dict[Any, set[Any]] = {}
    for record in records:
        for model_field in fields:
            if model_field.is_relation and model_field.related_model is not None:
                value = getattr(record, model_field.attname, None)
                if value is not None:
                    wanted.setdefault(model_field.related_model, set()).add(value)
    labels: dict[tuple[Any, Any], str] = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            labels[(related, obj.pk)] = str(obj)

    entries: list[HistoryEntry] = []
    before: Any = None
    for record in records:
        changes: list[Change] = []
        for model_field in fields:
            new = getattr(record, model_field.attname)
            old = getattr(before, model_field.attname) if before is not None else None
            if before is not None and old == new:
                continue
            if before is None and new in (None, "", [], False):
                continue
            changes.append(
                Change(
                    model_field.name,
                    str(model_field.verbose_name),
                    display_value(Inquiry, model_field.name, old, labels),
                    display_value(Inquiry, model_field.name, new, labels),
                )
            )
        before = record
        if record.history_type == "~" and not changes:
            continue
        action = ACTION_CODES[record.history_type]
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                object_type="inquiry",
                object_type_label=str(_("Inquiry")),
                object_label=str(record.instance),
                object_id=record.id,
                action=action,
                action_label=str(ACTIONS[action]),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    entries.reverse()
    return entries


# The response report (R1) ----------------------------------------------------------------------------------


@dataclass
class ResponseRow:
    """One line of the report: a channel, a manager, or the total."""

    key: str
    label: str
    inquiries: int = 0
    taken: int = 0
    late: int = 0
    minutes: list[float] = field(default_factory=list, repr=False)

    @property
    def median_minutes(self) -> float | None:
        return round(statistics.median(self.minutes), 1) if self.minutes else None

    @property
    def average_minutes(self) -> float | None:
        return round(statistics.fmean(self.minutes), 1) if self.minutes else None

    @property
    def late_percent(self) -> int | None:
        return round(100 * self.late / self.inquiries) if self.inquiries else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "inquiries": self.inquiries,
            "taken": self.taken,
            "late": self.late,
            "median_minutes": self.median_minutes,
            "average_minutes": self.average_minutes,
        }


@dataclass
class ResponseReport:
    date_from: datetime
    date_to: datetime
    by_channel: list[ResponseRow]
    by_manager: list[ResponseRow]
    total: ResponseRow


def _as_start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())


def response_report(
    *, actor: User, date_from: date | datetime, date_to: date | datetime, now: datetime | None = None
) -> ResponseReport:
    """R1: per channel and per manager (the inquiry's curator), for inquiries received in the period —
    how many arrived, were taken (first responded), were late, and the median and average first-response
    time in minutes. Datetimes bound the period as [from, to); dates include both days."""
    start = _as_start(date_from)
    end = date_to if isinstance(date_to, datetime) else _as_start(date_to + timedelta(days=1))
    end = _as_start(end)
    rows = (
        with_is_late(visible_inquiries(actor), now)
        .filter(received_at__gte=start, received_at__lt=end)
        .values_list("channel", "curator_id", "received_at", "taken_at", "is_late")  # type: ignore[misc]
    )
    channel_labels = dict(Channel.choices)
    by_channel: dict[str, ResponseRow] = {
        value: ResponseRow(value, str(label)) for value, label in channel_labels.items()
    }
    by_manager: dict[Any, ResponseRow] = {}
    total = ResponseRow("total", str(_("Total")))
    for channel, curator_id, received_at, taken_at, is_late in rows:
        manager = by_manager.setdefault(curator_id, ResponseRow(str(curator_id or ""), ""))
        targets = [by_channel.setdefault(channel, ResponseRow(channel, channel)), manager, total]
        minutes = max((taken_at - received_at).total_seconds() / 60, 0.0) if taken_at else None
        for row in targets:
            row.inquiries += 1
            row.late += bool(is_late)
            if minutes is not None:
                row.taken += 1
                row.minutes.append(minutes)
    names = {u.pk: u.full_name for u in User.objects.filter(pk__in=[k for k in by_manager if k])}
    for key, row in by_manager.items():
        row.label = names.get(key, "") if key else str(_("No curator"))
    managers = sorted(by_manager.values(), key=lambda r: (r.key == "", r.label))
    return ResponseReport(
        date_from=start,
        date_to=end,
        by_channel=[r for r in by_channel.values() if r.inquiries],
        by_manager=managers,
        total=total,
    )
