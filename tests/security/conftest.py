"""Fixtures of the security tests (R3, R4, D12): the world, clients per role, one request in a savepoint."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import translation

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def media_root(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where the world's files go: the folder the root conftest points MEDIA_ROOT at for every test (so
    that a test finds the world's files), or a temporary folder of our own if there is none."""
    try:
        yield Path(request.getfixturevalue("_test_media_root"))
    except pytest.FixtureLookupError:
        with tempfile.TemporaryDirectory(prefix="kurator-sectests-") as folder:
            yield Path(folder)


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, media_root: Path) -> Iterator[World]:
    """The world of tests/security/world.py, written once per module in a transaction rolled back at the
    end of the module; every test runs in a savepoint inside it. Files go to a temporary MEDIA_ROOT."""
    with (
        override_settings(
            MEDIA_ROOT=str(media_root),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            LANGUAGE_CODE="en",
        ),
        translation.override("en"),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        built = build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _quiet_request_log() -> Iterator[None]:
    """The matrix answers thousands of 4xx on purpose; Django's request log would bury the report (server
    errors are reported by the tests themselves, with the exception)."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture
def media(settings: Any, media_root: Path) -> Path:
    settings.MEDIA_ROOT = str(media_root)
    return media_root


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]
    error: str = ""

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def make_client(world: World, role: str, **options: Any) -> Client:
    """A client signed in as ``role`` (force_login: no password, no lock-out counter); anonymous is not
    signed in. The inactive user is signed in too: the session must not let them through."""
    client = Client(raise_request_exception=False, **options)
    user = world.users.get(role)
    if user is not None:
        client.force_login(user)
    return client


def call(
    client: Client, method: str, url: str, *, api: bool = False, data: Any = None, **extra: Any
) -> Answer:
    """One request in a savepoint that is rolled back, so that every request sees the same world and a
    database error in a view (PostgreSQL aborts the transaction) cannot spoil the next one."""
    kwargs: dict[str, Any] = dict(extra)
    if api and method not in ("get", "head", "delete"):
        kwargs.setdefault("content_type", "application/json")
        data = {} if data is None else data
    with transaction.atomic():
        response = (
            getattr(client, method)(url, data=data, **kwargs)
            if data is not None
            else getattr(client, method)(url, **kwargs)
        )
        transaction.set_rollback(True)
    error = ""
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
    body = b"" if getattr(response, "streaming", False) else response.content
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return Answer(
        status=response.status_code,
        body=body.decode("utf-8", errors="replace"),
        headers=dict(response.items()),
        error=error,
    )
