"""The user's private calendar feed (iCal, D10): open tasks with their due time, and the birthdays of the
companies the user curates and of those companies' leaders as yearly all-day events.

The feed URL carries a secret token (``secrets.token_urlsafe(32)``); whoever has the URL reads the feed, so
the user can revoke it, which makes a new one. Built with the ``icalendar`` library."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event, vRecur

from kurator.access.decorators import ensure
from kurator.accounts.models import User
from kurator.activities.models import CalendarFeed, Task
from kurator.activities.services import absolute_url

# The most open tasks one feed carries (the earliest due first): calendar clients poll feeds often.
MAX_TASKS = 1000
TASK_DURATION = timedelta(minutes=30)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
PRODID = "-//Kurator//Kurator CRM//RU"


@transaction.atomic
def calendar_feed_create(*, actor: User) -> CalendarFeed:
    """Give the actor a feed URL; an existing one is revoked (its token stops working) and replaced."""
    ensure(actor, "activities.view_task")
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(
        user=actor, defaults={"token": token}
    )
    if not created:
        feed.token = token
        feed.created_at = timezone.now()
        feed.save(update_fields=["token", "created_at"])
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor: User) -> bool:
    """Revoke the actor's feed URL (calendars subscribed to it stop updating); False if there was none."""
    ensure(actor, "activities.view_task")
    deleted, _ = CalendarFeed.objects.filter(user=actor).delete()
    return bool(deleted)


def feed_by_token(token: str) -> CalendarFeed | None:
    """The active user's feed for a token, or None (unknown, revoked, malformed, or the user is inactive)."""
    if not _TOKEN_RE.match(token or ""):
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    # The database found it by the indexed token; compare again in constant time all the same.
    if feed is None or not secrets.compare_digest(feed.token.encode(), token.encode()):
        return None
    if not feed.user.is_active:
        return None
    return feed


def _link(name: str, *args: object) -> str:
    try:
        return absolute_url(reverse(name, args=args))
    except NoReverseMatch:
        return ""


def _birthday_event(uid: str, summary: str, born: date, url: str, description: str = "") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", born)
    if born.month == 2 and born.day == 29:
        # Every year on the last day of February (RFC 5545 would skip 29 February in common years).
        event.add("rrule", vRecur(freq="YEARLY", bymonth=2, bymonthday=-1))
    else:
        event.add("rrule", vRecur(freq="YEARLY"))
    event.add("dtend", born + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    if url:
        event.add("url", url)
    if description:
        event.add("description", description)
    return event


def build_calendar(user: User, *, now: datetime | None = None) -> bytes:
    """The VCALENDAR of the user's feed: three queries whatever the number of tasks and clients."""
    from kurator.companies.models import Company, Contact

    now = now or timezone.now()
    stamp = now.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", gettext("Kurator: %(user)s") % {"user": user.full_name})
    cal.add("x-wr-timezone", timezone.get_current_timezone_name())

    tasks = (
        Task.objects.filter(assignee=user, done=False)
        .select_related("company", "deal")
        .order_by("due_at", "pk")[:MAX_TASKS]
    )
    for task in tasks:
        event = Event()
        event.add("uid", f"task-{task.pk}@kurator")
        event.add("dtstamp", stamp)
        event.add("summary", task.title)
        event.add("dtstart", task.due_at.astimezone(UTC))
        event.add("dtend", (task.due_at + TASK_DURATION).astimezone(UTC))
        lines = []
        if task.company is not None:
            lines.append(gettext("Client: %(company)s") % {"company": task.company})
        if task.deal is not None:
            lines.append(gettext("Deal: %(deal)s") % {"deal": task.deal})
        if task.notes:
            lines.append(task.notes)
        if lines:
            event.add("description", "\n".join(lines))
        if task.deal_id is not None:
            url = _link("sales:detail", task.deal_id) or _link("sales:company_deals", task.company_id)
        elif task.company_id is not None:
            url = _link("companies:detail", task.company_id)
        else:
            url = _link("activities:my_day")
        if url:
            event.add("url", url)
        cal.add_component(event)

    companies = Company.objects.filter(curator=user, merged_into__isnull=True, founded_on__isnull=False).only(
        "id", "short_name", "full_name", "founded_on"
    )
    for company in companies.order_by("pk"):
        assert company.founded_on is not None
        event = _birthday_event(
            f"birthday-company-{company.pk}@kurator",
            gettext("Birthday of %(company)s (founded %(year)s)")
            % {"company": company, "year": company.founded_on.year},
            company.founded_on,
            _link("companies:detail", company.pk),
        )
        event.add("dtstamp", stamp)
        cal.add_component(event)

    leaders = (
        Contact.objects.filter(
            company__curator=user,
            company__merged_into__isnull=True,
            is_leader=True,
            is_active=True,
            birthday__isnull=False,
        )
        .select_related("company")
        .only(
            "id",
            "full_name",
            "position",
            "birthday",
            "company__id",
            "company__short_name",
            "company__full_name",
        )
        .order_by("pk")
    )
    for person in leaders:
        assert person.birthday is not None
        event = _birthday_event(
            f"birthday-contact-{person.pk}@kurator",
            gettext("Birthday: %(person)s (%(company)s)")
            % {"person": person.full_name, "company": person.company},
            person.birthday,
            _link("companies:people", person.company_id),
            person.position,
        )
        event.add("dtstamp", stamp)
        cal.add_component(event)
    return cal.to_ical()
