"""/api/v1/activities/ and /api/v1/tasks/ (D3, R3, R1): reading for every member, logging by the curator, deal
owners and head, editing by the author or head (403 otherwise, 409 on a stale version), filters, 404s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.activities import services
from kurator.activities.models import Activity, Task
from kurator.activities.tests.test_activities import log, make_deal
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db

ACTIVITIES = "/api/v1/activities/"
TASKS = "/api/v1/tasks/"


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def body(response) -> Any:
    return response.json()


def test_the_curator_logs_a_contact_and_is_its_author(manager, other_manager, company) -> None:
    boss = contact_factory(actor=manager, company=company)
    deal = make_deal(company)
    day = timezone.localdate() + timedelta(days=1)
    response = api(manager).post(
        ACTIVITIES,
        {
            "company": company.pk,
            "deal": deal.pk,
            "kind": "meeting",
            "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "contacts": [boss.pk],
            "users": [manager.pk, other_manager.pk],
            "result": "OK",
            "next_step": "КП",
            "next_step_on": day.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, body(response)
    data = body(response)
    assert data["author"] == manager.pk
    assert data["company"] == company.pk and data["deal"] == deal.pk
    assert data["contacts"] == [boss.pk]
    assert sorted(data["users"]) == sorted([manager.pk, other_manager.pk])
    assert data["version"] == 1 and data["edited"] is False
    assert set(data) >= {
        "id",
        "company",
        "deal",
        "kind",
        "occurred_at",
        "contacts",
        "users",
        "result",
        "next_step",
        "next_step_on",
        "author",
    }
    assert Task.objects.get().activity_id == data["id"]


def test_validation_errors_name_fields_and_write_nothing(manager, head, company) -> None:
    other = company_factory(actor=head, curator=head)
    stranger = contact_factory(actor=head, company=other)
    response = api(manager).post(
        ACTIVITIES,
        {
            "company": company.pk,
            "kind": "call",
            "occurred_at": (timezone.now() + timedelta(days=2)).isoformat(),
            "contacts": [stranger.pk],
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(body(response)) == {"occurred_at", "contacts"}
    assert (
        api(manager).post(ACTIVITIES, {"company": company.pk, "kind": "visit"}, format="json").status_code
        == 400
    )
    unknown = api(manager).post(
        ACTIVITIES,
        {"company": 999999, "kind": "call", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    assert unknown.status_code == 400 and "company" in body(unknown)
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("manager", 201),
        ("other_manager", 403),
        ("senior_manager", 403),
        ("head", 201),
        ("finance", 403),
        ("admin_user", 201),
    ],
)
def test_who_may_log_on_a_client(request, role, status, company) -> None:
    """R3: everyone reads, but contacts with a client are logged by its curator, deal owners and the head."""
    response = api(request.getfixturevalue(role)).post(
        ACTIVITIES,
        {"company": company.pk, "kind": "note", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    assert response.status_code == status
    assert Activity.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    "role", ["manager", "other_manager", "senior_manager", "head", "finance", "admin_user"]
)
def test_every_member_reads_the_timeline(request, role, manager, company) -> None:
    activity = log(manager, company)
    client = api(request.getfixturevalue(role))
    listing = client.get(ACTIVITIES, {"company": company.pk})
    assert listing.status_code == 200
    assert [row["id"] for row in body(listing)["results"]] == [activity.pk]
    assert client.get(f"{ACTIVITIES}{activity.pk}/").status_code == 200


def test_filters_company_deal_kind(manager, head, company) -> None:
    other = company_factory(actor=head, curator=head)
    deal = make_deal(company)
    call = log(manager, company, kind="call")
    meeting = log(manager, company, kind="meeting", deal=deal)
    elsewhere = log(head, other, kind="call")
    client = api(manager)

    def ids(**params: Any) -> set[int]:
        response = client.get(ACTIVITIES, params)
        assert response.status_code == 200, body(response)
        return {row["id"] for row in body(response)["results"]}

    assert ids() == {call.pk, meeting.pk, elsewhere.pk}
    assert ids(company=company.pk) == {call.pk, meeting.pk}
    assert ids(deal=deal.pk) == {meeting.pk}
    assert ids(kind="call") == {call.pk, elsewhere.pk}
    assert ids(company=company.pk, kind="call") == {call.pk}
    assert client.get(ACTIVITIES, {"kind": "visit"}).status_code == 400
    assert client.get(ACTIVITIES, {"company": "x"}).status_code == 400


def test_author_edits_with_version_and_a_stale_one_is_409(manager, company) -> None:
    activity = log(manager, company, result="Было")
    client = api(manager)
    ok = client.patch(f"{ACTIVITIES}{activity.pk}/", {"result": "Стало", "version": 1}, format="json")
    assert ok.status_code == 200, body(ok)
    assert body(ok)["version"] == 2 and body(ok)["edited"] is True
    stale = client.patch(f"{ACTIVITIES}{activity.pk}/", {"result": "Опять", "version": 1}, format="json")
    assert stale.status_code == 409
    activity.refresh_from_db()
    assert activity.result == "Стало"


def test_a_colleague_editing_someone_elses_entry_gets_403(manager, other_manager, head, company) -> None:
    activity = log(manager, company, result="Было")
    response = api(other_manager).patch(f"{ACTIVITIES}{activity.pk}/", {"result": "Чужое"}, format="json")
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.result == "Было"
    assert (
        api(head).patch(f"{ACTIVITIES}{activity.pk}/", {"result": "Head"}, format="json").status_code == 200
    )


def test_unknown_ids_are_404(manager) -> None:
    client = api(manager)
    assert client.get(f"{ACTIVITIES}999999/").status_code == 404
    assert client.patch(f"{ACTIVITIES}999999/", {"result": "x"}, format="json").status_code == 404
    assert client.get(f"{TASKS}999999/").status_code == 404
    assert client.post(f"{TASKS}999999/complete/", {}, format="json").status_code == 404


def test_anonymous_is_refused(company) -> None:
    assert APIClient().get(ACTIVITIES).status_code == 401
    assert APIClient().get(TASKS).status_code == 401


# Tasks ------------------------------------------------------------------------------------------------------


def test_task_create_update_complete(manager, head, company) -> None:
    deal = make_deal(company)
    due = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    client = api(manager)
    created = client.post(
        TASKS,
        {"title": "Позвонить", "assignee": manager.pk, "due_at": due.isoformat(), "deal": deal.pk},
        format="json",
    )
    assert created.status_code == 201, body(created)
    data = body(created)
    assert data["company"] == company.pk and data["deal"] == deal.pk and data["done"] is False
    task_id = data["id"]
    patched = client.patch(f"{TASKS}{task_id}/", {"title": "Позвонить ещё", "done": True}, format="json")
    assert patched.status_code == 200, body(patched)
    assert body(patched)["done"] is True and body(patched)["title"] == "Позвонить ещё"
    reopened = client.post(f"{TASKS}{task_id}/complete/", {"done": False}, format="json")
    assert reopened.status_code == 200 and body(reopened)["done"] is False
    assert client.post(f"{TASKS}{task_id}/complete/", {}, format="json").json()["done"] is True


def test_task_roles(manager, other_manager, finance, head) -> None:
    due = (timezone.now() + timedelta(days=1)).isoformat()
    assert (
        api(finance)
        .post(TASKS, {"title": "X", "assignee": manager.pk, "due_at": due}, format="json")
        .status_code
        == 403
    )
    refused = api(head).post(TASKS, {"title": "X", "assignee": finance.pk, "due_at": due}, format="json")
    assert refused.status_code == 400 and "assignee" in body(refused)
    task = services.task_create(actor=manager, title="Моя", assignee=manager, due_at=due)
    assert (
        api(other_manager).patch(f"{TASKS}{task.pk}/", {"title": "Чужая"}, format="json").status_code == 403
    )
    assert api(other_manager).post(f"{TASKS}{task.pk}/complete/", {}, format="json").status_code == 403
    assert api(finance).get(f"{TASKS}{task.pk}/").status_code == 200
    task.refresh_from_db()
    assert task.title == "Моя" and not task.done


def test_task_filters(manager, other_manager, company) -> None:
    due = timezone.now() + timedelta(days=1)
    deal = make_deal(company)
    a = services.task_create(actor=manager, title="A", assignee=manager, due_at=due, company=company)
    b = services.task_create(actor=manager, title="B", assignee=manager, due_at=due, deal=deal)
    c = services.task_create(actor=other_manager, title="C", assignee=other_manager, due_at=due)
    services.task_complete(actor=manager, task=a)
    client = api(manager)

    def ids(**params: Any) -> set[int]:
        response = client.get(TASKS, params)
        assert response.status_code == 200, body(response)
        return {row["id"] for row in body(response)["results"]}

    assert ids() == {a.pk, b.pk, c.pk}
    assert ids(assignee=manager.pk) == {a.pk, b.pk}
    assert ids(done="true") == {a.pk}
    assert ids(done="false") == {b.pk, c.pk}
    assert ids(company=company.pk) == {a.pk, b.pk}
    assert ids(deal=deal.pk) == {b.pk}
