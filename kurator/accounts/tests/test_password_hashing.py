"""R4, D12: passwords are stored with Argon2; a password stored by an older hasher is upgraded at sign-in."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.test import Client

from kurator.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = list(django_settings.PASSWORD_HASHERS)


@pytest.fixture
def production_hashers(settings):
    # The root conftest swaps in a fast hasher for speed; these tests are about the real ones.
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_a_new_password_is_stored_with_argon2(production_hashers):
    user: User = UserFactory.create()
    user.set_password("Кл3вер-и-ромашка")
    user.save()
    assert user.password.startswith("argon2$")
    assert user.check_password("Кл3вер-и-ромашка")


def test_a_password_from_an_older_hasher_still_works_and_is_upgraded_at_sign_in(production_hashers):
    user: User = UserFactory.create()
    user.password = make_password("старый-пароль-2019", hasher="pbkdf2_sha256")
    user.save()
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": "старый-пароль-2019"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_sessions_end_with_the_browser_and_after_the_working_day():
    """R4: a shared office computer does not stay signed in."""
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600
