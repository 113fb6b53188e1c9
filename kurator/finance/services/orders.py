"""Every write to the product catalogue, the client's orders (D8) and credit control (D6).

Catalogue. Products are kept by the head of sales (``finance.manage_catalogue``); a product is never
deleted once ordered, it is deactivated. Categories are the purchase profile's dictionary (D9), written
through :func:`kurator.companies.services.dictionary_item_save`.

Orders. The curator (or whoever works the client's deal, or the head of sales: ``finance.change_order``)
enters the client's orders. ``OrderLine.amount`` = quantity × price × (1 − discount/100), rounded half-up to
kopecks; ``Order.total`` = the sum of the lines; both are kept here, never typed in. Statuses::

    draft ──► confirmed ──► shipped ──► completed
      ▲  │        │            │
      │  └────────┴────────────┴──► cancelled        (completed and cancelled are final)
      └── confirmed (reopened: back to a draft while no invoice is issued for it)

Lines, the order date and the client change only in a draft. A confirmed order is fixed: to change its lines
return it to a draft (it stops being a purchase) and confirm it again — through credit control again. Of a
confirmed or shipped order only the number, the contract, the deal and the notes change; of a completed or
cancelled one only the notes. Drafts and cancelled orders are not purchases (D8).

Credit control. Leaving the draft (confirming) is checked: the client's exposure — open invoice balances plus
confirmed, shipped or completed orders not invoiced yet plus this order — must stay within its credit limit
(no limit set: not checked), and the client must have no open invoice more than
``KURATOR_CREDIT_OVERDUE_DAYS`` days overdue. When either fails, a seller's confirmation records a pending
:class:`CreditApproval` (the reasons with their amounts and days), notifies the heads of sales and raises
:class:`CreditApprovalRequired`; the order stays a draft. The head of sales approves (the order is confirmed)
or refuses (with a comment; the requester is notified). A head of sales who confirms such an order confirms
it, and the approval is recorded as theirs.

Services validate the whole input first and raise one ValidationError naming each bad field (nothing is
written), AccessDenied when the policy refuses, EditConflict on a stale ``expected_version``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.policy import can
from kurator.accounts.models import Role, User
from kurator.activities.services import notify
from kurator.companies.models import Company, ProductCategory
from kurator.core.cleaning import clean_date, clean_money, one_line, record_by_id, reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.core.money import format_rub
from kurator.core.text import fold
from kurator.finance.models import (
    PURCHASE_STATUSES,
    ApprovalStatus,
    Contract,
    CreditApproval,
    CreditLimit,
    Order,
    OrderLine,
    OrderStatus,
    Product,
)
from kurator.finance.selectors.orders import credit_exposure
from kurator.sales.models import Deal

__all__ = [
    "TRANSITIONS",
    "CreditApprovalRequired",
    "credit_approval_decide",
    "credit_check",
    "credit_limit_remove",
    "credit_limit_set",
    "line_amount",
    "order_create",
    "order_set_status",
    "order_update",
    "product_create",
    "product_deactivate",
    "product_update",
]

KOPECK = Decimal("0.01")
HUNDRED = Decimal("100")
# simple-history's change-reason column.
HISTORY_REASON_LENGTH = 100
# An order has at most this many lines (a guard against a runaway form or API client).
MAX_LINES = 500
QUANTITY_PLACES = Decimal("0.001")
MAX_QUANTITY = Decimal("99999999999.999")

PRODUCT_FIELDS = ("name", "code", "category", "unit", "base_price", "is_active")
ORDER_UPDATE_FIELDS = ("ordered_on", "lines", "contract", "deal", "number", "notes")
# What may still change once an order has left the draft (see the module docstring).
EDITABLE_AFTER_DRAFT: dict[str, tuple[str, ...]] = {
    OrderStatus.CONFIRMED: ("contract", "deal", "number", "notes"),
    OrderStatus.SHIPPED: ("contract", "deal", "number", "notes"),
    OrderStatus.COMPLETED: ("notes",),
    OrderStatus.CANCELLED: ("notes",),
}

TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.DRAFT: (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.DRAFT),
    OrderStatus.SHIPPED: (OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    OrderStatus.COMPLETED: (),
    OrderStatus.CANCELLED: (),
}


class CreditApprovalRequired(Exception):
    """A seller's confirmation broke credit control: the request for the head of sales' approval is saved
    (committed) and the order stays a draft. ``approval`` is the pending request with its reasons."""

    def __init__(self, approval: CreditApproval) -> None:
        self.approval = approval
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return gettext(
            "The order needs the head of sales' approval: it stays a draft until they decide. The request "
            "is sent."
        )

    def messages(self) -> list[str]:
        return [self.message, *(str(r.get("message", "")) for r in self.approval.reasons)]


def _money(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × price × (1 − discount/100), rounded half-up to kopecks (D8)."""
    return _money(quantity * price * (HUNDRED - discount_percent) / HUNDRED)


def _save(record: Any, actor: User | None, reason: str = "") -> None:
    record._history_user = actor
    record._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None
    record.save()


# Catalogue ------------------------------------------------------------------------------------------------


def _clean_product(errors: FieldErrors, data: dict[str, Any], product: Product | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in data:
        name = one_line(data["name"], 300)
        if not name:
            errors.add("name", _("Enter the product's name."), code="required")
        else:
            others = Product.objects.exclude(pk=product.pk if product is not None else 0)
            if others.filter(name__iexact=name).exists() or (
                # SQLite folds only ASCII: compare folded names in Python there.
                connection.vendor == "sqlite"
                and fold(name) in {fold(n) for n in others.values_list("name", flat=True).iterator()}
            ):
                errors.add("name", _("A product with this name is already in the catalogue."), code="unique")
            cleaned["name"] = name
    if "code" in data:
        cleaned["code"] = one_line(data["code"], 64)
    if "unit" in data:
        unit = one_line(data["unit"], 16)
        if not unit:
            errors.add("unit", _("Enter the unit (шт, кг, м…)."), code="required")
        cleaned["unit"] = unit
    if "category" in data:
        category = record_by_id(ProductCategory, data["category"])
        current = product.category_id if product is not None else None
        if category is None:
            errors.add("category", _("Choose a product category."), code="invalid_choice")
        elif not category.is_active and category.pk != current:
            errors.add("category", _("The category is no longer in use: choose another."), code="inactive")
        cleaned["category"] = category
    if "base_price" in data:
        price = clean_money(errors, "base_price", data["base_price"])
        if price is None and "base_price" not in errors.errors:
            errors.add("base_price", _("Enter the base price."), code="required")
        cleaned["base_price"] = price
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    return cleaned


@transaction.atomic
def product_create(
    *,
    actor: User,
    name: str,
    category: Any,
    base_price: Any,
    code: str = "",
    unit: str = "шт",
    is_active: bool = True,
) -> Product:
    """Add a product to the catalogue (head of sales). The name is unique, the base price above zero."""
    ensure(actor, "finance.manage_catalogue")
    errors = FieldErrors()
    cleaned = _clean_product(
        errors,
        {
            "name": name,
            "category": category,
            "base_price": base_price,
            "code": code,
            "unit": unit,
            "is_active": is_active,
        },
        None,
    )
    errors.raise_if_any()
    product = Product(**cleaned)
    _save(product, actor)
    return product


@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    """Change a product; orders already entered keep their prices (a line stores its own)."""
    reject_unknown(fields, PRODUCT_FIELDS)
    ensure(actor, "finance.manage_catalogue")
    product = Product.objects.select_for_update().get(pk=product.pk)
    errors = FieldErrors()
    cleaned = _clean_product(errors, fields, product)
    errors.raise_if_any()
    for key, value in cleaned.items():
        setattr(product, key, value)
    _save(product, actor)
    return product


def product_deactivate(*, actor: User, product: Product) -> Product:
    """Take a product out of new orders; the orders that have it keep it."""
    return product_update(actor=actor, product=product, is_active=False)


# Orders: cleaning -----------------------------------------------------------------------------------------


@dataclass
class CleanLine:
    product: Product
    quantity: Decimal
    price: Decimal
    discount_percent: Decimal

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.price, self.discount_percent)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class LineError(ValidationError):
    """«Line N: …» of ``lines``; also says which line (1-based, of the lines given) and which of its fields,
    so that a form can show the message next to the field (``text`` is the message without «Line N:»)."""

    def __init__(self, message: Any, *, code: str, line: int, field: str | None, text: Any) -> None:
        super().__init__(message, code=code)
        self.line = line
        self.field = field
        self.text = text


def _line_error(
    errors: FieldErrors, position: int, message: Any, code: str, field: str | None = None
) -> None:
    errors.add(
        "lines",
        LineError(
            gettext("Line %(number)d: %(message)s") % {"number": position, "message": message},
            code=code,
            line=position,
            field=field,
            text=message,
        ),
    )


def _product_id(line: Any) -> int | None:
    if not isinstance(line, dict):
        return None
    value: Any = line.get("product")
    value = getattr(value, "pk", value)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _clean_lines(
    errors: FieldErrors, lines: Iterable[Any] | None, current: set[int] | frozenset[int] = frozenset()
) -> list[CleanLine]:
    """The order's lines; ``current`` are the products already on the order (they may stay even if they
    were deactivated since)."""
    given = list(lines or [])
    if not given:
        errors.add("lines", _("An order needs at least one line."), code="required")
        return []
    if len(given) > MAX_LINES:
        errors.add("lines", _("An order has at most %(max)d lines.") % {"max": MAX_LINES}, code="too_many")
        return []
    valid_ids = [pk for line in given if (pk := _product_id(line)) is not None]
    products = {p.pk: p for p in Product.objects.filter(pk__in=valid_ids)}
    cleaned: list[CleanLine] = []
    for position, line in enumerate(given, start=1):
        if not isinstance(line, dict):
            _line_error(errors, position, _("the line is not readable."), "invalid")
            continue
        pk = _product_id(line)
        product = products.get(pk) if pk is not None else None
        ok = True
        if product is None:
            _line_error(
                errors, position, _("choose a product from the catalogue."), "invalid_product", "product"
            )
            ok = False
        elif not product.is_active and product.pk not in current:
            _line_error(
                errors,
                position,
                _("the product “%(name)s” is no longer sold.") % {"name": product.name},
                "inactive_product",
                "product",
            )
            ok = False
        quantity = _decimal(line.get("quantity"))
        if quantity is None:
            _line_error(
                errors, position, _("enter the quantity as a number."), "invalid_quantity", "quantity"
            )
            ok = False
        elif quantity <= 0:
            _line_error(
                errors, position, _("the quantity must be greater than zero."), "quantity", "quantity"
            )
            ok = False
        elif quantity > MAX_QUANTITY or quantity != quantity.quantize(QUANTITY_PLACES):
            _line_error(
                errors,
                position,
                _("the quantity has at most three decimals."),
                "invalid_quantity",
                "quantity",
            )
            ok = False
        raw_price = line.get("price")
        if raw_price is None or raw_price == "":
            price = product.base_price if product is not None else None
        else:
            price = _decimal(raw_price)
            if price is None:
                _line_error(errors, position, _("enter the price as a number."), "invalid_price", "price")
                ok = False
            elif price < 0:
                _line_error(errors, position, _("the price cannot be negative."), "price", "price")
                ok = False
            elif price != price.quantize(KOPECK) or price > Decimal("99999999999999.99"):
                _line_error(
                    errors,
                    position,
                    _("enter the price in roubles with at most two decimals."),
                    "price",
                    "price",
                )
                ok = False
        raw_discount = line.get("discount_percent")
        discount = Decimal("0") if raw_discount in (None, "") else _decimal(raw_discount)
        if discount is None:
            _line_error(
                errors, position, _("enter the discount as a number."), "invalid_discount", "discount_percent"
            )
            ok = False
        elif not Decimal("0") <= discount <= HUNDRED or discount != discount.quantize(KOPECK):
            _line_error(
                errors,
                position,
                _("the discount is between 0 and 100% (two decimals)."),
                "discount",
                "discount_percent",
            )
            ok = False
        if ok and product is not None and quantity is not None and price is not None and discount is not None:
            cleaned.append(CleanLine(product, quantity, price, discount))
    if cleaned and sum((c.amount for c in cleaned), Decimal("0")) > Decimal("99999999999999.99"):
        errors.add("lines", _("The order's total is too large."), code="too_large")
    return cleaned


def _clean_contract(errors: FieldErrors, company: Company, value: Any) -> Contract | None:
    if value is None or value == "":
        return None
    contract = record_by_id(Contract, value)
    if contract is None or contract.company_id != company.pk:
        errors.add("contract", _("Choose a contract of this client."), code="invalid_choice")
        return None
    return contract


def _clean_deal(errors: FieldErrors, company: Company, value: Any) -> Deal | None:
    if value is None or value == "":
        return None
    deal = record_by_id(Deal, value)
    if deal is None or deal.company_id != company.pk:
        errors.add("deal", _("Choose a deal with this client."), code="invalid_choice")
        return None
    return deal


def _clean_ordered_on(errors: FieldErrors, value: Any, *, required: bool) -> date | None:
    ordered_on = clean_date(errors, "ordered_on", value)
    if ordered_on is None and required and "ordered_on" not in errors.errors:
        errors.add("ordered_on", _("Enter the order date."), code="required")
    return ordered_on


def _not_future(errors: FieldErrors, ordered_on: date | None) -> None:
    if ordered_on is not None and ordered_on > timezone.localdate():
        errors.add(
            "ordered_on",
            _("The order date is in the future: only a draft may be dated ahead."),
            code="future_date",
        )


def _write_lines(order: Order, lines: list[CleanLine]) -> None:
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=line.product,
                quantity=line.quantity,
                price=line.price,
                discount_percent=line.discount_percent,
                amount=line.amount,
                position=position,
            )
            for position, line in enumerate(lines, start=1)
        ]
    )
    order.total = _total(lines)


def _total(lines: list[CleanLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def _lines_summary(lines: list[CleanLine]) -> str:
    return gettext("Lines: %(count)d, total %(total)s") % {
        "count": len(lines),
        "total": format_rub(_total(lines)),
    }


# Orders ---------------------------------------------------------------------------------------------------


@transaction.atomic
def order_create(
    *,
    actor: User,
    company: Company,
    ordered_on: Any,
    lines: Iterable[Any],
    contract: Any = None,
    deal: Any = None,
    number: str = "",
    notes: str = "",
) -> Order:
    """Enter a client's order as a draft (D8); confirm it with :func:`order_set_status`. A line's price
    defaults to the product's base price, its discount to 0."""
    company = Company.objects.get(pk=company.pk)
    ensure(actor, "finance.change_order", company)
    errors = FieldErrors()
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), code="company_merged")
    cleaned_on = _clean_ordered_on(errors, ordered_on, required=True)
    cleaned_lines = _clean_lines(errors, lines)
    cleaned_contract = _clean_contract(errors, company, contract)
    cleaned_deal = _clean_deal(errors, company, deal)
    errors.raise_if_any()
    assert cleaned_on is not None
    order = Order(
        company=company,
        contract=cleaned_contract,
        deal=cleaned_deal,
        number=one_line(number, 64),
        ordered_on=cleaned_on,
        notes=str(notes or "").strip(),
        created_by=actor,
    )
    order.total = _total(cleaned_lines)
    _save(order, actor, _lines_summary(cleaned_lines))
    _write_lines(order, cleaned_lines)
    return order


def _locked(order: Order) -> Order:
    Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True).get()
    return Order.objects.select_related("company").get(pk=order.pk)


@transaction.atomic
def order_update(*, actor: User, order: Order, expected_version: int | None = None, **fields: Any) -> Order:
    """Change an order. A draft changes freely (its lines are replaced by ``lines``); once confirmed only
    the number, contract, deal and notes change, and of a completed or cancelled order only the notes. Return
    a confirmed order to a draft to change its lines."""
    reject_unknown(fields, ORDER_UPDATE_FIELDS)
    ensure(actor, "finance.change_order", order)
    order = _locked(order)
    ensure(actor, "finance.change_order", order)
    if expected_version is not None and order.version != expected_version:
        raise EditConflict
    company = order.company
    errors = FieldErrors()
    if order.status != OrderStatus.DRAFT:
        allowed = EDITABLE_AFTER_DRAFT[order.status]
        for field in fields:
            if field in allowed or _unchanged(order, field, fields[field]):
                continue
            message = (
                _("Return the order to a draft to change its lines and date.")
                if order.status == OrderStatus.CONFIRMED
                else _("A %(status)s order can no longer change this.")
                % {"status": order.get_status_display().lower()}
            )
            errors.add(field, message, code="locked")
    changes: list[str] = []
    if "ordered_on" in fields and "ordered_on" not in errors.errors:
        order.ordered_on = _clean_ordered_on(errors, fields["ordered_on"], required=True) or order.ordered_on
    cleaned_lines: list[CleanLine] | None = None
    if "lines" in fields and "lines" not in errors.errors:
        current = set(order.lines.values_list("product_id", flat=True))
        cleaned_lines = _clean_lines(errors, fields["lines"], current)
    if "contract" in fields and "contract" not in errors.errors:
        order.contract = _clean_contract(errors, company, fields["contract"])
    if "deal" in fields and "deal" not in errors.errors:
        order.deal = _clean_deal(errors, company, fields["deal"])
    if "number" in fields:
        order.number = one_line(fields["number"], 64)
    if "notes" in fields:
        order.notes = str(fields["notes"] or "").strip()
    errors.raise_if_any()
    if cleaned_lines is not None and order.status == OrderStatus.DRAFT:
        _write_lines(order, cleaned_lines)
        changes.append(_lines_summary(cleaned_lines))
    order.version += 1
    _save(order, actor, "; ".join(changes))
    return order


def _unchanged(order: Order, field: str, value: Any) -> bool:
    """Whether ``value`` only repeats the order's current ``field`` (a form or a PUT sends every field)."""
    if field == "ordered_on":
        parsed = clean_date(FieldErrors(), field, value)
        return parsed == order.ordered_on
    if field in ("contract", "deal"):
        pk = getattr(value, "pk", value)
        return str(pk or "") == str(getattr(order, f"{field}_id") or "")
    if field == "number":
        return one_line(value, 64) == order.number
    if field == "lines":
        current = [
            (line.product_id, line.quantity, line.price, line.discount_percent)
            for line in order.lines.order_by("position", "id")
        ]
        try:
            given = [
                (
                    int(getattr(x.get("product"), "pk", x.get("product"))),
                    _decimal(x.get("quantity")),
                    _decimal(x.get("price")),
                    _decimal(x.get("discount_percent")) or Decimal("0"),
                )
                for x in value or []
            ]
        except (TypeError, ValueError, AttributeError):
            return False
        return given == current
    return False


# Credit control -------------------------------------------------------------------------------------------


def credit_check(*, company: Company, order: Order, today: date | None = None) -> list[dict[str, Any]]:
    """Why confirming ``order`` breaks credit control (D6); empty when it does not.

    Each reason is ``{"code": "over_limit"|"overdue", "message": …}`` plus ``exposure``, ``limit`` and
    ``excess`` (decimal strings) or ``invoice``, ``number``, ``days`` and ``balance``."""
    today = today or timezone.localdate()
    exposure = credit_exposure(company=company, exclude_order=order, today=today)
    reasons: list[dict[str, Any]] = []
    limit = exposure["limit"]
    after = exposure["total"] + order.total
    if limit is not None and after > limit:
        reasons.append(
            {
                "code": "over_limit",
                "message": gettext(
                    "Credit limit exceeded: with this order the client would owe %(exposure)s against a "
                    "limit of %(limit)s (over by %(excess)s)."
                )
                % {
                    "exposure": format_rub(after),
                    "limit": format_rub(limit),
                    "excess": format_rub(after - limit),
                },
                "exposure": str(after),
                "limit": str(limit),
                "excess": str(after - limit),
            }
        )
    days_allowed = settings.KURATOR_CREDIT_OVERDUE_DAYS
    for invoice in exposure["overdue_invoices"]:
        if invoice["days"] > days_allowed:
            reasons.append(
                {
                    "code": "overdue",
                    "message": ngettext(
                        "Invoice %(number)s is %(days)d day overdue (more than %(allowed)d), balance "
                        "%(balance)s.",
                        "Invoice %(number)s is %(days)d days overdue (more than %(allowed)d), balance "
                        "%(balance)s.",
                        invoice["days"],
                    )
                    % {
                        "number": invoice["number"],
                        "days": invoice["days"],
                        "allowed": days_allowed,
                        "balance": format_rub(invoice["balance"]),
                    },
                    "invoice": invoice["id"],
                    "number": invoice["number"],
                    "days": invoice["days"],
                    "balance": str(invoice["balance"]),
                }
            )
    return reasons


def _heads() -> list[User]:
    return list(User.objects.filter(role__in=[Role.HEAD_OF_SALES], is_active=True).order_by("id"))


def _order_url(order: Order) -> str:
    return reverse("finance:order_detail", args=[order.pk])


def _approvals_url() -> str:
    return reverse("finance:credit_approvals")


def _order_label(order: Order) -> str:
    return gettext("order %(number)s of %(company)s") % {
        "number": order.number or f"#{order.pk}",
        "company": order.company.short_name,
    }


def _clean_transition(errors: FieldErrors, order: Order, status: Any) -> str | None:
    if status not in OrderStatus.values:
        errors.add("status", _("Choose a status of the order."), code="invalid_choice")
        return None
    if status == order.status:
        errors.add("status", _("The order already has this status."), code="same_status")
        return None
    if status not in TRANSITIONS[order.status]:
        if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            message = _("A %(status)s order is final.") % {"status": order.get_status_display().lower()}
        else:
            message = _("An order cannot go from “%(old)s” to “%(new)s”.") % {
                "old": order.get_status_display(),
                "new": OrderStatus(status).label,
            }
        errors.add("status", message, code="invalid_transition")
        return None
    return str(status)


def _confirm(order: Order, actor: User, reason: str) -> None:
    old = order.get_status_display()
    order.status = OrderStatus.CONFIRMED
    order.version += 1
    _save(order, actor, reason or f"{old} → {order.get_status_display()}")


@transaction.atomic
def _set_status(
    *, actor: User, order: Order, status: Any, expected_version: int | None, comment: str
) -> tuple[Order, CreditApproval | None]:
    ensure(actor, "finance.change_order", order)
    order = _locked(order)
    ensure(actor, "finance.change_order", order)
    if expected_version is not None and order.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    target = _clean_transition(errors, order, status)
    if target in PURCHASE_STATUSES and order.status == OrderStatus.DRAFT:
        _not_future(errors, order.ordered_on)
        if not order.lines.exists():
            errors.add("lines", _("An order needs at least one line."), code="required")
    if target == OrderStatus.DRAFT and order.invoices.exclude(status="cancelled").exists():
        errors.add(
            "status",
            _("An invoice is issued for this order: it cannot return to a draft."),
            code="invoiced",
        )
    errors.raise_if_any()
    assert target is not None
    comment = one_line(comment, 2000)
    if target != OrderStatus.CONFIRMED or order.status != OrderStatus.DRAFT:
        old = order.get_status_display()
        order.status = target
        order.version += 1
        _save(order, actor, f"{old} → {order.get_status_display()}" + (f": {comment}" if comment else ""))
        return order, None
    reasons = credit_check(company=order.company, order=order)
    pending = (
        CreditApproval.objects.select_for_update().filter(order=order, status=ApprovalStatus.PENDING).first()
    )
    if not reasons:
        if pending is not None:
            # Nothing to approve any more (a payment came in, the limit was raised): the request is settled.
            pending.status = ApprovalStatus.APPROVED
            pending.decided_at = timezone.now()
            pending.comment = gettext("Credit control passed when the order was confirmed.")
            pending.save()
        _confirm(order, actor, "")
        return order, None
    now = timezone.now()
    if can(actor, "finance.approve_credit"):
        approval = pending or CreditApproval(order=order, requested_by=actor)
        approval.reasons = reasons
        approval.status = ApprovalStatus.APPROVED
        approval.decided_by = actor
        approval.decided_at = now
        approval.comment = comment or gettext("Confirmed by the head of sales despite credit control.")
        approval.save()
        _confirm(order, actor, gettext("Confirmed over credit control"))
        return order, None
    approval = pending or CreditApproval(order=order, requested_by=actor)
    approval.reasons = reasons
    if comment:
        approval.comment = comment
    approval.save()
    text = gettext("%(who)s asks to confirm %(order)s over credit control: %(reasons)s") % {
        "who": actor.full_name,
        "order": _order_label(order),
        "reasons": " ".join(r["message"] for r in reasons),
    }
    for head in _heads():
        notify(
            recipient=head,
            kind="credit_approval",
            text=text,
            url=_approvals_url(),
            dedup_key=f"credit-approval:{approval.pk}:{len(reasons)}:{order.version}:{head.pk}",
        )
    return order, approval


def order_set_status(
    *, actor: User, order: Order, status: Any, expected_version: int | None = None, comment: str = ""
) -> Order:
    """Move an order along draft → confirmed → shipped → completed, cancel it, or return a confirmed one to
    a draft (see the module docstring). Confirming goes through credit control: a seller's confirmation that
    breaks it raises :class:`CreditApprovalRequired` after saving the request (the order stays a draft)."""
    order, approval = _set_status(
        actor=actor, order=order, status=status, expected_version=expected_version, comment=comment
    )
    if approval is not None:
        raise CreditApprovalRequired(approval)
    return order


@transaction.atomic
def credit_approval_decide(
    *, actor: User, approval: CreditApproval, approve: bool, comment: str = ""
) -> CreditApproval:
    """The head of sales' decision on a pending request (recorded with who, when and the comment). Approving
    confirms the order as it is now; refusing needs a comment and tells the requester; the order stays a
    draft."""
    ensure(actor, "finance.approve_credit")
    approval = (
        CreditApproval.objects.select_for_update()
        .select_related("order", "order__company", "requested_by")
        .get(pk=approval.pk)
    )
    order = _locked(approval.order)
    errors = FieldErrors()
    comment = str(comment or "").strip()
    if approval.status != ApprovalStatus.PENDING:
        errors.add("status", _("This request has already been decided."), code="decided")
    elif approve and order.status != OrderStatus.DRAFT:
        errors.add("status", _("The order is no longer a draft."), code="not_draft")
    if not approve and not comment:
        errors.add("comment", _("Say why the order is refused: the requester reads it."), code="required")
    if approve and order.status == OrderStatus.DRAFT:
        _not_future(errors, order.ordered_on)
        if not order.lines.exists():
            errors.add("lines", _("An order needs at least one line."), code="required")
    errors.raise_if_any()
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REFUSED
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.comment = comment
    approval.save()
    if approve:
        _confirm(order, actor, gettext("Confirmed over credit control by approval"))
        text = gettext("%(who)s approved %(order)s: it is confirmed.")
    else:
        text = gettext("%(who)s refused to confirm %(order)s: %(comment)s")
    if approval.requested_by_id != actor.pk:
        notify(
            recipient=approval.requested_by,
            kind="credit_decision",
            text=text % {"who": actor.full_name, "order": _order_label(order), "comment": comment},
            url=_order_url(order),
            dedup_key=f"credit-decision:{approval.pk}",
        )
    return approval


# Credit limits --------------------------------------------------------------------------------------------


@transaction.atomic
def credit_limit_set(*, actor: User, company: Company, amount: Any) -> CreditLimit:
    """Set or change the client's credit limit (finance, head of sales); 0 means every order needs approval.
    Each change is kept in the limit's history."""
    ensure(actor, "finance.set_credit_limit", company)
    errors = FieldErrors()
    cleaned = clean_money(errors, "amount", amount, allow_zero=True)
    if cleaned is None and "amount" not in errors.errors:
        errors.add("amount", _("Enter the credit limit."), code="required")
    errors.raise_if_any()
    limit = CreditLimit.objects.select_for_update().filter(company=company).first()
    if limit is None:
        limit = CreditLimit(company=company)
    elif limit.amount == cleaned:
        return limit
    limit.amount = cleaned
    limit.set_by = actor
    _save(limit, actor)
    return limit


@transaction.atomic
def credit_limit_remove(*, actor: User, company: Company) -> None:
    """Remove the client's limit: its orders are no longer checked against one (the overdue rule stays).
    The history keeps the removed limit."""
    ensure(actor, "finance.set_credit_limit", company)
    limit = CreditLimit.objects.select_for_update().filter(company=company).first()
    if limit is None:
        return
    limit._history_user = actor  # type: ignore[attr-defined]
    limit.delete()
