"""Money as people read it (``1 234 567,89 ₽``): one formatter for templates (the ``rub`` filter) and for the
messages services write."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NBSP = "\u00a0"


def format_rub(value: Any, sign: bool = True) -> str:
    """``1234567.89`` → ``1 234 567,89 ₽`` (groups by non-breaking spaces, comma decimals); ``—`` for
    nothing. Whole amounts keep their kopecks: money is shown to the kopeck everywhere."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    negative = amount < 0
    whole, _sep, cents = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = f"{'−' if negative else ''}{NBSP.join(groups)},{cents}"
    return f"{text}{NBSP}₽" if sign else text
