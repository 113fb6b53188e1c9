"""The private iCal feed (D10): what it carries, who can read it (the token is the key), revoking it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from kurator.accounts.models import User
from kurator.activities.calendar import calendar_feed_create, calendar_feed_revoke, feed_by_token
from kurator.activities.models import CalendarFeed, Task
from kurator.companies.models import Company, Contact
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def feed_url(feed: CalendarFeed) -> str:
    return reverse("activities:calendar_feed", args=[feed.token])


def parse(response) -> Calendar:
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_feed_carries_open_tasks_and_the_birthdays_of_my_clients_and_their_leaders(
    manager, other_manager, company
) -> None:
    """D10: open tasks with due time and link; yearly all-day birthdays of my companies and their leaders."""
    Company.objects.filter(pk=company.pk).update(founded_on=date(2001, 5, 14))
    boss = contact_factory(actor=manager, company=company, full_name="Орлов Глеб", is_leader=True)
    clerk = contact_factory(actor=manager, company=company, full_name="Не руководитель")
    Contact.objects.filter(pk__in=[boss.pk, clerk.pk]).update(birthday=date(1970, 2, 28))
    due = timezone.now() + timedelta(days=1)
    task = Task.objects.create(title="Позвонить Орлову", assignee=manager, due_at=due, company=company)
    done = Task.objects.create(title="Сделано", assignee=manager, due_at=due, done=True, done_at=due)
    Task.objects.create(title="Чужая", assignee=other_manager, due_at=due)
    theirs = company_factory(actor=other_manager)
    Company.objects.filter(pk=theirs.pk).update(founded_on=date(1999, 1, 1))

    response = Client().get(feed_url(calendar_feed_create(actor=manager)))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    found = events(parse(response))
    assert set(found) == {
        f"task-{task.pk}@kurator",
        f"birthday-company-{company.pk}@kurator",
        f"birthday-contact-{boss.pk}@kurator",
    }
    assert f"task-{done.pk}@kurator" not in found
    todo = cast(dict, found[f"task-{task.pk}@kurator"])
    assert str(todo["summary"]) == "Позвонить Орлову"
    assert todo["dtstart"].dt == due.replace(microsecond=0)
    assert str(todo["url"]).endswith(f"/companies/{company.pk}/")
    birthday = cast(dict, found[f"birthday-company-{company.pk}@kurator"])
    assert birthday["dtstart"].dt == date(2001, 5, 14)
    assert birthday["rrule"]["FREQ"] == ["YEARLY"]
    leader = cast(dict, found[f"birthday-contact-{boss.pk}@kurator"])
    assert "Орлов Глеб" in str(leader["summary"])


def test_29_february_recurs_on_the_last_day_of_february(manager, company) -> None:
    """D10: a birthday on 29 February recurs every year (on 28 February in common years)."""
    Company.objects.filter(pk=company.pk).update(founded_on=date(2000, 2, 29))
    found = events(parse(Client().get(feed_url(calendar_feed_create(actor=manager)))))
    rule = cast(dict, found[f"birthday-company-{company.pk}@kurator"])["rrule"]
    assert rule["FREQ"] == ["YEARLY"] and rule["BYMONTH"] == [2] and rule["BYMONTHDAY"] == [-1]


def test_merged_companies_are_left_out(manager, company) -> None:
    """D10: a merged duplicate's birthday is not in the feed."""
    survivor = company_factory(actor=manager)
    Company.objects.filter(pk=company.pk).update(founded_on=date(2001, 5, 14), merged_into=survivor)
    found = events(parse(Client().get(feed_url(calendar_feed_create(actor=manager)))))
    assert f"birthday-company-{company.pk}@kurator" not in found


def test_unknown_revoked_or_malformed_tokens_and_inactive_users_get_404(manager) -> None:
    """D10: the token is the secret — unknown, revoked or malformed, or an inactive user's: 404."""
    feed = calendar_feed_create(actor=manager)
    old_url = feed_url(feed)
    assert Client().get(old_url).status_code == 200
    new = calendar_feed_create(actor=manager)  # revoke and create a new one
    assert new.token != feed.token and len(new.token) >= 40
    assert Client().get(old_url).status_code == 404
    assert Client().get(feed_url(new)).status_code == 200
    assert Client().get(reverse("activities:calendar_feed", args=["x" * 43])).status_code == 404
    assert Client().get("/calendar/not%20a%20token.ics").status_code == 404
    manager.is_active = False
    manager.save()
    assert Client().get(feed_url(new)).status_code == 404
    assert feed_by_token(new.token) is None
    manager.is_active = True
    manager.save()
    assert calendar_feed_revoke(actor=manager) is True
    assert Client().get(feed_url(new)).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_feed_costs_the_same_queries_for_one_or_many_rows(manager) -> None:
    """D10: a fixed number of queries, whatever the number of tasks, clients and leaders."""
    feed = calendar_feed_create(actor=manager)

    def add(n: int) -> None:
        for i in range(n):
            c = company_factory(actor=manager)
            Company.objects.filter(pk=c.pk).update(founded_on=date(2000, 1, 1 + i))
            boss = contact_factory(actor=manager, company=c, is_leader=True)
            Contact.objects.filter(pk=boss.pk).update(birthday=date(1970, 3, 1 + i))
            Task.objects.create(title=f"T{i}", assignee=manager, due_at=timezone.now(), company=c)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(feed_url(feed)).status_code == 200
        return len(ctx.captured_queries)

    add(1)
    one = queries()
    add(10)
    assert queries() == one


def test_page_shows_creates_and_revokes_the_feed_url(manager) -> None:
    """D10: the user's page — create the URL, see it with a copy button, revoke and create a new one."""
    client = login(manager)
    page = reverse("activities:calendar")
    html = client.get(page).content.decode()
    assert "Create my feed address" in html and 'data-testid="calendar-feed-url"' not in html
    assert client.post(page, {"action": "create"}).status_code == 302
    feed = CalendarFeed.objects.get(user=manager)
    html = client.get(page).content.decode()
    assert f"http://testserver/calendar/{feed.token}.ics" in html and "data-copy-target" in html
    assert "activities/calendar.js" in html and "<script>" not in html
    client.post(page, {"action": "create"})
    assert CalendarFeed.objects.get(user=manager).token != feed.token
    client.post(page, {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=manager).exists()


def test_page_needs_a_login_and_shows_only_ones_own_feed(manager, other_manager) -> None:
    """D10: the page asks for a login; a colleague's feed URL never shows on it."""
    assert Client().get(reverse("activities:calendar")).status_code == 302
    theirs = calendar_feed_create(actor=other_manager)
    html = login(manager).get(reverse("activities:calendar")).content.decode()
    assert theirs.token not in html


def test_my_day_and_the_user_menu_link_to_the_calendar_feed(manager) -> None:
    """D10: the feed page is reachable from My day and from the user menu."""
    html = login(manager).get(reverse("activities:my_day")).content.decode()
    assert 'data-testid="my-day-calendar"' in html
    assert html.count(f'href="{reverse("activities:calendar")}"') == 2
