"""The permission matrix (R4, R3, D12): every URL pattern and API route × every role × every ownership kind.

Roles: anonymous, manager, senior manager, head of sales, finance, administrator and an inactive user (signed
in, then switched off). Ownership kinds (tests/security/world.py): the actor's own client, a colleague's
client, and a colleague's client the actor holds a live AccessGrant to. Routes are discovered from the URL
configuration (tests/security/routes.py), so a route added later is in the matrix without an edit here.

Each cell is one request (GET for a page; every method an API route offers, with an empty JSON body), in a
savepoint rolled back after it, and the answer is judged against the policy the view declares:

- never a server error (5xx);
- anonymous and inactive: a page sends to the login form, the API answers 401/403 (public views excepted);
- the model-level permission (``kurator_permission`` of a page, ``permissions`` of an API view) refused by
  ``kurator.access.policy.can`` → 403 (an API object route may answer 404: scoping hides the record);
- an API object permission (``object_permissions``) refused on the record → 403/404;
- R3, openness: a page or API read of an open record (not confidential, not personal) that the model-level
  permission allows is never refused (no 403/404) — a manager reads a colleague's dossier;
- R4, confidential (solvency, financial statements, documents, audit): a colleague's client without a grant
  → 403/404 for a manager or senior manager, and no response *anywhere in the matrix* carries the
  colleague's confidential figures or document names; with a grant (or as curator) the read is 200.

Failures of one role are collected and reported together.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from kurator.access.policy import AUTHENTICATED, PUBLIC, can
from tests.security.conftest import Answer, call, make_client
from tests.security.routes import SKIP, Endpoint, all_routes, endpoints
from tests.security.world import KINDS, ROLES, World

# A sweep over every page: engine-independent, so with PostgreSQL at hand it runs on PostgreSQL only.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

OUTSIDERS = ("anonymous", "inactive")
# A route whose name holds one of these words changes something (or shows a form to): openness (R3) is
# about reading, so these are judged by the permission checks alone.
WRITE_WORDS = (
    "create",
    "new",
    "add",
    "edit",
    "delete",
    "merge",
    "curator",
    "reassign",
    "move",
    "check",
    "take",
    "qualify",
    "reject",
    "convert",
    "confirm",
    "read",
    "mark",
    "apply",
    "upload",
    "import",
    "cancel",
    "allocate",
    "remove",
    "status",
    "done",
    "complete",
    "reopen",
    "resolve",
    "decide",
    "dismiss",
    "order",
    "deactivate",
    "approve",
    "refuse",
    "withdraw",
    "revoke",
    "request",
    "grant",
    "credit",
    "collection",
    "restore",
    "purge",
    "trash",
    "token",
    "logout",
    "login",
    "setlang",
    "set_language",
    "export",
)
# Records that belong to one person: another user's are not open (R3 is about the dossier).
PERSONAL_KEYS = ("notification", "access_request", "access_grant", "calendar_token", "user", "api_token")
READ_ACTIONS = ("get", "list", "retrieve", "history")


def actor_role(role: str) -> str:
    """Whose objects an outsider's URLs point at: the manager's (anonymous has none of its own)."""
    return role if role not in OUTSIDERS else "manager"


def kinds_for(endpoint: Endpoint) -> tuple[str, ...]:
    return KINDS if endpoint.kwargs else ("colleague",)


def is_read(endpoint: Endpoint, action: str) -> bool:
    name = endpoint.name.lower().replace("-", "_")
    return action in READ_ACTIONS and not any(word in name.split("_") or word in name for word in WRITE_WORDS)


def is_personal(endpoint: Endpoint) -> bool:
    return any(endpoint.key_for(kwarg) in PERSONAL_KEYS for kwarg in endpoint.kwargs)


def target_of(endpoint: Endpoint, objects: dict[str, Any]) -> Any:
    """The record an API object route acts on (what ``object_permissions`` are checked against)."""
    for kwarg in ("pk", "id"):
        if kwarg in endpoint.kwargs:
            key = endpoint.key_for(kwarg)
            record = objects.get(key) if key else None
            if record is None:
                from tests.security.routes import _by_model

                record = _by_model(endpoint.model(), objects)
            view_class = endpoint.view_class
            if record is not None and view_class is not None and hasattr(view_class, "policy_object"):
                record = view_class().policy_object(record)
            return record
    return None


def judge(
    world: World,
    role: str,
    kind: str,
    endpoint: Endpoint,
    method: str,
    action: str,
    objects: dict[str, Any],
    answer: Answer,
) -> list[str]:
    where = f"{role:9} {kind:9} {method.upper():6} {endpoint.label}"
    problems: list[str] = []
    status = answer.status
    if status >= 500:
        return [f"{where}: server error {status} {answer.error}"]
    permission = endpoint.permission(action)
    if permission is None:
        return [f"{where}: the view declares no permission for {action!r} (see test_policy_coverage)"]
    user = world.users.get(role)
    if role in OUTSIDERS:
        if permission == PUBLIC:
            return []
        if endpoint.is_api:
            if status not in (401, 403):
                problems.append(f"{where}: an outsider got {status}, expected 401/403")
        elif not (status == 302 and answer.location.startswith(resolve_url(settings.LOGIN_URL))):
            problems.append(f"{where}: an outsider got {status} {answer.location}, expected the login form")
        return problems
    allowed = True if permission in (PUBLIC, AUTHENTICATED) else can(user, permission)
    object_route = bool(endpoint.kwargs)
    if not allowed:
        expected = (403, 404) if endpoint.is_api and object_route else (403,)
        if status not in expected:
            problems.append(f"{where}: {permission} is refused to {role}, but the answer is {status}")
        return problems
    object_permission = endpoint.object_permission(action)
    if object_permission is not None:
        target = target_of(endpoint, objects)
        if target is not None and not can(user, object_permission, target) and status not in (403, 404):
            problems.append(
                f"{where}: {object_permission} is refused on the record, but the answer is {status}"
            )
    read = is_read(endpoint, action)
    if endpoint.is_confidential and object_route and read and role in ("manager", "senior"):
        # R4: the colleague's confidential section is closed without a grant, open with one.
        if kind == "colleague" and status not in (403, 404):
            problems.append(f"{where}: confidential, no grant, but the answer is {status} (expected 403/404)")
        if kind in ("own", "granted") and status != 200:
            problems.append(f"{where}: confidential, {kind}, but the answer is {status} (expected 200)")
    elif read and not endpoint.is_confidential and not is_personal(endpoint) and status in (403, 404):
        problems.append(f"{where}: R3 — {permission} allows reading, but the answer is {status}")
    return problems


def leaks(world: World, role: str, where: str, answer: Answer) -> list[str]:
    """R4: the colleague's confidential markers never reach a manager or senior manager, on any route."""
    import re

    found = []
    for document_name, revenue in world.hidden_markers(role):
        if document_name in answer.body:
            found.append(f"{where}: the body names the colleague's confidential document {document_name!r}")
        if re.search(revenue, answer.body):
            found.append(f"{where}: the body carries the colleague's confidential revenue ({revenue})")
    return found


def run_matrix(world: World, role: str) -> tuple[int, list[str]]:
    client = make_client(world, role)
    problems: list[str] = []
    count = 0
    for endpoint in endpoints():
        for kind in kinds_for(endpoint):
            objects = world.objects(actor_role(role), kind)
            if objects is None:
                continue
            try:
                url = endpoint.url(objects)
            except KeyError as exc:
                problems.append(str(exc.args[0]))
                break
            for method, action in endpoint.methods().items():
                answer = call(client, method, url, api=endpoint.is_api)
                count += 1
                where = f"{role:9} {kind:9} {method.upper():6} {endpoint.label} {url}"
                problems += judge(world, role, kind, endpoint, method, action, objects, answer)
                problems += leaks(world, role, where, answer)
    return count, problems


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role):
    """R4, R3, D12: every route answers every role as the policy says, for own, colleague's and granted
    clients; no server error; no confidential figure or document of a colleague's client leaks."""
    count, problems = run_matrix(world, role)
    print(f"{role}: {count} requests, {len(endpoints())} routes")
    assert count > 100, f"the matrix made only {count} requests for {role}: the walk found no routes?"
    assert not problems, f"{len(problems)} problem(s) in {count} requests as {role}:\n" + "\n".join(problems)


def test_every_route_of_the_url_configuration_is_in_the_matrix(world):
    """R4: the matrix walks the same routes as the policy coverage test; only the commented SKIP list is
    left out, and each skipped route still exists (a stale entry is reported)."""
    routes = {route.route for route in all_routes()}
    walked = {endpoint.route for endpoint in endpoints()}
    assert routes - walked == set(SKIP)
    assert set(SKIP) <= routes, f"stale SKIP entries: {set(SKIP) - routes}"
    names = {endpoint.name for endpoint in endpoints()}
    assert {"company-list", "company-detail", "company_solvency", "detail", "api-schema"} <= names


def test_the_confidential_markers_are_found_where_they_may_be_seen(world):
    """R4: the leak check proves something only if the markers show where they are allowed: the head of
    sales reads the colleague's revenue on the solvency tab and in the API, and the grant opens the granted
    client's figures to a manager."""
    import re

    head = make_client(world, "head")
    colleague_pk = world.colleague_company.pk
    _name, revenue = world.markers[colleague_pk]
    page = call(head, "get", f"/finance/company/{colleague_pk}/solvency/")
    assert page.status == 200 and re.search(revenue, page.body), revenue
    listing = call(head, "get", "/api/v1/financial-statements/", api=True)
    assert listing.status == 200 and re.search(revenue, listing.body), revenue

    manager = make_client(world, "manager")
    granted_pk = world.granted_company.pk
    _name, granted_revenue = world.markers[granted_pk]
    page = call(manager, "get", f"/finance/company/{granted_pk}/solvency/")
    assert page.status == 200 and re.search(granted_revenue, page.body)
    locked = call(manager, "get", f"/finance/company/{colleague_pk}/solvency/")
    assert locked.status == 403 and not re.search(revenue, locked.body)


def test_an_inactive_users_api_token_opens_nothing(world):
    """R4: a user switched off after getting an API token is refused by the API (401), like an anonymous
    caller; the same call with an active user's token answers."""
    if "sec-inactive" not in world.api_keys:
        pytest.skip("no revocable API tokens in this version (kurator/accounts/tokens.py)")
    client = make_client(world, "anonymous")
    refused = call(
        client,
        "get",
        "/api/v1/users/me/",
        api=True,
        HTTP_AUTHORIZATION=f"Token {world.api_keys['sec-inactive']}",
    )
    assert refused.status == 401
    answered = call(
        client,
        "get",
        "/api/v1/users/me/",
        api=True,
        HTTP_AUTHORIZATION=f"Token {world.api_keys['sec-manager']}",
    )
    assert answered.status == 200 and "sec-manager" in answered.body
