"""Pieces the finance models share: money columns and the positive-amount check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

# Roubles with kopecks; 16 digits hold a trillion roubles, enough for any one B2B contract or invoice.
MONEY = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0.00")


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, **MONEY, **kwargs)
