"""What every browser journey does: make a user, sign in, open a second person's browser."""

from __future__ import annotations

import re
from typing import Any, cast

from kurator.accounts.models import User
from tests.factories import UserFactory

PASSWORD = "kurator-test-pass"  # the factory's password

# Console messages of the browser that report a Content Security Policy violation (R4): the ``page`` fixture
# fails its test when any appear, so a page relying on an inline script or handler is caught here.
CSP_VIOLATIONS: list[str] = []


def watch_csp(context: Any) -> None:
    """Record every CSP violation reported in the console of any page of ``context``."""

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            CSP_VIOLATIONS.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", on_console)


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
    watch_csp(context)
    return context.new_page()


def csrf_token(page: Any) -> str:
    return str(next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"))
