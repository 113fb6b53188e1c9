"""Small input cleaners every service uses: text on one line, a record by id, a date, the known fields."""

from __future__ import annotations

from datetime import date, datetime
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
