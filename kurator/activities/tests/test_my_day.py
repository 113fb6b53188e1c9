"""My day (D3, D10): the user's open tasks, overdue / today / next seven days, at a constant query cost."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.activities import selectors, services
from kurator.activities.models import Notification
from kurator.activities.tests.test_activities import make_deal

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_my_day_groups_open_tasks_of_the_actor(manager, other_manager) -> None:
    now = timezone.make_aware(datetime(2026, 11, 27, 12, 0))
    make = lambda title, due, who=manager: services.task_create(  # noqa: E731
        actor=who, title=title, assignee=who, due_at=due
    )
    late = make("Просрочено", now - timedelta(days=1))
    this_morning = make("Утром", now - timedelta(hours=2))  # earlier today: overdue too
    later_today = make("Вечером", now + timedelta(hours=5))
    week = make("Через 3 дня", now + timedelta(days=3))
    make("Через месяц", now + timedelta(days=30))
    make("Чужое", now, who=other_manager)
    done = make("Сделано", now - timedelta(days=2))
    services.task_complete(actor=manager, task=done)
    day = selectors.my_day(actor=manager, now=now)
    assert [t.pk for t in day.overdue] == [late.pk, this_morning.pk]
    assert [t.pk for t in day.today] == [later_today.pk]
    assert [t.pk for t in day.week] == [week.pk]
    assert day.counts == {"overdue": 2, "today": 1, "week": 1}


def test_my_day_page_shows_groups_links_and_unread_count(manager, company) -> None:
    deal = make_deal(company)
    services.task_create(
        actor=manager,
        title="Просроченный звонок",
        assignee=manager,
        due_at=timezone.now() - timedelta(hours=3),
        company=company,
        deal=deal,
    )
    Notification.objects.create(recipient=manager, kind="test", text="Привет")
    response = login(manager).get(reverse("activities:my_day"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Просроченный звонок" in html
    assert 'data-state="overdue"' in html and "bg-red-lt" in html
    assert reverse("activities:company_timeline", args=[company.pk]) in html
    assert 'data-testid="count-overdue">1<' in html
    assert reverse("notifications:list") in html
    assert reverse("activities:task_complete", args=[deal.tasks.get().pk]) in html


def test_my_day_page_costs_the_same_for_one_and_many_tasks(manager, company) -> None:
    """Constant number of queries: counts in one, tasks with their company and deal in another."""
    client = login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("activities:my_day")).status_code == 200
        return len(ctx.captured_queries)

    services.task_create(
        actor=manager, title="Одна", assignee=manager, due_at=timezone.now(), company=company
    )
    one = queries()
    deal = make_deal(company)
    for i in range(15):
        services.task_create(
            actor=manager,
            title=f"Задача {i}",
            assignee=manager,
            due_at=timezone.now() + timedelta(days=i % 8, hours=-3),
            company=company,
            deal=deal,
        )
    assert queries() == one


@pytest.mark.parametrize("role", ["manager", "senior_manager", "head", "finance", "admin_user"])
def test_every_member_has_a_day_page(request, role) -> None:
    assert login(request.getfixturevalue(role)).get(reverse("activities:my_day")).status_code == 200


def test_a_long_overdue_list_never_hides_today(manager, monkeypatch) -> None:
    """Each group is capped on its own; the counts stay exact."""
    monkeypatch.setattr(selectors, "MY_DAY_LIMIT", 2)
    now = timezone.make_aware(datetime(2026, 11, 27, 12, 0))
    for i in range(4):
        services.task_create(
            actor=manager, title=f"Старое {i}", assignee=manager, due_at=now - timedelta(days=i + 1)
        )
    today = services.task_create(
        actor=manager, title="Сегодня", assignee=manager, due_at=now + timedelta(minutes=1)
    )
    day = selectors.my_day(actor=manager, now=now)
    assert len(day.overdue) == 2 and day.counts["overdue"] == 4
    assert [t.pk for t in day.today] == [today.pk]
