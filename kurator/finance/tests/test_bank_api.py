"""D6: /api/v1/bank-statements/ (the import) and /api/v1/bank-payments/ (the review queue)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.finance.models import BankStatement, Payment, ReviewStatus
from kurator.finance.services.bank import bank_statement_import
from kurator.finance.tests.factories_bank import DATA, GAMMA_INN, statement_bytes, statement_clients

STATEMENTS = "/api/v1/bank-statements/"
PAYMENTS = "/api/v1/bank-payments/"


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("kl_to_1c.txt", data, content_type="text/plain")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def clients(manager, finance):
    return statement_clients(curator=manager, finance=finance)


def test_posting_a_statement_returns_the_matched_and_queued_payments(finance, clients):
    """D6: two matched (by number, by amount), one queued; amounts as decimal strings."""
    response = api(finance).post(STATEMENTS, {"file": upload(statement_bytes())}, format="multipart")
    assert response.status_code == 201, response.data
    data = response.json()
    assert (data["matched_count"], data["queued_count"], data["duplicate_count"]) == (2, 1, 0)
    alpha, beta = data["matched"]
    assert alpha["company"] == clients.alpha.pk
    assert alpha["matched_by"] == "invoice_number"
    assert alpha["amount"] == "150000.00"
    assert alpha["allocations"] == [
        {"invoice": clients.alpha_123.pk, "invoice_number": "123", "amount": "150000.00"}
    ]
    assert beta["matched_by"] == "amount"
    assert beta["allocations"][0]["invoice_number"] == "245"
    (queued,) = data["queued"]
    assert (queued["company"], queued["payer_inn"], queued["review_status"]) == (None, GAMMA_INN, "pending")
    assert queued["amount"] == "27300.00"


def test_posting_the_same_file_again_answers_400_on_file_and_records_nothing(finance, clients):
    """D6: a file identical to one imported (same sha256) is refused, naming when it was imported."""
    api(finance).post(STATEMENTS, {"file": upload(statement_bytes())}, format="multipart")
    statement = BankStatement.objects.get()
    again = api(finance).post(STATEMENTS, {"file": upload(statement_bytes())}, format="multipart")
    assert again.status_code == 400
    day = timezone.localtime(statement.created_at).strftime("%d.%m.%Y")
    assert again.json() == {
        "file": [f"This statement was already imported on {day} (kl_to_1c.txt); nothing was added."],
        "line": None,
    }
    assert BankStatement.objects.count() == 1
    assert Payment.objects.count() == 3


def test_posting_an_overlapping_statement_counts_the_known_payments_as_duplicates(finance, clients):
    """D6: another file repeating two imported payments adds only the new one."""
    api(finance).post(STATEMENTS, {"file": upload(statement_bytes())}, format="multipart")
    text = statement_bytes().decode("cp1251").replace("Номер=3091", "Номер=3092")
    again = api(finance).post(STATEMENTS, {"file": upload(text.encode("cp1251"))}, format="multipart")
    assert again.status_code == 201
    data = again.json()
    assert (data["duplicate_count"], data["matched"], len(data["queued"])) == (2, [], 1)
    assert Payment.objects.count() == 4


def test_a_clients_payment_without_a_matching_invoice_is_queued_with_the_client(finance, clients):
    """D6: Бета Трейд's 50 000,00 matches no invoice number or balance: queued (not "matched") with the
    client and the reason; matched_by only ever says invoice_number or amount."""
    text = statement_bytes().decode("cp1251").replace("Сумма=48500.00", "Сумма=50000.00")
    response = api(finance).post(STATEMENTS, {"file": upload(text.encode("cp1251"))}, format="multipart")
    assert response.status_code == 201
    data = response.json()
    assert [p["matched_by"] for p in data["matched"]] == ["invoice_number"]
    beta = next(p for p in data["queued"] if p["company"] is not None)
    assert (beta["company"], beta["review_status"], beta["allocated"], beta["allocations"]) == (
        clients.beta.pk,
        "pending",
        "0.00",
        [],
    )
    assert beta["review_reason"] == "No open invoice of the client matches the number or the amount."


def test_a_malformed_statement_answers_400_with_the_line(finance):
    """D6: nothing written; the line is in the answer."""
    response = api(finance).post(
        STATEMENTS,
        {"file": upload((DATA / "malformed_unclosed_document.txt").read_bytes())},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["line"] == 50
    assert response.json()["file"][0].startswith("Line 50: ")
    assert not BankStatement.objects.exists()


def test_a_post_without_a_file_is_refused(finance):
    response = api(finance).post(STATEMENTS, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("manager", False), ("senior_manager", False), ("head", True), ("finance", True), ("admin_user", True)],
)
def test_only_finance_and_the_head_use_the_bank_api(request, role, allowed, clients, finance):
    """D6: every endpoint, across roles."""
    statement = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    queued = statement.queued[0]
    client = api(request.getfixturevalue(role))
    expected = 200 if allowed else 403
    assert client.get(STATEMENTS).status_code == expected
    assert client.get(f"{STATEMENTS}{statement.statement.pk}/").status_code == expected
    assert client.get(PAYMENTS).status_code == expected
    assert client.get(f"{PAYMENTS}{queued.pk}/").status_code == expected
    text = statement_bytes().decode("cp1251").replace("Номер=3091", "Номер=3092")
    posted = client.post(STATEMENTS, {"file": upload(text.encode("cp1251"))}, format="multipart")
    assert posted.status_code == (201 if allowed else 403)
    dismissed = client.post(f"{PAYMENTS}{queued.pk}/dismiss/", {"reason": "Возврат"}, format="json")
    assert dismissed.status_code == expected
    assert client.get("/api/v1/bank-payments/").status_code == expected


def test_anonymous_is_refused():
    assert APIClient().get(STATEMENTS).status_code in (401, 403)


def test_the_queue_lists_pending_payments_by_default(finance, clients):
    bank_statement_import(actor=finance, file=upload(statement_bytes()))
    client = api(finance)
    pending = client.get(PAYMENTS).json()
    assert [p["payer_inn"] for p in pending["results"]] == [GAMMA_INN]
    assert client.get(PAYMENTS, {"review_status": "all"}).json()["count"] == 3
    assert client.get(PAYMENTS, {"review_status": "bogus"}).status_code == 400


def test_resolve_assigns_the_client_and_allocates(finance, clients):
    """D6: resolve with an invoice and an amount; the rest is credit."""
    queued = bank_statement_import(actor=finance, file=upload(statement_bytes())).queued[0]
    response = api(finance).post(
        f"{PAYMENTS}{queued.pk}/resolve/",
        {
            "company": clients.beta.pk,
            "allocations": [{"invoice": clients.beta_244.pk}],
            "version": queued.version,
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    data = response.json()
    assert (data["company"], data["review_status"]) == (clients.beta.pk, "resolved")
    assert (data["allocated"], data["credit"]) == ("12000.00", "15300.00")


def test_resolve_refuses_a_stale_version_and_an_unknown_company(finance, clients):
    queued = bank_statement_import(actor=finance, file=upload(statement_bytes())).queued[0]
    client = api(finance)
    stale = client.post(
        f"{PAYMENTS}{queued.pk}/resolve/", {"company": clients.beta.pk, "version": 99}, format="json"
    )
    assert stale.status_code == 409
    unknown = client.post(f"{PAYMENTS}{queued.pk}/resolve/", {"company": 999999}, format="json")
    assert unknown.status_code == 400
    assert "company" in unknown.json()
    queued.refresh_from_db()
    assert queued.review_status == ReviewStatus.PENDING


def test_dismiss_needs_a_reason(finance, clients):
    queued = bank_statement_import(actor=finance, file=upload(statement_bytes())).queued[0]
    response = api(finance).post(f"{PAYMENTS}{queued.pk}/dismiss/", {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_lists_run_a_constant_number_of_queries(finance, clients, django_assert_max_num_queries):
    """D6: statements and bank payments: one row costs the same as many."""
    bank_statement_import(actor=finance, file=upload(statement_bytes()))
    client = api(finance)
    counts = {}
    for url in (STATEMENTS, f"{PAYMENTS}?review_status=all"):
        with django_assert_max_num_queries(20) as captured:
            client.get(url)
        counts[url] = len(captured)
    for number in range(4):
        text = statement_bytes().decode("cp1251")
        for old in ("512", "77", "3091"):
            text = text.replace(f"Номер={old}", f"Номер={old}{number}")
        bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    for url, count in counts.items():
        with django_assert_max_num_queries(count):
            assert client.get(url).status_code == 200
