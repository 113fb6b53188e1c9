"""Turning service validation errors into field messages for forms and for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from kurator.core.cleaning import parse_money

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


class MoneyField(forms.DecimalField):
    """Roubles as people type them (``1 234 567,89``, non-breaking spaces, a trailing ₽); the service still
    decides what amounts it accepts."""

    default_error_messages = {"invalid": _("Enter the amount as a number.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        amount = parse_money(value)
        if amount is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return amount
