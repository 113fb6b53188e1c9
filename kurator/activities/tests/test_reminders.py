"""Reminder jobs (D10, R1, R2): who gets what, once — in the app and by e-mail — at a bounded query cost."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any, cast

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kurator.accounts.models import Role, User
from kurator.activities import reminders
from kurator.activities.models import Notification, Task
from kurator.activities.services import notify
from kurator.companies.models import Company, Contact
from kurator.inquiries.models import Inquiry, InquiryStatus
from kurator.sales.models import Deal, Stage, StageVisit
from kurator.sales.services import deal_create
from tests.factories import UserFactory, company_factory, contact_factory

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
NOW = datetime(2027, 2, 21, 10, 0, tzinfo=MSK)  # 2027 is a common year: no 29 February


_capture: list[Any] = []


@pytest.fixture(autouse=True)
def _mail_and_days(settings, manager: User, django_capture_on_commit_callbacks) -> None:
    settings.KURATOR_BIRTHDAY_REMINDER_DAYS = 7
    settings.LANGUAGE_CODE = "en"
    manager.email = "manager@example.com"
    manager.save()
    _capture[:] = [django_capture_on_commit_callbacks]


def run(job: Any, now: datetime = NOW) -> int:
    """Run a job the way the scheduler does (outside a transaction): its e-mails leave after the commit."""
    with _capture[0](execute=True):
        return int(job(now=now))


def notices(user: User, kind: str | None = None) -> list[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("id"))


def make_task(user: User, due: datetime, **fields: Any) -> Task:
    return Task.objects.create(title=fields.pop("title", "Call back"), assignee=user, due_at=due, **fields)


# --- tasks -----------------------------------------------------------------------------------------------


def test_task_due_today_and_overdue_task_remind_the_assignee_once(
    manager, other_manager, company, django_capture_on_commit_callbacks
):
    """D10: an open task due today and an overdue one reach the assignee in the app and by e-mail, once."""
    make_task(manager, NOW + timedelta(hours=5), title="Send the offer", company=company)
    make_task(manager, NOW - timedelta(days=3), title="Call the director")
    make_task(manager, NOW + timedelta(days=2), title="Later")
    done = make_task(manager, NOW - timedelta(days=1), title="Done already")
    done.done, done.done_at = True, NOW
    done.save()
    make_task(other_manager, NOW + timedelta(hours=1), title="Not mine")
    make_task(manager, NOW - timedelta(days=45), title="Forgotten long ago")  # My day shows it; no reminder

    assert run(reminders.remind_tasks_due) == 3
    texts = [n.text for n in notices(manager, "task_due")]
    assert len(texts) == 2
    assert any("Overdue" in t and "Call the director" in t for t in texts)
    assert any("Due today" in t and "Send the offer" in t and str(company) in t for t in texts)
    assert len(notices(other_manager)) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@example.com"] * 2  # other_manager has no e-mail

    assert run(reminders.remind_tasks_due) == 0
    assert run(reminders.remind_tasks_due, NOW + timedelta(hours=8)) == 0
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 2


def test_rescheduled_task_is_reminded_again_for_its_new_date(manager, django_capture_on_commit_callbacks):
    """D10: the key is the task and its due date: moving the task to another day reminds again."""
    task = make_task(manager, NOW + timedelta(hours=1))
    assert run(reminders.remind_tasks_due) == 1
    task.due_at = NOW + timedelta(days=1)
    task.save()
    later = NOW + timedelta(days=1)
    assert run(reminders.remind_tasks_due, later) == 1
    assert [n.dedup_key for n in notices(manager)] == [
        f"next-step:task:{task.pk}:2027-02-21",
        f"next-step:task:{task.pk}:2027-02-22",
    ]


def test_task_reminders_cost_the_same_queries_for_one_or_many_tasks(
    manager, django_capture_on_commit_callbacks
):
    """D10: a fixed number of queries; the tasks already reminded are left out by the database."""

    def queries_of_a_repeat_run(n: int) -> int:
        for i in range(n):
            make_task(manager, NOW - timedelta(hours=i + 1))
        run(reminders.remind_tasks_due)
        with CaptureQueriesContext(connection) as ctx:
            assert run(reminders.remind_tasks_due) == 0
        return len(ctx.captured_queries)

    # One SELECT (on PostgreSQL wrapped in a savepoint that turns JIT off: four statements).
    assert queries_of_a_repeat_run(1) == queries_of_a_repeat_run(20) <= 4


# --- birthdays -------------------------------------------------------------------------------------------


def with_founding(company: Company, founded: date) -> Company:
    Company.objects.filter(pk=company.pk).update(founded_on=founded)
    company.refresh_from_db()
    return company


def test_company_birthday_is_reminded_n_days_ahead_and_on_the_day(
    manager, company, django_capture_on_commit_callbacks
):
    """D10: the curator hears of the client's birthday KURATOR_BIRTHDAY_REMINDER_DAYS ahead and on the day."""
    with_founding(company, date(2002, 2, 26))
    assert run(reminders.remind_birthdays, NOW - timedelta(days=3)) == 0
    assert run(reminders.remind_birthdays, NOW) == 1
    ahead = notices(manager, "birthday")[0]
    assert ahead.dedup_key == f"birthday:company:{company.pk}:2027"
    assert "In 5 days" in ahead.text and "turns 25" in ahead.text and str(company) in ahead.text
    assert ahead.url == f"/companies/{company.pk}/"
    assert run(reminders.remind_birthdays, NOW + timedelta(days=1)) == 0
    on_the_day = datetime(2027, 2, 26, 9, 0, tzinfo=MSK)
    assert run(reminders.remind_birthdays, on_the_day) == 1
    assert run(reminders.remind_birthdays, on_the_day) == 0
    assert "Today" in notices(manager, "birthday")[1].text
    assert len(mail.outbox) == 2
    assert "turns 25" in mail.outbox[0].body and mail.outbox[0].to == ["manager@example.com"]


def test_birthday_window_follows_the_setting(settings, manager, company, django_capture_on_commit_callbacks):
    """D10: N is a setting — with N=2 a birthday 5 days away is not reminded yet."""
    settings.KURATOR_BIRTHDAY_REMINDER_DAYS = 2
    with_founding(company, date(2002, 2, 26))
    assert run(reminders.remind_birthdays) == 0
    assert run(reminders.remind_birthdays, NOW + timedelta(days=3)) == 1


def test_leaders_birthdays_reach_the_curator_but_not_other_people(
    manager, company, django_capture_on_commit_callbacks
):
    """D10: the birthdays of the client's leaders who still work there; not of other people."""
    boss = contact_factory(actor=manager, company=company, full_name="Орлов Глеб", is_leader=True)
    left = contact_factory(actor=manager, company=company, full_name="Ушедший Директор", is_leader=True)
    clerk = contact_factory(actor=manager, company=company, full_name="Просто Сотрудник")
    Contact.objects.filter(pk__in=[boss.pk, left.pk, clerk.pk]).update(birthday=date(1970, 2, 23))
    Contact.objects.filter(pk=left.pk).update(is_active=False)
    assert run(reminders.remind_birthdays) == 1
    notice = notices(manager, "birthday")[0]
    assert notice.dedup_key == f"birthday:contact:{boss.pk}:2027"
    assert "Орлов Глеб" in notice.text and str(company) in notice.text


def test_29_february_is_kept_on_28_february_in_a_common_year(
    manager, company, django_capture_on_commit_callbacks
):
    """D10: a birthday on 29 February is reminded for 28 February when the year has no 29th."""
    with_founding(company, date(2000, 2, 29))
    assert run(reminders.remind_birthdays, NOW) == 1  # 28.02 is 7 days on
    assert "In 7 days" in notices(manager)[0].text
    feb_28 = datetime(2027, 2, 28, 8, 0, tzinfo=MSK)
    assert run(reminders.remind_birthdays, feb_28) == 1
    assert notices(manager)[1].dedup_key == f"birthday:company:{company.pk}:2027:today"
    # In a leap year it is kept on the 29th itself.
    leap_28 = datetime(2028, 2, 28, 8, 0, tzinfo=MSK)
    assert run(reminders.remind_birthdays, leap_28) == 1
    assert "In 1 day" in notices(manager)[2].text


def test_birthday_after_new_year_counts_in_the_next_year(
    manager, company, django_capture_on_commit_callbacks
):
    """D10: on 28 December a birthday on 2 January is the next year's."""
    with_founding(company, date(1999, 1, 2))
    assert run(reminders.remind_birthdays, datetime(2027, 12, 28, 9, tzinfo=MSK)) == 1
    assert notices(manager)[0].dedup_key == f"birthday:company:{company.pk}:2028"


def test_merged_companies_are_skipped(manager, company, django_capture_on_commit_callbacks):
    """D10: a merged duplicate's birthday is not reminded (the survivor's is)."""
    survivor = company_factory(actor=manager)
    with_founding(company, date(2002, 2, 23))
    Company.objects.filter(pk=company.pk).update(merged_into=survivor)
    boss = contact_factory(actor=manager, company=company, is_leader=True)
    Contact.objects.filter(pk=boss.pk).update(birthday=date(1970, 2, 23))
    assert run(reminders.remind_birthdays) == 0


# --- stuck deals -----------------------------------------------------------------------------------------


def make_deal(
    company: Company, owner: User, *, days: int, stage_code: str = "acquaintance", **fields: Any
) -> Deal:
    """A deal opened by the sales service (S3), its stay in the stage moved ``days`` back from NOW."""
    deal = deal_create(actor=owner, company=company, title=fields.pop("title", "Поставка"))
    assert deal.owner == owner
    stage = Stage.objects.get(pipeline=deal.pipeline, code=stage_code)
    entered = NOW - timedelta(days=days)
    Deal.objects.filter(pk=deal.pk).update(stage=stage, stage_entered_at=entered, **fields)
    StageVisit.objects.filter(deal=deal).update(stage=stage, entered_at=entered)
    deal.refresh_from_db()
    return deal


def test_deal_stuck_longer_than_its_stage_allows_reminds_owner_and_co_owner_once(
    manager, senior_manager, company, django_capture_on_commit_callbacks
):
    """R1: a deal over the stage's longest stay (acquaintance: 14 days) — owner and co-owner, once."""
    stuck = make_deal(company, manager, days=15, title="Застряла", co_owner=senior_manager)
    make_deal(company, manager, days=13, title="В срок")
    make_deal(company, manager, days=400, stage_code="won", title="Выиграна")
    assert run(reminders.remind_stuck_deals) == 2
    visit = StageVisit.objects.get(deal=stuck)
    for user in (manager, senior_manager):
        (notice,) = notices(user, "deal_stuck")
        assert notice.dedup_key == f"stuck:deal:{stuck.pk}:visit:{visit.pk}"
        assert notice.url == reverse("sales:detail", args=[stuck.pk])
        assert "Застряла" in notice.text and "15 days" in notice.text and "allows 14" in notice.text
    assert run(reminders.remind_stuck_deals) == 0
    assert len(mail.outbox) == 1  # the senior manager has no e-mail address
    # Three days on, the other deal is over its 14 days too; the first one is not reminded again.
    assert run(reminders.remind_stuck_deals, NOW + timedelta(days=3)) == 1
    assert "В срок" in notices(manager, "deal_stuck")[-1].text
    assert len(notices(senior_manager)) == 1


def test_a_new_stay_in_a_stage_is_reminded_again(manager, company, django_capture_on_commit_callbacks):
    """R1: the key is the stay: a deal moved on and stuck again in the next stage is reminded again."""
    deal = make_deal(company, manager, days=40)
    assert run(reminders.remind_stuck_deals) == 1
    negotiations = Stage.objects.get(pipeline=deal.pipeline, code="negotiations")
    StageVisit.objects.filter(deal=deal).update(left_at=NOW - timedelta(days=31))
    StageVisit.objects.create(deal=deal, stage=negotiations, entered_at=NOW - timedelta(days=31))
    Deal.objects.filter(pk=deal.pk).update(stage=negotiations, stage_entered_at=NOW - timedelta(days=31))
    assert run(reminders.remind_stuck_deals) == 1
    assert len(notices(manager, "deal_stuck")) == 2


# --- inquiries -------------------------------------------------------------------------------------------


def make_inquiry(**fields: Any) -> Inquiry:
    defaults: dict[str, Any] = {
        "channel": "phone",
        "company_name": "ООО «Запрос»",
        "received_at": NOW - timedelta(hours=3),
        "respond_by": NOW - timedelta(hours=1),
        "status": InquiryStatus.NEW,
    }
    defaults.update(fields)
    return Inquiry.objects.create(**defaults)


def test_inquiry_not_taken_in_time_reminds_its_curator_once(
    manager, other_manager, head, company, django_capture_on_commit_callbacks
):
    """R1, R2: a new inquiry past its deadline — its curator, or the curator of its company; once."""
    mine = make_inquiry(curator=manager)
    of_my_client = make_inquiry(company=company, company_name="")
    make_inquiry(curator=other_manager, respond_by=NOW + timedelta(hours=1))  # not late yet
    make_inquiry(curator=other_manager, status=InquiryStatus.TAKEN, taken_at=NOW, taken_by=other_manager)
    assert run(reminders.remind_late_inquiries) == 2
    keys = {n.dedup_key for n in notices(manager, "inquiry_late")}
    assert keys == {f"inquiry-late:{mine.pk}", f"inquiry-late:{of_my_client.pk}"}
    assert all("not taken in time" in n.text for n in notices(manager))
    assert notices(manager)[0].url == f"/inquiries/{mine.pk}/"
    assert notices(other_manager) == [] and notices(head) == []
    assert run(reminders.remind_late_inquiries) == 0
    assert len(mail.outbox) == 2


def test_inquiry_without_curator_goes_to_the_active_heads_of_sales(head, django_capture_on_commit_callbacks):
    """R2: nobody to remind but the heads of sales (active ones)."""
    retired = cast(User, UserFactory(username="old_head", role=Role.HEAD_OF_SALES, is_active=False))
    inquiry = make_inquiry()
    assert run(reminders.remind_late_inquiries) == 1
    assert [n.dedup_key for n in notices(head)] == [f"inquiry-late:{inquiry.pk}"]
    assert notices(retired) == []
    assert run(reminders.remind_late_inquiries) == 0


# --- all jobs, e-mail ------------------------------------------------------------------------------------


def test_run_reminders_runs_every_job_and_twice_sends_nothing_twice(
    manager, company, django_capture_on_commit_callbacks
):
    """D10, R1, R2: the whole run is idempotent — notifications and e-mails alike."""
    make_task(manager, NOW)
    with_founding(company, date(2010, 2, 21))
    make_deal(company, manager, days=20)
    make_inquiry(curator=manager)
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.run_reminders(NOW)
    assert first == {
        **dict.fromkeys(reminders.JOBS, 0),
        "tasks_due": 1,
        "birthdays": 1,
        "stuck_deals": 1,
        "late_inquiries": 1,
    }
    with django_capture_on_commit_callbacks(execute=True):
        second = reminders.run_reminders(NOW)
    assert second == dict.fromkeys(reminders.JOBS, 0)
    assert Notification.objects.filter(recipient=manager).count() == 4
    assert len(mail.outbox) == 4


def test_a_failing_job_does_not_stop_the_others(monkeypatch, manager, django_capture_on_commit_callbacks):
    """D10: one broken job is logged and raised at the end; the others still ran."""

    def broken(*, now: datetime | None = None) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(reminders.JOBS, "birthdays", broken)
    make_task(manager, NOW)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        reminders.run_reminders(NOW)
    assert len(notices(manager, "task_due")) == 1


def test_notify_with_email_sends_after_commit_and_only_for_a_new_row(
    manager, django_capture_on_commit_callbacks
):
    """R2: notify(email=True) e-mails once — the retried notice with the same key sends nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=manager, kind="test", text="Hello", url="/x/", dedup_key="k1", email=True)
        notify(recipient=manager, kind="test", text="Hello", url="/x/", dedup_key="k1", email=True)
        notify(recipient=manager, kind="test", text="In-app only", dedup_key="k2")
    assert len(notices(manager)) == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Kurator: Hello"
    assert "http://127.0.0.1:8000/x/" in message.body


def test_nothing_is_notified_when_the_transaction_rolls_back(manager, django_capture_on_commit_callbacks):
    """R2: the notice and its e-mail leave only after the commit."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipient=manager, kind="test", text="Hello", email=True)
    assert notices(manager) == [] and mail.outbox == []
    assert len(callbacks) == 1


def test_a_mail_server_failure_keeps_the_notification(
    monkeypatch, manager, django_capture_on_commit_callbacks
):
    """R2: SMTP down — the in-app notice is stored, the error logged, the job goes on."""

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise OSError("connection refused")

    monkeypatch.setattr("kurator.activities.services.send_mail", refuse)
    make_task(manager, NOW)
    assert run(reminders.remind_tasks_due) == 1
    assert len(notices(manager)) == 1


def test_a_repeat_run_of_every_job_costs_the_same_queries_for_few_or_many_rows(manager) -> None:
    """D10, R1, R2: set-based jobs — a run finding everything already reminded reads a fixed number of queries
    (and writes nothing), with one client or with many."""

    def add(n: int) -> None:
        for i in range(n):
            c = company_factory(actor=manager)
            with_founding(c, date(2000 + i, 2, 23))
            boss = contact_factory(actor=manager, company=c, is_leader=True)
            Contact.objects.filter(pk=boss.pk).update(birthday=date(1970, 2, 24))
            make_task(manager, NOW - timedelta(hours=i + 1), company=c)
            make_deal(c, manager, days=20 + i)
            make_inquiry(curator=manager, company=c)

    def queries_of_a_repeat_run() -> int:
        with _capture[0](execute=True):
            reminders.run_reminders(NOW)
        with CaptureQueriesContext(connection) as ctx:
            assert reminders.run_reminders(NOW) == dict.fromkeys(reminders.JOBS, 0)
        return len(ctx.captured_queries)

    add(1)
    one = queries_of_a_repeat_run()
    add(8)
    # A few queries a job (each new job adds its own), the same for one row or many.
    assert queries_of_a_repeat_run() == one <= 4 * len(reminders.JOBS)
