"""Turning service validation errors into field messages for forms and for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

API_NON_FIELD = "non_field_errors"


def validation_error_messages(error: ValidationError) -> dict[str, list[str]]:
    """{"field": ["message", …]} with the API's name for errors not tied to a field."""
    if hasattr(error, "error_dict"):
        return {
            (API_NON_FIELD if field == NON_FIELD_ERRORS else field): [str(m) for m in ValidationError(errs)]
            for field, errs in error.error_dict.items()
        }
    return {API_NON_FIELD: [str(m) for m in error]}


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form fields it names; unknown fields go to the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target: Any = field if field in form.fields else None
        for item in errors:
            if target is None and field != NON_FIELD_ERRORS:
                label = str(field)
                form.add_error(None, ValidationError(f"{label}: {' '.join(item.messages)}"))
            else:
                form.add_error(target, item)
