"""Contact history services (D3, R3, R1): who logs and edits entries, what is refused and why, the history of
edits, and the next step that becomes a task."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities import services
from kurator.activities.models import Activity, ActivityKind, Task
from kurator.companies.models import Company, Contact
from kurator.core.errors import AccessDenied, EditConflict
from kurator.sales.models import Deal
from kurator.sales.services import deal_create
from tests.factories import UserFactory, company_factory, contact_factory

pytestmark = pytest.mark.django_db


# Helpers shared by the other activity test modules ----------------------------------------------------------


def make_deal(company: Company, title: str = "Поставка") -> Deal:
    """A deal on the default pipeline's first stage, opened by the client's curator (its owner, R2)."""
    return deal_create(actor=company.curator, company=company, title=title)


def log(actor: User, company: Company, **fields: Any) -> Activity:
    fields.setdefault("kind", ActivityKind.CALL)
    fields.setdefault("occurred_at", timezone.now() - timedelta(hours=1))
    return services.activity_create(actor=actor, company=company, **fields)


def field_codes(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str | None]]:
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


# Logging ----------------------------------------------------------------------------------------------------


def test_curator_logs_a_meeting_with_people_on_both_sides(manager, other_manager, company) -> None:
    """D3: when, kind, participants on both sides, result, next step."""
    boss = contact_factory(actor=manager, company=company, full_name="Орлов Игорь")
    when = timezone.now() - timedelta(days=1)
    activity = log(
        manager,
        company,
        kind=ActivityKind.MEETING,
        occurred_at=when,
        contacts=[boss],
        users=[manager, other_manager.pk],
        subject="Встреча",
        result="Договорились о КП",
    )
    activity.refresh_from_db()
    assert activity.author == manager
    assert activity.kind == "meeting"
    assert activity.occurred_at == when
    assert list(activity.contacts.all()) == [boss]
    assert set(activity.users.all()) == {manager, other_manager}
    record = Activity.history.get(id=activity.pk)
    assert record.history_type == "+"
    assert record.history_user == manager
    assert {row.contact_id for row in record.contacts.all()} == {boss.pk}
    assert {row.user_id for row in record.users.all()} == {manager.pk, other_manager.pk}


def test_deal_owner_logs_on_the_deal(manager, other_manager, company) -> None:
    """D3/R2: the deal's owner logs contacts on it, even without curating the client."""
    deal = make_deal(company)
    deal.co_owner = other_manager
    deal.save()
    activity = log(other_manager, company, deal=deal)
    assert activity.deal == deal


def test_a_colleague_cannot_log_on_someone_elses_client(other_manager, company) -> None:
    """R3: every seller reads every timeline, but contacts are logged by the curator, deal owners, head."""
    with pytest.raises(AccessDenied):
        log(other_manager, company)
    assert not Activity.objects.exists()


@pytest.mark.parametrize("role", ["head", "admin_user"])
def test_head_of_sales_and_admin_log_on_any_client(request, role, company) -> None:
    actor = request.getfixturevalue(role)
    assert log(actor, company).author == actor


def test_finance_cannot_log(finance, company) -> None:
    with pytest.raises(AccessDenied):
        log(finance, company)


def test_refusal_names_every_bad_field_and_writes_nothing(manager, head, company) -> None:
    """D3: validation messages name the field; nothing is written on refusal."""
    other = company_factory(actor=head, curator=head)
    stranger = contact_factory(actor=head, company=other, full_name="Чужой Человек")
    other_deal = make_deal(other)
    gone = cast(User, UserFactory(username="gone", is_active=False))
    with pytest.raises(ValidationError) as exc:
        services.activity_create(
            actor=manager,
            company=company,
            kind="visit",
            occurred_at=timezone.now() + timedelta(days=2),
            deal=other_deal,
            contacts=[stranger],
            users=[gone],
            subject="x" * 301,
            next_step_on=timezone.localdate() + timedelta(days=1),
        )
    codes = field_codes(exc)
    assert codes["kind"] == ["invalid_choice"]
    assert codes["occurred_at"] == ["future"]
    assert codes["deal"] == ["other_company"]
    assert codes["contacts"] == ["other_company"]
    assert codes["users"] == ["inactive"]
    assert codes["subject"] == ["max_length"]
    assert codes["next_step"] == ["next_step_required"]
    assert "Чужой Человек" in str(exc.value.error_dict["contacts"][0].message)
    assert not Activity.objects.exists()
    assert not Activity.history.exists()
    assert not Task.objects.exists()


def test_when_is_required_and_past_next_step_refused(manager, company) -> None:
    with pytest.raises(ValidationError) as exc:
        services.activity_create(
            actor=manager,
            company=company,
            kind=ActivityKind.CALL,
            occurred_at=None,
            next_step="Позвонить",
            next_step_on=timezone.localdate() - timedelta(days=1),
        )
    assert field_codes(exc) == {"occurred_at": ["required"], "next_step_on": ["past_date"]}
    assert not Activity.objects.exists()


def test_a_few_minutes_ahead_is_accepted(manager, company) -> None:
    """A call logged as it ends, on a clock a little ahead, is not "in the future"."""
    assert log(manager, company, occurred_at=timezone.now() + timedelta(minutes=5)).pk


# Next step -> task ------------------------------------------------------------------------------------------


def test_next_step_with_a_date_becomes_the_authors_task(manager, company) -> None:
    """D3: the next step with its date becomes a task of the author, due that day at 10:00."""
    deal = make_deal(company)
    day = timezone.localdate() + timedelta(days=3)
    activity = log(manager, company, deal=deal, next_step="Отправить КП", next_step_on=day)
    task = Task.objects.get()
    assert task.activity == activity
    assert task.assignee == manager
    assert task.created_by == manager
    assert task.title == "Отправить КП"
    assert task.company == company and task.deal == deal
    assert timezone.localtime(task.due_at).date() == day
    assert timezone.localtime(task.due_at).hour == 10
    assert not task.done


def test_a_next_step_without_a_date_is_refused_and_nothing_is_written(manager, company) -> None:
    """D3: a next step has its date (it becomes a task that day); without one it would be lost."""
    with pytest.raises(ValidationError) as caught:
        log(manager, company, next_step="Когда-нибудь")
    assert caught.value.error_dict["next_step_on"][0].code == "next_step_date_required"
    assert not Activity.objects.exists() and not Task.objects.exists()


def test_editing_the_next_step_moves_its_open_task(manager, company) -> None:
    day = timezone.localdate() + timedelta(days=3)
    activity = log(manager, company, next_step="Отправить КП", next_step_on=day)
    task_id = Task.objects.get().pk
    services.activity_update(
        actor=manager, activity=activity, next_step="Отправить договор", next_step_on=day + timedelta(days=1)
    )
    task = Task.objects.get()
    assert task.pk == task_id
    assert task.title == "Отправить договор"
    assert timezone.localtime(task.due_at).date() == day + timedelta(days=1)


def test_clearing_the_next_step_withdraws_its_open_task(manager, company) -> None:
    activity = log(
        manager, company, next_step="Позвонить", next_step_on=timezone.localdate() + timedelta(days=1)
    )
    services.activity_update(actor=manager, activity=activity, next_step="", next_step_on=None)
    assert not Task.objects.exists()


def test_a_done_next_step_task_stays_done(manager, company) -> None:
    activity = log(
        manager, company, next_step="Позвонить", next_step_on=timezone.localdate() + timedelta(days=1)
    )
    services.task_complete(actor=manager, task=Task.objects.get(), done=True)
    services.activity_update(actor=manager, activity=activity, result="Позвонил")
    assert Task.objects.get().done
    # A new next step after the done one: a new open task, the done one kept.
    services.activity_update(
        actor=manager,
        activity=activity,
        next_step="Встреча",
        next_step_on=timezone.localdate() + timedelta(days=5),
    )
    assert Task.objects.filter(done=True).count() == 1
    assert Task.objects.get(done=False).activity == activity


# Editing ----------------------------------------------------------------------------------------------------


def test_author_edits_and_the_edit_is_kept_in_history(manager, company) -> None:
    """D3: only the author and the head of sales edit an entry, and edits are kept in history."""
    activity = log(manager, company, result="Было")
    updated = services.activity_update(actor=manager, activity=activity, expected_version=1, result="Стало")
    assert updated.result == "Стало"
    assert updated.version == 2
    records = list(Activity.history.filter(id=activity.pk).order_by("history_id"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert [r.result for r in records] == ["Было", "Стало"]
    assert records[1].history_user == manager


def test_head_edits_anyones_entry(manager, head, company) -> None:
    activity = log(manager, company)
    services.activity_update(actor=head, activity=activity, subject="Уточнено")
    assert Activity.history.filter(id=activity.pk, history_type="~").get().history_user == head


@pytest.mark.parametrize("role", ["other_manager", "senior_manager", "finance"])
def test_a_colleague_cannot_edit_someone_elses_entry(request, role, manager, company) -> None:
    """R3: reading is open, editing belongs to the author and the head of sales."""
    activity = log(manager, company, result="Было")
    with pytest.raises(AccessDenied):
        services.activity_update(actor=request.getfixturevalue(role), activity=activity, result="Стало")
    activity.refresh_from_db()
    assert activity.result == "Было"
    assert Activity.history.filter(id=activity.pk).count() == 1


def test_stale_version_is_a_conflict_and_writes_nothing(manager, head, company) -> None:
    activity = log(manager, company, result="Было")
    services.activity_update(actor=head, activity=activity, expected_version=1, result="Head")
    with pytest.raises(EditConflict):
        services.activity_update(actor=manager, activity=activity, expected_version=1, result="Manager")
    activity.refresh_from_db()
    assert activity.result == "Head"


def test_changing_participants_is_one_history_entry(manager, other_manager, company) -> None:
    a = contact_factory(actor=manager, company=company, full_name="Первый")
    b = contact_factory(actor=manager, company=company, full_name="Второй")
    activity = log(manager, company, contacts=[a], users=[manager])
    services.activity_update(actor=manager, activity=activity, contacts=[b], users=[manager, other_manager])
    records = list(Activity.history.filter(id=activity.pk).order_by("history_id"))
    assert len(records) == 2
    assert {r.contact_id for r in records[1].contacts.all()} == {b.pk}
    assert {r.user_id for r in records[1].users.all()} == {manager.pk, other_manager.pk}


def test_edit_without_changes_writes_no_history(manager, company) -> None:
    activity = log(manager, company, result="Так")
    services.activity_update(actor=manager, activity=activity, result="Так")
    assert Activity.history.filter(id=activity.pk).count() == 1


def test_an_old_past_next_step_does_not_block_other_edits(manager, company) -> None:
    """An entry whose next step date has passed can still be corrected without touching that date."""
    activity = log(manager, company, next_step="Позвонить", next_step_on=timezone.localdate())
    Activity.objects.filter(pk=activity.pk).update(next_step_on=date(2020, 1, 1))
    activity.refresh_from_db()
    services.activity_update(actor=manager, activity=activity, result="Исправлено")
    activity.refresh_from_db()
    assert activity.result == "Исправлено"


def test_update_rejects_unknown_fields(manager, company) -> None:
    activity = log(manager, company)
    with pytest.raises(TypeError):
        services.activity_update(actor=manager, activity=activity, author=manager)


def test_activity_contacts_of_other_company_refused_on_update(manager, head, company) -> None:
    other = company_factory(actor=head, curator=head)
    stranger: Contact = contact_factory(actor=head, company=other)
    activity = log(manager, company)
    with pytest.raises(ValidationError) as exc:
        services.activity_update(actor=manager, activity=activity, contacts=[stranger])
    assert field_codes(exc) == {"contacts": ["other_company"]}
    assert not activity.contacts.exists()


def test_occurred_at_accepts_iso_text(manager, company) -> None:
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    activity = log(manager, company, occurred_at=when.isoformat())
    assert activity.occurred_at == when
    naive = datetime(2025, 3, 1, 12, 0)
    assert log(manager, company, occurred_at=naive).occurred_at == timezone.make_aware(naive)


def test_a_next_step_later_today_is_due_at_the_end_of_the_day_not_overdue_at_once():
    """D3: a next step for today logged after 10:00 is due by the end of the day; another day's at 10:00."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from kurator.activities.services import next_step_due

    msk = ZoneInfo("Europe/Moscow")
    afternoon = datetime(2026, 11, 27, 15, 0, tzinfo=msk)
    assert next_step_due(date(2026, 11, 27), now=afternoon) == datetime(2026, 11, 27, 23, 59, tzinfo=msk)
    assert next_step_due(date(2026, 11, 28), now=afternoon) == datetime(2026, 11, 28, 10, 0, tzinfo=msk)
    morning = datetime(2026, 11, 27, 9, 0, tzinfo=msk)
    assert next_step_due(date(2026, 11, 27), now=morning).time() == time(10, 0)
