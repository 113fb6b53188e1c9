"""Contracts and obligations (D5): validation, status rules, versions, who may write (R3), history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kurator.core.errors import AccessDenied, EditConflict
from kurator.finance.models import Contract, Obligation
from kurator.finance.selectors.contracts import contract_history, contract_list, obligation_list
from kurator.finance.services.contracts import (
    contract_create,
    contract_set_status,
    contract_update,
    obligation_create,
    obligation_mark_done,
    obligation_reopen,
    obligation_update,
)
from kurator.finance.tests.factories_contracts import contract_factory, obligation_factory
from kurator.sales import services as sales_services
from tests.factories import company_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def codes(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str | None]]:
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


def snapshot() -> tuple[int, int, int, int]:
    return (
        Contract.objects.count(),
        Contract.history.count(),
        Obligation.objects.count(),
        Obligation.history.count(),
    )


def test_a_contract_is_registered_with_its_terms(manager, company):
    """D5: number, dates, terms and status are kept; money is Decimal; the history has the creation."""
    contract = contract_create(
        actor=manager,
        company=company,
        number=" 15/2026 ",
        subject="Поставка",
        amount="1 234 567,89",
        signed_on="2026-01-10",
        valid_from="2026-01-10",
        valid_until="2026-12-31",
        status="signed",
        payment_term_days="30",
        prepayment_percent="30,5",
        delivery_terms="DAP Москва",
    )
    contract.refresh_from_db()
    assert contract.number == "15/2026"
    assert contract.amount == Decimal("1234567.89")
    assert contract.prepayment_percent == Decimal("30.50")
    assert (contract.payment_term_days, contract.status, contract.version) == (30, "signed", 1)
    assert contract.created_by == manager
    assert contract.history.count() == 1


def test_every_bad_field_is_named_and_nothing_is_written(manager, company):
    """D5: an empty number, a zero amount, 101 % prepayment and a 400-day term are each named."""
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        contract_create(
            actor=manager,
            company=company,
            number="  ",
            amount="0",
            prepayment_percent="101",
            payment_term_days="400",
            status="bogus",
        )
    assert codes(caught) == {
        "number": ["required"],
        "amount": ["min_value"],
        "prepayment_percent": ["out_of_range"],
        "payment_term_days": ["out_of_range"],
        "status": ["invalid_choice"],
    }
    assert snapshot() == before


@pytest.mark.parametrize("amount", ["-5", "abc", "1.234"])
def test_negative_or_malformed_amounts_are_refused(manager, company, amount):
    """D5: an amount is greater than zero, in roubles with kopecks."""
    with pytest.raises(ValidationError) as caught:
        contract_create(actor=manager, company=company, number="1", amount=amount)
    assert "amount" in caught.value.error_dict
    assert not Contract.objects.exists()


def test_the_number_is_unique_per_client_with_a_clear_message(manager, company):
    """D5: two contracts of one client never share a number (case aside); another client may use it."""
    contract_factory(actor=manager, company=company, number="A-1")
    with pytest.raises(ValidationError) as caught:
        contract_create(actor=manager, company=company, number="a-1")
    assert caught.value.message_dict["number"] == ["This client already has a contract number a-1."]
    other = company_factory(actor=manager)
    assert contract_create(actor=manager, company=other, number="A-1").pk


def test_dates_out_of_order_are_refused(manager, company):
    """D5: execution or termination before signing, validity ending before it starts."""
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        contract_create(
            actor=manager,
            company=company,
            number="1",
            signed_on="2026-03-01",
            executed_on="2026-02-01",
            terminated_on="2026-02-15",
            valid_from="2026-03-01",
            valid_until="2026-02-28",
        )
    assert codes(caught) == {
        "executed_on": ["before_signing"],
        "terminated_on": ["before_signing"],
        "valid_until": ["order"],
    }
    assert caught.value.message_dict["executed_on"] == ["A contract cannot be executed before it is signed."]
    assert snapshot() == before


def test_each_status_needs_its_date(manager, company):
    """D5: signed and in execution need the signing date, executed the execution date, terminated the
    termination date."""
    for status, field in (
        ("signed", "signed_on"),
        ("in_execution", "signed_on"),
        ("terminated", "terminated_on"),
    ):
        with pytest.raises(ValidationError) as caught:
            contract_create(actor=manager, company=company, number="1", status=status)
        assert codes(caught) == {field: ["required"]}
    with pytest.raises(ValidationError) as caught:
        contract_create(actor=manager, company=company, number="1", status="executed", signed_on="2026-01-01")
    assert codes(caught) == {"executed_on": ["required"]}
    assert not Contract.objects.exists()


def test_the_deal_must_be_of_the_same_client(manager, company):
    """D5: a contract is tied only to a deal of its own client."""
    other = company_factory(actor=manager)
    foreign = sales_services.deal_create(actor=manager, company=other)
    with pytest.raises(ValidationError) as caught:
        contract_create(actor=manager, company=company, number="1", deal=foreign)
    assert codes(caught) == {"deal": ["other_client"]}
    with pytest.raises(ValidationError) as caught:
        contract_create(actor=manager, company=company, number="1", deal=987654)
    assert codes(caught) == {"deal": ["invalid_choice"]}
    own = sales_services.deal_create(actor=manager, company=company)
    assert contract_create(actor=manager, company=company, number="1", deal=own.pk).deal == own


def test_who_may_keep_contracts(manager, other_manager, senior_manager, head, finance, admin_user, company):
    """R3, D5: the curator and the head of sales (and the administrator) keep contracts; another manager,
    finance and a senior manager who does not work with the client read only."""
    for outsider in (other_manager, senior_manager, finance):
        with pytest.raises(AccessDenied):
            contract_create(actor=outsider, company=company, number="X")
    assert not Contract.objects.exists()
    contract = contract_factory(actor=head, company=company)
    contract_update(actor=admin_user, contract=contract, subject="Админ")
    contract_update(actor=manager, contract=contract, subject="Куратор")
    with pytest.raises(AccessDenied):
        contract_update(actor=other_manager, contract=contract, subject="Чужой")
    contract.refresh_from_db()
    assert contract.subject == "Куратор"


def test_the_deal_owner_may_keep_the_deal_contract(manager, other_manager, head, company):
    """R3: the co-owner of the client's deal works with the client and keeps the deal's contract."""
    deal = sales_services.deal_create(actor=manager, company=company)
    sales_services.deal_update(actor=head, deal=deal, co_owner=other_manager)
    contract = contract_factory(actor=manager, company=company, deal=deal)
    contract_update(actor=other_manager, contract=contract, subject="Соисполнитель")
    assert Contract.objects.get(pk=contract.pk).subject == "Соисполнитель"


def test_a_stale_version_is_an_edit_conflict(manager, company):
    """D5: of two people editing the same contract, the second gets an edit conflict (409)."""
    contract = contract_factory(actor=manager, company=company)
    contract_update(actor=manager, contract=contract, expected_version=1, subject="Первый")
    with pytest.raises(EditConflict):
        contract_update(actor=manager, contract=contract, expected_version=1, subject="Второй")
    contract.refresh_from_db()
    assert (contract.subject, contract.version) == ("Первый", 2)


def test_an_update_checks_the_dates_against_what_is_kept(manager, company):
    """D5: an execution date before the signing date already on the contract is refused; nothing changes."""
    contract = contract_factory(actor=manager, company=company, status="signed", signed_on="2026-03-01")
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        contract_update(actor=manager, contract=contract, status="executed", executed_on="2026-02-01")
    assert codes(caught) == {"executed_on": ["before_signing"]}
    with pytest.raises(ValidationError) as caught:
        contract_update(actor=manager, contract=contract, signed_on=None)
    assert codes(caught) == {"signed_on": ["required"]}
    assert snapshot() == before
    contract.refresh_from_db()
    assert (contract.status, contract.version) == ("signed", 1)


def test_status_changes_record_their_date(manager, company):
    """D5: signing, executing and terminating set their dates (today unless given), kept in the history."""
    contract = contract_factory(actor=manager, company=company)
    contract = contract_set_status(actor=manager, contract=contract, status="signed", on="2026-01-10")
    assert contract.signed_on == date(2026, 1, 10)
    contract = contract_set_status(actor=manager, contract=contract, status="in_execution")
    assert contract.signed_on == date(2026, 1, 10)
    contract = contract_set_status(actor=manager, contract=contract, status="executed")
    assert contract.executed_on == timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        contract_set_status(actor=manager, contract=contract, status="terminated", on="2025-12-01")
    assert codes(caught) == {"terminated_on": ["before_signing"]}


def test_the_history_keeps_old_and_new_values(manager, company):
    """D5: the contract's history of changes, old → new, with its obligations' changes."""
    contract = contract_factory(actor=manager, company=company, amount="1000", payment_term_days=10)
    contract_update(actor=manager, contract=contract, amount="2000", payment_term_days=30, reason="ДС №1")
    obligation_factory(actor=manager, contract=contract, description="Отгрузить")
    entries = contract_history(contract=contract)
    assert [e.object_type for e in entries] == ["obligation", "contract", "contract"]
    change = {c.field: (c.old, c.new) for c in entries[1].changes}
    assert change["amount"] == (Decimal("1000.00"), Decimal("2000.00"))
    assert change["payment_term_days"] == (10, 30)
    assert entries[1].reason == "ДС №1"
    assert entries[1].user == manager


# Obligations ----------------------------------------------------------------------------------------------


def test_an_obligation_needs_whose_what_and_when(manager, company):
    """D5: party, description and due date are required; a done date is not in the future; nothing is
    written on a refusal."""
    contract = contract_factory(actor=manager, company=company)
    before = snapshot()
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        obligation_create(
            actor=manager, contract=contract, party="them", description=" ", due_on="", done_on=tomorrow
        )
    assert codes(caught) == {
        "party": ["invalid_choice"],
        "description": ["required"],
        "due_on": ["required"],
        "done_on": ["future"],
    }
    with pytest.raises(ValidationError) as caught:
        obligation_create(
            actor=manager, contract=contract, party="ours", description="x", due_on="2026-02-30"
        )
    assert codes(caught) == {"due_on": ["invalid_date"]}
    assert snapshot() == before


def test_the_responsible_is_an_active_user(manager, other_manager, company):
    """D5: whoever is named responsible for an obligation is an active user."""
    contract = contract_factory(actor=manager, company=company)
    kept = obligation_factory(actor=manager, contract=contract, responsible=other_manager)
    other_manager.is_active = False
    other_manager.save()
    with pytest.raises(ValidationError) as caught:
        obligation_factory(actor=manager, contract=contract, responsible=other_manager.pk)
    assert codes(caught) == {"responsible": ["invalid_choice"]}
    # Who has left stays responsible for what they already answered for.
    kept = obligation_update(actor=manager, obligation=kept, responsible=other_manager, description="Ещё")
    assert (kept.responsible, kept.description) == (other_manager, "Ещё")


def test_overdue_obligations_of_both_sides_are_flagged_alike(manager, company):
    """D5: an obligation not done and due before today is overdue — ours as well as the client's; done
    ones and ones due today are not."""
    today = timezone.localdate()
    contract = contract_factory(actor=manager, company=company)
    ours = obligation_factory(
        actor=manager, contract=contract, party="ours", due_on=today - timedelta(days=1)
    )
    theirs = obligation_factory(
        actor=manager, contract=contract, party="client", due_on=today - timedelta(days=5)
    )
    obligation_factory(actor=manager, contract=contract, due_on=today)
    done = obligation_factory(actor=manager, contract=contract, due_on=today - timedelta(days=9))
    obligation_mark_done(actor=manager, obligation=done)
    overdue = list(obligation_list(actor=manager, filters={"overdue": True}))
    assert {o.pk for o in overdue} == {ours.pk, theirs.pk}
    (row,) = contract_list(actor=manager, filters={"company": company.pk})
    assert (getattr(row, "overdue_obligations"), getattr(row, "open_obligations")) == (2, 3)  # noqa: B009


def test_mark_done_and_reopen(manager, other_manager, company):
    """D5: an obligation is marked done (today by default), cannot be marked twice, and reopens; another
    manager may not touch it; a stale version is a conflict."""
    contract = contract_factory(actor=manager, company=company)
    obligation = obligation_factory(actor=manager, contract=contract)
    with pytest.raises(AccessDenied):
        obligation_mark_done(actor=other_manager, obligation=obligation)
    obligation = obligation_mark_done(actor=manager, obligation=obligation, expected_version=1)
    assert obligation.done_on == timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        obligation_mark_done(actor=manager, obligation=obligation)
    assert codes(caught) == {"done_on": ["already_done"]}
    with pytest.raises(EditConflict):
        obligation_reopen(actor=manager, obligation=obligation, expected_version=1)
    obligation = obligation_reopen(actor=manager, obligation=obligation, expected_version=2)
    assert obligation.done_on is None
    with pytest.raises(ValidationError):
        obligation_reopen(actor=manager, obligation=obligation)


def test_an_obligation_is_edited_with_its_version(manager, company):
    """D5: an edit changes what it names; a stale version is refused."""
    contract = contract_factory(actor=manager, company=company)
    obligation = obligation_factory(actor=manager, contract=contract)
    obligation = obligation_update(
        actor=manager, obligation=obligation, expected_version=1, party="client", due_on="2026-05-01"
    )
    assert (obligation.party, obligation.due_on, obligation.version) == ("client", date(2026, 5, 1), 2)
    with pytest.raises(EditConflict):
        obligation_update(actor=manager, obligation=obligation, expected_version=1, description="x")
