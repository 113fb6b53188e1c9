"""ARCHITECTURE.md API rules: whatever a client sends that the OpenAPI schema allows (and some of what it
does not), the API answers without a server error.

The schema is generated in-process by drf-spectacular and every operation is called through the WSGI app with
a head-of-sales token (the role that may do the most). Generation is deterministic and bounded, so the test
takes seconds on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kurator.accounts.tests.factories import api_token_key
from kurator.companies.models import ContactSource, ProductCategory
from tests.factories import bank_account_factory, company_factory, contact_factory

CONFIG = schemathesis.Config.from_dict(
    {
        # Positive and negative data, the same cases on every run, no example database left behind.
        "generation": {"max-examples": 20, "deterministic": True, "database": "none", "mode": "all"},
    }
)


def _openapi() -> dict[str, Any]:
    # A JSON round trip turns lazy translations and other Python objects into plain JSON values.
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Django closes the connection after each request; inside a test transaction that would end the test's
    transaction (PostgreSQL). Django's own test client unhooks the same signal handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def head_token(keep_test_connection, head, manager, other_manager) -> str:
    """A small dossier so that generated ids sometimes hit real records (1, 2, 3 … are drawn often)."""
    ContactSource.objects.create(name="Интернет")
    ProductCategory.objects.create(name="Трубы")
    for owner in (manager, other_manager, head):
        company = company_factory(actor=owner)
        contact_factory(actor=owner, company=company)
        bank_account_factory(actor=owner, company=company)
    return api_token_key(head)


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=False)
def test_api_never_answers_with_a_server_error(case, head_token):
    """D1, D2, D11, R4: generated requests to every operation never produce a 5xx."""
    response = case.call(headers={"Authorization": f"Token {head_token}"})
    case.validate_response(response, checks=[not_a_server_error])
