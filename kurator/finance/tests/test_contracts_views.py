"""The contract pages across roles (D5, R3): the dossier tab with constant queries, the forms, the contract
page with its obligations (overdue ones flagged alike for both sides), history, the deal page's card (R1)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.accounts.models import User
from kurator.finance.models import Contract, Obligation
from kurator.finance.tests.factories_contracts import contract_factory, obligation_factory
from kurator.sales import services as sales_services

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return unescape(response.content.decode())


def tab_url(company: Any) -> str:
    return reverse("finance:company_contracts", args=[company.pk])


def test_the_tab_lists_contracts_with_overdue_counts(manager, company):
    """D5: number, subject, status, dates, amount, payment term and the overdue obligations (ours too)."""
    late = timezone.localdate() - timedelta(days=3)
    contract = contract_factory(
        actor=manager,
        company=company,
        number="77/2026",
        subject="Поставка насосов",
        amount="1234567.89",
        payment_term_days=30,
        status="signed",
        signed_on="2026-01-10",
    )
    obligation_factory(actor=manager, contract=contract, party="ours", due_on=late)
    obligation_factory(actor=manager, contract=contract, party="client", due_on=late)
    html = text_of(login(manager).get(tab_url(company)))
    assert "77/2026" in html and "Поставка насосов" in html
    assert "1\u00a0234\u00a0567,89\u00a0₽" in html or "1 234 567,89" in html
    assert "30 days" in html
    assert f'data-testid="overdue-{contract.pk}"' in html
    assert "2 overdue obligations" in html
    assert 'data-testid="new-contract"' in html


def test_the_tab_runs_the_same_number_of_queries_for_one_contract_and_many(manager, company):
    """D5: the dossier tab's queries do not grow with the number of contracts or obligations."""
    client = login(manager)
    first = contract_factory(actor=manager, company=company)
    obligation_factory(actor=manager, contract=first)
    client.get(tab_url(company))
    with CaptureQueriesContext(connection) as one:
        assert client.get(tab_url(company)).status_code == 200
    deal = sales_services.deal_create(actor=manager, company=company)
    for _n in range(12):
        contract = contract_factory(actor=manager, company=company, deal=deal)
        obligation_factory(actor=manager, contract=contract)
    with CaptureQueriesContext(connection) as many:
        assert client.get(tab_url(company)).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_readers_see_the_tab_without_the_new_button(other_manager, finance, company, manager):
    """R3: every member reads the contracts; only those who keep them see «New contract»."""
    contract_factory(actor=manager, company=company, number="N-1")
    for reader in (other_manager, finance):
        html = text_of(login(reader).get(tab_url(company)))
        assert "N-1" in html
        assert 'data-testid="new-contract"' not in html
        assert login(reader).get(reverse("finance:contract_create", args=[company.pk])).status_code == 403


def test_the_curator_registers_a_contract_from_the_form(manager, company):
    """D5: the form accepts Russian-style money and per cent; the contract page follows."""
    deal = sales_services.deal_create(actor=manager, company=company)
    client = login(manager)
    url = reverse("finance:contract_create", args=[company.pk])
    page = text_of(client.get(url + f"?deal={deal.pk}"))
    assert f'<option value="{deal.pk}" selected' in page
    response = client.post(
        url,
        {
            "number": "12-П",
            "status": "signed",
            "signed_on": "2026-02-01",
            "amount": "1 500 000,50",
            "payment_term_days": "14",
            "prepayment_percent": "50",
            "deal": deal.pk,
        },
    )
    contract = Contract.objects.get(number="12-П")
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:contract_detail", args=[contract.pk])
    assert (contract.deal, str(contract.amount)) == (deal, "1500000.50")


def test_a_refused_form_names_the_fields_and_writes_nothing(manager, company):
    """D5: execution before signing and a missing number are shown next to their fields."""
    response = login(manager).post(
        reverse("finance:contract_create", args=[company.pk]),
        {"number": "", "signed_on": "2026-03-01", "executed_on": "2026-02-01", "status": "executed"},
    )
    html = text_of(response)
    assert response.status_code == 400
    assert "Enter the number of the contract." in html
    assert "A contract cannot be executed before it is signed." in html
    assert not Contract.objects.exists()


def test_a_stale_edit_is_a_conflict(manager, company):
    """D5: an edit of a version someone saved since is refused with 409 and kept on the page."""
    contract = contract_factory(actor=manager, company=company, number="1")
    client = login(manager)
    url = reverse("finance:contract_edit", args=[contract.pk])
    assert client.post(url, {"number": "1", "subject": "A", "version": 1}).status_code == 302
    response = client.post(url, {"number": "1", "subject": "B", "version": 1})
    assert response.status_code == 409
    assert 'data-testid="edit-conflict"' in text_of(response)
    contract.refresh_from_db()
    assert contract.subject == "A"


def test_another_manager_cannot_edit_or_touch_obligations(other_manager, manager, company):
    """R3: a colleague reads the contract page but may not change it."""
    contract = contract_factory(actor=manager, company=company)
    obligation = obligation_factory(actor=manager, contract=contract)
    client = login(other_manager)
    html = text_of(client.get(reverse("finance:contract_detail", args=[contract.pk])))
    assert 'data-testid="edit-contract"' not in html and 'data-testid="obligation-add"' not in html
    assert client.get(reverse("finance:contract_edit", args=[contract.pk])).status_code == 403
    assert client.post(reverse("finance:obligation_done", args=[obligation.pk])).status_code == 403
    assert (
        client.post(
            reverse("finance:obligation_add", args=[contract.pk]),
            {"new-party": "ours", "new-description": "x", "new-due_on": "2026-01-01"},
        ).status_code
        == 403
    )
    obligation.refresh_from_db()
    assert obligation.done_on is None and Obligation.objects.count() == 1


def test_the_contract_page_flags_our_overdue_obligations_like_the_clients(manager, company):
    """D5: both sides' overdue obligations get the same red badge and are counted separately."""
    late = timezone.localdate() - timedelta(days=2)
    contract = contract_factory(actor=manager, company=company)
    ours = obligation_factory(actor=manager, contract=contract, party="ours", due_on=late, description="Наше")
    theirs = obligation_factory(
        actor=manager, contract=contract, party="client", due_on=late, description="Их"
    )
    html = text_of(login(manager).get(reverse("finance:contract_detail", args=[contract.pk])))
    for obligation in (ours, theirs):
        row = html.split(f'data-testid="obligation-{obligation.pk}"')[1].split("</tr>")[0]
        assert 'data-overdue="1"' in row and 'data-testid="overdue-badge"' in row
    assert "Ours overdue: 1" in html and "The client's overdue: 1" in html
    assert 'data-testid="contract-overdue"' in html


def test_obligations_are_added_marked_done_and_reopened_inline(manager, company):
    """D5: the contract page's forms add an obligation, mark it done and reopen it; the history shows it."""
    contract = contract_factory(actor=manager, company=company)
    client = login(manager)
    response = client.post(
        reverse("finance:obligation_add", args=[contract.pk]),
        {"new-party": "client", "new-description": "Оплатить аванс", "new-due_on": "2026-01-20"},
    )
    assert response.status_code == 302
    obligation = Obligation.objects.get()
    client.post(reverse("finance:obligation_done", args=[obligation.pk]), {"version": 1})
    obligation.refresh_from_db()
    assert obligation.done_on == timezone.localdate()
    client.post(reverse("finance:obligation_reopen", args=[obligation.pk]), {"version": 2})
    obligation.refresh_from_db()
    assert obligation.done_on is None
    bad = client.post(
        reverse("finance:obligation_add", args=[contract.pk]),
        {"new-party": "ours", "new-description": "", "new-due_on": ""},
    )
    assert bad.status_code == 400
    assert "Say what is to be done." in text_of(bad)
    html = text_of(client.get(reverse("finance:contract_detail", args=[contract.pk])))
    assert "Оплатить аванс" in html and 'data-testid="record-history"' in html
    assert "Done on" in html


def test_the_deal_page_lists_its_contracts_with_a_prefilled_link(manager, other_manager, company):
    """R1, D5: a manager blocked by the signed-contract standard finds the deal's contracts and a «New
    contract» link tied to the deal."""
    deal = sales_services.deal_create(actor=manager, company=company)
    contract_factory(actor=manager, company=company, deal=deal, number="К-5")
    html = text_of(login(manager).get(reverse("sales:detail", args=[deal.pk])))
    card = html.split('data-testid="deal-contracts"')[1]
    assert "К-5" in card
    assert reverse("finance:contract_create", args=[company.pk]) + f"?deal={deal.pk}" in card
    other = text_of(login(other_manager).get(reverse("sales:detail", args=[deal.pk])))
    assert 'data-testid="deal-new-contract"' not in other


def test_the_status_form_moves_the_contract_and_says_what_is_wrong(manager, company):
    """D5: signing from the contract page sets the signing date; executing before signing is refused with
    the reason and changes nothing."""
    contract = contract_factory(actor=manager, company=company)
    client = login(manager)
    url = reverse("finance:contract_status", args=[contract.pk])
    client.post(url, {"status": "signed", "on": "2026-02-01", "version": 1})
    contract.refresh_from_db()
    assert (contract.status, str(contract.signed_on), contract.version) == ("signed", "2026-02-01", 2)
    response = client.post(url, {"status": "executed", "on": "2026-01-01", "version": 2}, follow=True)
    assert "A contract cannot be executed before it is signed." in text_of(response)
    contract.refresh_from_db()
    assert (contract.status, contract.version) == ("signed", 2)
    stale = client.post(url, {"status": "in_execution", "version": 1}, follow=True)
    assert "Someone else changed this record" in text_of(stale)
