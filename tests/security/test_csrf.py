"""CSRF (R4, D12): no page or API call changes anything for a signed-in user on another site's behalf.

- Every HTML route, posted to by a signed-in head of sales without a CSRF token, answers 403 (Django's
  CsrfViewMiddleware refuses before the view runs), whatever the route does.
- Every ``<form method="post">`` of every page the matrix renders carries ``csrfmiddlewaretoken``, and a page
  with htmx requests that change things (hx-post/put/patch/delete) sends the token in ``hx-headers``.
- The API with session authentication refuses writes without the token (DRF's SessionAuthentication);
  with token authentication no CSRF token is needed (a token is not sent by the browser on its own).

CSRF_EXEMPT lists the views that are exempt on purpose, with the reason.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.security.conftest import call, make_client
from tests.security.routes import api_endpoints, html_endpoints
from tests.security.world import KINDS, World

# A sweep over every page: engine-independent, so with PostgreSQL at hand it runs on PostgreSQL only.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

CSRF_EXEMPT = {
    # kurator/inquiries/public.py: the embeddable web form acts on no session (it never reads request.user
    # and sets no cookie); a signed form token stands in for the CSRF token.
    "public_inquiry": "the public web form: no session, a signed token instead",
}
WRITES = ("post", "put", "patch", "delete")


class FormScanner(HTMLParser):
    """Finds post forms without a CSRF token and htmx writes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict[str, Any]] = []
        self.missing: list[str] = []
        self.htmx_writes = 0
        self.hx_headers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if any(f"hx-{verb}" in values for verb in WRITES):
            self.htmx_writes += 1
        if "hx-headers" in values:
            self.hx_headers.append(values["hx-headers"])
        if tag == "form":
            self.stack.append(
                {
                    "method": values.get("method", "get").lower(),
                    "action": values.get("action", ""),
                    "token": False,
                }
            )
        elif (
            tag == "input"
            and values.get("name") == "csrfmiddlewaretoken"
            and self.stack
            and values.get("value")
        ):
            self.stack[-1]["token"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.stack:
            form = self.stack.pop()
            if form["method"] == "post" and not form["token"]:
                self.missing.append(form["action"] or "(this page)")


def scan(body: str) -> FormScanner:
    scanner = FormScanner()
    scanner.feed(body)
    scanner.close()
    return scanner


def sends_csrf_header(scanner: FormScanner) -> bool:
    for raw in scanner.hx_headers:
        try:
            headers = json.loads(raw)
        except ValueError:
            continue
        if headers.get("X-CSRFToken"):
            return True
    return False


def pages(world: World, role: str) -> list[tuple[str, Any]]:
    client = make_client(world, role)
    seen: set[str] = set()
    rendered = []
    for endpoint in html_endpoints():
        if endpoint.name in CSRF_EXEMPT:
            continue
        for kind in KINDS if endpoint.kwargs else ("colleague",):
            objects = world.objects(role, kind)
            if objects is None:
                continue
            url = endpoint.url(objects)
            if url not in seen:
                seen.add(url)
                rendered.append((url, call(client, "get", url)))
    return rendered


def test_every_html_route_refuses_a_post_without_the_csrf_token(world):
    """R4: a signed-in head of sales posting to any page without the CSRF token gets 403, and nothing runs."""
    client = make_client(world, "head", enforce_csrf_checks=True)
    objects = world.objects("head", "own")
    assert objects is not None
    problems: list[str] = []
    checked = 0
    for endpoint in html_endpoints():
        if endpoint.name in CSRF_EXEMPT:
            continue
        url = endpoint.url(objects)
        answer = call(client, "post", url, data={"name": "csrf", "reason": "csrf"})
        checked += 1
        if answer.status != 403:
            problems.append(f"POST {url} ({endpoint.name}) without a CSRF token: {answer.status}")
    assert checked > 100
    assert not problems, "\n".join(problems)


def test_the_exempt_views_are_the_ones_listed(world):
    """R4: CSRF_EXEMPT names only views that are exempt (a stale entry would hide nothing, but mislead)."""
    names = {e.name: e for e in html_endpoints()}
    for name in CSRF_EXEMPT:
        assert name in names, f"{name} is no route any more"
        assert getattr(names[name].callback, "csrf_exempt", False), f"{name} is not csrf_exempt"
    exempt = {e.name for e in html_endpoints() if getattr(e.callback, "csrf_exempt", False)}
    assert exempt <= set(CSRF_EXEMPT), (
        f"csrf_exempt pages not listed (and justified): {exempt - set(CSRF_EXEMPT)}"
    )


@pytest.mark.parametrize("role", ["head", "manager"])
def test_every_post_form_carries_the_csrf_token(world, role):
    """R4: every <form method="post"> on every page has csrfmiddlewaretoken; htmx writes send X-CSRFToken."""
    problems: list[str] = []
    forms = 0
    for url, answer in pages(world, role):
        if answer.status >= 500:
            problems.append(f"GET {url}: server error {answer.status} {answer.error}")
            continue
        if "text/html" not in answer.headers.get("Content-Type", ""):
            continue
        scanner = scan(answer.body)
        forms += answer.body.lower().count('method="post"')
        for action in scanner.missing:
            problems.append(f"GET {url}: a post form to {action} has no csrfmiddlewaretoken")
        if scanner.htmx_writes and not sends_csrf_header(scanner):
            problems.append(f"GET {url}: htmx writes without an X-CSRFToken in hx-headers")
    assert forms > 20, f"only {forms} post forms seen"
    assert not problems, "\n".join(problems)


def test_the_scanner_finds_a_form_without_the_token():
    page = (
        '<form method="post" action="/a/"><input type="hidden" name="csrfmiddlewaretoken" value="t"></form>'
        '<form method="POST" action="/b/"><input name="x"></form><form action="/c/"></form>'
    )
    assert scan(page).missing == ["/b/"]
    htmx = scan('<body hx-headers=\'{"X-CSRFToken": "abc"}\'><button hx-post="/x/">x</button></body>')
    assert htmx.htmx_writes == 1 and sends_csrf_header(htmx)
    assert not sends_csrf_header(scan('<button hx-delete="/x/">x</button>'))


def test_the_api_with_a_session_needs_the_csrf_token_and_with_a_token_does_not(world):
    """R4: every API write with session authentication and no CSRF token is refused (403, CSRF); the same
    write with the token passes the CSRF check; with an API token no CSRF token is needed."""
    client = make_client(world, "head", enforce_csrf_checks=True)
    objects = world.objects("head", "own")
    assert objects is not None
    problems: list[str] = []
    for endpoint in api_endpoints():
        if not endpoint.view_class.authentication_classes:
            continue  # the token exchange takes no session (kurator/accounts/api.py TokenView)
        url = endpoint.url(objects)
        for method in endpoint.methods():
            if method not in WRITES:
                continue
            answer = call(client, method, url, api=True)
            if answer.status != 403 or "CSRF" not in answer.body:
                problems.append(f"{method.upper()} {url} by session without CSRF: {answer.status}")
    assert not problems, "\n".join(problems)

    # With the token from the cookie the CSRF check passes (an empty body is then a validation error).
    call(client, "get", "/companies/")
    token = client.cookies["csrftoken"].value
    answer = call(client, "post", "/api/v1/companies/", api=True, HTTP_X_CSRFTOKEN=token)
    assert answer.status == 400, answer.body

    # Token authentication: no CSRF token, no session.
    api = make_client(world, "anonymous", enforce_csrf_checks=True)
    # Not through call(): its savepoint would roll the new token back.
    issued = api.post(
        "/api/v1/auth/token/",
        {"username": world.users["head"].username, "password": "kurator-test-pass"},
        content_type="application/json",
    )
    assert issued.status_code == 200, issued.content
    key = issued.json()["token"]
    answer = call(api, "post", "/api/v1/companies/", api=True, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status == 400, answer.body
