"""D6: the bank page — upload, the import's result, the review queue (resolve, dismiss), the history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from kurator.finance.models import BankStatement, Payment, ReviewStatus
from kurator.finance.services.bank import bank_payment_resolve, bank_statement_import
from kurator.finance.tests.factories_bank import DATA, GAMMA_INN, statement_bytes, statement_clients

URL = reverse("finance:bank")


@pytest.fixture(autouse=True)
def _english(settings, client):
    """The pages in English (the source strings the assertions quote), whatever the translation holds."""
    settings.LANGUAGE_CODE = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with override("en"):
        yield


def upload(data: bytes, name: str = "kl_to_1c.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


@pytest.fixture
def clients(manager, finance):
    return statement_clients(curator=manager, finance=finance)


@pytest.mark.parametrize(
    ("role", "status"),
    [("manager", 403), ("senior_manager", 403), ("finance", 200), ("head", 200), ("admin_user", 200)],
)
def test_the_page_is_for_finance_and_the_head(client, request, role, status):
    """D6: sellers do not import statements."""
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == status


def test_uploading_shows_what_was_matched_and_queued(client, finance, clients):
    """D6: the import's page lists the matched payments with their client and invoices and the queued one."""
    client.force_login(finance)
    response = client.post(URL, {"file": upload(statement_bytes())})
    statement = BankStatement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:bank_statement", args=[statement.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Альфа-Снаб" in page and "№ 123" in page
    assert "Бета Трейд" in page and "№ 245" in page
    assert f"No client has INN {GAMMA_INN}." in page


def test_the_import_message_counts_what_was_added(client, finance, clients):
    """D6: the message after an import says how many payments were matched and sent to review."""
    client.force_login(finance)
    response = client.post(URL, {"file": upload(statement_bytes())}, follow=True)
    assert "Statement imported: 2 matched, 1 sent to review." in response.content.decode()


def test_importing_the_same_file_again_is_refused_on_the_form(client, finance, clients):
    """D6: a file identical to one imported is refused on the upload form, naming when and which file it
    was; no statement is recorded and nothing is added."""
    client.force_login(finance)
    client.post(URL, {"file": upload(statement_bytes())})
    statement = BankStatement.objects.get()
    response = client.post(URL, {"file": upload(statement_bytes())})
    assert response.status_code == 400
    day = timezone.localtime(statement.created_at).strftime("%d.%m.%Y")
    assert (
        f"This statement was already imported on {day} ({statement.file_name}); nothing was added."
        in response.content.decode()
    )
    assert response.context["form"].errors["file"]
    assert BankStatement.objects.count() == 1
    assert Payment.objects.count() == 3


def test_an_overlapping_statement_says_which_payments_were_imported_before(client, finance, clients):
    """D6: another file with one new payment imports it and counts the two known as imported before."""
    client.force_login(finance)
    client.post(URL, {"file": upload(statement_bytes())})
    text = statement_bytes().decode("cp1251").replace("Номер=3091", "Номер=3092")
    response = client.post(URL, {"file": upload(text.encode("cp1251"))}, follow=True)
    page = response.content.decode()
    assert "Statement imported: 0 matched, 1 sent to review." in page
    assert "2 payments were imported before and skipped." in page
    assert Payment.objects.count() == 4


def test_a_payment_queued_with_its_client_preselects_it_on_the_review_page(client, finance, clients):
    """D6: a payment whose client was found by INN but not its invoice waits with the client chosen and
    the client's open invoices offered."""
    text = statement_bytes().decode("cp1251").replace("Сумма=48500.00", "Сумма=50000.00")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    waiting = next(p for p in result.queued if p.company_id is not None)
    client.force_login(finance)
    response = client.get(reverse("finance:bank_payment", args=[waiting.pk]))
    page = response.content.decode()
    assert response.context["company"] == clients.beta
    assert 'data-testid="resolve-form"' in page
    assert "No open invoice of the client matches the number or the amount." in page
    assert f'value="{clients.beta_244.pk}"' in page and f'value="{clients.beta_245.pk}"' in page
    response = client.post(
        reverse("finance:bank_payment", args=[waiting.pk]),
        {"company": clients.beta.pk, "invoices": [clients.beta_245.pk], "version": waiting.version},
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.review_status, waiting.allocated) == (ReviewStatus.RESOLVED, Decimal("48500.00"))


def test_a_malformed_file_is_refused_with_the_line_and_nothing_is_written(client, finance):
    """D6: the form shows the parser's reason with the line number."""
    client.force_login(finance)
    response = client.post(URL, {"file": upload((DATA / "malformed_bad_date.txt").read_bytes())})
    assert response.status_code == 400
    assert "Line 23:" in response.content.decode()
    assert not BankStatement.objects.exists()
    assert not Payment.objects.exists()


def test_the_queue_lists_pending_payments_with_a_constant_number_of_queries(
    client, finance, clients, django_assert_max_num_queries
):
    """D6: the queue, the reviewed list and the history cost the same for one row as for many."""
    client.force_login(finance)
    first = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    bank_payment_resolve(actor=finance, payment=first.queued[0], company=clients.alpha)
    text = statement_bytes().decode("cp1251").replace("Номер=3091", "Номер=3000")
    bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    with django_assert_max_num_queries(20) as one:
        response = client.get(URL)
    assert GAMMA_INN in response.content.decode()
    queries_for_one = len(one)
    for number in range(5):
        text = statement_bytes().decode("cp1251").replace("Номер=3091", f"Номер=40{number}")
        text = text.replace("Номер=512", f"Номер=60{number}").replace("Номер=77", f"Номер=70{number}")
        bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    queued = Payment.objects.filter(review_status=ReviewStatus.PENDING)
    for payment in queued[:2]:
        client.post(reverse("finance:bank_payment_dismiss", args=[payment.pk]), {"reason": "Возврат"})
    with django_assert_max_num_queries(queries_for_one):
        response = client.get(URL)
    assert response.content.decode().count(reverse("finance:bank_payment", args=[queued[0].pk])) == 1
    # 3000 and 5 × (Гамма unknown, Альфа naming the paid 123, Бета with no invoice of 48 500,00 left —
    # both with their client shown) = 16 queued, 2 dismissed.
    assert Payment.objects.filter(review_status=ReviewStatus.PENDING).count() == 14
    assert Payment.objects.filter(review_status=ReviewStatus.PENDING, company__isnull=False).count() == 10


def test_the_statement_page_runs_a_constant_number_of_queries(
    client, finance, clients, django_assert_max_num_queries
):
    client.force_login(finance)
    result = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    url = reverse("finance:bank_statement", args=[result.statement.pk])
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200


@pytest.fixture
def queued(finance, clients) -> Payment:
    return bank_statement_import(actor=finance, file=upload(statement_bytes())).queued[0]


def test_resolving_from_the_review_page(client, finance, clients, queued):
    """D6: search the client by INN, choose it and one invoice; the payment leaves the queue."""
    client.force_login(finance)
    url = reverse("finance:bank_payment", args=[queued.pk])
    found = client.get(url, {"q": clients.beta.inn}).content.decode()
    assert "Бета Трейд" in found
    chosen = client.get(url, {"q": clients.beta.inn, "company": clients.beta.pk}).content.decode()
    assert "№ 244" in chosen
    response = client.post(
        f"{url}?q={clients.beta.inn}",
        {"company": clients.beta.pk, "invoices": [clients.beta_244.pk], "version": queued.version},
    )
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.company == clients.beta
    assert queued.review_status == ReviewStatus.RESOLVED
    assert queued.allocated == Decimal("12000.00")


def test_resolving_refuses_another_clients_invoice(client, finance, clients, queued):
    client.force_login(finance)
    url = reverse("finance:bank_payment", args=[queued.pk])
    response = client.post(url, {"company": clients.beta.pk, "invoices": [clients.alpha_118.pk]})
    assert response.status_code == 400
    queued.refresh_from_db()
    assert queued.review_status == ReviewStatus.PENDING


def test_dismissing_needs_a_reason_and_keeps_the_payment(client, finance, queued):
    client.force_login(finance)
    url = reverse("finance:bank_payment_dismiss", args=[queued.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Возврат поставщика"}).status_code == 302
    queued.refresh_from_db()
    assert queued.review_status == ReviewStatus.DISMISSED


@pytest.mark.parametrize("role", ["manager", "senior_manager"])
def test_sellers_cannot_review(client, request, role, queued):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("finance:bank_payment", args=[queued.pk])).status_code == 403
    url = reverse("finance:bank_payment_dismiss", args=[queued.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403
