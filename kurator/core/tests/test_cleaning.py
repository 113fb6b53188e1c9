"""Amounts as people type them in a Russian office (D6, D8)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kurator.core.cleaning import clean_money, parse_money
from kurator.core.errors import FieldErrors


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1 234 567,89", Decimal("1234567.89")),
        ("1\u00a0234,5 ₽", Decimal("1234.5")),
        ("1234.56", Decimal("1234.56")),
        ("12 000 руб.", Decimal("12000")),
        ("−5", Decimal("-5")),
        ("+7", Decimal("7")),
        (",5", Decimal("0.5")),
        (1500, Decimal("1500")),
        (Decimal("2.50"), Decimal("2.50")),
    ],
)
def test_amounts_typed_the_russian_way_are_read(typed, amount):
    """D6: spaces between thousands, a decimal comma, a rouble sign."""
    assert parse_money(typed) == amount


@pytest.mark.parametrize("typed", ["abc", "1e3", "NaN", "Infinity", "1,2,3", "12-", "", "₽"])
def test_what_is_not_a_plain_number_is_not_an_amount(typed):
    """D6: exponents and special values are not amounts anybody types."""
    assert parse_money(typed) is None


@pytest.mark.parametrize(
    ("typed", "code"), [("0", "min_value"), ("-5", "min_value"), ("1,234", "invalid"), ("1e3", "invalid")]
)
def test_clean_money_names_the_field_and_the_reason(typed, code):
    """D6: zero, negative, more than two decimals and non-numbers are refused against the field."""
    errors = FieldErrors()
    assert clean_money(errors, "amount", typed) is None
    assert [e.code for e in errors.errors["amount"]] == [code]


def test_clean_money_allows_zero_or_negative_only_when_asked():
    errors = FieldErrors()
    assert clean_money(errors, "price", "0", allow_zero=True) == Decimal("0.00")
    assert clean_money(errors, "profit", "-1 000,5", allow_negative=True) == Decimal("-1000.50")
    assert not errors.errors
