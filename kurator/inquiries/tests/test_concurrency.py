"""R2: twenty inquiries with the same new INN arriving at the same moment make exactly one company with one
curator — real threads, each with its own database connection, released together by a barrier."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from kurator.companies.models import Company
from kurator.inquiries import services
from kurator.inquiries.models import Inquiry

THREADS = 20
NEW_INN = "7707083893"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs a server database: SQLite's test database is one shared in-memory cache whose table locks "
            "fail at once ('database table is locked') instead of waiting; a file database serialises "
            "writers with BEGIN IMMEDIATE"
        ),
    ),
]


def _run_together(target: Any) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            target(index)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def test_twenty_simultaneous_inquiries_with_one_new_inn_make_one_company(
    manager, other_manager, senior_manager
):
    """R2: one company, one curator; every inquiry attached to it."""

    def arrive(index: int) -> None:
        services.inquiry_create(
            actor=None,
            channel="web_form",
            company_name=f"ООО «Одновременная {index}»",
            inn=NEW_INN,
            phone=f"+7 916 000-00-{index:02d}",
        )

    errors = _run_together(arrive)
    assert errors == []
    company = Company.objects.get(inn=NEW_INN)
    inquiries = list(Inquiry.objects.all())
    assert len(inquiries) == THREADS
    assert {i.company_id for i in inquiries} == {company.pk}
    assert {i.curator_id for i in inquiries} == {company.curator_id}
    # One of them opened the prospect; the nineteen others found it by its INN.
    assert sorted(i.match_confidence for i in inquiries).count("certain") == THREADS - 1


def test_twenty_simultaneous_inquiries_with_one_new_name_and_phone_make_one_company(manager, other_manager):
    """R2: without an INN the lock is on the normalised name: one prospect, one curator."""

    def arrive(index: int) -> None:
        services.inquiry_create(
            actor=None, channel="web_form", company_name='ООО "Синхрон"', phone="+7 916 000-00-01"
        )

    errors = _run_together(arrive)
    assert errors == []
    assert Company.objects.filter(sort_name="синхрон").count() == 1
    assert Inquiry.objects.values("company_id", "curator_id").distinct().count() == 1
