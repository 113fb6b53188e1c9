"""Schema findings of the schemathesis run, fixed in their apps and kept fixed here (R3, D6, S2).

The schema drf-spectacular builds (what ``/api/schema/`` serves) must say what the answers really carry:
a field that can be null is ``nullable``, and a field an error may lack is not ``required``. Otherwise a
client generated from the schema breaks on a real answer (tests/security/test_schemathesis.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    return schema["components"]["schemas"]


def test_a_sources_report_row_may_have_no_source_and_no_parent(components):
    """S2: the row of records without a source has ``source`` null, a top source has ``parent`` null."""
    row = components["SourceRow"]["properties"]
    assert row["source"].get("nullable") is True
    assert row["parent"].get("nullable") is True


def test_an_inquiry_not_yet_taken_has_null_taken_at_and_may_have_no_deadline(components):
    """S2: ``taken_at`` is null until someone takes the inquiry; ``respond_by`` is null without a standard."""
    inquiry = components["Inquiry"]["properties"]
    assert inquiry["taken_at"].get("nullable") is True
    assert inquiry["respond_by"].get("nullable") is True


@pytest.mark.django_db
def test_a_bank_statement_upload_without_a_file_is_a_400_the_schema_describes(components, head):
    """D6: the 400 of an upload without a file names ``file`` only; the schema does not require ``line``."""
    assert "line" not in components["StatementError"].get("required", [])
    client = Client()
    client.force_login(head)
    response = client.post("/api/v1/bank-statements/", {})
    assert response.status_code == 400
    assert set(response.json()) == {"file"}
