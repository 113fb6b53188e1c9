"""Typed errors shared by services, views and the API.

Services raise ``django.core.exceptions.ValidationError`` with a dict of field -> errors (each with a code);
the API handler and the form partial turn it into field messages. The two below cover the other outcomes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _


class AccessDenied(PermissionDenied):
    """The policy refuses the action (HTTP 403)."""


class EditConflict(Exception):
    """The record changed since the user loaded it (HTTP 409)."""

    default_message = _("Someone else changed this record after you opened it. Reload it and try again.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.default_message))
        self.message = message or self.default_message


class FieldErrors:
    """Collects field errors, so that one answer names every bad field; services validate everything and
    call ``raise_if_any()`` before their first write (nothing is half-written)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, error: Any, code: str = "invalid") -> None:
        """``error`` is a message (with ``code``) or a ValidationError raised by a validator."""
        if not isinstance(error, ValidationError):
            error = ValidationError(error, code=code)
        self.errors.setdefault(field, []).extend(error.error_list)

    def check(self, field: str, func: Any, *args: Any) -> Any:
        """``func(*args)``, or None with its ValidationError recorded against ``field``."""
        try:
            return func(*args)
        except ValidationError as exc:
            self.add(field, exc)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)
