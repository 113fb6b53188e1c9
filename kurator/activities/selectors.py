"""Reads of the contact history (D3), tasks, "My day" and notifications; each starts from kurator.access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Model, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from kurator.access.scoping import access_activity_by_id, visible_activities, visible_tasks
from kurator.accounts.models import User
from kurator.activities.models import Activity, Notification, Task
from kurator.companies.models import Company, Contact
from kurator.core.history import (
    ACTION_CODES,
    ACTIONS,
    SKIPPED_FIELDS,
    Change,
    HistoryEntry,
    display_value,
    foreign_key_labels,
)
from kurator.core.pagination import mark_unselective
from kurator.sales.models import Deal


def notification_list(*, actor: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


# Contact history (D3) ------------------------------------------------------------------------------------

TIMELINE_PER_PAGE = 25  # a screenful or two; older entries are a page away
# My day shows at most this many tasks per group (the rest are on the task list); the counts are exact.
MY_DAY_LIMIT = 25  # per group; the rest is one click away in the task list


USER_NAME = ("id", "username", "first_name", "last_name", "patronymic", "role", "is_active")
USER_UNREAD = ("password", "last_login", "email", "phone", "date_joined")
DEAL_UNREAD = ("description", "search_text", "lost_note")


def activity_timeline(
    *,
    actor: User,
    company: Company | int | None = None,
    deal: Deal | int | None = None,
    kind: str | None = None,
    contact: Contact | int | None = None,
    user: User | int | None = None,
) -> QuerySet[Activity]:
    """One timeline of contacts, newest first (D3): a client's, a deal's, or everyone's. Every member reads
    every timeline (R3). ``contact`` keeps entries with that person of the client; ``user`` those where that
    user of ours took part or wrote the entry. A fixed number of queries per page: authors and deals are
    joined, participants prefetched (a list across companies adds ``select_related("company")``);
    ``edited`` tells whether the entry was changed after it was written."""
    qs = visible_activities(actor)
    if company is not None:
        qs = qs.filter(company=_pk(company))
    if deal is not None:
        qs = qs.filter(deal=_pk(deal))
    if company is not None or deal is not None:
        # The timeline index (company or deal, -occurred_at, -id) both filters and orders: keep walking it.
        qs = mark_unselective(qs)
    if kind:
        qs = qs.filter(kind=kind)
    if contact is not None:
        people = Activity.contacts.through.objects.filter(activity_id=OuterRef("pk"), contact_id=_pk(contact))
        qs = qs.filter(Exists(people))
    if user is not None:
        ours = Activity.users.through.objects.filter(activity_id=OuterRef("pk"), user_id=_pk(user))
        qs = qs.filter(Q(author=_pk(user)) | Q(Exists(ours)))
    edits = Activity.history.filter(id=OuterRef("pk"), history_type="~")
    return (
        qs.annotate(edited=Exists(edits))
        .select_related("author", "deal")
        # A timeline entry names people and a deal: reading their whole rows (JSON phones, long texts) was
        # most of the page's time.
        .defer(*(f"deal__{f}" for f in DEAL_UNREAD), *(f"author__{f}" for f in USER_UNREAD))
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.only("id", "company_id", "full_name", "position")),
            Prefetch("users", queryset=User.objects.only(*USER_NAME).order_by("last_name", "id")),
        )
        .order_by("-occurred_at", "-id")
    )


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def activity_get(*, actor: User, activity_id: Any) -> Activity:
    """One entry (404 when unknown), with what its page shows."""
    activity = access_activity_by_id(actor, activity_id)
    return activity


def edited_activity_ids(activities: list[Activity]) -> set[int]:
    """Which of ``activities`` were edited after they were written (one query for the whole page)."""
    ids = [a.pk for a in activities]
    if not ids:
        return set()
    return set(Activity.history.filter(id__in=ids, history_type="~").values_list("id", flat=True).distinct())


def _m2m(record: Any, name: str) -> list[Any]:
    """The participants a historical record kept (prefetched by activity_history)."""
    return list(getattr(record, f"historicalactivity_{name}_set").all())


def activity_history(*, activity: Activity) -> list[HistoryEntry]:
    """Every version of an entry, newest first, each with what changed (old → new), who and when. Built the
    way the dossier's history is (kurator.companies.selectors), for one activity and its participants."""
    records = list(
        Activity.history.filter(id=activity.pk)
        .select_related("history_user")
        .prefetch_related("historicalactivity_contacts_set", "historicalactivity_users_set")
        .order_by("history_date", "history_id")
    )
    wanted: dict[type[Model], set[Any]] = {}
    fk_fields = [f for f in Activity._meta.concrete_fields if f.is_relation and f.name not in SKIPPED_FIELDS]
    for record in records:
        for model_field in fk_fields:
            value = getattr(record, model_field.attname, None)
            if value is not None and model_field.related_model is not None:
                wanted.setdefault(model_field.related_model, set()).add(value)  # type: ignore[arg-type]
        wanted.setdefault(Contact, set()).update(row.contact_id for row in _m2m(record, "contacts"))
        wanted.setdefault(User, set()).update(row.user_id for row in _m2m(record, "users"))
    labels = foreign_key_labels(wanted, {})

    def names(model: type[Model], ids: list[Any]) -> str:
        return ", ".join(sorted(labels.get((model, pk), f"#{pk}") for pk in ids))

    entries: list[HistoryEntry] = []
    before: Any = None
    plain = [f for f in Activity._meta.concrete_fields if f.name not in SKIPPED_FIELDS | {"version"}]
    for record in records:
        changes: list[Change] = []
        for model_field in plain:
            new = getattr(record, model_field.attname, None)
            old = getattr(before, model_field.attname, None) if before is not None else None
            if (before is not None and old == new) or (before is None and new in (None, "")):
                continue
            changes.append(
                Change(
                    model_field.name,
                    str(model_field.verbose_name),
                    display_value(Activity, model_field.name, old, labels),
                    display_value(Activity, model_field.name, new, labels),
                )
            )
        for name, model, column in (("contacts", Contact, "contact_id"), ("users", User, "user_id")):
            new_ids = sorted(getattr(row, column) for row in _m2m(record, name))
            old_ids = sorted(getattr(row, column) for row in _m2m(before, name)) if before else []
            if new_ids != old_ids:
                changes.append(
                    Change(
                        name,
                        str(getattr(Activity._meta.get_field(name), "verbose_name", name)),
                        names(model, old_ids),
                        names(model, new_ids),
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
                object_type="activity",
                object_type_label=str(Activity._meta.verbose_name),
                object_label=str(record.subject or record.get_kind_display()),
                object_id=record.id,
                action=action,
                action_label=str(ACTIONS[action]),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    entries.reverse()
    return entries


# Tasks ---------------------------------------------------------------------------------------------------


def task_list(
    *,
    actor: User,
    company: Company | int | None = None,
    deal: Deal | int | None = None,
    assignee: User | int | None = None,
    done: bool | None = False,
) -> QuerySet[Task]:
    """Tasks the department sees (R3), open ones by default, soonest first, with their links joined."""
    qs = visible_tasks(actor)
    if company is not None:
        qs = qs.filter(company=_pk(company))
    if deal is not None:
        qs = qs.filter(deal=_pk(deal))
    if assignee is not None:
        qs = qs.filter(assignee=_pk(assignee))
    if done is not None:
        qs = qs.filter(done=done)
    return qs.select_related("assignee", "company", "deal").order_by("done", "due_at", "id")


# What a task row shows and checks (kurator/activities/templates/activities/_task_row.html).
TASK_ROW_FIELDS = ("id", "title", "due_at", "done", "assignee_id", "created_by_id", "company_id", "deal_id")


@dataclass
class MyDay:
    """The actor's open tasks: overdue, due later today, due in the next seven days, and how many of each."""

    overdue: list[Task]
    today: list[Task]
    week: list[Task]
    counts: dict[str, int]


def my_day(*, actor: User, now: datetime | None = None) -> MyDay:
    """Four queries whatever the number of tasks: the counts, and the first tasks of each group."""
    now = now or timezone.now()
    today_end = timezone.make_aware(
        datetime.combine(timezone.localdate(now) + timedelta(days=1), datetime.min.time())
    )
    week_end = today_end + timedelta(days=7)
    mine = visible_tasks(actor).filter(assignee=actor, done=False)
    counts = mine.aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        today=Count("pk", filter=Q(due_at__gte=now, due_at__lt=today_end)),
        week=Count("pk", filter=Q(due_at__gte=today_end, due_at__lt=week_end)),
    )
    # One query per group, each capped: a long overdue list never hides today's tasks.
    rows = (
        mine.select_related("company", "deal")
        .only(*TASK_ROW_FIELDS, "company__short_name", "deal__title")
        .order_by("due_at", "id")
    )
    overdue = list(rows.filter(due_at__lt=now)[:MY_DAY_LIMIT])
    today = list(rows.filter(due_at__gte=now, due_at__lt=today_end)[:MY_DAY_LIMIT])
    week = list(rows.filter(due_at__gte=today_end, due_at__lt=week_end)[:MY_DAY_LIMIT])
    return MyDay(overdue=overdue, today=today, week=week, counts={k: int(v or 0) for k, v in counts.items()})
