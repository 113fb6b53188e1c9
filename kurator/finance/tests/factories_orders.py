"""Factories of the catalogue, orders and credit control, made through the services so that ``amount``,
``total`` and ``version`` stay true. Other areas' tests (bench, journeys, solvency) may import them."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any, cast

from kurator.accounts.models import Role, User
from kurator.companies.models import Company, ProductCategory
from kurator.finance.models import CreditLimit, Order, OrderStatus, Product
from kurator.finance.services import orders as services
from tests.factories import UserFactory

_seq = itertools.count(1)

# The statuses an order passes through to reach each one (from a draft).
PATH_TO: dict[str, tuple[str, ...]] = {
    OrderStatus.DRAFT: (),
    OrderStatus.CONFIRMED: (OrderStatus.CONFIRMED,),
    OrderStatus.SHIPPED: (OrderStatus.CONFIRMED, OrderStatus.SHIPPED),
    OrderStatus.COMPLETED: (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED),
    OrderStatus.CANCELLED: (OrderStatus.CANCELLED,),
}


def head_of_sales() -> User:
    """A head of sales for factories called without an actor."""
    return cast(User, UserFactory(username="factory-head", role=Role.HEAD_OF_SALES))


def category_factory(name: str | None = None, **fields: Any) -> ProductCategory:
    name = name or f"Категория {next(_seq)}"
    category, _created = ProductCategory.objects.get_or_create(name=name, defaults=fields)
    return category


def product_factory(
    *,
    actor: User | None = None,
    name: str | None = None,
    category: ProductCategory | str | None = None,
    base_price: Any = "1000.00",
    **fields: Any,
) -> Product:
    if not isinstance(category, ProductCategory):
        category = category_factory(category)
    return services.product_create(
        actor=actor or head_of_sales(),
        name=name or f"Товар {next(_seq)}",
        category=category,
        base_price=base_price,
        **fields,
    )


def line(product: Product, quantity: Any = 1, price: Any = None, discount_percent: Any = 0) -> dict[str, Any]:
    return {"product": product, "quantity": quantity, "price": price, "discount_percent": discount_percent}


def order_factory(
    *,
    company: Company,
    actor: User | None = None,
    ordered_on: date | str = "2024-01-15",
    lines: list[dict[str, Any]] | None = None,
    status: str = OrderStatus.DRAFT,
    amount: Any = None,
    **fields: Any,
) -> Order:
    """An order of ``company`` taken to ``status`` through the services (by the head of sales unless an
    actor is given). Without ``lines``: one line of a new product at ``amount`` (default 1000.00)."""
    actor = actor or head_of_sales()
    if lines is None:
        price = Decimal(str(amount)) if amount is not None else Decimal("1000.00")
        lines = [line(product_factory(actor=head_of_sales(), base_price=price), 1)]
    order = services.order_create(actor=actor, company=company, ordered_on=ordered_on, lines=lines, **fields)
    for step in PATH_TO[status]:
        order = services.order_set_status(actor=actor, order=order, status=step)
    return order


def credit_limit_factory(*, company: Company, amount: Any, actor: User | None = None) -> CreditLimit:
    return services.credit_limit_set(actor=actor or head_of_sales(), company=company, amount=amount)
