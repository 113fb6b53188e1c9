"""Fixtures shared by every test: one user per role, and helpers to make dossier records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kurator.accounts.models import Role, User
from tests.factories import UserFactory, company_factory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher takes ~0.3 s a password by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def _test_media_root(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, _test_media_root) -> None:
    # Uploaded documents (the demo data makes some too) go to a temporary folder, never to var/media.
    settings.MEDIA_ROOT = _test_media_root


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


# Rows that data migrations seed (contact sources and other dictionaries, response standards, public mail
# domains). A transactional test (browser journeys, concurrency) empties every table when it ends, and the
# next test on the same worker would then run without them; put them back right after such a test.
_SEEDING_MIGRATIONS = (
    "kurator.companies.migrations.0002_search_index_and_dictionaries",
    "kurator.inquiries.migrations.0002_defaults",
    "kurator.sales.migrations.0002_default_pipeline",
)


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))) or bool(
        {"transactional_db", "live_server"} & names
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    # A hook wrapper, not a fixture: pytest-django empties the tables in its own fixture's teardown, which
    # runs after any fixture of ours; here every fixture has been torn down, the flush included.
    yield
    # After the session's last test the test database is gone: never seed whatever database is left.
    if nextitem is None or not _is_transactional(item):
        return
    import importlib

    from django.apps import apps
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "test" not in name and "memory" not in name:
        return
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for module in _SEEDING_MIGRATIONS:
            importlib.import_module(module).seed(apps, None)
