"""Template helpers of the sales pages (S3): roubles written the Russian way, days in a stage."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()

NBSP = "\u00a0"


@register.filter
def rub(value: Any, sign: bool = True) -> str:
    """``1234567.89`` → ``1 234 567,89 ₽`` (thin groups by non-breaking spaces, comma decimals); ``—`` for
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


@register.filter
def days_since(moment: datetime | None) -> int | None:
    """Whole days from ``moment`` to now (0 on the same day)."""
    if moment is None:
        return None
    return max((timezone.now() - moment).days, 0)
