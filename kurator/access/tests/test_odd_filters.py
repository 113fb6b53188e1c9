"""Odd input in the filters of the access pages and API (R4, D12): an id beyond 64 bits, a word where an id
goes, an address that is none, a day that is none — a field error or an empty list, never a server error
(SQLite cannot bind an integer beyond 64 bits; PostgreSQL refuses a malformed inet)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kurator.access.audit import audit_record
from kurator.access.models import AuditAction
from kurator.access.tests.factories_access import ask, grant

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
ODD_IDS = [HUGE, "-1", "0", "abc", "1e3", "1 OR 1=1", "١"]


@pytest.fixture
def records(head, manager, other_manager, company):
    ask(other_manager, company)
    given = grant(head, other_manager, company)
    audit_record(action=AuditAction.VIEW_SOLVENCY, allowed=True, rule="curator", user=manager, obj=company)
    return given


@pytest.mark.parametrize("value", ODD_IDS)
@pytest.mark.parametrize("name", ["company", "user", "grant"])
def test_the_grants_page_names_a_wrong_id_filter_and_lists_nothing(client, head, records, name, value):
    """R4: ``/access/grants/?company=<not an id>`` is the form's error on that field and an empty list (it
    listed every grant, or failed, before)."""
    client.force_login(head)
    response = client.get(reverse("access:grants"), {name: value})
    if value == "١":  # an Arabic-Indic one is read as 1 (Python's int): a filter that matches nothing here
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {name}
    assert not list(response.context["page"].object_list)


def test_the_grants_page_names_an_unknown_state(client, head, records):
    client.force_login(head)
    response = client.get(reverse("access:grants"), {"state": "forever"})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"state"}
    assert client.get(reverse("access:grants"), {"company": records.company_id}).status_code == 200


@pytest.mark.parametrize("value", ODD_IDS)
@pytest.mark.parametrize("name", ["company", "user"])
def test_the_audit_log_names_a_wrong_id_filter_and_lists_nothing(client, head, records, name, value):
    """D12: the audit log's client and user filters take no id beyond 64 bits, nor a word."""
    client.force_login(head)
    response = client.get(reverse("access:audit_log"), {name: value})
    if value == "١":
        assert response.status_code in (200, 400)
        return
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {name}
    assert not list(response.context["page"].object_list)
    export = client.get(reverse("access:audit_export"), {name: value})
    assert export.status_code == 302  # back to the page, which names the field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"ip": "10.0.0.999"}, "ip"),
        ({"ip": "' OR 1=1 --"}, "ip"),
        ({"ip": "a\x00b"}, "ip"),
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "date_to"),
        ({"action": "drop_table"}, "action"),
        ({"object_type": "x" * 5000}, "object_type"),
        ({"allowed": "maybe"}, "allowed"),
    ],
)
def test_the_audit_log_names_a_wrong_address_day_or_choice(client, head, records, query, field):
    client.force_login(head)
    response = client.get(reverse("access:audit_log"), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not list(response.context["page"].object_list)


@pytest.mark.parametrize("value", [HUGE, "abc", "-1", "0"])
def test_the_request_and_grant_forms_answer_404_for_a_client_or_document_that_is_none(
    client, head, manager, company, value
):
    """R4: asking for access to ``?company=<not an id>`` or ``&document=<not an id>`` is a 404."""
    client.force_login(manager)
    assert client.get(reverse("access:request"), {"company": value}).status_code == 404
    assert (
        client.get(reverse("access:request"), {"company": company.pk, "document": value}).status_code == 404
    )
    client.force_login(head)
    assert client.get(reverse("access:grant_create"), {"company": value}).status_code == 404


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/audit-log/", "user"),
        ("/api/v1/audit-log/", "company"),
        ("/api/v1/access-requests/", "company"),
        ("/api/v1/access-requests/", "requester"),
        ("/api/v1/access-grants/", "user"),
        ("/api/v1/access-grants/", "company"),
    ],
)
@pytest.mark.parametrize("value", [HUGE, "abc", "0", "-1"])
def test_the_api_names_a_wrong_id_filter(head, records, path, name, value):
    """R4, D12: an API filter by an id that is none is a 400 naming the parameter."""
    response = _api(head).get(path, {name: value})
    assert response.status_code == 400
    assert set(response.json()) == {name}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"ip": "10.0.0.999"}, "ip"),
        ({"ip": "a\x00b"}, "ip"),
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"action": "drop_table"}, "action"),
        ({"object_type": "x" * 5000}, "object_type"),
    ],
)
def test_the_audit_log_api_names_a_wrong_address_day_or_choice(head, records, query, field):
    response = _api(head).get("/api/v1/audit-log/", query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("path", "value"), [("/api/v1/access-requests/", "forever"), ("/api/v1/access-grants/", "x")]
)
def test_the_api_names_an_unknown_state(head, records, path, value):
    name = "status" if "requests" in path else "state"
    response = _api(head).get(path, {name: value})
    assert response.status_code == 400 and set(response.json()) == {name}


@pytest.mark.parametrize("value", [HUGE, "abc", "-1", "0"])
def test_an_odd_page_number_of_the_whole_log_is_no_server_error(client, head, records, value):
    """D12: the log paged without counting still takes any ``page``: the page shows the first or the last
    page, the API answers 404 for a page that is none."""
    client.force_login(head)
    assert client.get(reverse("access:audit_log"), {"page": value}).status_code == 200
    assert _api(head).get("/api/v1/audit-log/", {"page": value}).status_code == 404
