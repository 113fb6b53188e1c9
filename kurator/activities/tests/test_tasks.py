"""Tasks (D3, R3, D10): who sets and changes them, who may take one, the assignee's notice, and the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities import services
from kurator.activities.models import Notification, Task
from kurator.activities.tests.test_activities import field_codes, make_deal
from kurator.core.errors import AccessDenied
from tests.factories import UserFactory, company_factory

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def soon(hours: int = 2):
    return timezone.now() + timedelta(hours=hours)


def test_a_manager_sets_a_task_for_themselves_linked_to_a_deal(
    manager, company, django_capture_on_commit_callbacks
) -> None:
    """A task has an assignee, a due time and a link to the company/deal; one's own task notifies nobody."""
    deal = make_deal(company)
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(
            actor=manager, title="Позвонить", assignee=manager, due_at=soon(), deal=deal
        )
    assert task.company == company  # taken from the deal
    assert task.deal == deal and task.created_by == manager and not task.done
    assert not Notification.objects.exists()


def test_the_assignee_is_notified_when_someone_else_sets_the_task(
    head, manager, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(actor=head, title="Подготовить КП", assignee=manager.pk, due_at=soon())
    notice = Notification.objects.get()
    assert notice.recipient == manager
    assert notice.kind == "task_assigned"
    assert "Подготовить КП" in notice.text
    assert notice.url == reverse("activities:task_edit", args=[task.pk])


def test_reassigning_notifies_the_new_assignee(
    head, manager, other_manager, django_capture_on_commit_callbacks
) -> None:
    task = services.task_create(actor=manager, title="Сверка", assignee=manager, due_at=soon())
    with django_capture_on_commit_callbacks(execute=True):
        services.task_update(actor=head, task=task, assignee=other_manager)
    assert list(Notification.objects.values_list("recipient", flat=True)) == [other_manager.pk]


def test_finance_and_inactive_users_do_not_take_tasks(head, finance) -> None:
    """Tasks go to active sales people and administrators: finance reads everything but works no clients."""
    gone = cast(User, UserFactory(username="left", is_active=False))
    for who in (finance, gone):
        with pytest.raises(ValidationError) as exc:
            services.task_create(actor=head, title="X", assignee=who, due_at=soon())
        assert field_codes(exc) == {"assignee": ["not_assignable"]}
    assert not Task.objects.exists()


def test_refusal_names_the_fields_and_writes_nothing(manager, head, company) -> None:
    other = company_factory(actor=head, curator=head)
    with pytest.raises(ValidationError) as exc:
        services.task_create(
            actor=manager,
            title="",
            assignee=None,
            due_at="не дата",
            company=company,
            deal=make_deal(other),
        )
    assert field_codes(exc) == {
        "title": ["required"],
        "assignee": ["required"],
        "due_at": ["invalid_datetime"],
        "deal": ["other_company"],
    }
    assert not Task.objects.exists()


def test_due_time_is_required(manager) -> None:
    with pytest.raises(ValidationError) as exc:
        services.task_create(actor=manager, title="X", assignee=manager, due_at=None)
    assert field_codes(exc) == {"due_at": ["required"]}


def test_finance_cannot_set_tasks(finance, manager) -> None:
    with pytest.raises(AccessDenied):
        services.task_create(actor=finance, title="X", assignee=manager, due_at=soon())


def test_done_and_reopened_and_history_kept(manager) -> None:
    task = services.task_create(actor=manager, title="X", assignee=manager, due_at=soon())
    services.task_complete(actor=manager, task=task)
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    services.task_complete(actor=manager, task=task)  # twice: nothing more
    services.task_complete(actor=manager, task=task, done=False)
    task.refresh_from_db()
    assert not task.done and task.done_at is None
    assert task.history.count() == 3


def test_only_parties_and_the_head_change_a_task(manager, other_manager, head) -> None:
    """R3: everyone sees the tasks; the assignee, whoever set it and the head of sales change it."""
    task = services.task_create(actor=head, title="X", assignee=manager, due_at=soon())
    with pytest.raises(AccessDenied):
        services.task_complete(actor=other_manager, task=task)
    with pytest.raises(AccessDenied):
        services.task_update(actor=other_manager, task=task, title="Y")
    services.task_update(actor=manager, task=task, title="Y")
    services.task_complete(actor=head, task=task)
    task.refresh_from_db()
    assert task.title == "Y" and task.done


# Pages ------------------------------------------------------------------------------------------------------


def test_task_page_creates_a_task_linked_to_the_company(manager, company) -> None:
    client = login(manager)
    url = reverse("activities:task_create") + f"?company={company.pk}"
    assert client.get(url).status_code == 200
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("activities:task_create"),
        {"company": company.pk, "title": "Отправить счёт", "assignee": manager.pk, "due_at": due},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:company_timeline", args=[company.pk])
    task = Task.objects.get()
    assert task.company == company and task.assignee == manager


def test_task_form_shows_the_fields_errors(manager) -> None:
    response = login(manager).post(reverse("activities:task_create"), {"title": "", "assignee": manager.pk})
    assert response.status_code == 200
    assert not Task.objects.exists()
    assert "is-invalid" in response.content.decode()


def test_done_button_with_htmx_returns_the_row(manager) -> None:
    task = services.task_create(actor=manager, title="Сделать", assignee=manager, due_at=soon())
    response = login(manager).post(
        reverse("activities:task_complete", args=[task.pk]), {"done": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    assert 'data-state="done"' in response.content.decode()
    task.refresh_from_db()
    assert task.done


def test_done_button_without_htmx_redirects_back(manager) -> None:
    task = services.task_create(actor=manager, title="Сделать", assignee=manager, due_at=soon())
    response = login(manager).post(
        reverse("activities:task_complete", args=[task.pk]), {"next": reverse("activities:my_day")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("activities:my_day")
    assert login(manager).get(reverse("activities:task_complete", args=[task.pk])).status_code == 405


def test_a_colleague_cannot_tick_someone_elses_task(manager, other_manager) -> None:
    task = services.task_create(actor=manager, title="Сделать", assignee=manager, due_at=soon())
    response = login(other_manager).post(reverse("activities:task_complete", args=[task.pk]))
    assert response.status_code == 403
    task.refresh_from_db()
    assert not task.done
    assert login(other_manager).get(reverse("activities:task_edit", args=[task.pk])).status_code == 403
    assert login(manager).post(reverse("activities:task_complete", args=[999999])).status_code == 404


def test_task_list_is_mine_and_the_head_filters_by_assignee(manager, other_manager, head) -> None:
    services.task_create(actor=manager, title="Моя задача", assignee=manager, due_at=soon())
    services.task_create(actor=other_manager, title="Чужая задача", assignee=other_manager, due_at=soon())
    mine = login(manager).get(reverse("activities:tasks")).content.decode()
    assert "Моя задача" in mine and "Чужая задача" not in mine
    # A manager's ?assignee= is ignored: the list stays their own.
    forced = (
        login(manager).get(reverse("activities:tasks") + f"?assignee={other_manager.pk}").content.decode()
    )
    assert "Чужая задача" not in forced
    theirs = login(head).get(reverse("activities:tasks") + f"?assignee={other_manager.pk}").content.decode()
    assert "Чужая задача" in theirs and "Моя задача" not in theirs
    everyone = login(head).get(reverse("activities:tasks") + "?assignee=all").content.decode()
    assert "Чужая задача" in everyone and "Моя задача" in everyone
