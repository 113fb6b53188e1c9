"""``POST /api/v1/users/{id}/deactivate/`` (R2, R4, D12): the head of sales or the administrator deactivates
someone who leaves, handing their work to a successor in the same call; refusals write nothing."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from kurator.accounts.models import Role, User
from kurator.activities.services import task_create
from kurator.companies.models import Company
from tests.factories import UserFactory, company_factory

pytestmark = pytest.mark.django_db

REASON = "Уволился"


def api(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def url(user: User | int) -> str:
    return f"/api/v1/users/{getattr(user, 'pk', user)}/deactivate/"


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def test_the_head_deactivates_with_a_successor_in_one_call(head, manager, other_manager):
    """R2: the clients and tasks go to the successor; the answer counts what moved."""
    company = company_factory(actor=manager)
    task_create(actor=manager, title="Звонок", assignee=manager, due_at=timezone.now(), company=company)
    response = api(head).post(url(manager), {"successor": other_manager.pk, "reason": REASON}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == manager.pk and body["is_active"] is False and body["successor"] == other_manager.pk
    assert (body["clients"], body["deals"], body["tasks"], body["inquiries"]) == (1, 0, 1, 0)
    manager.refresh_from_db()
    assert not manager.is_active
    assert Company.objects.get(pk=company.pk).curator == other_manager


def test_without_a_successor_the_call_lists_what_remains_and_writes_nothing(head, manager):
    """R2, D12: 400 naming the successor field with the counts; the user stays active."""
    company_factory(actor=manager)
    response = api(head).post(url(manager), {"reason": REASON}, format="json")
    assert response.status_code == 400
    assert "1 client" in response.json()["successor"][0]
    manager.refresh_from_db()
    assert manager.is_active


def test_a_user_without_work_needs_no_successor(head, manager):
    response = api(head).post(url(manager), {"reason": REASON}, format="json")
    assert response.status_code == 200 and response.json()["successor"] is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SENIOR_MANAGER, Role.FINANCE])
def test_only_the_head_and_the_administrator_may(role, other_manager):
    """R4: 403 for everyone else; nothing changes."""
    actor = cast(User, UserFactory(username=f"actor_{role}", role=role))
    response = api(actor).post(url(other_manager), {"reason": REASON}, format="json")
    assert response.status_code == 403
    other_manager.refresh_from_db()
    assert other_manager.is_active


def test_refusals_are_clear(head, admin_user, manager, finance):
    """R4: oneself (400), an administrator by the head (403), an unknown user (404), a successor who cannot
    curate or does not exist (400 on the field), no reason (400), anonymous (401/403)."""
    client = api(head)
    response = client.post(url(head), {"reason": REASON}, format="json")
    assert response.status_code == 400 and "yourself" in response.json()["non_field_errors"][0]
    assert client.post(url(admin_user), {"reason": REASON}, format="json").status_code == 403
    assert client.post(url(10**12), {"reason": REASON}, format="json").status_code == 404
    response = client.post(url(manager), {"reason": REASON, "successor": finance.pk}, format="json")
    assert response.status_code == 400 and "successor" in response.json()
    response = client.post(url(manager), {"reason": REASON, "successor": 10**12}, format="json")
    assert response.status_code == 400 and "successor" in response.json()
    assert "reason" in client.post(url(manager), {}, format="json").json()
    assert APIClient().post(url(manager), {"reason": REASON}, format="json").status_code in (401, 403)
    assert User.objects.filter(is_active=False).count() == 0


def test_the_administrator_deactivates_an_administrator(admin_user):
    other = cast(User, UserFactory(username="admin2", role=Role.ADMIN))
    assert api(admin_user).post(url(other), {"reason": REASON}, format="json").status_code == 200
