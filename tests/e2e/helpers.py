"""What every browser journey does: make a user, sign in, open a second person's browser."""

from __future__ import annotations

import re
from typing import Any, cast

from kurator.accounts.models import User
from tests.factories import UserFactory

PASSWORD = "kurator-test-pass"  # the factory's password


def make_user(username: str, role: str, first_name: str, last_name: str) -> User:
    return cast(User, UserFactory(username=username, role=role, first_name=first_name, last_name=last_name))


def log_in(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("[name=username]", username)
    page.fill("[name=password]", PASSWORD)
    page.click("form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(r"/companies/"))


def new_page(page: Any, live_server: Any) -> Any:
    """Another person's browser: a context of its own (own cookies), set up like the ``page`` fixture."""
    context = page.context.browser.new_context(
        locale="ru-RU", viewport={"width": 1366, "height": 900}, base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def csrf_token(page: Any) -> str:
    return str(next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"))
