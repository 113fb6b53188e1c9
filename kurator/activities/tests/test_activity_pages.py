"""Logging and editing contacts in the browser (D3, R3): the form, where it leads back to, the edit conflict,
and the history of an entry (old → new)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kurator.activities import services
from kurator.activities.models import Activity, Task
from kurator.activities.tests.test_activities import log, make_deal
from kurator.activities.work_views import deal_url
from tests.factories import contact_factory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_log_form_offers_the_clients_people_and_preselects_the_author(manager, company) -> None:
    boss = contact_factory(actor=manager, company=company, full_name="Орлов Игорь")
    response = login(manager).get(reverse("activities:create") + f"?company={company.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Орлов Игорь" in html
    form = response.context["form"]
    assert form.initial["users"] == [manager.pk]
    assert boss in form.fields["contacts"].queryset


def test_logging_a_contact_goes_back_to_the_timeline_and_makes_the_task(manager, company) -> None:
    """D3: a meeting with the people of both sides; the next step with a date becomes a task."""
    boss = contact_factory(actor=manager, company=company, full_name="Орлов")
    day = timezone.localdate() + timedelta(days=2)
    response = login(manager).post(
        reverse("activities:create"),
        {
            "company": company.pk,
            "kind": "meeting",
            "occurred_at": local(timezone.now() - timedelta(hours=2)),
            "contacts": [boss.pk],
            "users": [manager.pk],
            "subject": "Знакомство",
            "result": "Интерес есть",
            "next_step": "Выслать КП",
            "next_step_on": day.isoformat(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:company_timeline", args=[company.pk])
    activity = Activity.objects.get()
    assert activity.author == manager and list(activity.contacts.all()) == [boss]
    assert Task.objects.get().activity == activity


def test_logging_on_a_deal_goes_back_to_the_deal(manager, company) -> None:
    deal = make_deal(company)
    client = login(manager)
    assert (
        client.get(reverse("activities:create") + f"?company={company.pk}&deal={deal.pk}").status_code == 200
    )
    response = client.post(
        reverse("activities:create") + f"?company={company.pk}&deal={deal.pk}",
        {"company": company.pk, "deal": deal.pk, "kind": "call", "occurred_at": local(timezone.now())},
    )
    assert response.status_code == 302
    expected = deal_url(deal.pk) or reverse("activities:company_timeline", args=[company.pk])
    assert response["Location"] == expected
    assert Activity.objects.get().deal == deal


def test_a_future_contact_is_refused_next_to_the_field(manager, company) -> None:
    response = login(manager).post(
        reverse("activities:create"),
        {"company": company.pk, "kind": "call", "occurred_at": local(timezone.now() + timedelta(days=3))},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["occurred_at"]
    assert not Activity.objects.exists()


def test_a_colleague_cannot_open_the_log_form(other_manager, company) -> None:
    assert (
        login(other_manager).get(reverse("activities:create") + f"?company={company.pk}").status_code == 403
    )
    assert login(other_manager).get(reverse("activities:create") + "?company=999999").status_code == 404
    assert login(other_manager).get(reverse("activities:create")).status_code == 404


def test_a_deal_of_another_company_is_not_found(manager, head, company) -> None:
    from tests.factories import company_factory

    other_deal = make_deal(company_factory(actor=head, curator=head))
    url = reverse("activities:create") + f"?company={company.pk}&deal={other_deal.pk}"
    assert login(manager).get(url).status_code == 404


def test_edit_page_for_author_and_head_only(manager, other_manager, head, company) -> None:
    activity = log(manager, company, result="Было")
    url = reverse("activities:edit", args=[activity.pk])
    assert login(other_manager).get(url).status_code == 403
    assert login(head).get(url).status_code == 200
    assert login(manager).get(reverse("activities:edit", args=[999999])).status_code == 404


def test_edit_saves_and_history_shows_old_and_new(manager, other_manager, company) -> None:
    """D3: edits are kept in history, shown old → new."""
    activity = log(manager, company, result="Было", users=[manager])
    client = login(manager)
    response = client.post(
        reverse("activities:edit", args=[activity.pk]),
        {
            "kind": activity.kind,
            "occurred_at": local(activity.occurred_at),
            "users": [manager.pk, other_manager.pk],
            "result": "Стало",
            "version": 1,
        },
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.result == "Стало"
    html = login(other_manager).get(reverse("activities:history", args=[activity.pk])).content.decode()
    assert "Было" in html and "Стало" in html
    assert other_manager.full_name in html  # the participant added


def test_stale_edit_form_reports_the_conflict(manager, head, company) -> None:
    activity = log(manager, company, result="Было")
    services.activity_update(actor=head, activity=activity, result="Head")
    response = login(manager).post(
        reverse("activities:edit", args=[activity.pk]),
        {"kind": activity.kind, "occurred_at": local(activity.occurred_at), "result": "Мой", "version": 1},
    )
    assert response.status_code == 200
    assert response.context["conflict"]
    activity.refresh_from_db()
    assert activity.result == "Head"


def test_history_page_lists_creation_and_edits(manager, company) -> None:
    activity = log(manager, company, subject="Первая тема")
    services.activity_update(actor=manager, activity=activity, subject="Вторая тема")
    entries = login(manager).get(reverse("activities:history", args=[activity.pk])).context["entries"]
    assert [e.action for e in entries] == ["changed", "created"]
    change = next(c for c in entries[0].changes if c.field == "subject")
    assert (change.old, change.new) == ("Первая тема", "Вторая тема")


def test_history_costs_the_same_for_one_and_many_edits(manager, other_manager, company) -> None:
    """D3: the history of an entry is read in a fixed number of queries, whatever the number of edits."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kurator.activities import selectors

    first = contact_factory(actor=manager, company=company, full_name="Первый")
    activity = log(manager, company, users=[manager], contacts=[first])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.activity_history(activity=activity)
        return len(ctx.captured_queries)

    services.activity_update(actor=manager, activity=activity, result="1")
    one = queries()
    for i in range(6):
        person = contact_factory(actor=manager, company=company, full_name=f"Человек {i}")
        services.activity_update(
            actor=manager,
            activity=activity,
            result=str(i + 2),
            contacts=[person],
            users=[manager, other_manager] if i % 2 else [manager],
        )
    assert queries() == one
    assert len(selectors.activity_history(activity=activity)) == 8
