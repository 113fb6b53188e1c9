"""D3, D10: a contact or a task dated in an absurd year (a typo: year 2 for 2026) is refused with a field
error, and nothing is written. Found by the schemathesis run (tests/security/test_schemathesis.py): a task
due in year 2 came back from the API as ``0002-01-01T02:29:17+02:30:17`` (Moscow's local mean time), which is
no RFC 3339 date-time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from kurator.activities import services
from kurator.activities.models import Activity, Task
from kurator.activities.tests.test_activities import field_codes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", [2, 1899, 2101])
def test_a_task_due_in_an_absurd_year_is_refused(manager, year) -> None:
    """D10: the due time names the field and writes nothing."""
    due = datetime(year, 1, 1, 10, 0, tzinfo=timezone.get_current_timezone())
    with pytest.raises(ValidationError) as refused:
        services.task_create(actor=manager, title="Позвонить", assignee=manager, due_at=due)
    assert field_codes(refused) == {"due_at": ["invalid_datetime"]}
    assert not Task.objects.exists()


def test_a_contact_logged_in_an_absurd_year_is_refused(manager, company) -> None:
    """D3: the same for the date of a contact."""
    with pytest.raises(ValidationError) as refused:
        services.activity_create(
            actor=manager, company=company, kind="call", occurred_at="0002-01-01T00:00:00Z"
        )
    assert "occurred_at" in field_codes(refused)
    assert not Activity.objects.exists()


def test_the_api_refuses_a_task_due_in_year_2_with_400(manager) -> None:
    """D10: the API answers 400 on ``due_at`` instead of storing it."""
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/api/v1/tasks/",
        {"title": "Позвонить", "due_at": "0002-01-01T00:00:00+00:01", "assignee": manager.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "due_at" in response.json()
    assert not Task.objects.exists()


def test_ordinary_dates_still_pass(manager) -> None:
    task = services.task_create(
        actor=manager, title="Позвонить", assignee=manager, due_at=timezone.now() + timedelta(days=1)
    )
    assert task.pk
