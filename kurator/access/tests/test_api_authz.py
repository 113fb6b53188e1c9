"""R3, R4: every API endpoint answered for every role, and the API side of issue 2's "Done when" journey.

Roles: the company's curator (a manager), another manager, a senior manager, the head of sales, finance, the
administrator and an anonymous client. Everyone in the department reads every dossier (R3); only the curator,
the head of sales and the administrator edit it (R4); finance reads and writes nothing; anonymous gets 401.
A refused write leaves the database exactly as it was.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from kurator.accounts.models import ApiToken, User
from kurator.accounts.tests.factories import api_token_key
from kurator.accounts.tokens import hash_key
from kurator.companies.models import BankAccount, Company, Contact
from kurator.core.requisites import generate_settlement_account
from tests.factories import (
    SBERBANK_BIK,
    SBERBANK_CORR,
    bank_account_factory,
    company_factory,
    contact_factory,
)

ROLES = ["curator", "other_manager", "senior_manager", "head", "finance", "admin", "anonymous"]
EDITORS = {"curator", "head", "admin"}
CREATORS = {"curator", "other_manager", "senior_manager", "head", "admin"}

SBERBANK = {
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
}


def api_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


@pytest.fixture
def world(manager, other_manager, senior_manager, head, finance, admin_user) -> dict[str, Any]:
    company = company_factory(actor=manager, short_name="Ромашка")
    return {
        "users": {
            "curator": manager,
            "other_manager": other_manager,
            "senior_manager": senior_manager,
            "head": head,
            "finance": finance,
            "admin": admin_user,
            "anonymous": None,
        },
        "company": company,
        "account": bank_account_factory(actor=manager, company=company),
        "contact": contact_factory(actor=manager, company=company, full_name="Сидоров Пётр Ильич"),
    }


def snapshot() -> tuple[Any, ...]:
    """Everything a dossier write could touch, including the history that records writes."""
    return (
        list(Company.objects.order_by("pk").values()),
        list(Company.product_categories.through.objects.order_by("pk").values()),
        list(BankAccount.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        Company.history.count(),
        BankAccount.history.count(),
        Contact.history.count(),
    )


def _new_account(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "company": w["company"].pk,
        "bik": SBERBANK_BIK,
        "settlement_account": generate_settlement_account(random.Random(7), SBERBANK_BIK),
        "correspondent_account": SBERBANK_CORR,
        "bank_name": "ПАО Сбербанк",
    }


Request = tuple[str, str, dict[str, Any] | None]
Case = Callable[[dict[str, Any]], Request]

READS: dict[str, Case] = {
    "companies list": lambda w: ("get", "/api/v1/companies/", None),
    "companies list filtered": lambda w: (
        "get",
        f"/api/v1/companies/?search=ромашка&curator={w['company'].curator_id}",
        None,
    ),
    "company detail": lambda w: ("get", f"/api/v1/companies/{w['company'].pk}/", None),
    "company history": lambda w: ("get", f"/api/v1/companies/{w['company'].pk}/history/", None),
    "bank accounts list": lambda w: ("get", f"/api/v1/bank-accounts/?company={w['company'].pk}", None),
    "bank account detail": lambda w: ("get", f"/api/v1/bank-accounts/{w['account'].pk}/", None),
    "contacts list": lambda w: ("get", f"/api/v1/contacts/?company={w['company'].pk}", None),
    "contact detail": lambda w: ("get", f"/api/v1/contacts/{w['contact'].pk}/", None),
    "users list": lambda w: ("get", "/api/v1/users/", None),
    "user detail": lambda w: ("get", f"/api/v1/users/{w['company'].curator_id}/", None),
    "users me": lambda w: ("get", "/api/v1/users/me/", None),
    "api root": lambda w: ("get", "/api/v1/", None),
    "schema": lambda w: ("get", "/api/schema/", None),
    "docs": lambda w: ("get", "/api/docs/", None),
}

# Writes any seller (and the head, the administrator) may do: a new company.
CREATES: dict[str, Case] = {
    "company create": lambda w: ("post", "/api/v1/companies/", {"full_name": "ПАО Сбербанк", **SBERBANK}),
}

# Writes on the curator's company: its curator, the head of sales and the administrator only.
EDITS: dict[str, Case] = {
    "company patch": lambda w: ("patch", f"/api/v1/companies/{w['company'].pk}/", {"city": "Тверь"}),
    "company put": lambda w: (
        "put",
        f"/api/v1/companies/{w['company'].pk}/",
        {"full_name": "ООО «Ромашка-Плюс»", "status": "client"},
    ),
    "bank account create": lambda w: ("post", "/api/v1/bank-accounts/", _new_account(w)),
    "bank account patch": lambda w: (
        "patch",
        f"/api/v1/bank-accounts/{w['account'].pk}/",
        {"bank_name": "Сбер"},
    ),
    "bank account put": lambda w: (
        "put",
        f"/api/v1/bank-accounts/{w['account'].pk}/",
        {
            "company": w["company"].pk,
            "bik": w["account"].bik,
            "settlement_account": w["account"].settlement_account,
            "bank_name": "Сбер",
        },
    ),
    "bank account delete": lambda w: ("delete", f"/api/v1/bank-accounts/{w['account'].pk}/", None),
    "contact create": lambda w: (
        "post",
        "/api/v1/contacts/",
        {"company": w["company"].pk, "full_name": "Орлова Анна", "decision_role": "decision_maker"},
    ),
    "contact patch": lambda w: (
        "patch",
        f"/api/v1/contacts/{w['contact'].pk}/",
        {"position": "Главный инженер"},
    ),
    "contact put": lambda w: (
        "put",
        f"/api/v1/contacts/{w['contact'].pk}/",
        {"company": w["company"].pk, "full_name": "Сидоров П. И."},
    ),
    "contact delete": lambda w: ("delete", f"/api/v1/contacts/{w['contact'].pk}/", None),
}

# Nothing is lost: companies are never deleted, and users are managed with `adduser`, not the API.
NOT_OFFERED: dict[str, Case] = {
    "company delete": lambda w: ("delete", f"/api/v1/companies/{w['company'].pk}/", None),
    "users create": lambda w: ("post", "/api/v1/users/", {"username": "x"}),
    "user delete": lambda w: ("delete", f"/api/v1/users/{w['company'].curator_id}/", None),
}

SUCCESS = {"get": 200, "post": 201, "put": 200, "patch": 200, "delete": 204}


def _call(world: dict[str, Any], role: str, case: Case):
    method, url, payload = case(world)
    client = api_client(world["users"][role])
    return method, getattr(client, method)(url, payload, format="json") if payload is not None else getattr(
        client, method
    )(url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(READS))
def test_every_member_reads_every_endpoint_and_anonymous_gets_401(world, role, endpoint):
    """R3: the whole department (finance too) reads every dossier; without credentials the API answers 401."""
    before = snapshot()
    _method, response = _call(world, role, READS[endpoint])
    assert response.status_code == (401 if role == "anonymous" else 200), response.content[:300]
    assert snapshot() == before


def _expected_write(role: str, allowed: set[str], method: str) -> int:
    if role == "anonymous":
        return 401
    return SUCCESS[method] if role in allowed else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(CREATES))
def test_company_create_by_role(world, role, endpoint):
    """R4: sellers, the head of sales and the administrator add companies; finance cannot (403)."""
    before = snapshot()
    method, response = _call(world, role, CREATES[endpoint])
    expected = _expected_write(role, CREATORS, method)
    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        created = Company.objects.get(pk=response.json()["id"])
        # R2: whoever creates the company without naming a curator becomes its curator.
        assert created.curator == world["users"][role]
    else:
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(EDITS))
def test_dossier_edit_by_role(world, role, endpoint):
    """R3, R4: only the curator, the head of sales and the administrator change a dossier and its records;
    a colleague, a senior manager and finance get 403 and nothing changes."""
    before = snapshot()
    method, response = _call(world, role, EDITS[endpoint])
    expected = _expected_write(role, EDITORS, method)
    assert response.status_code == expected, response.content[:300]
    if expected in (401, 403):
        assert snapshot() == before
    else:
        assert snapshot() != before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(NOT_OFFERED))
def test_operations_the_api_does_not_offer_answer_405(world, role, endpoint):
    """D11: a dossier is never deleted; users are not created through the API. 405 for everyone."""
    before = snapshot()
    _method, response = _call(world, role, NOT_OFFERED[endpoint])
    assert response.status_code == 405, response.content[:300]
    assert snapshot() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_token_is_issued_to_every_role(world, role):
    """R4: every member of the department gets an API token with their username and password."""
    user = world["users"][role]
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "kurator-test-pass"}, format="json"
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert ApiToken.objects.get(key_hash=hash_key(key)).user == user


def test_missing_records_are_404_for_members_and_401_for_anonymous(world):
    """R4: a record that does not exist is 404 to a member; anonymous learns nothing (401)."""
    for url in (
        "/api/v1/companies/987654/",
        "/api/v1/companies/987654/history/",
        "/api/v1/bank-accounts/987654/",
        "/api/v1/contacts/987654/",
        "/api/v1/users/987654/",
    ):
        assert api_client(world["users"]["finance"]).get(url).status_code == 404, url
        assert api_client(None).get(url).status_code == 401, url
    for url in ("/api/v1/companies/987654/", "/api/v1/contacts/987654/"):
        assert api_client(world["users"]["head"]).patch(url, {}, format="json").status_code == 404, url


def test_a_manager_cannot_hand_a_client_to_another_curator(world):
    """R2: only the head of sales changes a curator; the curator's own try is refused, nothing changes."""
    company, other = world["company"], world["users"]["other_manager"]
    before = snapshot()
    response = api_client(world["users"]["curator"]).patch(
        f"/api/v1/companies/{company.pk}/", {"curator": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "curator" in response.json()
    assert snapshot() == before

    response = api_client(world["users"]["head"]).patch(
        f"/api/v1/companies/{company.pk}/", {"curator": other.pk, "reason": "Отпуск"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["curator"] == other.pk
    history = api_client(world["users"]["finance"]).get(f"/api/v1/companies/{company.pk}/history/").json()
    latest = history["results"][0]
    assert latest["reason"] == "Отпуск"
    assert latest["user"]["username"] == world["users"]["head"].username
    assert [c["field"] for c in latest["changes"]] == ["curator"]


def test_api_journey_of_issue_2(manager, other_manager):
    """D1, D2, D11, R2, R3, R4 — the "Done when" journey through the API with a token: a manager creates a
    company with a wrong INN (400 naming inn), fixes it, adds a decision maker and a bank account, sees the
    changes in the history, cannot edit a colleague's client (403) but can read it."""
    colleague_company = company_factory(actor=other_manager, short_name="Чужой клиент")

    anonymous = APIClient()
    assert anonymous.get("/api/v1/companies/").status_code == 401
    token = anonymous.post(
        "/api/v1/auth/token/", {"username": manager.username, "password": "kurator-test-pass"}, format="json"
    ).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    payload = {
        "full_name": "ПАО Сбербанк",
        "short_name": "Сбербанк",
        "inn": "7707083894",
        "kpp": "773601001",
        "ogrn": "1027700132195",
        "phones": ["8 (495) 500-55-50"],
    }
    response = client.post("/api/v1/companies/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["inn"]
    assert not Company.objects.filter(short_name="Сбербанк").exists()

    payload["inn"] = "7707-083-893"  # people paste requisites with dashes: they are cleaned
    response = client.post("/api/v1/companies/", payload, format="json")
    assert response.status_code == 201, response.json()
    company = response.json()
    assert company["inn"] == "7707083893"
    assert company["curator"] == manager.pk
    assert company["phones"] == ["+74955005550"]
    assert "decision_maker" in [item["code"] for item in company["missing"]]

    response = client.post(
        "/api/v1/contacts/",
        {
            "company": company["id"],
            "full_name": "Греф Герман Оскарович",
            "position": "Президент",
            "decision_role": "decision_maker",
            "is_leader": True,
            "phones": ["+7 495 500-55-50"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    response = client.post(
        "/api/v1/bank-accounts/",
        {
            "company": company["id"],
            "bik": "044525225",
            "correspondent_account": "30101810400000000225",
            "settlement_account": generate_settlement_account(random.Random(3), "044525225"),
            "bank_name": "ПАО Сбербанк",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["is_primary"] is True

    detail = client.get(f"/api/v1/companies/{company['id']}/").json()
    missing = [item["code"] for item in detail["missing"]]
    assert "decision_maker" not in missing and "bank_account" not in missing
    assert detail["completeness"] > company["completeness"]

    history = client.get(f"/api/v1/companies/{company['id']}/history/").json()
    kinds = {(entry["object_type"], entry["action"]) for entry in history["results"]}
    assert len(kinds) == 3  # the company, the person and the bank account were each created
    assert {entry["user"]["username"] for entry in history["results"]} == {manager.username}
    person = next(e for e in history["results"] if e["object_label"] == "Греф Герман Оскарович")
    company_entry = next(
        e for e in history["results"] if e["object_id"] == company["id"] and e["object_label"] == "Сбербанк"
    )
    assert person["object_type"] != company_entry["object_type"]
    assert "decision_role" in [change["field"] for change in person["changes"]]

    before = snapshot()
    response = client.patch(f"/api/v1/companies/{colleague_company.pk}/", {"city": "Тверь"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before
    response = client.get(f"/api/v1/companies/{colleague_company.pk}/")
    assert response.status_code == 200
    assert response.json()["short_name"] == "Чужой клиент"
