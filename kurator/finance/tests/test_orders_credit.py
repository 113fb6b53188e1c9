"""Credit control (D6): the limit, overdue invoices, the head of sales' approval, recorded."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from kurator.activities.models import Notification
from kurator.core.errors import AccessDenied
from kurator.finance.models import ApprovalStatus, CreditApproval, CreditLimit, Invoice, InvoiceStatus
from kurator.finance.selectors.orders import credit_exposure
from kurator.finance.services import orders as services
from kurator.finance.tests.factories_orders import credit_limit_factory, line, order_factory, product_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with override("en"):
        yield


def invoice(
    company, amount, *, paid="0", due_days_ago=0, status=InvoiceStatus.ISSUED, order=None, number=None
):
    today = timezone.localdate()
    due = today - timedelta(days=due_days_ago)
    issued = due - timedelta(days=10)
    return Invoice.objects.create(
        company=company,
        order=order,
        number=number or f"С-{Invoice.objects.count() + 1}",
        year=issued.year,
        issued_on=issued,
        due_on=due,
        amount=Decimal(amount),
        paid=Decimal(paid),
        status=status,
    )


def _order(company, actor, amount, status="draft"):
    today = timezone.localdate()
    return order_factory(
        company=company,
        actor=actor,
        ordered_on=today,
        lines=[line(product_factory(base_price=amount), 1)],
        status=status,
    )


@pytest.fixture
def exposed(head, manager, company):
    """Limit 10 000; an open invoice of 6 000 with 1 000 paid (owes 5 000); a confirmed order of 3 000 not
    invoiced; a shipped order of 4 000 invoiced (its invoice, paid, counts instead); a cancelled invoice."""
    invoice(company, "6000", paid="1000", status=InvoiceStatus.PARTLY_PAID)
    _order(company, manager, "3000", "confirmed")
    shipped = _order(company, manager, "4000", "shipped")
    invoice(company, "4000", paid="4000", status=InvoiceStatus.PAID, order=shipped)
    invoice(company, "900", status=InvoiceStatus.CANCELLED)
    credit_limit_factory(company=company, amount="10000", actor=head)
    return company


def test_exposure_counts_open_balances_and_orders_not_invoiced(exposed):
    """D6: exposure = 5 000 owed on invoices + 3 000 on order = 8 000 of a 10 000 limit."""
    exposure = credit_exposure(company=exposed)
    assert (exposure["invoices"], exposure["orders"], exposure["total"]) == (
        Decimal("5000.00"),
        Decimal("3000.00"),
        Decimal("8000.00"),
    )
    assert (exposure["limit"], exposure["available"]) == (Decimal("10000.00"), Decimal("2000.00"))


def test_shipped_and_completed_orders_not_invoiced_count_like_confirmed_ones(head, manager, company):
    """D6: an order delivered but not invoiced is still owed. Limit 12 000; not invoiced: confirmed 3 000,
    shipped 4 000, completed 2 000, completed 1 500 whose only invoice was cancelled → orders 10 500;
    a completed order of 700 invoiced and unpaid counts by its invoice (700), one of 800 invoiced and paid
    counts nothing, nor do a draft of 900 and a cancelled order of 600. Exposure 700 + 10 500 = 11 200,
    available 800; confirming a new order of 1 000 would make 12 200 > 12 000 and waits for the head."""
    _order(company, manager, "3000", "confirmed")
    _order(company, manager, "4000", "shipped")
    _order(company, manager, "2000", "completed")
    recalled = _order(company, manager, "1500", "completed")
    invoice(company, "1500", status=InvoiceStatus.CANCELLED, order=recalled)
    owed = _order(company, manager, "700", "completed")
    invoice(company, "700", order=owed)
    settled = _order(company, manager, "800", "completed")
    invoice(company, "800", paid="800", status=InvoiceStatus.PAID, order=settled)
    _order(company, manager, "900")
    _order(company, manager, "600", "cancelled")
    credit_limit_factory(company=company, amount="12000", actor=head)

    exposure = credit_exposure(company=company)
    assert (exposure["invoices"], exposure["orders"], exposure["total"], exposure["available"]) == (
        Decimal("700.00"),
        Decimal("10500.00"),
        Decimal("11200.00"),
        Decimal("800.00"),
    )
    order = _order(company, manager, "1000")
    with pytest.raises(services.CreditApprovalRequired) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    assert [r["code"] for r in exc.value.approval.reasons] == ["over_limit"]
    assert exc.value.approval.reasons[0]["exposure"] == "12200.00"


def test_an_order_within_the_limit_is_confirmed(exposed, manager):
    """D6: 8 000 + 2 000 = 10 000 does not exceed the limit."""
    order = _order(exposed, manager, "2000")
    order = services.order_set_status(actor=manager, order=order, status="confirmed")
    assert order.status == "confirmed"
    assert not CreditApproval.objects.exists()


def test_a_sellers_confirmation_over_the_limit_waits_for_the_head(
    exposed, manager, head, django_capture_on_commit_callbacks
):
    """D6: 8 000 + 2 500 = 10 500 exceeds 10 000 by 500: the order stays a draft, a pending approval lists
    the reason with the amounts, and the heads of sales are notified."""
    order = _order(exposed, manager, "2500")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.CreditApprovalRequired) as exc,
    ):
        services.order_set_status(actor=manager, order=order, status="confirmed")
    order.refresh_from_db()
    assert order.status == "draft" and order.version == 1
    approval = CreditApproval.objects.get()
    assert exc.value.approval == approval
    assert (approval.status, approval.requested_by, approval.order) == (
        ApprovalStatus.PENDING,
        manager,
        order,
    )
    (reason,) = approval.reasons
    assert (reason["code"], reason["exposure"], reason["limit"], reason["excess"]) == (
        "over_limit",
        "10500.00",
        "10000.00",
        "500.00",
    )
    assert reason["message"] == (
        "Credit limit exceeded: with this order the client would owe 10\u00a0500,00\u00a0₽ against a "
        "limit of 10\u00a0000,00\u00a0₽ (over by 500,00\u00a0₽)."
    )
    assert Notification.objects.filter(recipient=head, kind="credit_approval").count() == 1
    # Asking again does not open a second request.
    with pytest.raises(services.CreditApprovalRequired):
        services.order_set_status(actor=manager, order=order, status="confirmed")
    assert CreditApproval.objects.count() == 1


@pytest.mark.parametrize(("days", "blocked"), [(30, False), (31, True)])
def test_an_invoice_overdue_more_than_n_days_needs_approval(manager, company, settings, days, blocked):
    """D6: with KURATOR_CREDIT_OVERDUE_DAYS = 30, an open invoice 31 days overdue blocks, 30 days does not
    (no limit set: only the overdue rule applies)."""
    settings.KURATOR_CREDIT_OVERDUE_DAYS = 30
    invoice(company, "700", paid="200", due_days_ago=days, number="С-77", status=InvoiceStatus.PARTLY_PAID)
    order = _order(company, manager, "100")
    if not blocked:
        assert services.order_set_status(actor=manager, order=order, status="confirmed").status == "confirmed"
        return
    with pytest.raises(services.CreditApprovalRequired) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    (reason,) = exc.value.approval.reasons
    assert (reason["code"], reason["days"], reason["number"], reason["balance"]) == (
        "overdue",
        31,
        "С-77",
        "500.00",
    )
    assert reason["message"] == "Invoice С-77 is 31 days overdue (more than 30), balance 500,00\u00a0₽."


def test_head_approves_and_the_order_is_confirmed(exposed, manager, head, django_capture_on_commit_callbacks):
    """D6: the head of sales' approval confirms the order; who, when and the comment are recorded; the
    requester is told."""
    order = _order(exposed, manager, "2500")
    with pytest.raises(services.CreditApprovalRequired) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        approval = services.credit_approval_decide(
            actor=head, approval=exc.value.approval, approve=True, comment="Клиент надёжный"
        )
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert (approval.status, approval.decided_by, approval.comment) == ("approved", head, "Клиент надёжный")
    assert approval.decided_at is not None
    assert Notification.objects.filter(recipient=manager, kind="credit_decision").exists()
    with pytest.raises(ValidationError):
        services.credit_approval_decide(actor=head, approval=approval, approve=False, comment="поздно")


def test_refusal_needs_a_comment_and_leaves_a_draft(
    exposed, manager, head, django_capture_on_commit_callbacks
):
    """D6: a refusal without a comment is refused (nothing written); with one, the order stays a draft and
    the requester is notified."""
    order = _order(exposed, manager, "2500")
    with pytest.raises(services.CreditApprovalRequired) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    approval = exc.value.approval
    with pytest.raises(ValidationError) as refused:
        services.credit_approval_decide(actor=head, approval=approval, approve=False, comment=" ")
    assert set(refused.value.message_dict) == {"comment"}
    approval.refresh_from_db()
    assert approval.status == "pending" and approval.decided_by is None
    with django_capture_on_commit_callbacks(execute=True):
        services.credit_approval_decide(
            actor=head, approval=approval, approve=False, comment="Сначала оплата"
        )
    order.refresh_from_db()
    assert order.status == "draft"
    note = Notification.objects.get(recipient=manager, kind="credit_decision")
    assert "Сначала оплата" in note.text


def test_only_the_head_decides(exposed, manager, finance):
    """D6: a seller or finance cannot decide a credit approval."""
    order = _order(exposed, manager, "2500")
    with pytest.raises(services.CreditApprovalRequired) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    for actor in (manager, finance):
        with pytest.raises(AccessDenied):
            services.credit_approval_decide(actor=actor, approval=exc.value.approval, approve=True)
    assert CreditApproval.objects.get().status == "pending"


def test_head_confirming_over_the_limit_records_their_approval(exposed, head):
    """D6: the head of sales confirms an order that breaks credit control; the approval is theirs."""
    order = _order(exposed, head, "5000")
    order = services.order_set_status(actor=head, order=order, status="confirmed")
    assert order.status == "confirmed"
    approval = CreditApproval.objects.get()
    assert (approval.status, approval.requested_by, approval.decided_by) == ("approved", head, head)
    assert approval.reasons[0]["code"] == "over_limit"


def test_credit_limit_is_set_by_finance_or_head_with_history(company, finance, head, manager):
    """D6: finance or the head of sales sets, changes and removes the limit; each change is kept; a seller
    is refused."""
    with pytest.raises(AccessDenied):
        services.credit_limit_set(actor=manager, company=company, amount="1000")
    with pytest.raises(ValidationError) as exc:
        services.credit_limit_set(actor=finance, company=company, amount="-5")
    assert set(exc.value.message_dict) == {"amount"}
    assert not CreditLimit.objects.exists()
    services.credit_limit_set(actor=finance, company=company, amount="1 000 000")
    services.credit_limit_set(actor=head, company=company, amount="0")
    services.credit_limit_remove(actor=finance, company=company)
    assert not CreditLimit.objects.exists()
    history = CreditLimit.history.filter(company_id=company.pk).order_by("history_id")
    assert [(h.history_type, h.amount, h.history_user_id) for h in history] == [
        ("+", Decimal("1000000.00"), finance.pk),
        ("~", Decimal("0.00"), head.pk),
        ("-", Decimal("0.00"), finance.pk),
    ]


def test_zero_limit_sends_every_order_to_approval(company, manager, head):
    """D6: a limit of zero means no credit: any order needs approval."""
    credit_limit_factory(company=company, amount="0", actor=head)
    with pytest.raises(services.CreditApprovalRequired):
        services.order_set_status(actor=manager, order=_order(company, manager, "1"), status="confirmed")
    assert date.today() is not None
