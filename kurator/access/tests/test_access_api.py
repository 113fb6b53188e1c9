"""R4, D12: the restricted-access API — /api/v1/access-requests/, /api/v1/access-grants/ and
/api/v1/audit-log/ — for every role: who lists what, who asks, who decides, who reads the log; a refused
call writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.access import services
from kurator.access.audit import audit_record
from kurator.access.models import AccessGrant, AccessRequest, AuditAction, AuditEvent
from kurator.access.tests.factories_access import ask, document, grant
from tests.factories import company_factory

TODAY = timezone.localdate
ROLES = ["manager", "other_manager", "senior_manager", "head", "finance", "admin_user"]
DECIDERS = {"head", "admin_user"}
REQUEST_FIELDS = {
    "id",
    "requester",
    "company",
    "document",
    "reason",
    "status",
    "expires_on",
    "decided_by",
    "decided_at",
    "decision_comment",
    "created_at",
}
GRANT_FIELDS = {
    "id",
    "user",
    "company",
    "document",
    "request",
    "expires_on",
    "granted_by",
    "created_at",
    "revoked_at",
    "revoked_by",
    "revoke_reason",
    "is_live",
}
AUDIT_FIELDS = {"at", "user", "action", "object_type", "object_id", "ip", "allowed", "rule"}


def _api(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def _counts() -> tuple[int, int, int]:
    return AccessRequest.objects.count(), AccessGrant.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def colleague_client(manager):
    return company_factory(actor=manager, short_name="Ромашка")


@pytest.fixture
def world(manager, other_manager, senior_manager, head, finance, admin_user, colleague_client):
    mine = ask(other_manager, colleague_client)
    theirs = ask(senior_manager, colleague_client)
    access = grant(head, senior_manager, company_factory(actor=head))
    return {"mine": mine, "theirs": theirs, "grant": access}


# Access requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_lists_their_own_requests_and_the_head_all(request, world, role):
    user = request.getfixturevalue(role)
    response = _api(user).get("/api/v1/access-requests/")
    assert response.status_code == 200
    ids = {r["id"] for r in response.json()["results"]}
    if role in DECIDERS:
        assert ids == {world["mine"].pk, world["theirs"].pk}
    else:
        assert ids == set(AccessRequest.objects.filter(requester=user).values_list("pk", flat=True))
    theirs = _api(user).get(f"/api/v1/access-requests/{world['theirs'].pk}/")
    assert theirs.status_code == (200 if role in DECIDERS or role == "senior_manager" else 404)


def test_the_request_fields_and_filters(head, world, other_manager, colleague_client):
    body = _api(head).get("/api/v1/access-requests/", {"company": colleague_client.pk}).json()
    assert body["count"] == 2
    assert set(body["results"][0]) == REQUEST_FIELDS
    mine = _api(head).get("/api/v1/access-requests/", {"requester": other_manager.pk}).json()["results"]
    assert [r["id"] for r in mine] == [world["mine"].pk]
    assert mine[0]["status"] == "pending" and mine[0]["reason"] == "Готовлю КП"
    assert _api(head).get("/api/v1/access-requests/", {"status": "approved"}).json()["count"] == 0
    assert _api(head).get("/api/v1/access-requests/", {"status": "pending"}).json()["count"] == 2
    assert _api(head).get("/api/v1/access-requests/", {"status": "nonsense"}).status_code == 400


def test_asking_through_the_api(other_manager, head, colleague_client):
    doc = document(colleague_client)
    api = _api(other_manager)
    response = api.post(
        "/api/v1/access-requests/",
        {"company": colleague_client.pk, "document": doc.pk, "reason": "Сверка"},
        format="json",
        REMOTE_ADDR="10.2.2.2",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["company"], body["document"], body["status"], body["requester"]) == (
        colleague_client.pk,
        doc.pk,
        "pending",
        other_manager.pk,
    )
    assert AuditEvent.objects.get(action=AuditAction.REQUEST_ACCESS).ip == "10.2.2.2"
    before = _counts()
    again = api.post(
        "/api/v1/access-requests/",
        {"company": colleague_client.pk, "document": doc.pk, "reason": "x"},
        format="json",
    )
    assert again.status_code == 400 and "document" in again.json()
    blank = api.post(
        "/api/v1/access-requests/", {"company": colleague_client.pk, "reason": ""}, format="json"
    )
    assert blank.status_code == 400 and "reason" in blank.json()
    unknown = api.post("/api/v1/access-requests/", {"company": 10**12, "reason": "x"}, format="json")
    assert unknown.status_code == 400 and "company" in unknown.json()
    assert _counts() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_head_and_the_administrator_approve_and_refuse(request, world, role):
    url = f"/api/v1/access-requests/{world['mine'].pk}"
    until = (TODAY() + timedelta(days=7)).isoformat()
    before = _counts()
    api = _api(request.getfixturevalue(role))
    approved = api.post(f"{url}/approve/", {"expires_on": until, "comment": ""}, format="json")
    if role not in DECIDERS:
        assert approved.status_code == 403
        assert api.post(f"{url}/refuse/", {"comment": "нет"}, format="json").status_code == 403
        assert _counts() == before
        return
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["expires_on"], body["decided_by"]) == (
        "approved",
        until,
        request.getfixturevalue(role).pk,
    )
    live = AccessGrant.objects.get(request=world["mine"])
    assert live.expires_on.isoformat() == until
    again = api.post(f"{url}/approve/", {"expires_on": until}, format="json")
    assert again.status_code == 400 and "status" in again.json()


def test_decisions_name_the_field(head, world):
    url = f"/api/v1/access-requests/{world['mine'].pk}"
    api = _api(head)
    before = _counts()
    far = (TODAY() + timedelta(days=91)).isoformat()
    assert api.post(f"{url}/approve/", {}, format="json").json() == {
        "expires_on": ["Say until which day access is given."]
    }
    assert "expires_on" in api.post(f"{url}/approve/", {"expires_on": far}, format="json").json()
    assert "expires_on" in api.post(f"{url}/approve/", {"expires_on": "31.02.2026"}, format="json").json()
    assert api.post(f"{url}/refuse/", {"comment": ""}, format="json").json() == {
        "comment": ["Say why access is refused: the requester reads it."]
    }
    assert _counts() == before
    refused = api.post(f"{url}/refuse/", {"comment": "Спросите куратора"}, format="json")
    assert refused.status_code == 200 and refused.json()["decision_comment"] == "Спросите куратора"


def test_withdrawing_is_for_the_requester(world, other_manager, senior_manager, head):
    url = f"/api/v1/access-requests/{world['mine'].pk}/withdraw/"
    before = _counts()
    assert _api(senior_manager).post(url).status_code == 404
    assert _api(head).post(url).status_code == 403
    assert _counts() == before
    response = _api(other_manager).post(url)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert _api(other_manager).post(url).status_code == 400


# Access grants --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_grants_are_listed_to_the_head_and_to_their_holder(request, world, role):
    user = request.getfixturevalue(role)
    response = _api(user).get("/api/v1/access-grants/")
    assert response.status_code == 200
    ids = {g["id"] for g in response.json()["results"]}
    expected = {world["grant"].pk} if role in DECIDERS or role == "senior_manager" else set()
    assert ids == expected
    if ids:
        assert set(response.json()["results"][0]) == GRANT_FIELDS
        assert response.json()["results"][0]["is_live"] is True


@pytest.mark.parametrize("role", ROLES)
def test_only_the_head_gives_and_revokes(request, world, other_manager, colleague_client, role):
    api = _api(request.getfixturevalue(role))
    until = (TODAY() + timedelta(days=3)).isoformat()
    before = _counts()
    created = api.post(
        "/api/v1/access-grants/",
        {"user": other_manager.pk, "company": colleague_client.pk, "expires_on": until, "reason": "Отпуск"},
        format="json",
    )
    revoked = api.post(
        f"/api/v1/access-grants/{world['grant'].pk}/revoke/", {"reason": "Хватит"}, format="json"
    )
    if role not in DECIDERS:
        assert created.status_code == 403
        assert revoked.status_code in (403, 404) if role != "senior_manager" else revoked.status_code == 403
        assert _counts() == before
        return
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["user"], body["company"], body["expires_on"], body["request"], body["is_live"]) == (
        other_manager.pk,
        colleague_client.pk,
        until,
        world["mine"].pk,  # the waiting request for the same thing is answered by the grant
        True,
    )
    assert "reason" not in body
    assert revoked.status_code == 200
    assert (revoked.json()["revoke_reason"], revoked.json()["is_live"]) == ("Хватит", False)
    assert revoked.json()["revoked_at"] is not None


def test_grant_fields_are_checked_and_states_filtered(head, world, finance, colleague_client):
    api = _api(head)
    before = _counts()
    wrong = api.post(
        "/api/v1/access-grants/", {"user": finance.pk, "company": colleague_client.pk}, format="json"
    )
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"user", "expires_on", "reason"}
    assert api.post(f"/api/v1/access-grants/{world['grant'].pk}/revoke/", {}, format="json").json() == {
        "reason": ["Say why access is revoked: the user reads it."]
    }
    assert _counts() == before
    assert api.get("/api/v1/access-grants/", {"state": "live"}).json()["count"] == 1
    assert api.get("/api/v1/access-grants/", {"state": "revoked"}).json()["count"] == 0
    assert api.get("/api/v1/access-grants/", {"state": "nonsense"}).status_code == 400


# The audit log --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_log_is_for_the_head_and_the_administrator(request, world, role):
    response = _api(request.getfixturevalue(role)).get("/api/v1/audit-log/")
    if role not in DECIDERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert set(first) >= AUDIT_FIELDS
    assert set(first) == AUDIT_FIELDS | {"id", "username", "company", "detail", "rule_label"}


def test_the_audit_log_needs_a_login(world):
    assert _api(None).get("/api/v1/audit-log/").status_code == 401


def test_the_audit_log_filters_like_the_page(head, other_manager, colleague_client, world):
    access = world["grant"]
    audit_record(
        action=AuditAction.DOWNLOAD,
        allowed=True,
        rule=f"grant:{access.pk}",
        user=other_manager,
        obj=document(colleague_client),
        ip="10.0.0.5",
    )
    audit_record(
        action=AuditAction.VIEW_SOLVENCY,
        allowed=False,
        rule="no_grant",
        user=other_manager,
        obj=colleague_client,
    )
    api = _api(head)

    def ids(**query):
        response = api.get("/api/v1/audit-log/", query)
        assert response.status_code == 200, response.content
        return [e["action"] for e in response.json()["results"]]

    assert ids(action="download") == ["download"]
    assert ids(allowed="false") == ["view_solvency"]
    assert ids(ip="10.0.0.5") == ["download"]
    assert ids(object_type="document") == ["download"]
    assert set(ids(user=other_manager.pk)) == {"download", "view_solvency", "request_access"}
    assert set(ids(company=colleague_client.pk)) == {"download", "view_solvency", "request_access"}
    today = TODAY().isoformat()
    assert len(ids(date_from=today, date_to=today)) == AuditEvent.objects.count()
    assert ids(date_from="2000-01-01", date_to="2000-01-02") == []
    download = api.get("/api/v1/audit-log/", {"action": "download"}).json()["results"][0]
    assert (download["rule"], download["rule_label"]) == (f"grant:{access.pk}", f"grant #{access.pk}")
    assert api.get("/api/v1/audit-log/", {"ip": "300.1.1.1"}).json() == {
        "ip": ["Enter a valid IPv4 or IPv6 address."]
    }
    assert (
        "date_to"
        in api.get("/api/v1/audit-log/", {"date_from": "2026-02-02", "date_to": "2026-02-01"}).json()
    )
    assert api.get("/api/v1/audit-log/", {"action": "nonsense"}).status_code == 400


def test_the_audit_log_runs_a_constant_number_of_queries(
    head, other_manager, colleague_client, django_assert_max_num_queries
):
    audit_record(
        action=AuditAction.VIEW_SOLVENCY,
        allowed=True,
        rule="curator",
        user=other_manager,
        obj=colleague_client,
    )
    api = _api(head)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/audit-log/").status_code == 200
    for n in range(20):
        company = company_factory(actor=head)
        audit_record(
            action=AuditAction.VIEW_SOLVENCY,
            allowed=bool(n % 2),
            rule="no_grant",
            user=other_manager,
            obj=company,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("/api/v1/audit-log/").json()["count"] >= 21


def test_request_and_grant_lists_run_a_constant_number_of_queries(
    head, senior_manager, django_assert_max_num_queries
):
    def more(n):
        for _ in range(n):
            company = company_factory(actor=head)
            services.access_request_approve(
                actor=head, request=ask(senior_manager, company), expires_on=TODAY()
            )

    more(1)
    api = _api(head)
    for url in ("/api/v1/access-requests/", "/api/v1/access-grants/"):
        with CaptureQueriesContext(connection) as few:
            assert api.get(url).status_code == 200
        more(4)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert api.get(url).status_code == 200


def test_every_route_needs_a_login(world):
    anonymous = _api(None)
    for url in ("/api/v1/access-requests/", "/api/v1/access-grants/", "/api/v1/audit-log/"):
        assert anonymous.get(url).status_code == 401
    assert anonymous.post(f"/api/v1/access-requests/{world['mine'].pk}/approve/", {}).status_code == 401
    assert re.match(r"^\d+$", str(world["mine"].pk))
