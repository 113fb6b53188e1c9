"""D6: promised payment dates that pass unpaid are flagged to the curator, once."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from kurator.activities.models import Notification
from kurator.activities.reminders import JOBS
from kurator.finance.models import CollectionAction
from kurator.finance.reminders import remind_broken_promises
from kurator.finance.services.receivables import collection_action_create
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory

pytestmark = pytest.mark.django_db


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 9, 0))


def promise(actor, company, promised_on: date, invoice=None) -> CollectionAction:
    return collection_action_create(
        actor=actor,
        company=company,
        kind="promise",
        happened_on=date(2025, 3, 1),
        promised_on=promised_on,
        invoice=invoice,
    )


def test_job_is_registered():
    """D6: the job runs with the other reminders."""
    assert JOBS["broken_promises"] is remind_broken_promises


def test_a_promise_passing_unpaid_is_broken_and_the_curator_is_told_once(manager, finance, company):
    """D6: promised 10 Mar, invoice unpaid on 11 Mar → broken, one notice to the curator; a second run
    sends nothing."""
    invoice = invoice_factory(actor=finance, company=company, issued_on=date(2025, 2, 1))
    action = promise(finance, company, date(2025, 3, 10), invoice)
    assert remind_broken_promises(now=at(date(2025, 3, 10))) == 0  # the day itself is still in time
    assert remind_broken_promises(now=at(date(2025, 3, 11))) == 1
    action.refresh_from_db()
    assert action.promise_kept is False
    notice = Notification.objects.get(recipient=manager)
    assert invoice.number in notice.text and notice.kind == "promise_broken"
    assert remind_broken_promises(now=at(date(2025, 3, 12))) == 0
    assert Notification.objects.count() == 1


def test_paid_in_time_is_kept_and_paid_late_is_broken(manager, finance, company):
    """D6: invoice A paid on 9 Mar (promise 10 Mar) → kept; invoice B paid 12 Mar (promise 10 Mar) → broken
    when the job runs on 13 Mar."""
    a = invoice_factory(actor=finance, company=company, amount="100")
    b = invoice_factory(actor=finance, company=company, amount="100")
    kept = promise(finance, company, date(2025, 3, 10), a)
    late = promise(finance, company, date(2025, 3, 10), b)
    payment_factory(
        actor=finance, company=company, amount="100", paid_on=date(2025, 3, 9), allocations=[(a, "100")]
    )
    payment_factory(
        actor=finance, company=company, amount="100", paid_on=date(2025, 3, 12), allocations=[(b, "100")]
    )
    assert remind_broken_promises(now=at(date(2025, 3, 13))) == 1
    kept.refresh_from_db()
    late.refresh_from_db()
    assert (kept.promise_kept, late.promise_kept) == (True, False)


def test_promise_without_invoice_looks_at_the_clients_debt_due_before_the_date(manager, finance, company):
    """D6: without an invoice, the promise is broken while an invoice due before the promised date is open."""
    invoice_factory(
        actor=finance, company=company, issued_on=date(2025, 2, 1), due_on=date(2025, 2, 15), amount="50"
    )
    open_debt = promise(finance, company, date(2025, 3, 10))
    assert remind_broken_promises(now=at(date(2025, 3, 11))) == 1
    open_debt.refresh_from_db()
    assert open_debt.promise_kept is False
