"""D6: the receivables pages — the ageing report with its chart and drill-down, invoice and payment
lists (constant queries), invoice and payment forms, allocating the credit, the dossier tab and its
collection log."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from kurator.finance.models import (
    Allocation,
    CollectionAction,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory
from tests.factories import company_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def overdue_invoice(finance, company, days: int, amount: str = "100.00") -> Invoice:
    day = timezone.localdate() - timedelta(days=days)
    return invoice_factory(actor=finance, company=company, amount=amount, issued_on=day, due_on=day)


def test_ageing_page_shows_buckets_chart_and_debtors_with_drill_down(manager, finance, company):
    """D6: the finance page: totals per bucket linking to the invoices, the chart's data, the top debtors."""
    overdue_invoice(finance, company, 45, "1000.00")
    response = login(manager).get(reverse("finance:receivables"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="ageing-chart"' in html and "finance/ageing.js" in html and 'id="ageing-data"' in html
    assert f"{reverse('finance:invoices')}?bucket=d31_60" in html
    assert f'data-testid="debtor-{company.pk}"' in html
    assert "<script>" not in html.split('id="ageing-data"')[0].rsplit("</head>", 1)[-1]


def test_ageing_page_runs_constant_queries(manager, finance, company, django_assert_max_num_queries):
    """D6: the report costs the same for one debtor as for many."""
    overdue_invoice(finance, company, 5)
    client = login(manager)
    client.get(reverse("finance:receivables"))
    with django_assert_max_num_queries(30) as one:
        client.get(reverse("finance:receivables"))
    for _ in range(4):
        overdue_invoice(finance, company_factory(actor=manager), 70)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("finance:receivables"))


def test_invoice_list_filters_and_constant_queries(manager, finance, company, django_assert_max_num_queries):
    """D6: the bucket link lists exactly that bucket's invoices; the page costs the same for 1 or many."""
    in_bucket = overdue_invoice(finance, company, 40)
    other = overdue_invoice(finance, company, 5)
    client = login(manager)
    html = client.get(reverse("finance:invoices") + "?bucket=d31_60").content.decode()
    assert f"invoice-row-{in_bucket.pk}" in html and f"invoice-row-{other.pk}" not in html
    with django_assert_max_num_queries(30) as one:
        client.get(reverse("finance:invoices"))
    for _ in range(6):
        overdue_invoice(finance, company_factory(actor=manager), 3)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("finance:invoices"))
    assert response.content.decode().count("invoice-row-") == 8


def test_payment_list_constant_queries(manager, finance, company, django_assert_max_num_queries):
    """D6: payments with their allocations: constant queries."""
    invoice = invoice_factory(actor=finance, company=company)
    payment_factory(actor=finance, company=company, amount="10", allocations=[(invoice, "10")])
    client = login(manager)
    with django_assert_max_num_queries(30) as one:
        client.get(reverse("finance:payments"))
    for _ in range(5):
        other = invoice_factory(actor=finance, company=company)
        payment_factory(actor=finance, company=company, amount="20", allocations=[(other, "10")])
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("finance:payments"))
    assert response.content.decode().count("payment-row-") == 6


def test_finance_issues_an_invoice_from_the_form_and_refusals_show_by_the_field(manager, finance, company):
    """D6: the form creates an invoice; a duplicate number is shown next to the field; the curator is
    refused."""
    client = login(finance)
    url = reverse("finance:invoice_create") + f"?company={company.pk}"
    body = {"number": "С-1", "issued_on": "2025-04-01", "amount": "1 234,50"}
    response = client.post(url, body)
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and invoice.amount == Decimal("1234.50")
    response = client.post(url, body)
    assert response.status_code == 200 and "already issued in 2025" in response.content.decode()
    assert Invoice.objects.count() == 1
    assert login(manager).get(url).status_code == 403


def test_invoice_edit_and_cancel(finance, company):
    """D6: edit with the version; cancel with a reason."""
    invoice = invoice_factory(actor=finance, company=company, amount="100")
    client = login(finance)
    response = client.post(
        reverse("finance:invoice_edit", args=[invoice.pk]),
        {
            "number": invoice.number,
            "issued_on": invoice.issued_on,
            "amount": "150",
            "version": invoice.version,
        },
    )
    assert response.status_code == 302
    stale = client.post(
        reverse("finance:invoice_edit", args=[invoice.pk]),
        {"number": invoice.number, "issued_on": invoice.issued_on, "amount": "170", "version": 1},
    )
    assert stale.status_code == 409
    response = client.post(reverse("finance:invoice_cancel", args=[invoice.pk]), {"reason": "дубль"})
    assert response.status_code == 302
    assert Invoice.objects.get().status == InvoiceStatus.CANCELLED
    assert client.get(reverse("finance:invoice_detail", args=[invoice.pk])).status_code == 200


def test_payment_form_allocates_and_the_rest_is_credit_then_allocated_later(finance, company):
    """D6: payment 500,00 with 300,00 to invoice A → credit 200,00 shown; the credit then goes to invoice B;
    removing the allocation brings it back."""
    a = invoice_factory(actor=finance, company=company, amount="300")
    b = invoice_factory(actor=finance, company=company, amount="1000")
    client = login(finance)
    url = reverse("finance:payment_create") + f"?company={company.pk}"
    response = client.post(
        url, {"paid_on": "2025-04-01", "amount": "500", "reference": "17", f"alloc_{a.pk}": "300"}
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and payment.credit == Decimal("200.00")
    page = client.get(reverse("finance:payment_detail", args=[payment.pk])).content.decode()
    assert "allocate-credit" in page and "200,00" in page
    client.post(reverse("finance:payment_allocate", args=[payment.pk]), {"invoice": b.pk, "amount": ""})
    payment.refresh_from_db()
    assert payment.credit == 0 and Invoice.objects.get(pk=b.pk).paid == Decimal("200.00")
    allocation = Allocation.objects.get(invoice=b)
    client.post(reverse("finance:allocation_remove", args=[allocation.pk]))
    payment.refresh_from_db()
    assert payment.credit == Decimal("200.00")
    too_much = client.post(url, {"paid_on": "2025-04-01", "amount": "100", f"alloc_{b.pk}": "200"})
    assert too_much.status_code == 200 and Payment.objects.count() == 1


def test_dossier_tab_shows_buckets_credit_and_broken_promises(
    manager, finance, company, django_assert_max_num_queries
):
    """D6: the client's tab: buckets, credit, open invoices, payments, the collection log (broken in red);
    query count constant."""
    invoice = overdue_invoice(finance, company, 10)
    payment_factory(actor=finance, company=company, amount="50")
    action = CollectionAction.objects.create(
        company=company,
        kind="promise",
        happened_on=date(2025, 1, 1),
        promised_on=date(2025, 1, 5),
        promise_kept=False,
        author=finance,
        invoice=invoice,
    )
    client = login(manager)
    url = reverse("finance:company_receivables", args=[company.pk])
    with django_assert_max_num_queries(40) as one:
        html = client.get(url).content.decode()
    assert 'data-testid="broken-promise"' in html and f"collection-{action.pk}" in html
    assert "50,00" in html and 'data-testid="collection-form"' in html
    assert 'data-testid="new-invoice"' not in html  # the curator reads invoices
    for _ in range(3):
        overdue_invoice(finance, company, 40)
        payment_factory(actor=finance, company=company, amount="5")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)
    assert 'data-testid="new-invoice"' in login(finance).get(url).content.decode()


def test_collection_form_adds_to_the_log_and_refuses_a_promise_without_a_date(
    manager, other_manager, company
):
    """D6: the curator logs a call; a promise needs its date; another seller may not write."""
    client = login(manager)
    url = reverse("finance:collection_add", args=[company.pk])
    assert client.post(url, {"kind": "call", "happened_on": "2025-04-01", "outcome": "ок"}).status_code == 302
    response = client.post(url, {"kind": "promise", "happened_on": "2025-04-01"})
    assert response.status_code == 400 and "promised to pay by" in response.content.decode()
    assert login(other_manager).post(url, {"kind": "call", "happened_on": "2025-04-01"}).status_code == 403
    assert CollectionAction.objects.count() == 1


def test_payment_list_leaves_out_bank_payments_awaiting_review_or_dismissed(finance, company):
    """D6: a bank payment awaiting review (even with the client found by INN) or dismissed as not a
    client payment is not the client's money: neither listed nor shown as its credit in the payments list
    or on the client's tab; the bank review queue shows them."""
    kept = payment_factory(actor=finance, company=company, amount="100.00", reference="KEPT-1")
    for number, status in (("PEND-1", ReviewStatus.PENDING), ("DISM-1", ReviewStatus.DISMISSED)):
        payment_factory(
            actor=finance,
            company=company,
            amount="12345.67",
            reference=number,
            source=PaymentSource.BANK,
            bank_key=number,
            review_status=status,
        )
    client = login(finance)
    page = client.get(reverse("finance:payments")).content.decode()
    assert "KEPT-1" in page
    assert "PEND-1" not in page and "DISM-1" not in page and "12 345,67" not in page
    page = client.get(reverse("finance:payments") + f"?company={company.pk}").content.decode()
    assert "12 345,67" not in page
    tab = client.get(reverse("finance:company_receivables", args=[company.pk])).content.decode()
    assert "12 345,67" not in tab
    assert kept.credit == Decimal("100.00")


@pytest.mark.parametrize("url_name", ["finance:invoice_create", "finance:payment_create"])
def test_new_invoice_or_payment_from_the_finance_pages_first_asks_which_client(url_name, finance, company):
    """D6: finance starts an invoice or a payment from the Finance pages: the client is found by name or INN,
    and the choice leads to the form for that client."""
    client = login(finance)
    page = client.get(reverse(url_name))
    assert page.status_code == 200 and b'data-testid="pick-client"' in page.content
    found = client.get(reverse(url_name), {"q": company.inn})
    assert f'href="?company={company.pk}"'.encode() in found.content
    form = client.get(reverse(url_name), {"company": company.pk})
    assert form.status_code == 200 and b'data-testid="pick-client"' not in form.content


def test_the_client_picker_is_closed_to_who_may_not_enter_invoices(manager):
    """D6: a manager reads invoices but does not enter them."""
    assert login(manager).get(reverse("finance:invoice_create")).status_code == 403
