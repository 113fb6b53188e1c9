"""Typed errors shared by services, views and the API.

Services raise ``django.core.exceptions.ValidationError`` with a dict of field -> errors (each with a code);
the API handler and the form partial turn it into field messages. The two below cover the other outcomes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class AccessDenied(PermissionDenied):
    """The policy refuses the action (HTTP 403)."""


class EditConflict(Exception):
    """The record changed since the user loaded it (HTTP 409)."""

    default_message = _("Someone else changed this record after you opened it. Reload it and try again.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.default_message))
        self.message = message or self.default_message
