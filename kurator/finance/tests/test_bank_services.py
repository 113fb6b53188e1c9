"""D6: importing a 1C bank statement (matching payers and invoices, duplicates, refusals) and the review
queue. The statement and the clients it expects are described in factories_bank.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kurator.companies import services as company_services
from kurator.core.errors import AccessDenied
from kurator.finance.models import (
    Allocation,
    BankStatement,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.onec import StatementError
from kurator.finance.services.bank import (
    BY_AMOUNT,
    BY_NUMBER,
    bank_payment_dismiss,
    bank_payment_resolve,
    bank_statement_import,
    invoice_numbers_in,
)
from kurator.finance.tests.factories_bank import (
    ALPHA_INN,
    DATA,
    GAMMA_INN,
    STATEMENT,
    statement_bytes,
    statement_clients,
)
from kurator.finance.tests.factories_receivables import invoice_factory
from tests.factories import company_factory


def upload(data: bytes, name: str = "kl_to_1c.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


@pytest.fixture
def clients(manager, finance):
    return statement_clients(curator=manager, finance=finance)


def snapshot() -> tuple:
    return (
        Payment.objects.count(),
        Allocation.objects.count(),
        BankStatement.objects.count(),
        sorted(Invoice.objects.values_list("pk", "paid", "status")),
    )


def test_import_matches_two_payments_and_queues_the_third(finance, clients):
    """D6: one by the invoice number in the purpose, one by amount, one (unknown INN) to the queue; the
    outgoing payment is ignored."""
    result = bank_statement_import(actor=finance, file=upload(statement_bytes()))

    statement = result.statement
    assert (statement.documents_count, statement.incoming_count) == (4, 3)
    assert (statement.matched_count, statement.queued_count, statement.duplicate_count) == (2, 1, 0)
    assert statement.account == "40702810680320589945"
    assert statement.file_name == "kl_to_1c.txt"
    assert statement.uploaded_by == finance

    alpha_payment, beta_payment = result.matched
    assert alpha_payment.company == clients.alpha
    assert result.matched_by[alpha_payment.pk] == BY_NUMBER
    assert list(alpha_payment.allocations.values_list("invoice__number", "amount")) == [
        ("123", Decimal("150000.00"))
    ]
    assert beta_payment.company == clients.beta
    assert result.matched_by[beta_payment.pk] == BY_AMOUNT
    assert list(beta_payment.allocations.values_list("invoice__number", "amount")) == [
        ("245", Decimal("48500.00"))
    ]
    for invoice in (clients.alpha_123, clients.beta_245):
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        assert invoice.paid_on == date(2026, 11, 23)
    for invoice in (clients.alpha_118, clients.beta_244):
        invoice.refresh_from_db()
        assert invoice.paid == 0

    (queued,) = result.queued
    assert queued.company is None
    assert queued.review_status == ReviewStatus.PENDING
    assert queued.review_reason == f"No client has INN {GAMMA_INN}."
    assert (queued.amount, queued.reference, queued.payer_inn) == (Decimal("27300.00"), "3091", GAMMA_INN)
    assert queued.payer_name == "ООО «Гамма Логистик»"
    assert all(p.source == PaymentSource.BANK and p.statement == statement for p in Payment.objects.all())
    assert Payment.objects.count() == 3  # not the outgoing rent


def test_importing_the_same_file_again_is_refused_and_records_no_statement(finance, clients):
    """D6: a file identical to one imported (the same sha256) is refused, naming when and which file it
    was; no statement, payment or allocation is added."""
    first = bank_statement_import(actor=finance, file=upload(statement_bytes(), name="kl_to_1c.txt"))
    before = snapshot()

    with pytest.raises(StatementError) as caught:
        bank_statement_import(actor=finance, file=upload(statement_bytes(), name="other_name.txt"))

    assert caught.value.code == "already_imported"
    assert caught.value.line is None
    day = timezone.localtime(first.statement.created_at).strftime("%d.%m.%Y")
    assert caught.value.text == (
        f"This statement was already imported on {day} (kl_to_1c.txt); nothing was added."
    )
    assert snapshot() == before


def test_a_statement_overlapping_an_imported_one_adds_only_the_new_documents(finance, clients):
    """D6: the bank key identifies a document, not a file: the same payment in another export is known
    and counted as a duplicate; the new one is imported."""
    bank_statement_import(actor=finance, file=upload(statement_bytes()))
    text = statement_bytes().decode("cp1251").replace("Номер=3091", "Номер=3092")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    assert (len(result.matched), len(result.queued), len(result.duplicates)) == (0, 1, 2)
    assert result.statement.duplicate_count == 2
    assert BankStatement.objects.count() == 2


@pytest.mark.parametrize(
    "name",
    [
        "malformed_not_1c.txt",
        "malformed_unclosed_document.txt",
        "malformed_bad_date.txt",
        "malformed_bad_amount.txt",
        "malformed_missing_number.txt",
        "malformed_cut_short.txt",
    ],
)
def test_a_malformed_statement_writes_nothing(finance, clients, name):
    """D6: refused with the line and the reason; no payment, no allocation, no statement record."""
    before = snapshot()
    with pytest.raises(StatementError) as caught:
        bank_statement_import(actor=finance, file=upload((DATA / name).read_bytes()))
    assert caught.value.line is not None
    assert snapshot() == before


def test_a_statement_over_the_size_limit_is_refused_before_reading(finance, settings):
    settings.KURATOR_BANK_STATEMENT_MAX_BYTES = 100
    with pytest.raises(StatementError) as caught:
        bank_statement_import(actor=finance, file=upload(statement_bytes()))
    assert caught.value.code == "too_large"
    assert not BankStatement.objects.exists()


@pytest.mark.parametrize("encoding", ["cp866", "utf-8-sig"])
def test_dos_and_utf8_statements_import_the_same(finance, clients, encoding):
    """D6: Кодировка=DOS (cp866) and UTF-8 with a BOM."""
    text = statement_bytes().decode("cp1251")
    if encoding == "cp866":
        text = text.replace("Кодировка=Windows", "Кодировка=DOS").replace("«", '"').replace("»", '"')
    result = bank_statement_import(actor=finance, file=upload(text.encode(encoding)))
    assert (len(result.matched), len(result.queued)) == (2, 1)


@pytest.mark.parametrize("role", ["manager", "senior_manager"])
def test_only_finance_and_the_head_import(request, role, clients):
    actor = request.getfixturevalue(role)
    with pytest.raises(AccessDenied):
        bank_statement_import(actor=actor, file=upload(statement_bytes()))
    assert not Payment.objects.exists()


def test_the_head_of_sales_imports(head, clients):
    result = bank_statement_import(actor=head, file=upload(statement_bytes()))
    assert len(result.matched) == 2


def test_a_clients_payment_matching_no_invoice_number_or_amount_waits_for_review_with_the_client(
    finance, clients
):
    """D6: Бета Трейд (found by INN) pays 50 000,00 with no invoice number; no open invoice has that
    balance (244: 12 000,00, 245: 48 500,00): nothing is allocated, the payment waits for review with the
    client set and the reason."""
    text = statement_bytes().decode("cp1251").replace("Сумма=48500.00", "Сумма=50000.00")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))

    assert (len(result.matched), len(result.queued)) == (1, 2)
    beta_payment = next(p for p in result.queued if p.company_id is not None)
    assert beta_payment.company == clients.beta
    assert beta_payment.review_status == ReviewStatus.PENDING
    assert beta_payment.review_reason == "No open invoice of the client matches the number or the amount."
    assert beta_payment.allocated == 0
    assert beta_payment.pk not in result.matched_by
    assert set(result.matched_by.values()) <= {BY_NUMBER, BY_AMOUNT}
    for invoice in (clients.beta_244, clients.beta_245):
        invoice.refresh_from_db()
        assert invoice.paid == 0
    assert (result.statement.matched_count, result.statement.queued_count) == (1, 2)


def test_a_purpose_naming_an_invoice_already_paid_waits_for_review(finance, clients):
    """D6: a likely double payment: the purpose names invoice 123, already paid; the 150 000,00 is not
    spread over invoice 118 but waits for review with the client and the reason."""
    first = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    assert first.matched_by[first.matched[0].pk] == BY_NUMBER
    text = statement_bytes().decode("cp1251").replace("Номер=512", "Номер=600")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))

    assert (len(result.matched), len(result.queued), len(result.duplicates)) == (0, 1, 2)
    again = result.queued[0]
    assert (again.company, again.review_status, again.allocated) == (
        clients.alpha,
        ReviewStatus.PENDING,
        Decimal("0.00"),
    )
    assert again.review_reason == "The invoice № 123 named in the purpose is already paid."
    clients.alpha_118.refresh_from_db()
    assert clients.alpha_118.paid == 0


def test_a_client_without_open_invoices_waits_for_review(finance, manager):
    """D6: the payer is known by INN but owes nothing: not made credit silently, but reviewed."""
    company = company_factory(actor=manager, inn=ALPHA_INN, kpp="738401002")
    result = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    payment = next(p for p in result.queued if p.payer_inn == ALPHA_INN)
    assert (payment.company, payment.review_status) == (company, ReviewStatus.PENDING)
    assert payment.review_reason == "The client has no open invoice to match the payment to."
    assert not result.matched


def test_an_unknown_invoice_number_still_matches_by_amount(finance, clients):
    """D6: the purpose names a number the client has no invoice with; the one open invoice of the amount
    (245, 48 500,00) decides."""
    text = (
        statement_bytes()
        .decode("cp1251")
        .replace("Оплата за товар по договору", "Оплата по счету № 999 по договору")
    )
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    beta_payment = next(p for p in result.matched if p.company == clients.beta)
    assert result.matched_by[beta_payment.pk] == BY_AMOUNT


def test_resolving_a_payment_queued_with_its_client_allocates_as_chosen(finance, clients):
    """D6: the reviewer resolves the payment queued with Бета Трейд: 50 000,00 → 245 (48 500,00) and
    244 (1 500,00 of 12 000,00)."""
    text = statement_bytes().decode("cp1251").replace("Сумма=48500.00", "Сумма=50000.00")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    waiting = next(p for p in result.queued if p.company_id is not None)
    payment = bank_payment_resolve(
        actor=finance,
        payment=waiting,
        company=clients.beta,
        allocations=[clients.beta_245, (clients.beta_244, "1500.00")],
    )
    assert payment.review_status == ReviewStatus.RESOLVED
    assert dict(payment.allocations.values_list("invoice__number", "amount")) == {
        "245": Decimal("48500.00"),
        "244": Decimal("1500.00"),
    }


def test_an_overpayment_of_the_named_invoice_is_the_clients_credit(finance, clients):
    """D6: 160 000,00 for invoice 123 of 150 000,00 → 10 000,00 credit (invoice 118 stays open)."""
    text = statement_bytes().decode("cp1251").replace("Сумма=150000.00", "Сумма=160000.00")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    alpha_payment = result.matched[0]
    assert alpha_payment.allocated == Decimal("150000.00")
    assert alpha_payment.credit == Decimal("10000.00")
    clients.alpha_118.refresh_from_db()
    assert clients.alpha_118.paid == 0


def test_a_merged_duplicates_inn_leads_to_the_survivor(finance, head, manager):
    """D6: the payer's INN belongs to a company merged into another: the payment is the survivor's."""
    survivor = company_factory(actor=manager, full_name="ООО «Альфа-Снаб Групп»", inn="7707083893")
    duplicate = company_factory(actor=manager, full_name="ООО «Альфа-Снаб»", inn=ALPHA_INN, kpp="738401002")
    company_services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    result = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    # The survivor has no open invoice: the payment waits for review, with the survivor as the client.
    assert result.queued[0].company == survivor


def test_several_clients_with_the_inn_are_told_apart_by_kpp(finance, manager):
    """D6: branches share the INN; the payer's KPP picks one, and without a match it waits for review."""
    head_office = company_factory(actor=manager, full_name="ООО «Альфа-Снаб»", inn=ALPHA_INN, kpp="738401002")
    company_factory(actor=manager, full_name="ООО «Альфа-Снаб» (филиал)", inn=ALPHA_INN, kpp="738445001")
    result = bank_statement_import(actor=finance, file=upload(statement_bytes()))
    assert result.queued[0].company == head_office  # no open invoice: reviewed, with the client set

    text = statement_bytes().decode("cp1251").replace("ПлательщикКПП=738401002", "ПлательщикКПП=")
    text = text.replace("Номер=512", "Номер=513")
    again = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    queued = [p for p in again.queued if p.payer_inn == ALPHA_INN]
    assert len(queued) == 1
    assert "Several clients have INN 7384916513" in queued[0].review_reason


def test_a_payer_without_an_inn_waits_for_review(finance, clients):
    text = statement_bytes().decode("cp1251").replace(f"ПлательщикИНН={ALPHA_INN}", "ПлательщикИНН=")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    assert result.queued[0].review_reason == "The statement names no INN of the payer."


@pytest.mark.parametrize(
    ("purpose", "numbers"),
    [
        ("Оплата по счету № 123 от 01.11.2026 за товар", ["123"]),
        ("Оплата сч. 45/2026, НДС не облагается", ["45/2026"]),
        ("Оплата по сч.№ А-17 за услуги", ["А-17"]),
        ("Оплата по счёту 77", ["77"]),
        ("Оплата по счетам № 12, 13 и 14", ["12", "13", "14"]),
        ("Оплата по СЧЕТУ N 5-П", ["5-П"]),
        ("Перечисление на расчетный счет", []),
        ("Оплата по счет-фактуре № 12", []),
        ("Оплата по договору № 15", []),
    ],
)
def test_invoice_numbers_are_found_in_the_purpose(purpose, numbers):
    """D6: the forms a payment purpose names an invoice in."""
    assert [ref.number for ref in invoice_numbers_in(purpose)] == numbers


def test_the_number_with_a_year_and_latin_lookalikes_match(finance, manager):
    """D6: «сч. 45/2026» is invoice 45 of 2026; «A-17» typed in Latin is the invoice «А-17»."""
    company = company_factory(actor=manager, inn=ALPHA_INN, kpp="738401002")
    invoice_45 = invoice_factory(company=company, number="45", amount="100.00", issued_on=date(2026, 11, 1))
    invoice_a17 = invoice_factory(
        company=company, number="А-17", amount="200.00", issued_on=date(2026, 11, 2)
    )
    text = statement_bytes().decode("cp1251")
    text = text.replace(
        "НазначениеПлатежа=Оплата по счету № 123 от 02.11.2026", "НазначениеПлатежа=Оплата сч. 45/2026 и A-17"
    )
    text = text.replace("Сумма=150000.00", "Сумма=300.00")
    result = bank_statement_import(actor=finance, file=upload(text.encode("cp1251")))
    payment = result.matched[0]
    assert dict(payment.allocations.values_list("invoice_id", "amount")) == {
        invoice_45.pk: Decimal("100.00"),
        invoice_a17.pk: Decimal("200.00"),
    }


# The review queue ---------------------------------------------------------------------------------------


@pytest.fixture
def queued(finance, clients) -> Payment:
    return bank_statement_import(actor=finance, file=upload(statement_bytes())).queued[0]


def test_resolving_assigns_the_client_and_allocates_to_the_oldest_invoices(finance, clients, queued):
    """D6: no invoice chosen: 27 300,00 → invoice 118 (30 000,00, oldest) partly."""
    payment = bank_payment_resolve(actor=finance, payment=queued, company=clients.alpha)
    assert payment.company == clients.alpha
    assert payment.review_status == ReviewStatus.RESOLVED
    assert payment.reviewed_by == finance
    assert payment.reviewed_at is not None
    assert payment.allocated == Decimal("27300.00")
    clients.alpha_118.refresh_from_db()
    assert (clients.alpha_118.paid, clients.alpha_118.status) == (
        Decimal("27300.00"),
        InvoiceStatus.PARTLY_PAID,
    )


def test_resolving_with_chosen_invoices_leaves_the_rest_as_credit(finance, clients, queued):
    """D6: chosen invoice 244 of Бета Трейд (12 000,00): 15 300,00 stays the client's credit."""
    payment = bank_payment_resolve(
        actor=finance, payment=queued, company=clients.beta, allocations=[clients.beta_244]
    )
    assert payment.allocated == Decimal("12000.00")
    assert payment.credit == Decimal("15300.00")
    assert list(payment.allocations.values_list("invoice__number", flat=True)) == ["244"]


def test_resolving_with_an_amount_per_invoice(finance, clients, queued):
    payment = bank_payment_resolve(
        actor=finance, payment=queued, company=clients.beta, allocations=[(clients.beta_244, "5000.00")]
    )
    assert payment.allocated == Decimal("5000.00")


def test_resolving_refuses_another_clients_invoice_and_writes_nothing(finance, clients, queued):
    with pytest.raises(ValidationError) as caught:
        bank_payment_resolve(
            actor=finance, payment=queued, company=clients.beta, allocations=[clients.alpha_123]
        )
    assert "allocations" in caught.value.message_dict
    queued.refresh_from_db()
    assert (queued.company, queued.review_status) == (None, ReviewStatus.PENDING)


def test_resolving_needs_a_client(finance, queued):
    with pytest.raises(ValidationError) as caught:
        bank_payment_resolve(actor=finance, payment=queued, company=None)
    assert "company" in caught.value.message_dict


def test_a_resolved_payment_cannot_be_resolved_again(finance, clients, queued):
    bank_payment_resolve(actor=finance, payment=queued, company=clients.alpha)
    with pytest.raises(ValidationError) as caught:
        bank_payment_resolve(actor=finance, payment=queued, company=clients.beta)
    assert "payment" in caught.value.message_dict


def test_dismissing_keeps_the_payment_with_the_reason(finance, queued):
    """D6: not a client payment (a refund): out of the queue, never deleted."""
    payment = bank_payment_dismiss(actor=finance, payment=queued, reason="Возврат от поставщика")
    assert payment.review_status == ReviewStatus.DISMISSED
    assert payment.review_reason == "Возврат от поставщика"
    assert payment.company is None
    assert Payment.objects.filter(pk=queued.pk).exists()


def test_dismissing_needs_a_reason(finance, queued):
    with pytest.raises(ValidationError) as caught:
        bank_payment_dismiss(actor=finance, payment=queued, reason="  ")
    assert "reason" in caught.value.message_dict


@pytest.mark.parametrize("role", ["manager", "senior_manager"])
def test_sellers_cannot_review(request, role, clients, queued):
    actor = request.getfixturevalue(role)
    with pytest.raises(AccessDenied):
        bank_payment_resolve(actor=actor, payment=queued, company=clients.alpha)
    with pytest.raises(AccessDenied):
        bank_payment_dismiss(actor=actor, payment=queued, reason="x")


def test_statement_fixture_is_windows_1251():
    """The browser journey uploads this very file: it must stay cp1251 with CRLF lines."""
    data = STATEMENT.read_bytes()
    assert data.startswith(b"1CClientBankExchange\r\n")
    assert "Кодировка=Windows".encode("cp1251") in data
