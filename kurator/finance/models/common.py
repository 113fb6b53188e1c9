"""Pieces the finance models share: money columns and the positive-amount check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

# Roubles with kopecks; 16 digits hold a hundred trillion roubles, enough for any B2B contract or invoice.
MONEY_DIGITS = 16
MONEY_PLACES = 2
ZERO = Decimal("0.00")


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)
