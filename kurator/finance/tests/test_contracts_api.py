"""The contracts and obligations API (D5, R3): fields, filters, 400 naming the field, 403 across roles,
404, 409 for a stale version, constant queries per list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.finance.models import Contract, Obligation
from kurator.finance.tests.factories_contracts import contract_factory, obligation_factory
from kurator.sales import services as sales_services
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "id",
    "company",
    "deal",
    "number",
    "subject",
    "status",
    "amount",
    "signed_on",
    "valid_from",
    "valid_until",
    "execution_planned_on",
    "executed_on",
    "terminated_on",
    "payment_term_days",
    "prepayment_percent",
    "delivery_terms",
    "notes",
    "version",
    "overdue_obligations",
}
OBLIGATION_FIELDS = {
    "id",
    "contract",
    "party",
    "description",
    "due_on",
    "done_on",
    "responsible",
    "overdue",
    "version",
}


def api(user: User | None) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_authenticate(user)
    return client


def test_a_contract_answers_with_the_issue_fields_and_amounts_as_strings(manager, company):
    """D5: the field names are the contract of the API; amounts are decimal strings."""
    deal = sales_services.deal_create(actor=manager, company=company)
    contract = contract_factory(
        actor=manager, company=company, deal=deal, amount="1234567.89", prepayment_percent="30"
    )
    obligation_factory(actor=manager, contract=contract, due_on=timezone.localdate() - timedelta(days=1))
    body = api(manager).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert set(body) == CONTRACT_FIELDS
    assert (body["amount"], body["prepayment_percent"], body["deal"]) == ("1234567.89", "30.00", deal.pk)
    assert body["overdue_obligations"] == 1


def test_create_update_and_a_stale_version(manager, company):
    """D5: a contract is created by the curator; a stale version answers 409 and changes nothing."""
    client = api(manager)
    created = client.post(
        "/api/v1/contracts/",
        {"company": company.pk, "number": "API-1", "amount": "1000.50", "payment_term_days": 10},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    ok = client.patch(f"/api/v1/contracts/{pk}/", {"subject": "Первая", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(f"/api/v1/contracts/{pk}/", {"subject": "Вторая", "version": 1}, format="json")
    assert stale.status_code == 409
    assert Contract.objects.get(pk=pk).subject == "Первая"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"number": ""}, "number"),
        ({"number": "1", "amount": "0"}, "amount"),
        ({"number": "1", "amount": "-10"}, "amount"),
        ({"number": "1", "prepayment_percent": "150"}, "prepayment_percent"),
        ({"number": "1", "payment_term_days": 400}, "payment_term_days"),
        ({"number": "1", "signed_on": "2026-03-01", "executed_on": "2026-01-01"}, "executed_on"),
        ({"number": "1", "valid_from": "2026-03-01", "valid_until": "2026-01-01"}, "valid_until"),
        ({"number": "1", "status": "signed"}, "signed_on"),
        ({"number": "1", "deal": 99999}, "deal"),
        ({"number": "1", "company": 99999}, "company"),
    ],
)
def test_bad_input_answers_400_naming_the_field(manager, company, payload, field):
    """D5: every refusal names its field; nothing is written."""
    response = api(manager).post("/api/v1/contracts/", {"company": company.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Contract.objects.exists()


def test_a_duplicate_number_and_a_deal_of_another_client_are_refused(manager, company):
    """D5: the number is unique per client; the deal belongs to the same client."""
    contract_factory(actor=manager, company=company, number="D-1")
    other = company_factory(actor=manager)
    foreign = sales_services.deal_create(actor=manager, company=other)
    client = api(manager)
    dup = client.post("/api/v1/contracts/", {"company": company.pk, "number": "D-1"}, format="json")
    assert dup.status_code == 400 and "number" in dup.json()
    bad = client.post(
        "/api/v1/contracts/", {"company": company.pk, "number": "D-2", "deal": foreign.pk}, format="json"
    )
    assert bad.status_code == 400 and "deal" in bad.json()
    moved = client.patch(
        f"/api/v1/contracts/{Contract.objects.get().pk}/", {"company": other.pk}, format="json"
    )
    assert moved.status_code == 400 and "company" in moved.json()


def test_roles_across_every_contract_endpoint(users_by_role, other_manager, company, manager):
    """R3, D5: every member reads; the curator, the head of sales and the administrator write; finance, a
    senior manager not working with the client and another manager get 403; outsiders 403/401."""
    contract = contract_factory(actor=manager, company=company)
    writers = {"manager", "head_of_sales", "admin"}
    for role, user in {**users_by_role, "other": other_manager}.items():
        client = api(user)
        assert client.get("/api/v1/contracts/").status_code == 200
        assert client.get(f"/api/v1/contracts/{contract.pk}/").status_code == 200
        created = client.post(
            "/api/v1/contracts/", {"company": company.pk, "number": f"R-{role}"}, format="json"
        )
        changed = client.patch(f"/api/v1/contracts/{contract.pk}/", {"subject": role}, format="json")
        expected = (201, 200) if role in writers else (403, 403)
        assert (created.status_code, changed.status_code) == expected, role
    anonymous = api(None)
    assert anonymous.get("/api/v1/contracts/").status_code in (401, 403)
    assert api(manager).get("/api/v1/contracts/987654/").status_code == 404


def test_contract_filters(manager, company):
    """D5: ?company= ?status= ?deal=."""
    other = company_factory(actor=manager)
    deal = sales_services.deal_create(actor=manager, company=company)
    signed = contract_factory(
        actor=manager, company=company, deal=deal, status="signed", signed_on="2026-01-01"
    )
    draft = contract_factory(actor=manager, company=company)
    contract_factory(actor=manager, company=other)
    client = api(manager)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in client.get(f"/api/v1/contracts/?{query}").json()["results"]}

    assert ids(f"company={company.pk}") == {signed.pk, draft.pk}
    assert ids(f"company={company.pk}&status=signed") == {signed.pk}
    assert ids(f"deal={deal.pk}") == {signed.pk}
    assert client.get("/api/v1/contracts/?status=nonsense").status_code == 400


def test_the_contract_list_runs_constant_queries(manager, company):
    """D5: a page of one contract costs what a page of twenty does."""
    client = api(manager)
    contract_factory(actor=manager, company=company)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/contracts/").status_code == 200
    for _n in range(20):
        contract = contract_factory(actor=manager, company=company)
        obligation_factory(actor=manager, contract=contract)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/contracts/").json()["results"]) == 21
    assert len(many.captured_queries) == len(one.captured_queries)


# Obligations ----------------------------------------------------------------------------------------------


def test_obligations_crud_with_overdue_flag_and_filters(manager, company):
    """D5: an obligation is added, edited with its version and marked done through ``done_on``; ``overdue``
    is true for ours as for the client's; ?contract= ?company= ?overdue=true."""
    contract = contract_factory(actor=manager, company=company)
    other_contract = contract_factory(actor=manager, company=company_factory(actor=manager))
    client = api(manager)
    late = (timezone.localdate() - timedelta(days=3)).isoformat()
    created = client.post(
        "/api/v1/obligations/",
        {"contract": contract.pk, "party": "ours", "description": "Отгрузить", "due_on": late},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == OBLIGATION_FIELDS
    assert body["overdue"] is True
    theirs = obligation_factory(actor=manager, contract=contract, party="client", due_on=late)
    obligation_factory(actor=manager, contract=other_contract, due_on=timezone.localdate())

    def ids(query: str) -> set[int]:
        return {row["id"] for row in client.get(f"/api/v1/obligations/?{query}").json()["results"]}

    assert ids("overdue=true") == {body["id"], theirs.pk}
    assert ids(f"contract={contract.pk}") == {body["id"], theirs.pk}
    assert ids(f"company={company.pk}&overdue=true") == {body["id"], theirs.pk}
    done = client.patch(
        f"/api/v1/obligations/{body['id']}/",
        {"done_on": timezone.localdate().isoformat(), "version": 1},
        format="json",
    )
    assert done.status_code == 200 and done.json()["overdue"] is False
    stale = client.patch(
        f"/api/v1/obligations/{body['id']}/", {"description": "x", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert client.delete(f"/api/v1/obligations/{body['id']}/").status_code == 405


def test_obligation_bad_input_and_roles(users_by_role, other_manager, manager, company):
    """D5, R3: 400 names the field; only those who keep the contract add or change its obligations."""
    contract = contract_factory(actor=manager, company=company)
    obligation = obligation_factory(actor=manager, contract=contract)
    client = api(manager)
    bad = client.post(
        "/api/v1/obligations/",
        {
            "contract": contract.pk,
            "party": "ours",
            "description": "x",
            "due_on": "2026-01-01",
            "done_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert bad.status_code == 400 and "done_on" in bad.json()
    missing = client.post(
        "/api/v1/obligations/",
        {"contract": 987654, "party": "ours", "description": "x", "due_on": "2026-01-01"},
        format="json",
    )
    assert missing.status_code == 400 and "contract" in missing.json()
    writers = {"manager", "head_of_sales", "admin"}
    for role, user in {**users_by_role, "other": other_manager}.items():
        c = api(user)
        assert c.get("/api/v1/obligations/").status_code == 200
        assert c.get(f"/api/v1/obligations/{obligation.pk}/").status_code == 200
        created = c.post(
            "/api/v1/obligations/",
            {"contract": contract.pk, "party": "client", "description": role, "due_on": "2026-01-01"},
            format="json",
        )
        changed = c.patch(f"/api/v1/obligations/{obligation.pk}/", {"description": role}, format="json")
        expected = (201, 200) if role in writers else (403, 403)
        assert (created.status_code, changed.status_code) == expected, role
    assert api(manager).get("/api/v1/obligations/987654/").status_code == 404
    assert Obligation.objects.filter(description="other").count() == 0


def test_the_obligation_list_runs_constant_queries(manager, company):
    """D5: one obligation or twenty, the same queries."""
    client = api(manager)
    contract = contract_factory(actor=manager, company=company)
    obligation_factory(actor=manager, contract=contract)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/obligations/")
    for _n in range(20):
        obligation_factory(actor=manager, contract=contract)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/obligations/").json()["results"]) == 21
    assert len(many.captured_queries) == len(one.captured_queries)
