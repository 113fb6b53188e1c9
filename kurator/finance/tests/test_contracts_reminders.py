"""The overdue-obligation reminder (D5): ours and the client's alike, to the curator and the responsible
person, once per obligation and due date — running twice sends once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from kurator.activities.models import Notification
from kurator.activities.reminders import JOBS
from kurator.finance.reminders import KIND_OBLIGATION_OVERDUE, remind_overdue_obligations
from kurator.finance.services.contracts import obligation_mark_done, obligation_update
from kurator.finance.tests.factories_contracts import contract_factory, obligation_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def notices(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=KIND_OBLIGATION_OVERDUE).order_by("id"))


def test_overdue_obligations_are_told_once_to_the_curator_and_the_responsible(manager, finance, company):
    """D5: our overdue obligation and the client's both reach the curator; the responsible person (finance
    here) hears of the one they answer for; a second run sends nothing; done and not-yet-due ones are
    quiet."""
    now = timezone.now()
    today = timezone.localdate(now)
    contract = contract_factory(actor=manager, company=company, number="7-Д")
    ours = obligation_factory(
        actor=manager,
        contract=contract,
        party="ours",
        description="Отгрузить",
        due_on=today - timedelta(days=2),
        responsible=finance,
    )
    obligation_factory(
        actor=manager,
        contract=contract,
        party="client",
        description="Аванс",
        due_on=today - timedelta(days=1),
    )
    obligation_factory(actor=manager, contract=contract, due_on=today)
    done = obligation_factory(actor=manager, contract=contract, due_on=today - timedelta(days=5))
    obligation_mark_done(actor=manager, obligation=done)

    assert remind_overdue_obligations(now=now) == 3
    texts = [n.text for n in notices(manager)]
    assert texts[0].startswith("Our obligation is overdue: “Отгрузить” under contract 7-Д")
    assert texts[1].startswith("The client's obligation is overdue: “Аванс” under contract 7-Д")
    assert ours.due_on.strftime("%Y") in texts[0]
    assert len(texts) == 2
    assert [n.url for n in notices(finance)] == [f"/finance/contracts/{contract.pk}/"]
    assert remind_overdue_obligations(now=now) == 0
    assert Notification.objects.filter(kind=KIND_OBLIGATION_OVERDUE).count() == 3


def test_a_new_due_date_missed_again_reminds_again(manager, company):
    """D5: the key is the obligation and its due date."""
    now = timezone.now()
    today = timezone.localdate(now)
    contract = contract_factory(actor=manager, company=company)
    obligation = obligation_factory(actor=manager, contract=contract, due_on=today - timedelta(days=3))
    assert remind_overdue_obligations(now=now) == 1
    obligation_update(actor=manager, obligation=obligation, due_on=today - timedelta(days=1))
    assert remind_overdue_obligations(now=now) == 1
    assert remind_overdue_obligations(now=now) == 0


def test_the_job_is_registered():
    """D5: the scheduler runs it with the other reminders."""
    assert JOBS["overdue_obligations"] is remind_overdue_obligations
