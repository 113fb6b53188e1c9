"""D6: invoices, payments and their allocation — the services behind the pages, the API and the bank
import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kurator.core.errors import AccessDenied, EditConflict
from kurator.finance.models import (
    Allocation,
    CollectionAction,
    Contract,
    Invoice,
    InvoiceStatus,
    Payment,
    ReviewStatus,
)
from kurator.finance.services import receivables as services
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def messages(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def snapshot() -> tuple:
    return (
        list(Invoice.objects.order_by("pk").values_list("pk", "paid", "status", "paid_on", "version")),
        list(Payment.objects.order_by("pk").values_list("pk", "allocated", "version")),
        list(Allocation.objects.order_by("pk").values_list("pk", "amount")),
        Invoice.history.count(),
        Payment.history.count(),
    )


def fresh(record):
    return type(record).objects.get(pk=record.pk)


# Invoices -------------------------------------------------------------------------------------------------


def test_invoice_due_date_defaults_to_the_contracts_payment_term(finance, company):
    """D6: due = invoice date + the contract's payment term; without a contract, the invoice date."""
    contract = Contract.objects.create(company=company, number="Д-1", payment_term_days=14)
    with_term = services.invoice_create(
        actor=finance,
        company=company,
        number="1",
        issued_on=date(2025, 3, 1),
        amount="100",
        contract=contract,
    )
    plain = services.invoice_create(
        actor=finance, company=company, number="2", issued_on=date(2025, 3, 1), amount="1 234,50"
    )
    assert with_term.due_on == date(2025, 3, 15)
    assert plain.due_on == date(2025, 3, 1)
    assert plain.amount == D("1234.50")
    assert plain.year == 2025
    assert plain.status == InvoiceStatus.ISSUED and plain.paid == 0


def test_invoice_number_is_unique_within_a_year_only(finance, manager, company):
    """D6: the same number may come back next year; within a year it is refused naming the field."""
    invoice_factory(actor=finance, company=company, number="7", issued_on=date(2024, 5, 1))
    invoice_factory(actor=finance, company=company, number="7", issued_on=date(2025, 1, 1))
    other = company_factory(actor=manager)
    with pytest.raises(ValidationError) as exc:
        invoice_factory(actor=finance, company=other, number="7", issued_on=date(2025, 12, 31))
    assert "already issued in 2025" in messages(exc, "number")
    assert Invoice.objects.count() == 2


def test_invoice_bad_input_is_refused_field_by_field_and_nothing_is_written(finance, company, manager):
    """D6: zero/negative amount, due before issue, another client's contract, missing number."""
    other = company_factory(actor=manager)
    contract = Contract.objects.create(company=other, number="Д-2")
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(
            actor=finance,
            company=company,
            number=" ",
            issued_on=date(2025, 3, 10),
            due_on=date(2025, 3, 9),
            amount="-5",
            contract=contract,
        )
    assert set(exc.value.message_dict) == {"number", "amount", "due_on", "contract"}
    assert "before the invoice date" in messages(exc, "due_on")
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(actor=finance, company=company, number="1", issued_on="", amount="0")
    assert set(exc.value.message_dict) == {"issued_on", "amount"}
    assert Invoice.objects.count() == 0


def test_only_finance_and_the_head_issue_invoices(manager, head, finance, company):
    """D6: the curator reads invoices; finance and the head of sales enter them."""
    with pytest.raises(AccessDenied):
        invoice_factory(actor=manager, company=company)
    invoice_factory(actor=head, company=company)
    invoice_factory(actor=finance, company=company)


def test_invoice_update_keeps_amount_at_or_above_paid_and_checks_the_version(finance, company):
    """D6: the amount may not go below what is paid; lowering it to the paid sum makes it paid."""
    invoice = invoice_factory(actor=finance, company=company, amount="1000")
    payment_factory(
        actor=finance, company=company, amount="600", paid_on=date(2025, 2, 3), allocations=[(invoice, "600")]
    )
    invoice = fresh(invoice)
    with pytest.raises(ValidationError) as exc:
        services.invoice_update(actor=finance, invoice=invoice, amount="599.99")
    assert "600" in messages(exc, "amount")
    with pytest.raises(EditConflict):
        services.invoice_update(
            actor=finance, invoice=invoice, expected_version=invoice.version - 1, notes="x"
        )
    updated = services.invoice_update(
        actor=finance, invoice=invoice, expected_version=invoice.version, amount="600"
    )
    assert (updated.status, updated.paid_on) == (InvoiceStatus.PAID, date(2025, 2, 3))
    updated = services.invoice_update(actor=finance, invoice=updated, amount="700")
    assert (updated.status, updated.paid_on) == (InvoiceStatus.PARTLY_PAID, None)


def test_invoice_cancel_needs_a_reason_and_no_allocations(finance, company):
    """D6: cancelled only with nothing allocated; the reason stays in the history."""
    paid = invoice_factory(actor=finance, company=company)
    payment_factory(actor=finance, company=company, amount="10", allocations=[(paid, "10")])
    with pytest.raises(ValidationError) as exc:
        services.invoice_cancel(actor=finance, invoice=paid, reason="ошибка")
    assert "allocat" in messages(exc, "status")
    invoice = invoice_factory(actor=finance, company=company)
    with pytest.raises(ValidationError):
        services.invoice_cancel(actor=finance, invoice=invoice, reason="  ")
    cancelled = services.invoice_cancel(actor=finance, invoice=invoice, reason="Выставлен по ошибке")
    assert cancelled.status == InvoiceStatus.CANCELLED
    assert "Выставлен по ошибке" in cancelled.history.first().history_change_reason


# Allocation: hand-computed examples ----------------------------------------------------------------


def test_partial_then_full_payment_moves_the_invoice_issued_partly_paid_paid(finance, company):
    """D6: 1 000,00 invoice; 400,00 on 3 Feb → partly paid, balance 600,00; 600,00 on 10 Feb → paid on
    10 Feb."""
    invoice = invoice_factory(actor=finance, company=company, amount="1000.00")
    first = payment_factory(
        actor=finance, company=company, amount="400", paid_on=date(2025, 2, 3), allocations=[(invoice, "400")]
    )
    invoice = fresh(invoice)
    assert (invoice.paid, invoice.balance, invoice.status, invoice.paid_on) == (
        D("400.00"),
        D("600.00"),
        InvoiceStatus.PARTLY_PAID,
        None,
    )
    assert fresh(first).allocated == D("400.00") and fresh(first).credit == 0
    payment_factory(
        actor=finance,
        company=company,
        amount="600",
        paid_on=date(2025, 2, 10),
        allocations=[(invoice, "600")],
    )
    invoice = fresh(invoice)
    assert (invoice.paid, invoice.status, invoice.paid_on) == (
        D("1000.00"),
        InvoiceStatus.PAID,
        date(2025, 2, 10),
    )


def test_one_payment_settles_several_invoices_and_the_overpayment_is_credit(finance, company):
    """D6: payment 1 500,00 → invoice A 500,00 (all), invoice B 700,00 (of 800,00 → partly paid); credit
    300,00, later allocated to B's rest of 100,00 leaving 200,00 credit."""
    a = invoice_factory(actor=finance, company=company, amount="500")
    b = invoice_factory(actor=finance, company=company, amount="800")
    payment = payment_factory(
        actor=finance,
        company=company,
        amount="1500.00",
        paid_on=date(2025, 3, 1),
        allocations=[(a, "500"), (b, "700")],
    )
    payment = fresh(payment)
    assert payment.allocated == D("1200.00") and payment.credit == D("300.00")
    assert fresh(a).status == InvoiceStatus.PAID and fresh(a).paid_on == date(2025, 3, 1)
    assert fresh(b).status == InvoiceStatus.PARTLY_PAID and fresh(b).balance == D("100.00")
    allocation = services.payment_allocate(actor=finance, payment=payment, invoice=b, amount="100")
    assert allocation.amount == D("800.00")  # the same pair grows: one row per payment and invoice
    assert fresh(payment).credit == D("200.00")
    assert fresh(b).status == InvoiceStatus.PAID


def test_allocation_beyond_the_balance_or_the_payment_is_refused_and_nothing_is_written(
    finance, manager, company
):
    """D6: each allocation ≤ the invoice's balance; their sum ≤ the payment; refusals write nothing."""
    a = invoice_factory(actor=finance, company=company, amount="500")
    b = invoice_factory(actor=finance, company=company, amount="500")
    other = invoice_factory(actor=finance, company=company_factory(actor=manager))
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=company, amount="600", allocations=[(a, "500.01")])
    assert "more than its balance" in messages(exc, "allocations")
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=company, amount="600", allocations=[(a, "400"), (b, "300")])
    assert "exceed" in messages(exc, "allocations")
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=company, amount="600", allocations=[(a, "-1")])
    assert "greater than zero" in messages(exc, "allocations")
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=company, amount="600", allocations=[(other, "1")])
    assert "this client" in messages(exc, "allocations")
    assert snapshot() == before
    payment = payment_factory(actor=finance, company=company, amount="300")
    with pytest.raises(ValidationError) as exc:
        services.payment_allocate(actor=finance, payment=payment, invoice=a, amount="301")
    assert "amount" in exc.value.message_dict
    assert fresh(payment).allocated == 0 and fresh(a).paid == 0


def test_payment_amount_must_be_positive(finance, company):
    """D6: negative or zero payments are refused."""
    for amount in ("0", "-100", "abc"):
        with pytest.raises(ValidationError) as exc:
            payment_factory(actor=finance, company=company, amount=amount)
        assert "amount" in exc.value.message_dict
    assert Payment.objects.count() == 0


def test_allocate_oldest_pays_the_oldest_due_first_and_keeps_the_rest_as_credit(finance, company):
    """D6: rest 1 000,00 → due 1 Feb 300,00 (all), due 5 Feb 500,00 (all), due 9 Feb 400,00 (200,00);
    credit 0."""
    late = invoice_factory(
        actor=finance, company=company, amount="400", issued_on=date(2025, 1, 9), due_on=date(2025, 2, 9)
    )
    early = invoice_factory(
        actor=finance, company=company, amount="300", issued_on=date(2025, 1, 1), due_on=date(2025, 2, 1)
    )
    middle = invoice_factory(
        actor=finance, company=company, amount="500", issued_on=date(2025, 1, 5), due_on=date(2025, 2, 5)
    )
    payment = payment_factory(actor=finance, company=company, amount="1000")
    made = services.payment_allocate_oldest(actor=finance, payment=payment)
    assert [(a.invoice_id, a.amount) for a in made] == [
        (early.pk, D("300.00")),
        (middle.pk, D("500.00")),
        (late.pk, D("200.00")),
    ]
    assert fresh(payment).credit == 0
    assert fresh(late).status == InvoiceStatus.PARTLY_PAID
    extra = payment_factory(actor=finance, company=company, amount="500")
    services.payment_allocate_oldest(actor=finance, payment=extra)
    assert fresh(extra).credit == D("300.00") and fresh(late).status == InvoiceStatus.PAID
    assert services.payment_allocate_oldest(actor=finance, payment=fresh(payment)) == []


def test_removing_an_allocation_reopens_the_invoice_and_restores_the_credit(finance, company):
    """D6: remove an allocation — recorded in both histories; the invoice is open again."""
    invoice = invoice_factory(actor=finance, company=company, amount="100")
    payment = payment_factory(actor=finance, company=company, amount="150", allocations=[(invoice, "100")])
    allocation = Allocation.objects.get()
    services.allocation_remove(actor=finance, allocation=allocation, reason="не тот счёт")
    invoice, payment = fresh(invoice), fresh(payment)
    assert (invoice.paid, invoice.status, invoice.paid_on) == (0, InvoiceStatus.ISSUED, None)
    assert payment.allocated == 0 and payment.credit == D("150.00")
    assert "removed" in invoice.history.first().history_change_reason
    assert "removed" in payment.history.first().history_change_reason


def test_pending_bank_payment_may_have_no_client_and_is_not_allocated_until_resolved(finance, company):
    """D6: a bank payment awaiting review has no client; allocating it is refused; a manual one needs one."""
    pending = payment_factory(
        actor=finance,
        company=None,
        amount="50",
        source="bank",
        review_status=ReviewStatus.PENDING,
        bank_key="k1",
        payer_inn="7707083893",
        payer_name="ООО Ромашка",
    )
    assert pending.company is None and pending.payer_inn == "7707083893"
    invoice = invoice_factory(actor=finance, company=company)
    with pytest.raises(ValidationError) as exc:
        services.payment_allocate(actor=finance, payment=pending, invoice=invoice, amount="10")
    assert "payment" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=None, amount="50")
    assert "company" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        payment_factory(actor=finance, company=None, amount="50", bank_key="k1", review_status="pending")
    assert "bank_key" in exc.value.message_dict


def test_only_finance_and_the_head_enter_payments(manager, finance, company):
    """D6: the curator cannot enter or allocate payments."""
    with pytest.raises(AccessDenied):
        payment_factory(actor=manager, company=company)
    payment = payment_factory(actor=finance, company=company)
    invoice = invoice_factory(actor=finance, company=company)
    with pytest.raises(AccessDenied):
        services.payment_allocate(actor=manager, payment=payment, invoice=invoice, amount="1")


# Collection log ----------------------------------------------------------------------------------------


def test_collection_promise_needs_a_date_and_the_invoice_of_the_client(
    manager, finance, company, other_manager
):
    """D6: a promise without a date, another client's invoice, a promised date on a call are refused."""
    foreign = invoice_factory(actor=finance, company=company_factory(actor=other_manager))
    with pytest.raises(ValidationError) as exc:
        services.collection_action_create(
            actor=manager, company=company, kind="promise", happened_on=date(2025, 3, 1), invoice=foreign
        )
    assert set(exc.value.message_dict) == {"promised_on", "invoice"}
    with pytest.raises(ValidationError) as exc:
        services.collection_action_create(
            actor=manager,
            company=company,
            kind="call",
            happened_on=date(2025, 3, 1),
            promised_on=date(2025, 3, 5),
        )
    assert "promised_on" in exc.value.message_dict
    action = services.collection_action_create(
        actor=manager,
        company=company,
        kind="promise",
        happened_on=date(2025, 3, 1),
        promised_on=date(2025, 3, 5),
        promised_amount="1 000",
        outcome="Обещали оплатить",
    )
    assert action.author == manager and action.promised_amount == D("1000.00")
    with pytest.raises(AccessDenied):
        services.collection_action_create(
            actor=other_manager, company=company, kind="call", happened_on=date(2025, 3, 1)
        )
    assert CollectionAction.objects.count() == 1


def test_a_payment_settling_the_invoice_by_the_promised_date_keeps_the_promise(manager, finance, company):
    """D6: promise for 10 Mar; the invoice paid in full on 9 Mar → kept."""
    invoice = invoice_factory(actor=finance, company=company, amount="100")
    action = services.collection_action_create(
        actor=manager,
        company=company,
        kind="promise",
        happened_on=date(2025, 3, 1),
        promised_on=date(2025, 3, 10),
        invoice=invoice,
    )
    payment_factory(
        actor=finance, company=company, amount="50", paid_on=date(2025, 3, 9), allocations=[(invoice, "50")]
    )
    assert fresh(action).promise_kept is None
    payment_factory(
        actor=finance, company=company, amount="50", paid_on=date(2025, 3, 9), allocations=[(invoice, "50")]
    )
    assert fresh(action).promise_kept is True
