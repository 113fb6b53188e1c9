"""R4 (issue 2): `python manage.py adduser USERNAME --role ROLE` adds a member of the department."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kurator.accounts.models import Role, User

GOOD_PASSWORD = "Kurator-Sales-2026"


def _run(monkeypatch, *args: str, stdin: str = "") -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    # Messages are matched in English whatever translations are compiled (Russian is the default).
    with translation.override("en"):
        call_command("adduser", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_adduser_creates_a_user_with_role_and_password_from_stdin(monkeypatch):
    """R4: the password comes from standard input; the user logs in with it and has the role."""
    out = _run(
        monkeypatch, "ivanov", "--role", "senior_manager", "--password-stdin", "--first-name", "Иван",
        "--last-name", "Иванов", "--email", "ivanov@example.ru", stdin=GOOD_PASSWORD + "\n",
    )  # fmt: skip
    user = User.objects.get(username="ivanov")
    assert user.role == Role.SENIOR_MANAGER
    assert user.check_password(GOOD_PASSWORD)
    assert user.full_name == "Иванов Иван" and user.email == "ivanov@example.ru"
    assert user.is_active and not user.is_superuser
    assert "ivanov" in out


@pytest.mark.django_db
@pytest.mark.parametrize("role", [choice.value for choice in Role])
def test_adduser_accepts_every_role(monkeypatch, role):
    """R4: the five roles of the department, by their API names."""
    _run(monkeypatch, f"user_{role}", "--role", role, "--password-stdin", stdin=GOOD_PASSWORD)
    assert User.objects.get(username=f"user_{role}").role == role


@pytest.mark.django_db
def test_adduser_refuses_an_unknown_role_listing_the_valid_ones(monkeypatch):
    """R4: a typo in the role is refused with the list of roles; nobody is created."""
    with pytest.raises(CommandError) as error:
        _run(monkeypatch, "petrov", "--role", "boss", "--password-stdin", stdin=GOOD_PASSWORD)
    message = str(error.value)
    assert "boss" in message
    for role in Role.values:
        assert role in message
    assert not User.objects.exists()


@pytest.mark.django_db
def test_adduser_refuses_an_existing_username(monkeypatch, manager):
    """R4: an existing username (in any letter case) is refused and the existing user is untouched."""
    before = User.objects.get(pk=manager.pk).password
    with pytest.raises(CommandError, match="already exists"):
        _run(monkeypatch, "Manager", "--role", "admin", "--password-stdin", stdin=GOOD_PASSWORD)
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER and manager.password == before
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["", "short1", "password123", "12345678901"])
def test_adduser_applies_the_password_validators(monkeypatch, password):
    """R4: empty, short, common and all-digit passwords are refused; nobody is created."""
    with pytest.raises(CommandError):
        _run(monkeypatch, "sidorov", "--role", "manager", "--password-stdin", stdin=password + "\n")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_adduser_refuses_a_password_like_the_username(monkeypatch):
    """R4: Django's similarity validator sees the username the password is checked against."""
    with pytest.raises(CommandError):
        _run(monkeypatch, "kuznetsova", "--role", "finance", "--password-stdin", stdin="kuznetsova1\n")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_adduser_prompts_twice_and_asks_again_when_the_passwords_differ(monkeypatch):
    """R4: without --password-stdin the password is typed twice; a mismatch or a weak one is asked again."""
    answers = iter(["Kurator-One-2026", "Kurator-Two-2026", "short", "short", GOOD_PASSWORD, GOOD_PASSWORD])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    err = io.StringIO()
    call_command("adduser", "orlova", "--role", "head_of_sales", stdout=io.StringIO(), stderr=err)
    assert len(prompts) == 6
    assert User.objects.get(username="orlova").check_password(GOOD_PASSWORD)
    assert err.getvalue().count("\n") >= 2  # said why twice


@pytest.mark.django_db
def test_adduser_without_a_terminal_needs_password_stdin(monkeypatch):
    """R4: in a script without a terminal the command says to use --password-stdin instead of hanging."""
    with pytest.raises(CommandError, match="--password-stdin"):
        _run(monkeypatch, "scripted", "--role", "manager")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_adduser_refuses_an_invalid_username_or_email(monkeypatch):
    """R4: the username and e-mail are validated like everywhere else in Django."""
    with pytest.raises(CommandError):
        _run(monkeypatch, "bad name!", "--role", "manager", "--password-stdin", stdin=GOOD_PASSWORD)
    with pytest.raises(CommandError):
        _run(
            monkeypatch, "good", "--role", "manager", "--email", "not-an-email", "--password-stdin",
            stdin=GOOD_PASSWORD,
        )  # fmt: skip
    assert not User.objects.exists()
