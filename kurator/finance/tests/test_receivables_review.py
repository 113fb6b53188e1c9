"""D6: what the review of the receivables pages found — allocation errors on their invoice's row, every
field checked at once, money in messages written the Russian way, invoice numbers compared without case and
spaces, only purchases invoiced, no collection step in the future, a promise paid late not shown broken."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from kurator.core.money import format_rub
from kurator.finance.models import CollectionAction, Invoice, OrderStatus, Payment
from kurator.finance.selectors import receivables as selectors
from kurator.finance.services import receivables as services
from kurator.finance.tests.factories_orders import order_factory
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_money_is_formatted_with_groups_comma_and_rouble_sign():
    """D6: one formatter for pages and messages: 1200 → «1 200,00 ₽»."""
    assert format_rub(Decimal("1200")) == f"1{NBSP}200,00{NBSP}₽"
    assert format_rub(Decimal("-1234567.891")) == f"−1{NBSP}234{NBSP}567,89{NBSP}₽"
    assert format_rub(None) == "—"


def test_allocation_beyond_the_balance_is_shown_on_the_invoice_row_in_roubles(finance, company):
    """D6: 999 against a balance of 170,00 → the message sits on DUP-1's row, amounts as «999,00 ₽», no
    raw field key; nothing written."""
    invoice = invoice_factory(actor=finance, company=company, amount="170", number="DUP-1")
    url = reverse("finance:payment_create") + f"?company={company.pk}"
    response = login(finance).post(
        url, {"paid_on": "2025-04-01", "amount": "1000", f"alloc_{invoice.pk}": "999"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and Payment.objects.count() == 0
    form = response.context["form"]
    assert form.errors[f"alloc_{invoice.pk}"] == [f"999,00{NBSP}₽ is more than its balance of 170,00{NBSP}₽."]
    assert 'data-testid="allocation-error"' in html and "allocations:" not in html


def test_payment_form_reports_every_bad_field_at_once(finance, company):
    """D6: amount «-5» and allocation «abc» → both messages, the allocation's under its box."""
    invoice = invoice_factory(actor=finance, company=company, amount="170")
    url = reverse("finance:payment_create") + f"?company={company.pk}"
    response = login(finance).post(
        url, {"paid_on": "2025-04-01", "amount": "-5", f"alloc_{invoice.pk}": "abc"}
    )
    form = response.context["form"]
    assert response.status_code == 200 and Payment.objects.count() == 0
    assert form.errors["amount"] == ["The amount must be greater than zero."]
    assert form.errors[f"alloc_{invoice.pk}"] == ["Enter the amount as a number."]
    html = response.content.decode()
    assert "Enter the amount as a number." in html and "The amount must be greater than zero." in html


def test_allocations_beyond_the_payment_are_shown_above_the_table(finance, company):
    """D6: 300 allocated from a payment of 100 → one message above the table, in roubles."""
    invoice = invoice_factory(actor=finance, company=company, amount="500")
    url = reverse("finance:payment_create") + f"?company={company.pk}"
    response = login(finance).post(
        url, {"paid_on": "2025-04-01", "amount": "100", f"alloc_{invoice.pk}": "300"}
    )
    assert response.context["form"].allocation_errors == [
        f"The allocations (300,00{NBSP}₽) exceed what the payment has left to allocate (100,00{NBSP}₽)."
    ]
    assert 'data-testid="allocation-errors"' in response.content.decode() and Payment.objects.count() == 0


def test_invoice_amount_below_paid_names_the_paid_sum_in_roubles(finance, company):
    """D6: 1 200,00 paid → «… (1 200,00 ₽)»."""
    invoice = invoice_factory(actor=finance, company=company, amount="2000")
    payment_factory(actor=finance, company=company, amount="1200", allocations=[(invoice, "1200")])
    with pytest.raises(ValidationError) as exc:
        services.invoice_update(actor=finance, invoice=invoice, amount="1000")
    assert exc.value.message_dict["amount"] == [
        f"The amount cannot be less than what is already paid (1{NBSP}200,00{NBSP}₽)."
    ]


@pytest.mark.parametrize("typed", ["dup-1 ", " Dup-1", "DUP-1"])
def test_invoice_number_is_unique_whatever_its_case_and_spaces(finance, company, typed):
    """D6: «DUP-1» in 2026 → «dup-1 » in 2026 refused; another year is fine."""
    invoice_factory(actor=finance, company=company, number="DUP-1", issued_on=date(2026, 2, 1))
    with pytest.raises(ValidationError) as exc:
        invoice_factory(actor=finance, company=company, number=typed, issued_on=date(2026, 3, 1))
    assert exc.value.message_dict["number"] == ["Invoice number DUP-1 was already issued in 2026."] or (
        "was already issued in 2026" in exc.value.message_dict["number"][0]
    )
    assert Invoice.objects.count() == 1
    invoice_factory(actor=finance, company=company, number=typed, issued_on=date(2025, 3, 1))


def test_cyrillic_invoice_numbers_differ_only_in_case_are_the_same(finance, company):
    """D6: «СЧ-7» and «сч  -7»? No: «сч-7» is the same number (Cyrillic folded); the stored one is trimmed."""
    first = invoice_factory(actor=finance, company=company, number="  СЧ   7 ", issued_on=date(2026, 1, 5))
    assert first.number == "СЧ 7"
    with pytest.raises(ValidationError):
        invoice_factory(actor=finance, company=company, number="сч 7", issued_on=date(2026, 6, 5))
    other = invoice_factory(actor=finance, company=company, number="СЧ-8", issued_on=date(2026, 6, 5))
    with pytest.raises(ValidationError):
        services.invoice_update(actor=finance, invoice=other, number="сЧ 7")


def test_only_a_purchase_is_invoiced(finance, company):
    """D6/D8: a draft or cancelled order is neither offered nor accepted; a confirmed one is."""
    draft = order_factory(company=company, status=OrderStatus.DRAFT)
    cancelled = order_factory(company=company, status=OrderStatus.CANCELLED)
    confirmed = order_factory(company=company, status=OrderStatus.CONFIRMED)
    page = login(finance).get(reverse("finance:invoice_create") + f"?company={company.pk}")
    offered = list(page.context["form"].fields["order"].queryset)
    assert offered == [confirmed]
    for order in (draft, cancelled):
        with pytest.raises(ValidationError) as exc:
            invoice_factory(actor=finance, company=company, order=order)
        assert (
            "only a confirmed, shipped or completed order is invoiced" in exc.value.message_dict["order"][0]
        )
    assert Invoice.objects.count() == 0
    assert invoice_factory(actor=finance, company=company, order=confirmed).order == confirmed


def test_a_collection_action_in_the_future_is_refused(finance, company):
    """D6: happened_on a year ahead → refused, nothing written; today is fine."""
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.collection_action_create(
            actor=finance, company=company, kind="call", happened_on=today + timedelta(days=365)
        )
    assert exc.value.message_dict["happened_on"] == ["The date of the action cannot be in the future."]
    assert CollectionAction.objects.count() == 0
    services.collection_action_create(actor=finance, company=company, kind="call", happened_on=today)


def test_api_refuses_a_collection_action_in_the_future(finance, company):
    """D6: POST /api/v1/collection-actions/ with a date a year ahead → 400 on happened_on."""
    client = login(finance)
    ahead = (timezone.localdate() + timedelta(days=365)).isoformat()
    response = client.post(
        "/api/v1/collection-actions/",
        {"company": company.pk, "kind": "call", "happened_on": ahead},
        content_type="application/json",
    )
    assert response.status_code == 400 and "happened_on" in response.json()


def test_a_promise_paid_after_its_date_is_kept_late_not_broken(manager, finance, company):
    """D6: promised by 5 Jan, flagged broken, paid in full on 20 Jan → «kept late», no broken badge."""
    invoice = invoice_factory(
        actor=finance, company=company, amount="100", issued_on=date(2024, 12, 1), due_on=date(2024, 12, 20)
    )
    broken = CollectionAction.objects.create(
        company=company,
        kind="promise",
        happened_on=date(2025, 1, 1),
        promised_on=date(2025, 1, 5),
        promise_kept=False,
        author=finance,
        invoice=invoice,
    )
    general = CollectionAction.objects.create(
        company=company,
        kind="promise",
        happened_on=date(2025, 1, 1),
        promised_on=date(2025, 1, 5),
        promise_kept=False,
        author=finance,
    )
    url = reverse("finance:company_receivables", args=[company.pk])
    html = login(manager).get(url).content.decode()
    assert 'data-testid="broken-promises"' in html and selectors.broken_promises_count(company=company) == 2
    payment_factory(
        actor=finance,
        company=company,
        amount="100",
        paid_on=date(2025, 1, 20),
        allocations=[(invoice, "100")],
    )
    html = login(manager).get(url).content.decode()
    assert 'data-testid="broken-promise"' not in html and 'data-testid="broken-promises"' not in html
    assert html.count('data-testid="kept-late-promise"') == 2
    assert selectors.broken_promises_count(company=company) == 0
    broken.refresh_from_db()
    general.refresh_from_db()
    assert broken.promise_kept is False and general.promise_kept is False  # the flag (and its notice) stays
