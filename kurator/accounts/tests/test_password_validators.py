"""R4: Django's password validators guard every password Kurator sets (``adduser`` and the users pages):
similarity to the person's details, at least ten characters, not a common password, not only digits."""

from __future__ import annotations

import io
import sys

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from kurator.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_four_validators_are_configured_with_ten_characters_minimum():
    """R4: similarity, minimum length (10), common passwords, all-digit passwords."""
    validators = password_validation.get_default_password_validators()
    names = [type(v).__name__ for v in validators]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert getattr(validators[1], "min_length", None) == 10


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("sidorov", "Kur-2026a", "This password is too short. It must contain at least 10 characters."),
        ("sidorov", "password123", "This password is too common."),
        ("sidorov", "84957654321", "This password is entirely numeric."),
        ("kuznetsova", "kuznetsova1", "The password is too similar to the username."),
    ],
)
def test_adduser_refuses_a_weak_password_in_the_validators_words(monkeypatch, username, password, message):
    """R4: the command says which rule the password breaks, in the validator's words; nobody is created."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command(
            "adduser", username, "--role", "manager", "--password-stdin",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert message in str(error.value)
    assert not User.objects.exists()


def test_a_ten_character_password_of_mixed_kinds_is_accepted():
    """R4: the rules refuse weak passwords, not reasonable ones."""
    password_validation.validate_password("Ромашка-2026", User(username="ivanov", first_name="Иван"))
    with pytest.raises(ValidationError):
        password_validation.validate_password("Иванов2026", User(username="ivanov", last_name="Иванов"))
