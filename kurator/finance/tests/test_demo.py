"""The demo's finance data: entered through the services, so its sums agree with each other (D5, D6, D8)."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from kurator.companies.demo import load_demo_data
from kurator.finance.models import Allocation, Contract, Invoice, Order, OrderLine, Payment
from kurator.finance.selectors.orders import purchase_stats

pytestmark = pytest.mark.django_db


def test_demo_finance_data_is_consistent():
    """D8: order totals are their lines; D6: what an invoice has paid and a payment has allocated are the sums
    of the allocations; D5: every order of a client with a contract is under it."""
    load_demo_data(companies=60, seed=7)
    assert Contract.objects.exists() and Order.objects.exists() and Invoice.objects.exists()
    for order in Order.objects.all():
        lines = OrderLine.objects.filter(order=order).aggregate(s=Sum("amount"))["s"]
        assert order.total == lines
    for invoice in Invoice.objects.all():
        paid = Allocation.objects.filter(invoice=invoice).aggregate(s=Sum("amount"))["s"] or 0
        assert invoice.paid == paid and invoice.paid <= invoice.amount
    for payment in Payment.objects.all():
        allocated = Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] or 0
        assert payment.allocated == allocated
    purchase = Order.objects.select_related("company").filter(status="completed").first()
    assert purchase is not None
    stats = purchase_stats(company=purchase.company)
    assert stats["orders_count"] >= 1 and stats["total"] > 0


def test_demo_result_counts_what_it_created():
    """The demo's summary line tells the truth about what it made."""
    result = load_demo_data(companies=30, seed=3)
    assert result.orders == Order.objects.count() and result.invoices == Invoice.objects.count()
    assert result.payments == Payment.objects.count()
