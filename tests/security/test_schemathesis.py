"""A schemathesis run over the whole OpenAPI schema (R4, D12, R3): no server error, answers as documented.

The schema is the one ``/api/schema/`` serves (drf-spectacular's generator, called in-process: the schema
view itself needs a signed-in caller, which a module-level schema load cannot be). Every operation is called
through Django's WSGI application, in-process, against the test database holding the security world
(tests/security/world.py: records of every kind, so generated ids 1, 2, 3 … hit real rows), authenticated
as the head of sales with an API token from ``POST /api/v1/auth/token/`` (the stable contract, whatever
model stores the tokens). Each call runs in a savepoint that is rolled back: every example sees the same
world, and a database error cannot spoil the next one (PostgreSQL).

Checks: no 5xx; the status code is one the operation documents (see TOLERATED_UNDOCUMENTED); the content
type and the body match the documented response. Generation is deterministic and bounded (positive and
negative data, a few examples an operation, no shrinking: the first failing example is reported as it is),
so the run takes a few minutes on SQLite and PostgreSQL alike; the tests carry no database marker, so
``make test`` runs them on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.world import World

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 20, "deterministic": True, "database": "none", "mode": "all"},
        # The coverage phase adds every boundary value of every parameter as explicit examples: 700 calls
        # for one operation with a large body; twenty generated examples an operation keep the whole run
        # within a few minutes.
        "phases": {"coverage": {"enabled": False}},
    }
)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# The schema documents the successes (200, 201, 204) and a few errors, but most operations leave their error
# answers out: the validation error (400), the refusals (401, 403), not found (404), a method the route does
# not take (405), an edit conflict (409), an unsupported body type (415). That gap is reported once, as
# finding F5 in /work/notes/SECURITY_FINDINGS.md, instead of failing 130 operations; every other status must
# be documented (an undocumented 2xx is a contract break). Empty this set when the schema documents errors.
TOLERATED_UNDOCUMENTED: set[int] = set()


def _openapi() -> dict[str, Any]:
    # A JSON round trip turns lazy translations and other Python objects into plain JSON values.
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def head_token(world: World, db: None) -> Iterator[str]:
    """A head-of-sales API token, issued by ``POST /api/v1/auth/token/``; then, for the calls, Django's
    handler that closes the connection after each request is unhooked (inside the test's transaction that
    would end it — PostgreSQL). Django's own test client does the same around each of its requests, and
    hooks it back afterwards, so the token is fetched first."""
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": world.users["head"].username, "password": "kurator-test-pass"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield str(response.json()["token"])
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
)
def test_every_operation_answers_as_documented_without_a_server_error(case: Any, head_token: str) -> None:
    """R4, D12, R3: generated requests (valid and invalid) to every operation never produce a 5xx, and the
    answer's status, content type and body are the ones the schema documents."""
    with transaction.atomic():
        response = case.call(headers={"Authorization": f"Token {head_token}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
    if response.status_code not in TOLERATED_UNDOCUMENTED:
        case.validate_response(response, checks=[status_code_conformance])
