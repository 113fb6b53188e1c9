"""The conflict pages and API (D7, R3): the dossier tab and header badge, forms, resolve and reopen, roles,
constant queries; the API's fields, filters, 400/403/404/409."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.finance.models import Conflict
from kurator.finance.services.conflicts import conflict_resolve
from kurator.finance.tests.factories_contracts import conflict_factory
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "company",
    "occurred_on",
    "title",
    "description",
    "severity",
    "status",
    "our_people",
    "client_people",
    "deal",
    "contract",
    "invoice",
    "resolution",
    "resolved_on",
    "version",
}


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def api(user: User | None) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_authenticate(user)
    return client


def text_of(response: Any) -> str:
    return unescape(response.content.decode())


def tab_url(company: Any) -> str:
    return reverse("finance:company_conflicts", args=[company.pk])


# Pages ----------------------------------------------------------------------------------------------------


def test_open_conflicts_show_on_the_dossier_header_of_every_tab(manager, company):
    """D7: the header says how many conflicts are open and links to the register; resolved ones don't."""
    client = login(manager)
    assert 'data-testid="open-conflicts"' not in text_of(
        client.get(reverse("companies:detail", args=[company.pk]))
    )
    conflict_factory(actor=manager, company=company, severity="critical")
    resolved = conflict_factory(actor=manager, company=company)
    conflict_resolve(actor=manager, conflict=resolved, resolution="ok")
    for url in (
        reverse("companies:detail", args=[company.pk]),
        reverse("finance:company_contracts", args=[company.pk]),
    ):
        html = text_of(client.get(url))
        banner = html.split('data-testid="open-conflicts"')[1].split("</div>")[0]
        assert "1 open conflict with this client" in banner
        assert tab_url(company) in banner and "Critical" in banner


def test_the_tab_runs_the_same_number_of_queries_for_one_conflict_and_many(manager, other_manager, company):
    """D7: the tab's and the header's queries do not grow with the conflicts or their people."""
    client = login(manager)
    person = contact_factory(actor=manager, company=company, full_name="Клиент Один")
    conflict_factory(actor=manager, company=company, our_people=[manager], client_people=[person])
    client.get(tab_url(company))
    with CaptureQueriesContext(connection) as one:
        assert client.get(tab_url(company)).status_code == 200
    for n in range(10):
        conflict_factory(
            actor=manager,
            company=company,
            title=f"Конфликт {n}",
            our_people=[manager, other_manager],
            client_people=[person],
            severity="high",
        )
    with CaptureQueriesContext(connection) as many:
        html = text_of(client.get(tab_url(company)))
    assert "Конфликт 9" in html
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_reader_sees_the_register_but_cannot_write(other_manager, manager, company):
    """R3: another manager reads; registering, editing and resolving answer 403."""
    conflict = conflict_factory(actor=manager, company=company, title="Претензия по качеству")
    client = login(other_manager)
    html = text_of(client.get(tab_url(company)))
    assert "Претензия по качеству" in html and 'data-testid="new-conflict"' not in html
    assert client.get(reverse("finance:conflict_create", args=[company.pk])).status_code == 403
    assert client.get(reverse("finance:conflict_edit", args=[conflict.pk])).status_code == 403
    assert (
        client.post(reverse("finance:conflict_resolve", args=[conflict.pk]), {"resolution": "x"}).status_code
        == 403
    )
    page = text_of(client.get(reverse("finance:conflict_detail", args=[conflict.pk])))
    assert "Претензия по качеству" in page and 'data-testid="resolve-conflict"' not in page


def test_finance_registers_resolves_and_reopens_a_conflict(finance, manager, company):
    """D7: the form registers with the client's people; resolving asks for how and when; reopen."""
    person = contact_factory(actor=manager, company=company, full_name="Бухгалтер Клиента")
    client = login(finance)
    response = client.post(
        reverse("finance:conflict_create", args=[company.pk]),
        {
            "occurred_on": "2026-01-10",
            "title": "Просрочка оплаты",
            "description": "Счёт не оплачен",
            "severity": "high",
            "status": "open",
            "client_people": [person.pk],
            "our_people": [manager.pk],
        },
    )
    conflict = Conflict.objects.get()
    assert response.status_code == 302
    assert list(conflict.client_people.all()) == [person]
    refused = client.post(
        reverse("finance:conflict_resolve", args=[conflict.pk]),
        {"resolution": "", "resolved_on": "2026-01-01", "version": 1},
    )
    assert refused.status_code == 400
    html = text_of(refused)
    assert "Say how the conflict was resolved." in html
    assert "A conflict cannot be resolved before the day it occurred." in html
    ok = client.post(
        reverse("finance:conflict_resolve", args=[conflict.pk]),
        {"resolution": "Оплата по графику", "resolved_on": "2026-01-15", "version": 1},
    )
    assert ok.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == "resolved"
    page = text_of(client.get(reverse("finance:conflict_detail", args=[conflict.pk])))
    assert "Оплата по графику" in page and 'data-testid="record-history"' in page
    client.post(reverse("finance:conflict_reopen", args=[conflict.pk]), {"version": 2})
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolved_on) == ("open", None)


def test_a_stale_edit_is_a_conflict(manager, company):
    """D7: an edit of a version saved since answers 409 and keeps the other edit."""
    conflict = conflict_factory(actor=manager, company=company)
    client = login(manager)
    url = reverse("finance:conflict_edit", args=[conflict.pk])
    data = {
        "occurred_on": "2026-01-10",
        "title": "A",
        "description": "d",
        "severity": "low",
        "status": "open",
    }
    assert client.post(url, {**data, "version": 1}).status_code == 302
    response = client.post(url, {**data, "title": "B", "version": 1})
    assert response.status_code == 409
    conflict.refresh_from_db()
    assert conflict.title == "A"


# API ------------------------------------------------------------------------------------------------------


def test_the_api_answers_with_the_issue_fields(manager, company):
    """D7: the field names are the API's contract."""
    person = contact_factory(actor=manager, company=company, full_name="Контакт")
    conflict = conflict_factory(actor=manager, company=company, client_people=[person], our_people=[manager])
    body = api(manager).get(f"/api/v1/conflicts/{conflict.pk}/").json()
    assert set(body) == FIELDS
    assert (body["client_people"], body["our_people"], body["status"]) == ([person.pk], [manager.pk], "open")


def test_api_create_bad_input_and_stale_version(manager, company):
    """D7: 400 names the field (another client's person, resolved without a resolution); 409 when stale."""
    stranger = contact_factory(actor=manager, company=company_factory(actor=manager), full_name="Чужой")
    client = api(manager)
    base = {"company": company.pk, "occurred_on": "2026-01-10", "title": "T", "description": "D"}
    bad = client.post("/api/v1/conflicts/", {**base, "client_people": [stranger.pk]}, format="json")
    assert bad.status_code == 400 and "client_people" in bad.json()
    unresolved = client.post("/api/v1/conflicts/", {**base, "status": "resolved"}, format="json")
    assert unresolved.status_code == 400 and {"resolution", "resolved_on"} <= set(unresolved.json())
    missing = client.post("/api/v1/conflicts/", {**base, "company": 987654}, format="json")
    assert missing.status_code == 400 and "company" in missing.json()
    assert not Conflict.objects.exists()
    created = client.post("/api/v1/conflicts/", {**base, "severity": "high"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (
        client.patch(f"/api/v1/conflicts/{pk}/", {"title": "T2", "version": 1}, format="json").status_code
        == 200
    )
    assert (
        client.patch(f"/api/v1/conflicts/{pk}/", {"title": "T3", "version": 1}, format="json").status_code
        == 409
    )
    assert client.get("/api/v1/conflicts/987654/").status_code == 404
    assert client.delete(f"/api/v1/conflicts/{pk}/").status_code == 405


def test_api_roles_on_every_endpoint(users_by_role, other_manager, manager, company):
    """R3, D7: every member reads; the curator, the head, finance and the administrator write; another
    manager and a senior manager not working with the client get 403."""
    conflict = conflict_factory(actor=manager, company=company)
    writers = {"manager", "head_of_sales", "finance", "admin"}
    for role, user in {**users_by_role, "other": other_manager}.items():
        client = api(user)
        assert client.get("/api/v1/conflicts/").status_code == 200
        assert client.get(f"/api/v1/conflicts/{conflict.pk}/").status_code == 200
        created = client.post(
            "/api/v1/conflicts/",
            {"company": company.pk, "occurred_on": "2026-01-10", "title": role, "description": "d"},
            format="json",
        )
        changed = client.patch(f"/api/v1/conflicts/{conflict.pk}/", {"description": role}, format="json")
        expected = (201, 200) if role in writers else (403, 403)
        assert (created.status_code, changed.status_code) == expected, role
    assert api(None).get("/api/v1/conflicts/").status_code in (401, 403)


def test_api_filters_and_constant_queries(manager, company):
    """D7: ?company= ?status= ?severity=; a page of one conflict costs what a page of twenty does."""
    client = api(manager)
    other = company_factory(actor=manager)
    high = conflict_factory(actor=manager, company=company, severity="high", our_people=[manager])
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/conflicts/").status_code == 200
    low = conflict_factory(actor=manager, company=company, severity="low")
    conflict_resolve(actor=manager, conflict=low, resolution="ok")
    for _n in range(20):
        conflict_factory(actor=manager, company=other, our_people=[manager])

    def ids(query: str) -> set[int]:
        return {row["id"] for row in client.get(f"/api/v1/conflicts/?{query}").json()["results"]}

    assert ids(f"company={company.pk}") == {high.pk, low.pk}
    assert ids(f"company={company.pk}&status=open") == {high.pk}
    assert ids(f"company={company.pk}&severity=low") == {low.pk}
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/conflicts/").json()["results"]) == 22
    assert len(many.captured_queries) == len(one.captured_queries)
