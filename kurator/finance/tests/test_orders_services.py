"""The catalogue and orders services (D8): amounts kept by the services, validation, statuses, refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from kurator.core.errors import AccessDenied, EditConflict
from kurator.finance.models import Order, OrderLine, OrderStatus, Product
from kurator.finance.services import orders as services
from kurator.finance.tests.factories_orders import category_factory, line, order_factory, product_factory
from kurator.sales.services import deal_create
from tests.factories import company_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with override("en"):
        yield


def _messages(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return [str(m) for m in exc.value.message_dict[field]]


# Catalogue ------------------------------------------------------------------------------------------------


def test_head_adds_products_with_a_unique_name_and_positive_price(head):
    """D8: the head of sales keeps the catalogue; the name is unique, the base price above zero."""
    category = category_factory("Кабель")
    product = services.product_create(
        actor=head, name="Кабель ВВГ 3×2,5", category=category, base_price="1 234,50", code="K-1", unit="м"
    )
    assert (product.base_price, product.unit, product.code) == (Decimal("1234.50"), "м", "K-1")
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=head, name="кабель ввг 3×2,5", category=category, base_price="0")
    assert set(exc.value.message_dict) == {"name", "base_price"}
    assert Product.objects.count() == 1


def test_seller_cannot_change_the_catalogue(manager):
    """D8: the catalogue is kept by the head of sales only; a refusal writes nothing."""
    with pytest.raises(AccessDenied):
        services.product_create(actor=manager, name="X", category=category_factory(), base_price=10)
    assert not Product.objects.exists()


def test_deactivated_product_is_refused_on_new_orders_but_stays_on_old_ones(head, manager, company):
    """D8: a product taken out of sale cannot be ordered any more; orders that have it keep it."""
    product = product_factory(actor=head, base_price=100)
    order = order_factory(company=company, actor=manager, lines=[line(product, 2)])
    services.product_deactivate(actor=head, product=product)
    with pytest.raises(ValidationError) as exc:
        order_factory(company=company, actor=manager, lines=[line(product, 1)])
    assert _messages(exc, "lines") == [f"Line 1: the product “{product.name}” is no longer sold."]
    # The draft that has it may still be edited with it.
    services.order_update(actor=manager, order=order, lines=[line(product, 3)])
    order.refresh_from_db()
    assert order.total == Decimal("300.00")


# Orders: amounts ------------------------------------------------------------------------------------------


def test_line_amount_is_rounded_half_up_and_total_is_the_sum(manager, company):
    """D8: amount = quantity × price × (1 − discount/100) rounded half-up to kopecks; total = sum."""
    a = product_factory(base_price="10.05")
    b = product_factory(base_price="999.99")
    order = services.order_create(
        actor=manager,
        company=company,
        ordered_on="2024-03-01",
        lines=[
            line(a, "1.5", None, "0"),  # 15.075 → 15.08 (half-up; banker's rounding would give 15.08 too)
            line(b, 3, "333.33", "12.5"),  # 999.99 × 0.875 = 874.99125 → 874.99
            line(a, "0.5", "0.05", 0),  # 0.025 → 0.03 (half-up, not 0.02)
        ],
    )
    amounts = list(
        OrderLine.objects.filter(order=order).order_by("position").values_list("amount", flat=True)
    )
    assert amounts == [Decimal("15.08"), Decimal("874.99"), Decimal("0.03")]
    assert order.total == Decimal("890.10")
    assert order.status == OrderStatus.DRAFT
    assert order.created_by == manager


def test_price_defaults_to_the_base_price(manager, company):
    """D8: a line without a price takes the product's base price."""
    product = product_factory(base_price="250.00")
    order = services.order_create(
        actor=manager,
        company=company,
        ordered_on="2024-03-01",
        lines=[{"product": product.pk, "quantity": 4}],
    )
    assert order.lines.get().price == Decimal("250.00")
    assert order.total == Decimal("1000.00")


def test_each_bad_line_is_named_and_nothing_is_written(manager, company, django_capture_on_commit_callbacks):
    """D8: every bad line is reported with its number; a refusal writes nothing."""
    product = product_factory()
    with pytest.raises(ValidationError) as exc:
        services.order_create(
            actor=manager,
            company=company,
            ordered_on="",
            lines=[
                line(product, 1),
                line(product, 0),
                line(product, 1, "-5"),
                line(product, 1, None, "101"),
                {"product": 999999, "quantity": 1},
            ],
        )
    assert _messages(exc, "lines") == [
        "Line 2: the quantity must be greater than zero.",
        "Line 3: the price cannot be negative.",
        "Line 4: the discount is between 0 and 100% (two decimals).",
        "Line 5: choose a product from the catalogue.",
    ]
    assert _messages(exc, "ordered_on") == ["Enter the order date."]
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_an_order_needs_a_line(manager, company):
    """D8: an order without lines is refused."""
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=manager, company=company, ordered_on="2024-03-01", lines=[])
    assert _messages(exc, "lines") == ["An order needs at least one line."]


def test_contract_and_deal_must_be_of_the_same_client(manager, company):
    """D8: the order's contract and deal belong to its client."""
    other = company_factory(actor=manager)
    deal = deal_create(actor=manager, company=other)
    with pytest.raises(ValidationError) as exc:
        order_factory(company=company, actor=manager, deal=deal.pk, contract=123456)
    assert set(exc.value.message_dict) == {"deal", "contract"}
    own = deal_create(actor=manager, company=company)
    order = order_factory(company=company, actor=manager, deal=own)
    assert order.deal == own


def test_only_who_works_with_the_client_enters_its_orders(other_manager, finance, company):
    """D8: the curator or the head of sales enters orders; a colleague and finance are refused."""
    for actor in (other_manager, finance):
        with pytest.raises(AccessDenied):
            order_factory(company=company, actor=actor)
    assert not Order.objects.exists()


# Orders: editing and statuses -----------------------------------------------------------------------------


def test_draft_lines_are_replaced_and_the_version_guards_edits(manager, company):
    """D8: editing a draft replaces its lines and recomputes the total; a stale version is a conflict."""
    product = product_factory(base_price=100)
    order = order_factory(company=company, actor=manager, lines=[line(product, 1)])
    order = services.order_update(
        actor=manager, order=order, expected_version=1, lines=[line(product, 2), line(product, 1, 50)]
    )
    assert order.total == Decimal("250.00") and order.version == 2
    assert order.lines.count() == 2
    with pytest.raises(EditConflict):
        services.order_update(actor=manager, order=order, expected_version=1, notes="x")


def test_status_path_and_final_statuses(manager, company):
    """D8: draft → confirmed → shipped → completed; completed is final; cancelled too."""
    order = order_factory(company=company, actor=manager)
    for status in ("confirmed", "shipped", "completed"):
        order = services.order_set_status(actor=manager, order=order, status=status)
        assert order.status == status
    with pytest.raises(ValidationError) as exc:
        services.order_set_status(actor=manager, order=order, status="cancelled")
    assert _messages(exc, "status") == ["A completed order is final."]
    other = order_factory(company=company, actor=manager, status="shipped")
    other = services.order_set_status(actor=manager, order=other, status="cancelled")
    with pytest.raises(ValidationError):
        services.order_set_status(actor=manager, order=other, status="draft")
    with pytest.raises(ValidationError) as exc:
        services.order_set_status(actor=manager, order=order_factory(company=company), status="shipped")
    assert _messages(exc, "status") == ["An order cannot go from “Draft” to “Shipped”."]


def test_confirmed_order_lines_are_fixed_until_it_returns_to_a_draft(manager, company):
    """D8 (documented choice): a confirmed order keeps its lines; returned to a draft it changes freely."""
    product = product_factory(base_price=100)
    order = order_factory(company=company, actor=manager, lines=[line(product, 1)], status="confirmed")
    with pytest.raises(ValidationError) as exc:
        services.order_update(actor=manager, order=order, lines=[line(product, 5)])
    assert _messages(exc, "lines") == ["Return the order to a draft to change its lines and date."]
    order = services.order_update(actor=manager, order=order, number="З-17", notes="срочно")
    assert order.number == "З-17"
    order = services.order_set_status(actor=manager, order=order, status="draft")
    order = services.order_update(actor=manager, order=order, lines=[line(product, 5)])
    assert order.total == Decimal("500.00")


def test_a_future_date_is_allowed_only_for_a_draft(manager, company):
    """D8: a draft may be dated ahead; it cannot be confirmed until that day."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    order = order_factory(company=company, actor=manager, ordered_on=tomorrow)
    with pytest.raises(ValidationError) as exc:
        services.order_set_status(actor=manager, order=order, status="confirmed")
    assert set(exc.value.message_dict) == {"ordered_on"}
    order.refresh_from_db()
    assert order.status == "draft" and order.version == 1


def test_status_changes_are_in_the_history(manager, company):
    """D8: each status change is kept in the order's history with who made it."""
    order = order_factory(company=company, actor=manager, status="shipped")
    records = list(order.history.order_by("history_id"))
    assert [r.status for r in records] == ["draft", "confirmed", "shipped"]
    assert {r.history_user_id for r in records} == {manager.pk}
    assert records[0].total == order.total
