"""Small input cleaners every service uses: text on one line, a record by id, a date, the known fields."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from kurator.core.errors import FieldErrors


def one_line(value: Any, limit: int) -> str:
    """``value`` as text on one line (runs of whitespace become one space), at most ``limit`` characters."""
    return " ".join(str(value or "").split())[:limit]


def record_by_id(model: Any, value: Any) -> Any:
    """The ``model`` record given as an instance or an id; None for empty, unknown or malformed ids (a 400,
    never a 500)."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        return model._default_manager.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def clean_date(errors: FieldErrors, field: str, value: Any) -> date | None:
    """A date, a datetime (its local day) or an ISO string; empty means none, anything else is a field
    error."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add(field, _("Enter a valid date."), code="invalid_date")
    return parsed


def reject_unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """A programming error, not user input: callers pass only the fields the service knows."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


_PLAIN_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")

# Money columns hold 16 digits, 2 after the point.
MAX_MONEY = Decimal("99999999999999.99")


def parse_money(value: Any) -> Decimal | None:
    """``Decimal`` from what people type: ``1 234 567,89``, ``1234567.89``, with non-breaking spaces or a
    trailing ``₽``/``руб.``; None when it is not a number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float):
        value = str(value)
    text = str(value or "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    for suffix in ("₽", "руб.", "руб", "р."):
        text = text.removesuffix(suffix)
    text = text.replace("−", "-").replace(",", ".")
    # Only plain numbers: Decimal also reads «1e3», «NaN» and «Infinity», which nobody types as an amount.
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def clean_money(
    errors: FieldErrors, field: str, value: Any, *, allow_zero: bool = False, allow_negative: bool = False
) -> Decimal | None:
    """An amount in roubles (at most two decimals); empty means none. Zero and negative amounts are refused
    unless allowed, each with a message that names ``field``'s problem."""
    if value is None or value == "":
        return None
    amount = parse_money(value)
    if amount is None:
        errors.add(field, _("Enter the amount as a number."), code="invalid")
        return None
    if amount < 0 and not allow_negative:
        errors.add(field, _("The amount must be greater than zero."), code="min_value")
        return None
    if amount == 0 and not (allow_zero or allow_negative):
        errors.add(field, _("The amount must be greater than zero."), code="min_value")
        return None
    if abs(amount) > MAX_MONEY or amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("Enter the amount in roubles with at most two decimals."), code="invalid")
        return None
    return amount.quantize(Decimal("0.01"))
