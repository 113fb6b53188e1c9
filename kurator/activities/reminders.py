"""Automatic reminders (D10, R1, R2): next steps due, birthdays, deals stuck in a stage, inquiries not taken.

Each job is a function ``remind_<what>(*, now=None) -> int`` returning how many notifications it created. The
jobs are idempotent: every notice has a ``dedup_key`` (unique per recipient), so running a job twice — Celery
beat and a retry, two web processes with the in-process scheduler — sends nothing twice, in the app or by
e-mail (the e-mail goes only with a newly stored notification). Each job reads its candidates with a fixed
number of queries; the ones already reminded are left out by the database (``NOT EXISTS`` on the
notification's key) wherever the candidates could pile up (overdue tasks, stuck deals, late inquiries).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import connections, transaction
from django.db.models import CharField, Exists, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from kurator.access.reminders import remind_expiring_grants
from kurator.accounts.models import Role, User
from kurator.activities.models import Notification, Task
from kurator.activities.services import deliver_notification, recipient_language
from kurator.finance.reminders import remind_broken_promises, remind_overdue_obligations

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)

KIND_TASK_DUE = "task_due"
KIND_BIRTHDAY = "birthday"
KIND_DEAL_STUCK = "deal_stuck"
KIND_INQUIRY_LATE = "inquiry_late"


def _url(name: str, *args: Any, fallback: str = "") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page another part of the work has not added yet
        return fallback


def _deal_url(deal: Any) -> str:
    return _url("sales:detail", deal.pk, fallback=_url("sales:company_deals", deal.company_id))


def _send(user: User, *, kind: str, key: str, url: str, text: Callable[[], str]) -> bool:
    """Store one reminder in the recipient's language and e-mail it; False when it was already there."""
    if not user.is_active:
        return False
    with translation.override(recipient_language(user)):
        message = text()
    return (
        deliver_notification(recipient=user, kind=kind, text=message, url=url, dedup_key=key, email=True)
        is not None
    )


# Notifications that carry a key: the condition lets PostgreSQL use the partial unique index on
# (recipient, dedup_key) for the NOT EXISTS checks below.
_keyed = Notification.objects.exclude(dedup_key="")


def _read(queryset: QuerySet[M]) -> list[M]:
    """Evaluate a job's candidate query. On PostgreSQL without JIT: these queries are cheap (index probes per
    candidate) but costed high, and compiling them took 2–3 s of a 0.1 s query on the bench base."""
    if connections[queryset.db].vendor != "postgresql":
        return list(queryset)
    with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        return list(queryset)


def _already_sent(pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (recipient id, key) pairs are already stored, in one query (the recipients are named
    too, so PostgreSQL reads the partial unique index on (recipient, dedup_key))."""
    pairs = set(pairs)
    if not pairs:
        return set()
    found = _keyed.filter(
        recipient_id__in={user_id for user_id, _ in pairs}, dedup_key__in={key for _, key in pairs}
    ).values_list("recipient_id", "dedup_key")
    return set(found) & pairs


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _day(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


# --- next steps and tasks -------------------------------------------------------------------------------


def task_reminder_key(task: Task) -> str:
    return f"next-step:task:{task.pk}:{timezone.localdate(task.due_at).isoformat()}"


# Overdue tasks older than this are not reminded (My day lists them): the first run after an install or a long
# stop does not flood anyone, and the job never re-reads years of forgotten tasks.
OVERDUE_LOOKBACK = timedelta(days=30)


def remind_tasks_due(*, now: datetime | None = None) -> int:
    """Open tasks due today, or overdue (up to OVERDUE_LOOKBACK), to the assignee — once per task and due
    date (D10)."""
    now = now or timezone.now()
    end_of_today = timezone.make_aware(
        datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min)
    )
    tasks = (
        Task.objects.filter(
            done=False,
            due_at__lt=end_of_today,
            due_at__gte=end_of_today - timedelta(days=1) - OVERDUE_LOOKBACK,
            assignee__is_active=True,
        )
        .annotate(
            reminder_key=Concat(
                Value("next-step:task:"),
                Cast("pk", CharField()),
                Value(":"),
                Cast(TruncDate("due_at"), CharField()),
                output_field=CharField(),
            )
        )
        .annotate(
            reminded=Exists(
                _keyed.filter(recipient_id=OuterRef("assignee_id"), dedup_key=OuterRef("reminder_key"))
            )
        )
        .filter(reminded=False)
        .select_related("assignee", "company", "deal")
        .order_by("due_at", "pk")
    )
    created = 0
    for task in _read(tasks):
        if task.deal_id is not None:
            url = _deal_url(task.deal)
        elif task.company_id is not None:
            url = _url("companies:detail", task.company_id)
        else:
            url = _url("activities:my_day")

        def text(task: Task = task) -> str:
            names = {"task": task.title, "due": _when(task.due_at), "company": str(task.company or "")}
            if task.due_at < now:
                line = gettext("Overdue: “%(task)s” was due %(due)s.") % names
            else:
                line = gettext("Due today: “%(task)s”, %(due)s.") % names
            if task.company_id is not None:
                line += " " + gettext("Client: %(company)s.") % names
            return line

        created += _send(task.assignee, kind=KIND_TASK_DUE, key=task_reminder_key(task), url=url, text=text)
    return created


# --- birthdays ------------------------------------------------------------------------------------------


def observed_birthday(born: date, year: int) -> date:
    """The day a birthday is kept in ``year``: 29 February is kept on 28 February in a common year."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


def _birthday_condition(field: str, days: list[date]) -> Q:
    condition = Q()
    for day in days:
        condition |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            condition |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return condition


def _next_occurrence(born: date, days: list[date]) -> date | None:
    for day in days:
        if observed_birthday(born, day.year) == day:
            return day
    return None


def remind_birthdays(*, now: datetime | None = None) -> int:
    """D10: the company's birthday (founding date) and its leaders' birthdays, to the curator: one reminder
    ``KURATOR_BIRTHDAY_REMINDER_DAYS`` days ahead (or as soon as a birthday comes within that window) and one
    on the day. Merged companies and people who left are skipped."""
    from kurator.companies.models import Company, Contact

    now = now or timezone.now()
    today = timezone.localdate(now)
    ahead = max(settings.KURATOR_BIRTHDAY_REMINDER_DAYS, 0)
    days = [today + timedelta(days=n) for n in range(ahead + 1)]

    companies = _read(
        Company.objects.filter(
            _birthday_condition("founded_on", days),
            merged_into__isnull=True,
            curator__is_active=True,
        )
        .select_related("curator")
        .only("id", "short_name", "full_name", "founded_on", "curator")
    )
    leaders = _read(
        Contact.objects.filter(
            _birthday_condition("birthday", days),
            is_leader=True,
            is_active=True,
            company__merged_into__isnull=True,
            company__curator__is_active=True,
        )
        .select_related("company__curator")
        .only(
            "id",
            "full_name",
            "position",
            "birthday",
            "company__id",
            "company__short_name",
            "company__full_name",
            "company__curator",
        )
    )

    # (recipient, key, url, text) for every birthday in the window.
    pending: list[tuple[User, str, str, Callable[[], str]]] = []
    for company in companies:
        assert company.founded_on is not None
        found = _next_occurrence(company.founded_on, days)
        if found is None:
            continue
        day = found
        key = f"birthday:company:{company.pk}:{day.year}" + (":today" if day == today else "")

        def company_text(company: Company = company, day: date = day) -> str:
            assert company.founded_on is not None
            names = {
                "company": str(company),
                "years": day.year - company.founded_on.year,
                "date": _day(day),
                "days": (day - today).days,
            }
            if day == today:
                return gettext("Today is the birthday of your client %(company)s: %(years)s years.") % names
            return (
                ngettext(
                    "In %(days)s day, %(date)s, your client %(company)s turns %(years)s.",
                    "In %(days)s days, %(date)s, your client %(company)s turns %(years)s.",
                    (day - today).days,
                )
                % names
            )

        pending.append((company.curator, key, _url("companies:detail", company.pk), company_text))
    for person in leaders:
        assert person.birthday is not None
        found = _next_occurrence(person.birthday, days)
        if found is None:
            continue
        day = found
        key = f"birthday:contact:{person.pk}:{day.year}" + (":today" if day == today else "")

        def person_text(person: Contact = person, day: date = day) -> str:
            names = {
                "person": person.full_name,
                "position": person.position or gettext("leader"),
                "company": str(person.company),
                "date": _day(day),
                "days": (day - today).days,
            }
            if day == today:
                return gettext("Today is the birthday of %(person)s (%(position)s, %(company)s).") % names
            return (
                ngettext(
                    "In %(days)s day, %(date)s: the birthday of %(person)s (%(position)s, %(company)s).",
                    "In %(days)s days, %(date)s: the birthday of %(person)s (%(position)s, %(company)s).",
                    (day - today).days,
                )
                % names
            )

        pending.append(
            (person.company.curator, key, _url("companies:people", person.company_id), person_text)
        )

    sent = _already_sent((user.pk, key) for user, key, _, _ in pending)
    created = 0
    for user, key, url, text in pending:
        if (user.pk, key) in sent:
            continue
        created += _send(user, kind=KIND_BIRTHDAY, key=key, url=url, text=text)
    return created


# --- deals stuck in a stage -----------------------------------------------------------------------------


def remind_stuck_deals(*, now: datetime | None = None) -> int:
    """R1: an open deal that has stayed in its stage longer than the stage allows (``Stage.max_days``) —
    to the owner and the co-owner, once per stay in the stage."""
    from kurator.sales.models import Deal, Stage, StageKind, StageVisit

    now = now or timezone.now()
    stages = list(
        Stage.objects.filter(kind=StageKind.OPEN, max_days__isnull=False).values_list("pk", "max_days")
    )
    if not stages:
        return 0
    overdue = Q()
    for stage_id, max_days in stages:
        assert max_days is not None
        overdue |= Q(stage_id=stage_id, stage_entered_at__lt=now - timedelta(days=max_days))
    open_visit = StageVisit.objects.filter(deal=OuterRef("pk"), left_at__isnull=True).order_by("-entered_at")
    deals = (
        Deal.objects.filter(overdue)
        .annotate(
            reminder_key=Concat(
                Value("stuck:deal:"),
                Cast("pk", CharField()),
                Value(":visit:"),
                Coalesce(Cast(Subquery(open_visit.values("pk")[:1]), CharField()), Value("none")),
                output_field=CharField(),
            )
        )
        .annotate(
            owner_reminded=Exists(
                _keyed.filter(recipient_id=OuterRef("owner_id"), dedup_key=OuterRef("reminder_key"))
            ),
            co_owner_reminded=Exists(
                _keyed.filter(recipient_id=OuterRef("co_owner_id"), dedup_key=OuterRef("reminder_key"))
            ),
        )
        .filter(Q(owner_reminded=False) | Q(co_owner__isnull=False, co_owner_reminded=False))
        .select_related("company", "stage", "owner", "co_owner")
        .order_by("stage_entered_at", "pk")
    )
    created = 0
    for deal in _read(deals):
        key: str = cast(Any, deal).reminder_key  # annotated by the query

        def text(deal: Deal = deal) -> str:
            days = (now - deal.stage_entered_at).days
            names = {
                "deal": deal.title,
                "company": str(deal.company),
                "stage": deal.stage.name,
                "days": days,
                "max": deal.stage.max_days,
            }
            return (
                ngettext(
                    "Deal “%(deal)s” (%(company)s) has been at the stage “%(stage)s” for %(days)s day; "
                    "the stage allows %(max)s.",
                    "Deal “%(deal)s” (%(company)s) has been at the stage “%(stage)s” for %(days)s days; "
                    "the stage allows %(max)s.",
                    days,
                )
                % names
            )

        recipients = [deal.owner] + ([deal.co_owner] if deal.co_owner is not None else [])
        for user in recipients:
            created += _send(user, kind=KIND_DEAL_STUCK, key=key, url=_deal_url(deal), text=text)
    return created


# --- inquiries not taken in time ------------------------------------------------------------------------


def _heads_of_sales() -> list[User]:
    return list(User.objects.filter(is_active=True, role=Role.HEAD_OF_SALES).order_by("pk"))


def remind_late_inquiries(*, now: datetime | None = None) -> int:
    """R1, R2: a new inquiry still not taken past its ``respond_by`` — to its curator (or its company's),
    and to the heads of sales when it has none; once per inquiry."""
    from kurator.inquiries.models import Inquiry, InquiryStatus
    from kurator.inquiries.services import _inquiry_label, _inquiry_url

    now = now or timezone.now()
    inquiries = (
        Inquiry.objects.filter(status=InquiryStatus.NEW, taken_at__isnull=True, respond_by__lt=now)
        .annotate(
            reminder_key=Concat(Value("inquiry-late:"), Cast("pk", CharField()), output_field=CharField())
        )
        .annotate(reminded=Exists(_keyed.filter(dedup_key=OuterRef("reminder_key"))))
        .filter(reminded=False)
        .select_related("curator", "company__curator")
        .order_by("respond_by", "pk")
    )
    heads: list[User] | None = None
    created = 0
    for inquiry in _read(inquiries):
        curator = inquiry.curator or (inquiry.company.curator if inquiry.company is not None else None)
        if curator is not None and curator.is_active:
            recipients = [curator]
        else:
            heads = _heads_of_sales() if heads is None else heads
            recipients = heads
        assert inquiry.respond_by is not None

        def text(inquiry: Inquiry = inquiry) -> str:
            assert inquiry.respond_by is not None
            return gettext(
                "Inquiry “%(inquiry)s” is not taken in time: it was to be taken by %(deadline)s."
            ) % {
                "inquiry": _inquiry_label(inquiry),
                "deadline": _when(inquiry.respond_by),
            }

        for user in recipients:
            created += _send(
                user,
                kind=KIND_INQUIRY_LATE,
                key=f"inquiry-late:{inquiry.pk}",
                url=_inquiry_url(inquiry),
                text=text,
            )
    return created


# --- all of them ----------------------------------------------------------------------------------------

JOBS: dict[str, Callable[..., int]] = {
    "tasks_due": remind_tasks_due,
    "birthdays": remind_birthdays,
    "stuck_deals": remind_stuck_deals,
    "late_inquiries": remind_late_inquiries,
    "broken_promises": remind_broken_promises,
    "overdue_obligations": remind_overdue_obligations,
    "expiring_grants": remind_expiring_grants,
}


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Run every reminder job; one failing job does not stop the others (its error is raised at the end)."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    failure: Exception | None = None
    for name, job in JOBS.items():
        try:
            results[name] = job(now=now)
        except Exception as exc:
            logger.exception("reminder job %s failed", name)
            failure = failure or exc
    if failure is not None:
        raise failure
    logger.info("reminders sent: %s", results)
    return results
