"""D6: the API of invoices, payments, the collection log and a client's receivables — field names, decimal
strings, who may write, and refusals naming the field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.finance.models import (
    Allocation,
    CollectionAction,
    Invoice,
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


def api(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_invoice_fields_and_amounts_as_decimal_strings(manager, finance, company):
    """D6: id, company, contract, number, issued_on, due_on, amount, paid, balance, status."""
    invoice = invoice_factory(actor=finance, company=company, amount="1000", number="A-1")
    payment_factory(actor=finance, company=company, amount="250.5", allocations=[(invoice, "250.50")])
    response = api(manager).get(f"/api/v1/invoices/{invoice.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert {
        "id",
        "company",
        "contract",
        "number",
        "issued_on",
        "due_on",
        "amount",
        "paid",
        "balance",
        "status",
    } <= set(data)
    assert (data["amount"], data["paid"], data["balance"], data["status"]) == (
        "1000.00",
        "250.50",
        "749.50",
        "partly_paid",
    )


def test_invoice_writes_by_role(users_by_role, company):
    """D6: curators read; finance and the head of sales (and the administrator) write."""
    for role, user in users_by_role.items():
        response = api(user).post(
            "/api/v1/invoices/",
            {"company": company.pk, "number": f"R-{role}", "issued_on": "2025-03-01", "amount": "10.00"},
            format="json",
        )
        expected = 201 if role in ("head_of_sales", "finance", "admin") else 403
        assert response.status_code == expected, (role, response.content)
        assert api(user).get("/api/v1/invoices/").status_code == 200
    assert api(None).get("/api/v1/invoices/").status_code in (401, 403)


def test_invoice_refusals_name_the_field(finance, company):
    """D6: duplicate number, negative amount, due before issue → 400 naming each; unknown id → 404; stale
    version → 409."""
    invoice_factory(actor=finance, company=company, number="D-1", issued_on=date(2025, 1, 5))
    client = api(finance)
    response = client.post(
        "/api/v1/invoices/",
        {
            "company": company.pk,
            "number": "D-1",
            "issued_on": "2025-07-01",
            "due_on": "2025-06-01",
            "amount": "-1",
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"number", "amount", "due_on"}
    assert "already issued in 2025" in response.json()["number"][0]
    assert client.get("/api/v1/invoices/999999/").status_code == 404
    invoice = Invoice.objects.get()
    response = client.patch(f"/api/v1/invoices/{invoice.pk}/", {"notes": "x", "version": 5}, format="json")
    assert response.status_code == 409
    response = client.patch(
        f"/api/v1/invoices/{invoice.pk}/", {"notes": "x", "version": invoice.version}, format="json"
    )
    assert response.status_code == 200 and response.json()["notes"] == "x"


def test_invoice_filters_and_constant_queries(manager, finance, company, django_assert_max_num_queries):
    """D6: ?company= ?status= ?overdue=true; the list costs the same for 1 or many rows."""
    today = timezone.localdate()
    other = company_factory(actor=manager)
    old = invoice_factory(
        actor=finance, company=company, issued_on=today - timedelta(40), due_on=today - timedelta(10)
    )
    invoice_factory(actor=finance, company=other, issued_on=today, due_on=today)
    client = api(manager)
    ids = lambda query: [r["id"] for r in client.get(f"/api/v1/invoices/?{query}").json()["results"]]  # noqa: E731
    assert ids(f"company={company.pk}") == [old.pk]
    assert ids("overdue=true") == [old.pk]
    assert len(ids("status=issued")) == 2
    with django_assert_max_num_queries(6) as one:
        client.get("/api/v1/invoices/")
    for _ in range(5):
        invoice_factory(actor=finance, company=other)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/api/v1/invoices/").json()["count"] == 7


def test_payment_with_allocations_and_credit(
    users_by_role, finance, manager, company, django_assert_max_num_queries
):
    """D6: payment 1 000,00 to invoices 300,00 + 500,00 → credit 200,00; curators may not enter payments."""
    a = invoice_factory(actor=finance, company=company, amount="300")
    b = invoice_factory(actor=finance, company=company, amount="600")
    body = {
        "company": company.pk,
        "paid_on": "2025-03-01",
        "amount": "1000.00",
        "reference": "п/п 17",
        "allocations": [{"invoice": a.pk, "amount": "300"}, {"invoice": b.pk, "amount": "500"}],
    }
    assert api(manager).post("/api/v1/payments/", body, format="json").status_code == 403
    response = api(finance).post("/api/v1/payments/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["credit"] == "200.00" and data["amount"] == "1000.00"
    assert data["allocations"] == [
        {"invoice": a.pk, "amount": "300.00"},
        {"invoice": b.pk, "amount": "500.00"},
    ]
    with django_assert_max_num_queries(7) as one:
        api(manager).get("/api/v1/payments/")
    for _ in range(4):
        payment_factory(actor=finance, company=company, amount="1")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert api(manager).get("/api/v1/payments/").json()["count"] == 5


def test_payment_beyond_the_balance_is_400_and_writes_nothing(finance, company):
    """D6: an allocation beyond the invoice's balance names ``allocations``; nothing is written."""
    invoice = invoice_factory(actor=finance, company=company, amount="100")
    response = api(finance).post(
        "/api/v1/payments/",
        {
            "company": company.pk,
            "paid_on": "2025-03-01",
            "amount": "500",
            "allocations": [{"invoice": invoice.pk, "amount": "100.01"}],
        },
        format="json",
    )
    assert response.status_code == 400 and "allocations" in response.json()
    assert Payment.objects.count() == 0 and Allocation.objects.count() == 0
    response = api(finance).post(
        "/api/v1/payments/", {"company": company.pk, "paid_on": "2025-03-01", "amount": "0"}, format="json"
    )
    assert response.status_code == 400 and "amount" in response.json()


def test_collection_actions_by_role(manager, other_manager, finance, head, company):
    """D6: finance, the head and the client's seller log collection work; another seller may not."""
    body = {"company": company.pk, "kind": "call", "happened_on": "2025-03-01", "outcome": "обещали"}
    for user, expected in ((manager, 201), (finance, 201), (head, 201), (other_manager, 403)):
        assert api(user).post("/api/v1/collection-actions/", body, format="json").status_code == expected
    response = api(manager).post("/api/v1/collection-actions/", {**body, "kind": "promise"}, format="json")
    assert response.status_code == 400 and "promised_on" in response.json()
    action = CollectionAction.objects.filter(author=manager).get()
    assert (
        api(other_manager)
        .patch(f"/api/v1/collection-actions/{action.pk}/", {"outcome": "x"}, format="json")
        .status_code
        == 403
    )
    response = api(manager).patch(
        f"/api/v1/collection-actions/{action.pk}/", {"outcome": "перезвонить"}, format="json"
    )
    assert response.status_code == 200 and response.json()["outcome"] == "перезвонить"
    assert api(manager).delete(f"/api/v1/collection-actions/{action.pk}/").status_code == 405
    listed = api(other_manager).get(f"/api/v1/collection-actions/?company={company.pk}").json()
    assert listed["count"] == 3


def test_company_receivables_endpoint(manager, finance, company):
    """D6: total, overdue, buckets and credit as decimal strings; 404 for an unknown company."""
    today = timezone.localdate()
    invoice_factory(
        actor=finance,
        company=company,
        amount="100",
        issued_on=today - timedelta(45),
        due_on=today - timedelta(45),
    )
    invoice_factory(actor=finance, company=company, amount="50", issued_on=today, due_on=today)
    payment_factory(actor=finance, company=company, amount="25", paid_on=today)
    response = api(manager).get(f"/api/v1/companies/{company.pk}/receivables/")
    assert response.status_code == 200
    assert response.json() == {
        "total": "150.00",
        "overdue": "100.00",
        "buckets": {
            "not_due": "50.00",
            "d1_30": "0.00",
            "d31_60": "100.00",
            "d61_90": "0.00",
            "over_90": "0.00",
        },
        "credit": "25.00",
    }
    assert api(manager).get("/api/v1/companies/999999/receivables/").status_code == 404


def test_payments_api_leaves_out_bank_payments_awaiting_review_or_dismissed(manager, finance, company):
    """D6: pending and dismissed bank payments are not listed (nor their amount counted as credit) by
    /api/v1/payments/, with or without ?with_credit=true; the review queue is /api/v1/bank-payments/."""
    kept = payment_factory(actor=finance, company=company, amount="100.00")
    for key, status in (("k-pending", ReviewStatus.PENDING), ("k-dismissed", ReviewStatus.DISMISSED)):
        payment_factory(
            actor=finance,
            company=company,
            amount="12345.67",
            source=PaymentSource.BANK,
            bank_key=key,
            review_status=status,
        )
    for query in ("", "?with_credit=true", f"?company={company.pk}"):
        data = api(finance).get("/api/v1/payments/" + query).json()
        assert [row["id"] for row in data["results"]] == [kept.pk], query
