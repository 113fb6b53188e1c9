"""Writes of the contact history (D3), tasks and notifications.

Services validate the whole input first and raise one ValidationError naming every bad field, so nothing is
half-written; they run in a transaction and check the policy. Notifications are scheduled after commit, so a
rolled-back action notifies nobody.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from kurator.access.decorators import ensure
from kurator.access.policy import may_curate
from kurator.accounts.models import User
from kurator.activities.models import Activity, ActivityKind, Notification, Task
from kurator.companies.models import Company, Contact
from kurator.core.cleaning import clean_date, reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.sales.models import Deal

logger = logging.getLogger(__name__)


# While a bulk operation runs (a leaver's work handed over), notify() records who would have been told what
# instead of telling them, so that the operation sends one summary per person rather than hundreds of notices.
_batched: ContextVar[list[tuple[User, str]] | None] = ContextVar("kurator_batched_notices", default=None)


@contextlib.contextmanager
def notifications_batched() -> Iterator[list[tuple[User, str]]]:
    """Within the block, ``notify`` sends nothing and appends ``(recipient, kind)`` to the yielded list."""
    collected: list[tuple[User, str]] = []
    token = _batched.set(collected)
    try:
        yield collected
    finally:
        _batched.reset(token)


def notify(
    *, recipient: User, kind: str, text: Any, url: str = "", dedup_key: str = "", email: bool = False
) -> None:
    """Queue an in-app notification; with ``dedup_key`` the same notice is never stored twice.

    ``email=True`` also sends it to the recipient's e-mail address (when set), once: only when the row is
    newly stored, and only after the commit. Inside ``notifications_batched`` it is only recorded."""
    batch = _batched.get()
    if batch is not None:
        batch.append((recipient, kind))
        return
    transaction.on_commit(
        lambda: deliver_notification(
            recipient=recipient, kind=kind, text=text, url=url, dedup_key=dedup_key, email=email
        )
    )


def deliver_notification(
    *, recipient: User, kind: str, text: Any, url: str = "", dedup_key: str = "", email: bool = False
) -> Notification | None:
    """Store the notification now (the reminder jobs call this outside any transaction); ``None`` when one
    with the same ``dedup_key`` is already there. The e-mail, if asked for, goes after the commit."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, text=str(text), url=url, dedup_key=dedup_key
            )
    except IntegrityError:
        if not dedup_key:
            raise
        return None
    if email and recipient.email:
        transaction.on_commit(lambda: send_notification_email(notification))
    return notification


def absolute_url(path: str) -> str:
    """A link for outside the browser session (e-mails, calendar entries): KURATOR_BASE_URL + path."""
    if not path or "://" in path:
        return path
    return settings.KURATOR_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def recipient_language(user: User) -> str:
    """The language to write to the user in: theirs if the user model ever gets one, else the default."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def send_notification_email(notification: Notification) -> bool:
    """E-mail one notification to its recipient; a mail server failure is logged, never raised."""
    recipient = notification.recipient
    if not recipient.email:
        return False
    with translation.override(recipient_language(recipient)):
        first_line = notification.text.splitlines()[0] if notification.text else ""
        if len(first_line) > 120:
            first_line = first_line[:119] + "…"
        subject = gettext("Kurator: %(text)s") % {"text": first_line}
        body = notification.text
        if notification.url:
            body += "\n\n" + gettext("Open: %(url)s") % {"url": absolute_url(notification.url)}
        body += "\n\n" + gettext("— Kurator. You receive this because you work with these clients.")
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email], fail_silently=False)
    except Exception:  # an SMTP outage must not stop the jobs; the in-app notice is there
        logger.exception("could not e-mail notification %s to user %s", notification.pk, recipient.pk)
        return False
    return True


def notification_mark_read(*, actor: User, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread ones when no ids are given)."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


# Contact history (D3) ------------------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "kind",
    "occurred_at",
    "deal",
    "contacts",
    "users",
    "subject",
    "result",
    "next_step",
    "next_step_on",
)
TASK_FIELDS = ("title", "notes", "assignee", "due_at", "company", "deal")
MAX_RESULT = 10_000
MAX_NOTES = 5_000
# A contact is logged once it happened; a planned one is a task. A little slack covers a call logged as it
# ends and clocks that differ a few minutes.
FUTURE_TOLERANCE = timedelta(minutes=15)
# A next step with a date becomes a task due that day at this local time.
NEXT_STEP_TIME = time(10, 0)
END_OF_DAY = time(23, 59)


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def _clean_text(
    errors: FieldErrors, field: str, value: Any, max_length: int, *, required: bool = False
) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.add(field, _("This field is required."), "required")
    if len(text) > max_length:
        errors.add(
            field,
            _("Keep it to %(limit)d characters (now %(length)d).")
            % {"limit": max_length, "length": len(text)},
            "max_length",
        )
    return text


# Contacts and tasks are dated within these years; anything else is a typo.
YEAR_MIN, YEAR_MAX = 1900, 2100


def _clean_datetime(errors: FieldErrors, field: str, value: Any) -> datetime | None:
    if value in (None, ""):
        errors.add(field, _("This field is required."), "required")
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            errors.add(field, _("Enter a valid date and time."), "invalid_datetime")
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors.add(field, _("Enter a valid date and time."), "invalid_datetime")
        return None
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        # A typo (year 2 for 2026): refused, and a time before 1900 would come back with the local mean
        # time's seconds offset (+02:30:17 in Moscow), which is no RFC 3339 date-time for API clients.
        errors.add(
            field,
            _("The year must be between %(min)s and %(max)s.") % {"min": YEAR_MIN, "max": YEAR_MAX},
            "invalid_datetime",
        )
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _clean_deal(errors: FieldErrors, value: Any, company: Company | None) -> Deal | None:
    if value in (None, ""):
        return None
    try:
        deal = value if isinstance(value, Deal) else Deal.objects.select_related("company").get(pk=int(value))
    except (Deal.DoesNotExist, TypeError, ValueError, OverflowError):
        errors.add("deal", _("The deal was not found."), "not_found")
        return None
    if company is not None and deal.company_id != company.pk:
        errors.add("deal", _("The deal belongs to another company."), "other_company")
        return None
    return deal


def _ids(errors: FieldErrors, field: str, values: Any) -> list[int]:
    result: list[int] = []
    for value in values or ():
        try:
            pk = int(_pk(value))
        except (TypeError, ValueError):
            errors.add(field, _("“%(value)s” is not a valid id.") % {"value": value}, "invalid")
            continue
        if pk not in result:
            result.append(pk)
    return result


def _clean_contacts(errors: FieldErrors, values: Any, company: Company) -> list[Contact]:
    ids = _ids(errors, "contacts", values)
    found = {c.pk: c for c in Contact.objects.filter(pk__in=ids)} if ids else {}
    result: list[Contact] = []
    for pk in ids:
        contact = found.get(pk)
        if contact is None:
            errors.add("contacts", _("Person #%(id)s was not found.") % {"id": pk}, "not_found")
        elif contact.company_id != company.pk:
            errors.add(
                "contacts",
                _("%(name)s is not one of this client's people.") % {"name": contact.full_name},
                "other_company",
            )
        else:
            result.append(contact)
    return result


def _clean_users(errors: FieldErrors, values: Any) -> list[User]:
    ids = _ids(errors, "users", values)
    found = {u.pk: u for u in User.objects.filter(pk__in=ids)} if ids else {}
    result: list[User] = []
    for pk in ids:
        user = found.get(pk)
        if user is None:
            errors.add("users", _("User #%(id)s was not found.") % {"id": pk}, "not_found")
        elif not user.is_active:
            errors.add(
                "users", _("%(name)s is no longer an active user.") % {"name": user.full_name}, "inactive"
            )
        else:
            result.append(user)
    return result


def _clean_activity(
    errors: FieldErrors, data: dict[str, Any], *, company: Company, current: Activity | None
) -> dict[str, Any]:
    """Validate the fields present in ``data`` (all of them on create); returns the cleaned values."""
    cleaned: dict[str, Any] = {}
    now = timezone.now()
    if "kind" in data:
        kind = str(data["kind"] or "")
        if kind not in ActivityKind.values:
            errors.add(
                "kind",
                _("Choose one of: %(kinds)s.")
                % {"kinds": ", ".join(str(label) for label in ActivityKind.labels)},
                "invalid_choice",
            )
        cleaned["kind"] = kind
    if "occurred_at" in data:
        when = _clean_datetime(errors, "occurred_at", data["occurred_at"])
        if when is not None and when > now + FUTURE_TOLERANCE:
            errors.add(
                "occurred_at",
                _("A contact is logged once it has happened; plan a future one as a task."),
                "future",
            )
        cleaned["occurred_at"] = when
    if "deal" in data:
        cleaned["deal"] = _clean_deal(errors, data["deal"], company)
    if "contacts" in data:
        cleaned["contacts"] = _clean_contacts(errors, data["contacts"], company)
    if "users" in data:
        cleaned["users"] = _clean_users(errors, data["users"])
    if "subject" in data:
        cleaned["subject"] = _clean_text(errors, "subject", data["subject"], 300)
    if "result" in data:
        cleaned["result"] = _clean_text(errors, "result", data["result"], MAX_RESULT)
    if "next_step" in data:
        cleaned["next_step"] = _clean_text(errors, "next_step", data["next_step"], 500)
    if "next_step_on" in data:
        cleaned["next_step_on"] = clean_date(errors, "next_step_on", data["next_step_on"])
    next_step = cleaned.get("next_step", current.next_step if current else "")
    next_step_on = cleaned.get("next_step_on", current.next_step_on if current else None)
    if next_step_on is not None and not next_step and "next_step" not in errors.errors:
        errors.add("next_step", _("Say what the next step is, or clear its date."), "next_step_required")
    changed_step = current is None or next_step != current.next_step
    if next_step and next_step_on is None and changed_step and "next_step_on" not in errors.errors:
        errors.add(
            "next_step_on",
            _("Give the date of the next step: on that day it becomes a task."),
            "next_step_date_required",
        )
    changed_date = current is None or next_step_on != current.next_step_on
    if next_step_on is not None and changed_date and next_step_on < timezone.localdate(now):
        errors.add("next_step_on", _("The next step cannot be in the past."), "past_date")
    return cleaned


def _set_m2m_quietly(instance: Any, field: str, values: list[Any]) -> None:
    """Set a many-to-many without simple-history's record per m2m signal: one edit is one history entry,
    written by the save that carries the new set."""
    instance.skip_history_when_saving = True
    try:
        getattr(instance, field).set(values)
    finally:
        del instance.skip_history_when_saving


def _attach_m2m_to_last_record(instance: Activity, fields: tuple[str, ...]) -> None:
    """Give the creation record the many-to-manys set just after the insert (an m2m needs the row first)."""
    record: Any = Activity.history.filter(id=instance.pk).order_by("-history_date", "-history_id").first()
    history_model: Any = Activity.history.model
    for name in fields:
        m2m_model = getattr(history_model, name).model
        through = getattr(Activity, name).through
        columns = [f.attname for f in through._meta.fields]
        m2m_model.objects.bulk_create(
            m2m_model(history=record, **{c: getattr(row, c) for c in columns})
            for row in through.objects.filter(activity=instance)
        )


def next_step_due(day: date, now: datetime | None = None) -> datetime:
    """When the task made from a next step dated ``day`` is due: that day at 10:00 local time; a next step
    for later today logged after 10:00 is due at the end of the day, not overdue the moment it is logged."""
    due = timezone.make_aware(datetime.combine(day, NEXT_STEP_TIME))
    now = now or timezone.now()
    if due <= now and timezone.localdate(now) == day:
        due = timezone.make_aware(datetime.combine(day, END_OF_DAY))
    return due


def _sync_next_step_task(activity: Activity, actor: User) -> None:
    """The activity's next step with a date is an open task of its author; editing the step edits the task,
    clearing it withdraws the open task. A task already done stays as it was (its history is the record)."""
    task = Task.objects.select_for_update().filter(activity=activity).first()
    wanted = bool(activity.next_step and activity.next_step_on)
    if task is not None and task.done:
        if not wanted:
            return
        assert activity.next_step_on is not None
        if task.title == activity.next_step[:300] and task.due_at == next_step_due(activity.next_step_on):
            return
        # A new next step after the old one was done: the done task keeps its record, a new one is opened.
        task.activity = None
        task._history_user = actor  # type: ignore[attr-defined]
        task.save(update_fields=["activity", "updated_at"])
        task = None
    if not wanted:
        if task is not None:
            task._history_user = actor  # type: ignore[attr-defined]
            task.delete()
        return
    assert activity.next_step_on is not None
    values = {
        "title": activity.next_step[:300],
        "due_at": next_step_due(activity.next_step_on),
        "company_id": activity.company_id,
        "deal_id": activity.deal_id,
    }
    if task is None:
        task = Task(activity=activity, assignee_id=activity.author_id, created_by=actor, **values)
    elif all(getattr(task, k) == v for k, v in values.items()):
        return
    else:
        for key, value in values.items():
            setattr(task, key, value)
    task._history_user = actor  # type: ignore[attr-defined]
    task.save()


@transaction.atomic
def activity_create(
    *,
    actor: User,
    company: Company,
    kind: str,
    occurred_at: datetime | str | None,
    deal: Deal | int | None = None,
    contacts: Iterable[Contact | int] = (),
    users: Iterable[User | int] = (),
    subject: str = "",
    result: str = "",
    next_step: str = "",
    next_step_on: date | str | None = None,
) -> Activity:
    """Log a contact with the client (D3) on its timeline, and on the deal's when ``deal`` is given. A next
    step with a date becomes a task of the author, due that day at 10:00."""
    errors = FieldErrors()
    data = {
        "kind": kind,
        "occurred_at": occurred_at,
        "deal": deal,
        "contacts": contacts,
        "users": users,
        "subject": subject,
        "result": result,
        "next_step": next_step,
        "next_step_on": next_step_on,
    }
    cleaned = _clean_activity(errors, data, company=company, current=None)
    ensure(actor, "activities.add_activity", cleaned.get("deal") or company)
    errors.raise_if_any()
    people, ours = cleaned.pop("contacts"), cleaned.pop("users")
    activity = Activity(company=company, author=actor, **cleaned)
    activity._history_user = actor  # type: ignore[attr-defined]
    activity.save()
    if people or ours:
        _set_m2m_quietly(activity, "contacts", people)
        _set_m2m_quietly(activity, "users", ours)
        _attach_m2m_to_last_record(activity, ("contacts", "users"))
    _sync_next_step_task(activity, actor)
    return activity


@transaction.atomic
def activity_update(
    *, actor: User, activity: Activity, expected_version: int | None = None, **fields: Any
) -> Activity:
    """Edit an entry (its author or the head of sales); the old values stay in its history. A stale
    ``expected_version`` is an edit conflict (409)."""
    reject_unknown(fields, ACTIVITY_FIELDS)
    ensure(actor, "activities.change_activity", activity)
    activity = Activity.objects.select_for_update(of=("self",)).select_related("company").get(pk=activity.pk)
    ensure(actor, "activities.change_activity", activity)
    if expected_version is not None and activity.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned = _clean_activity(errors, fields, company=activity.company, current=activity)
    errors.raise_if_any()

    m2m: dict[str, list[Any]] = {}
    for name in ("contacts", "users"):
        if name in cleaned:
            values = cleaned.pop(name)
            if {v.pk for v in values} != set(getattr(activity, name).values_list("pk", flat=True)):
                m2m[name] = values
    changed = [f for f, v in cleaned.items() if getattr(activity, f) != v]
    if not changed and not m2m:
        return activity
    for name in changed:
        setattr(activity, name, cleaned[name])
    for name, values in m2m.items():
        # Set before the save, whose history record then holds the new participants with the other changes.
        _set_m2m_quietly(activity, name, values)
    activity.version = F("version") + 1
    activity._history_user = actor  # type: ignore[attr-defined]
    activity.save()
    activity.refresh_from_db()
    _sync_next_step_task(activity, actor)
    return activity


# Tasks ---------------------------------------------------------------------------------------------------


def _clean_task(errors: FieldErrors, data: dict[str, Any], *, current: Task | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "title" in data:
        cleaned["title"] = _clean_text(errors, "title", data["title"], 300, required=True)
    if "notes" in data:
        cleaned["notes"] = _clean_text(errors, "notes", data["notes"], MAX_NOTES)
    if "due_at" in data:
        cleaned["due_at"] = _clean_datetime(errors, "due_at", data["due_at"])
    if "assignee" in data:
        assignee = data["assignee"]
        if assignee is not None and not isinstance(assignee, User):
            try:
                assignee = User.objects.filter(pk=int(assignee)).first()
            except (TypeError, ValueError, OverflowError):
                assignee = None
        if assignee is None:
            errors.add("assignee", _("Choose who does it."), "required")
        elif not may_curate(assignee):
            errors.add(
                "assignee",
                _("Tasks go to active sales people or administrators; %(name)s cannot take one.")
                % {"name": assignee.full_name},
                "not_assignable",
            )
        cleaned["assignee"] = assignee
    if "company" in data:
        company = None
        value = data["company"]
        if isinstance(value, Company):
            company = value
        elif value not in (None, ""):
            try:
                company = Company.objects.filter(pk=int(value)).first()
            except (TypeError, ValueError, OverflowError):
                company = None
            if company is None:
                errors.add("company", _("The company was not found."), "not_found")
        cleaned["company"] = company
    if "deal" in data:
        cleaned["deal"] = _clean_deal(errors, data["deal"], None)
    company = cleaned.get("company", current.company if current else None)
    deal = cleaned.get("deal", current.deal if current else None)
    if deal is not None and "company" not in errors.errors:
        if company is None:
            cleaned["company"] = deal.company
        elif deal.company_id != company.pk:
            errors.add("deal", _("The deal belongs to another company."), "other_company")
    return cleaned


def _notify_assignee(task: Task, actor: User) -> None:
    if task.assignee_id == actor.pk:
        return
    notify(
        recipient=task.assignee,
        kind="task_assigned",
        text=_("%(who)s gave you a task: %(title)s (due %(due)s)")
        % {
            "who": actor.full_name,
            "title": task.title,
            "due": date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT"),
        },
        url=reverse("activities:task_edit", args=[task.pk]),
        dedup_key=f"task-assigned:{task.pk}:{task.assignee_id}:{task.history.count()}",
    )


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    assignee: User | int | None,
    due_at: datetime | str | None,
    company: Company | int | None = None,
    deal: Deal | int | None = None,
    notes: str = "",
) -> Task:
    """A task for ``assignee`` (an active sales person or administrator; finance does not take tasks), due
    at ``due_at``, linked to a client and/or a deal. The assignee is notified when someone else sets it."""
    ensure(actor, "activities.add_task")
    errors = FieldErrors()
    data = {
        "title": title,
        "notes": notes,
        "assignee": assignee,
        "due_at": due_at,
        "company": company,
        "deal": deal,
    }
    cleaned = _clean_task(errors, data, current=None)
    errors.raise_if_any()
    task = Task(created_by=actor, **cleaned)
    task._history_user = actor  # type: ignore[attr-defined]
    task.save()
    _notify_assignee(task, actor)
    return task


@transaction.atomic
def task_update(*, actor: User, task: Task, reason: str = "", **fields: Any) -> Task:
    """Edit a task (its assignee, its author or the head of sales). A new assignee is notified. ``reason``
    is kept in the task's history (a handover when someone leaves gives one)."""
    reject_unknown(fields, TASK_FIELDS)
    ensure(actor, "activities.change_task", task)
    task = Task.objects.select_for_update(of=("self",)).select_related("company", "deal").get(pk=task.pk)
    ensure(actor, "activities.change_task", task)
    errors = FieldErrors()
    cleaned = _clean_task(errors, fields, current=task)
    errors.raise_if_any()
    changed = [f for f, v in cleaned.items() if getattr(task, f) != v]
    if not changed:
        return task
    for name in changed:
        setattr(task, name, cleaned[name])
    task._history_user = actor  # type: ignore[attr-defined]
    task._change_reason = reason[:100] or None  # type: ignore[attr-defined]
    task.save()
    if "assignee" in changed:
        _notify_assignee(task, actor)
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task, done: bool = True) -> Task:
    """Mark a task done (or open it again); doing it twice changes nothing."""
    ensure(actor, "activities.change_task", task)
    task = Task.objects.select_for_update().get(pk=task.pk)
    ensure(actor, "activities.change_task", task)
    if task.done == done:
        return task
    task.done = done
    task.done_at = timezone.now() if done else None
    task._history_user = actor  # type: ignore[attr-defined]
    task.save(update_fields=["done", "done_at", "updated_at"])
    return task
