"""Guessed ids (R4, R3, D12): a manager who types the id of a record they may not see learns nothing.

R3 opens most of the dossier to the whole department, so the records that must stay hidden are the
confidential ones of a colleague's client without a grant (financial statements, documents and their
versions) and the personal ones of another user (notifications, access requests, grants, API tokens).
Every route (page or API) whose URL names such a record is called by a manager with the colleague's record:
the API answers 404 (403 where the permission itself is refused), a page 403 or 404, and no body carries
anything that identifies the record. Then every API object route is called with ids that are no ids at all
(0, -1, a huge number, SQL, a path) and must answer 403/404/405 — never a record, never a server error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from kurator.access.policy import AUTHENTICATED, PUBLIC, can
from tests.security.conftest import call, make_client
from tests.security.routes import Endpoint, endpoints
from tests.security.world import World

pytestmark = pytest.mark.django_db

# Records of a colleague (or of a colleague's client without a grant) a manager must not see.
HIDDEN_KEYS = (
    "financial_statement",
    "document",
    "document_version",
    "notification",
    "access_request",
    "access_grant",
    "api_token",
)

ODD_IDS = (
    "0",
    "-1",
    "99999999",
    "99999999999999999999",  # beyond a 64-bit integer
    "1 OR 1=1",
    "1' OR '1'='1",
    "1;DROP TABLE companies_company",
    "../1",
    "..%2F1",
    "%00",
    "1%00",
    "1.0",
    "1e3",
    "0x10",
    "null",
    "[]",
    "Ⅻ",
)
# Not here: "١" (an Arabic-Indic one). Python's int() reads it as 1, so it names record 1 like "1" does and
# is answered by the same visibility rules; it opens nothing "1" does not.


def fingerprints(world: World, objects: dict[str, Any], key: str) -> list[str]:
    """Strings (or regexes) of the hidden record ``key`` that no refusal may carry."""
    record = objects[key]
    company = world.colleague_company
    document_name, revenue = world.markers[company.pk]
    found = {
        "financial_statement": [revenue],
        "document": [re.escape(document_name)],
        "document_version": [re.escape(document_name)],
        "notification": [re.escape(getattr(record, "text", ""))],
        "access_request": [re.escape(getattr(record, "reason", ""))],
        "access_grant": [],
        "api_token": [
            re.escape(getattr(record, "name", "")),
            re.escape(getattr(record, "prefix", "") or "~"),
        ],
    }[key]
    return [f for f in found if f]


def hidden_key(endpoint: Endpoint) -> str | None:
    for kwarg in endpoint.kwargs:
        key = endpoint.key_for(kwarg)
        if key in HIDDEN_KEYS:
            return key
        if key is None and endpoint.is_api and kwarg in ("pk", "id"):
            model = endpoint.model()
            name = getattr(getattr(model, "_meta", None), "model_name", "")
            for candidate in HIDDEN_KEYS:
                if candidate.replace("_", "") == name:
                    return candidate
    return None


def test_a_manager_guessing_the_ids_of_hidden_records_learns_nothing(world):
    """R4, D12: for every route naming a colleague's confidential or personal record, a manager gets
    404 from the API (403 where the permission is refused outright), 403/404 from a page, and no body
    carries the record's name, figures or text."""
    manager = world.users["manager"]
    client = make_client(world, "manager")
    objects = world.objects("manager", "colleague")
    assert objects is not None
    # The colleague's own records, not the manager's: the personal ones are the colleague's in this kind.
    assert objects["notification"].recipient_id == world.colleague.pk
    problems: list[str] = []
    checked = 0
    for endpoint in endpoints():
        key = hidden_key(endpoint)
        if key is None:
            continue
        url = endpoint.url(objects)
        # A page is also posted to: a POST-only view answers 405 to GET before it looks anything up.
        methods = endpoint.methods() if endpoint.is_api else {"get": "get", "post": "post"}
        for method, action in methods.items():
            answer = call(client, method, url, api=endpoint.is_api)
            checked += 1
            where = f"{method.upper()} {url} ({endpoint.name}, {key})"
            permission = endpoint.permission(action)
            refused = permission not in (PUBLIC, AUTHENTICATED, None) and not can(manager, permission)
            if endpoint.is_api:
                expected: tuple[int, ...] = (403,) if refused else (404,)
            else:
                # 405: the page does not take this method, and answered before reading anything.
                expected = (403, 404, 405)
            if answer.status not in expected:
                problems.append(f"{where}: {answer.status}, expected {expected} {answer.error}")
            for pattern in fingerprints(world, objects, key):
                if re.search(pattern, answer.body):
                    problems.append(f"{where}: the body carries {pattern!r}")
    assert checked >= 5, f"only {checked} requests: the hidden records are not reachable by any route?"
    assert not problems, "\n".join(problems)


def test_the_fingerprints_are_visible_to_their_owner(world):
    """R4: the check above proves something only if the fingerprints show where they may: the colleague
    reads their own notification and the head of sales the colleague's statement."""
    objects = world.objects("manager", "colleague")
    assert objects is not None
    notification = objects["notification"]
    colleague = make_client(world, "manager")
    colleague.force_login(world.colleague)
    page = call(colleague, "get", "/notifications/")
    assert page.status == 200 and notification.text in page.body
    head = make_client(world, "head")
    statement = objects["financial_statement"]
    answer = call(head, "get", f"/api/v1/financial-statements/{statement.pk}/", api=True)
    assert answer.status == 200
    assert any(re.search(p, answer.body) for p in fingerprints(world, objects, "financial_statement"))


def object_routes() -> list[Endpoint]:
    return [e for e in endpoints() if e.is_api and any(k in ("pk", "id") for k in e.kwargs)]


@pytest.mark.parametrize("odd", ODD_IDS)
def test_ids_that_are_no_ids_get_no_record_and_no_server_error(world, odd):
    """R4: every API object route, called by a manager with an id that is no id (zero, negative, beyond
    64 bits, SQL, a path, a NUL byte …), answers 403/404/405 — never a record and never a 5xx."""
    client = make_client(world, "manager")
    objects = world.objects("manager", "own")
    assert objects is not None
    problems: list[str] = []
    routes = object_routes()
    assert routes, "no API object route found"
    for endpoint in routes:
        url = endpoint.url(objects)
        real = {str(getattr(objects.get(endpoint.key_for("pk") or ""), "pk", ""))}
        # Put the odd id in place of the record's id (the last numeric path segment that is the pk).
        parts = url.rstrip("/").split("/")
        index = max(i for i, part in enumerate(parts) if part in real or part.isdigit())
        parts[index] = odd if "%" in odd else quote(odd, safe="")
        bad_url = "/".join(parts) + "/"
        for method in endpoint.methods():
            answer = call(client, method, bad_url, api=True)
            if answer.status >= 500 or answer.status in (200, 201, 204):
                problems.append(
                    f"{method.upper()} {bad_url} ({endpoint.name}): {answer.status} {answer.error}"
                )
    assert not problems, "\n".join(problems)
