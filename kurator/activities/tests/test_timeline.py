"""The contact history timeline (D3, R3): one timeline per client and per deal, filtered by kind and person,
read by every member, at a constant number of queries per page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.activities import selectors, services
from kurator.activities.models import ActivityKind
from kurator.activities.tests.test_activities import log, make_deal
from tests.factories import contact_factory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_timeline_filters_by_kind_person_and_deal(manager, other_manager, head, company) -> None:
    """D3: filterable by kind and by person (the client's people and ours)."""
    boss = contact_factory(actor=manager, company=company, full_name="Орлов")
    clerk = contact_factory(actor=manager, company=company, full_name="Зайцев")
    deal = make_deal(company)
    call = log(manager, company, kind=ActivityKind.CALL, contacts=[clerk])
    meeting = log(
        manager, company, kind=ActivityKind.MEETING, contacts=[boss], users=[other_manager], deal=deal
    )
    note = log(head, company, kind=ActivityKind.NOTE)

    def ids(**filters) -> list[int]:
        return [a.pk for a in selectors.activity_timeline(actor=other_manager, company=company, **filters)]

    assert set(ids()) == {call.pk, meeting.pk, note.pk}
    assert ids(kind="meeting") == [meeting.pk]
    assert ids(contact=boss) == [meeting.pk]
    assert ids(contact=clerk.pk) == [call.pk]
    assert ids(user=other_manager) == [meeting.pk]  # took part
    assert ids(user=head.pk) == [note.pk]  # wrote it
    assert [a.pk for a in selectors.activity_timeline(actor=other_manager, deal=deal)] == [meeting.pk]


def test_timeline_is_newest_first(manager, company) -> None:
    old = log(manager, company, occurred_at=timezone.now() - timedelta(days=3))
    new = log(manager, company, occurred_at=timezone.now() - timedelta(days=1))
    assert [a.pk for a in selectors.activity_timeline(actor=manager, company=company)] == [new.pk, old.pk]


@pytest.mark.parametrize(
    "role", ["manager", "other_manager", "senior_manager", "head", "finance", "admin_user"]
)
def test_every_member_reads_every_timeline(request, role, manager, company) -> None:
    """R3: every sales employee (and finance) reads every timeline."""
    log(manager, company, subject="Звонок о поставке", result="Интересно")
    response = login(request.getfixturevalue(role)).get(
        reverse("activities:company_timeline", args=[company.pk])
    )
    assert response.status_code == 200
    assert "Звонок о поставке" in response.content.decode()


def test_log_button_only_for_those_who_may_log(manager, other_manager, company) -> None:
    url = reverse("activities:company_timeline", args=[company.pk])
    create = reverse("activities:create")
    assert create in login(manager).get(url).content.decode()
    assert create not in login(other_manager).get(url).content.decode()


def test_timeline_page_filters_by_get_params(manager, company) -> None:
    boss = contact_factory(actor=manager, company=company, full_name="Орлов")
    log(manager, company, kind=ActivityKind.MEETING, subject="Встреча с Орловым", contacts=[boss])
    log(manager, company, kind=ActivityKind.CALL, subject="Звонок бухгалтеру")
    url = reverse("activities:company_timeline", args=[company.pk])
    client = login(manager)
    by_kind = client.get(url, {"kind": "call"}).content.decode()
    assert "Звонок бухгалтеру" in by_kind and "Встреча с Орловым" not in by_kind
    by_person = client.get(url, {"contact": boss.pk}).content.decode()
    assert "Встреча с Орловым" in by_person and "Звонок бухгалтеру" not in by_person
    # Nonsense parameters are ignored, never a 500.
    assert client.get(url, {"kind": "visit", "contact": "x", "user": "-1", "page": "zz"}).status_code == 200


def test_the_ours_filter_offers_the_people_who_worked_with_the_client(
    manager, other_manager, senior_manager, head, company
) -> None:
    """D3: «Ours» lists who wrote or took part in this client's contacts — a colleague who has since left
    included — not the whole department; a chosen person stays selected even if not among them."""
    log(manager, company, users=[other_manager])
    log(head, company)
    head.is_active = False
    head.save(update_fields=["is_active"])
    url = reverse("activities:company_timeline", args=[company.pk])
    response = login(manager).get(url)
    offered = {user.pk for user in response.context["filter_users"]}
    assert offered == {manager.pk, other_manager.pk, head.pk}
    chosen = login(manager).get(url, {"user": senior_manager.pk})
    assert senior_manager.pk in {user.pk for user in chosen.context["filter_users"]}
    assert f'<option value="{senior_manager.pk}" selected>' in chosen.content.decode()


def test_timeline_entry_shows_both_sides_result_next_step_and_edited_link(
    manager, other_manager, company
) -> None:
    boss = contact_factory(actor=manager, company=company, full_name="Орлов Игорь", position="Директор")
    activity = log(
        manager,
        company,
        kind=ActivityKind.MEETING,
        contacts=[boss],
        users=[manager, other_manager],
        result="Согласовали объём",
        next_step="Отправить КП",
        next_step_on=timezone.localdate() + timedelta(days=2),
    )
    url = reverse("activities:company_timeline", args=[company.pk])
    html = login(other_manager).get(url).content.decode()
    assert "Орлов Игорь" in html and other_manager.full_name in html
    assert "Согласовали объём" in html and "Отправить КП" in html
    history = reverse("activities:history", args=[activity.pk])
    assert history not in html  # not edited yet
    assert reverse("activities:edit", args=[activity.pk]) not in html  # a colleague does not edit
    services.activity_update(actor=manager, activity=activity, result="Согласовали объём и цену")
    html = login(manager).get(url).content.decode()
    assert history in html
    assert reverse("activities:edit", args=[activity.pk]) in html
    # The open next-step task shows in the tasks card.
    assert "Open tasks" in html


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_timeline_page_costs_the_same_for_one_and_many_entries(manager, other_manager, company) -> None:
    """D3 performance: a constant number of queries per page (participants prefetched, authors joined)."""
    url = reverse("activities:company_timeline", args=[company.pk])
    client = login(manager)
    boss = contact_factory(actor=manager, company=company, full_name="Орлов")
    log(manager, company, contacts=[boss], users=[manager], deal=make_deal(company))
    one = _queries(client, url)
    for i in range(12):
        who = contact_factory(actor=manager, company=company, full_name=f"Человек {i}")
        log(manager, company, contacts=[who, boss], users=[manager, other_manager], deal=make_deal(company))
        services.task_create(
            actor=manager, title=f"Задача {i}", assignee=manager, due_at=timezone.now(), company=company
        )
    many = _queries(client, url)
    assert many == one  # and the tasks card costs one query whatever the number of tasks


def test_timeline_selector_queries_do_not_grow(manager, company) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            for entry in selectors.activity_timeline(actor=manager, company=company)[:50]:
                list(entry.contacts.all()), list(entry.users.all()), entry.author.full_name, entry.deal
        return len(ctx.captured_queries)

    log(manager, company, users=[manager])
    one = count()
    for _ in range(10):
        log(manager, company, users=[manager], deal=make_deal(company))
    assert count() == one == 3
