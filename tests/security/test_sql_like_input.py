"""SQL-like and odd input in every search box and filter (R4, D12, R3): no server error, nothing changed.

The list pages and API lists are found automatically: every page a GET reaches (with the ownership kinds
of the matrix) and every API route with a ``list`` action or a plain GET. Their parameters are found too:
the inputs and selects of the page's GET forms and the query keys of its own links (sort and filter links),
an API view's filterset, ``search`` and ``ordering``, and a few common names (``q``, ``page`` …) everywhere.
Each page is then asked with every odd value in all its parameters at once, and with the nastiest values in
each parameter alone: quotes and SQL, ``%``, ``_``, ``\\``, a NUL byte (PostgreSQL refuses NUL in text),
numbers beyond 64 bits, a 5,000-character string, Cyrillic, emoji, dates that are no dates.

Every answer is below 500, and afterwards every table has the rows it had before (the audit log excepted:
reading a confidential page is recorded, and should be).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.apps import apps
from django.db import transaction

from tests.security.conftest import Answer, make_client
from tests.security.routes import Endpoint, endpoints
from tests.security.world import World

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "' OR 1=1 --",
    "'; DROP TABLE companies_company; --",
    "%",
    "_",
    "\\",
    "\x00",
    "a\x00b",
    "99999999999999999999",
    "-1",
    "1e999",
    "2026-13-45",
    "x" * 5000,
    "Ёлка «Тест» №1",
    "😀🚀",
]
# Alone in each parameter: the values a database refuses (NUL in PostgreSQL text, beyond a 64-bit integer).
NASTIEST = ["\x00", "99999999999999999999"]
COMMON_PARAMS = ("q", "search", "ordering", "page", "company")
# Reading a confidential page writes an audit row on purpose (R4, D12).
WRITTEN_BY_READING = {"access.AuditEvent"}


class ParamScanner(HTMLParser):
    """The names a page sends back to itself: inputs and selects of GET forms, query keys of own links."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.names: set[str] = set()
        self.in_get_form = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "form":
            get = values.get("method", "get").lower() == "get"
            self.in_get_form += 1 if get else 0
            if get and values.get("hx-get"):
                self._link(values["hx-get"])
        elif tag in ("input", "select", "textarea") and self.in_get_form and values.get("name"):
            if values.get("type") not in ("submit", "button", "file"):
                self.names.add(values["name"])
        elif tag == "a" and values.get("href"):
            self._link(values["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_get_form:
            self.in_get_form -= 1

    def _link(self, href: str) -> None:
        parts = urlsplit(href)
        if parts.path in ("", self.path):
            self.names.update(key for key, _value in parse_qsl(parts.query, keep_blank_values=True))


def api_params(endpoint: Endpoint) -> set[str]:
    cls = endpoint.view_class
    names = {"search", "ordering", "page", "page_size"}
    filterset = getattr(cls, "filterset_class", None)
    if filterset is not None:
        names.update(filterset.base_filters)
    names.update(getattr(cls, "filterset_fields", None) or [])
    return names


def ask(client: Any, url: str) -> Answer:
    """A GET whose writes are kept (to be counted afterwards); a server error's transaction is undone, so
    that PostgreSQL's aborted transaction cannot spoil the next request."""
    with transaction.atomic():
        response = client.get(url)
        if response.status_code >= 500:
            transaction.set_rollback(True)
    error = ""
    if getattr(response, "exc_info", None):
        error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    body = b"" if getattr(response, "streaming", False) else response.content
    return Answer(response.status_code, body.decode("utf-8", "replace"), dict(response.items()), error)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("kurator.") and model._meta.label not in WRITTEN_BY_READING
    }


def list_targets(world: World, client: Any) -> list[tuple[str, set[str]]]:
    """(url, parameter names) of every page and API list the head of sales reads."""
    targets: list[tuple[str, set[str]]] = []
    seen: set[str] = set()
    for endpoint in endpoints():
        methods = endpoint.methods()
        if endpoint.is_api:
            if methods.get("get") not in ("list", "get") or endpoint.name in ("api-schema", "api-docs"):
                continue
        elif "get" not in methods:
            continue
        # One client is enough: the parameters are parsed the same way whoever's client it is.
        objects = world.objects("head", "own")
        assert objects is not None
        url = endpoint.url(objects)
        if url in seen:
            continue
        seen.add(url)
        if endpoint.is_api:
            targets.append((url, api_params(endpoint) | set(COMMON_PARAMS)))
            continue
        answer = ask(client, url)
        if answer.status != 200 or "text/html" not in answer.headers.get("Content-Type", ""):
            continue
        scanner = ParamScanner(url)
        scanner.feed(answer.body)
        # A page with parameters of its own is a list (search, filters, sorting); a page without is a form
        # or a detail, asked with the common names only when it has no URL arguments.
        if scanner.names or not endpoint.kwargs:
            targets.append((url, scanner.names | set(COMMON_PARAMS)))
    return targets


def test_odd_input_in_every_search_and_filter_is_no_server_error_and_changes_nothing(world):
    """R4, D12: SQL-like and odd values in every search box and filter of every list page and API list never
    give a 5xx, and every table keeps its rows."""
    client = make_client(world, "head")
    before = row_counts()
    targets = list_targets(world, client)
    assert len(targets) > 50, f"only {len(targets)} list pages and API lists found"
    assert any("q" in names and url == "/companies/" for url, names in targets)
    problems: list[str] = []
    requests = 0
    for url, names in targets:
        params = sorted(names)
        attempts = [urlencode(dict.fromkeys(params, value)) for value in ODD_VALUES]
        attempts += [urlencode({name: value}) for name in params for value in NASTIEST]
        for query in attempts:
            answer = ask(client, f"{url}?{query}")
            requests += 1
            if answer.status >= 500:
                problems.append(f"GET {url}?{query[:120]}: {answer.status} {answer.error[:300]}")
    after = row_counts()
    changed = {
        label: (before[label], after.get(label)) for label in before if before[label] != after.get(label)
    }
    assert not changed, f"reading lists changed tables: {changed}"
    assert requests > 1000
    print(f"{len(targets)} lists, {requests} requests")
    assert not problems, f"{len(problems)} server errors in {requests} requests:\n" + "\n".join(problems)


def test_the_scanner_finds_the_parameters_of_a_page():
    scanner = ParamScanner("/companies/")
    scanner.feed(
        '<form method="get"><input name="q"><select name="curator"></select><button type="submit" name="go">'
        '</button></form><form method="post"><input name="secret"></form>'
        '<a href="?ordering=name&amp;page=2">x</a><a href="/deals/?stage=1">y</a>'
    )
    assert scanner.names == {"q", "curator", "ordering", "page"}
