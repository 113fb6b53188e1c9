"""Fixtures shared by every test: one user per role, and helpers to make dossier records."""

from __future__ import annotations

import pytest

from kurator.accounts.models import Role, User
from tests.factories import UserFactory, company_factory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher takes ~0.3 s a password by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def manager(db) -> User:
    return UserFactory(username="manager", role=Role.MANAGER, first_name="Иван", last_name="Петров")


@pytest.fixture
def other_manager(db) -> User:
    return UserFactory(username="other", role=Role.MANAGER, first_name="Олег", last_name="Кузнецов")


@pytest.fixture
def senior_manager(db) -> User:
    return UserFactory(username="senior", role=Role.SENIOR_MANAGER, first_name="Анна", last_name="Иванова")


@pytest.fixture
def head(db) -> User:
    return UserFactory(username="head", role=Role.HEAD_OF_SALES, first_name="Мария", last_name="Смирнова")


@pytest.fixture
def finance(db) -> User:
    return UserFactory(username="finance", role=Role.FINANCE, first_name="Сергей", last_name="Соколов")


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin", role=Role.ADMIN, first_name="Админ", last_name="Системный")


@pytest.fixture
def users_by_role(manager, senior_manager, head, finance, admin_user) -> dict[str, User]:
    return {
        Role.MANAGER: manager,
        Role.SENIOR_MANAGER: senior_manager,
        Role.HEAD_OF_SALES: head,
        Role.FINANCE: finance,
        Role.ADMIN: admin_user,
    }


@pytest.fixture
def company(manager):
    """A company whose curator is ``manager``."""
    return company_factory(actor=manager)
