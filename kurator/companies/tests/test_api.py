"""The dossier's public API (/api/v1/): the contract of issue 2 and ARCHITECTURE.md's API rules.

Authorization across roles is in kurator/access/tests/test_api_authz.py; this file checks shapes, filters,
validation, conflicts, history and the cost of the list endpoints.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kurator.accounts.models import ApiToken, User
from kurator.accounts.tests.factories import api_token_key
from kurator.companies import services
from kurator.companies.models import BankAccount, Company, Contact, ContactSource, ProductCategory
from kurator.core.requisites import generate_settlement_account
from tests.factories import (
    SBERBANK_BIK,
    SBERBANK_CORR,
    bank_account_factory,
    company_factory,
    contact_factory,
)

COMPANY_FIELDS = {
    "id", "full_name", "short_name", "legal_form", "inn", "kpp", "ogrn", "legal_address", "actual_address",
    "phones", "emails", "website", "founded_on", "status", "curator", "source", "referred_by",
    "application_sphere", "delivery_method", "sales_technology", "product_categories", "completeness",
}  # fmt: skip
COMPANY_EXTRAS = {"city", "version", "created_at", "updated_at"}


def api_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


@pytest.fixture
def categories(db) -> list[ProductCategory]:
    return [ProductCategory.objects.create(name=name) for name in ("Трубы", "Кабель", "Арматура")]


# Tokens -----------------------------------------------------------------------------------------------


def test_token_with_wrong_password_is_400_naming_the_reason(manager):
    """R4: a wrong password gets no token; the answer says why and no token is created."""
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": manager.username, "password": "wrong"}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert "credentials" in response.json()["non_field_errors"][0]
    assert not ApiToken.objects.exists()

    response = APIClient().post("/api/v1/auth/token/", {"username": manager.username}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]


def test_token_of_an_inactive_user_is_refused(manager):
    """R4: a deactivated employee can no longer get a token."""
    manager.is_active = False
    manager.save()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": manager.username, "password": "kurator-test-pass"}, format="json"
    )
    assert response.status_code == 400


def test_a_session_works_as_well_as_a_token(manager, company):
    """ARCHITECTURE.md API: token and session authentication."""
    client = APIClient()
    client.force_login(manager)
    assert client.get(f"/api/v1/companies/{company.pk}/").status_code == 200


# Companies: shape, filters, sorting, cost --------------------------------------------------------------


def test_company_list_has_the_contract_fields_and_pagination(manager, company):
    """D1, D9, D10: the fields named in issue 2, relations as primary keys, a paginated list."""
    body = api_client(manager).get("/api/v1/companies/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    row = body["results"][0]
    assert COMPANY_FIELDS <= set(row) <= COMPANY_FIELDS | COMPANY_EXTRAS
    assert row["curator"] == manager.pk
    assert row["inn"] == company.inn
    assert isinstance(row["phones"], list) and isinstance(row["product_categories"], list)


def test_company_detail_shows_missing_checklist_items(manager, company):
    """D1 completeness: the dossier says what is missing from the book's checklist."""
    detail = api_client(manager).get(f"/api/v1/companies/{company.pk}/").json()
    codes = [item["code"] for item in detail["missing"]]
    assert "bank_account" in codes and "decision_maker" in codes
    assert "inn" not in codes
    assert detail["completeness"] == company.completeness


def test_company_list_search_is_case_insensitive_for_cyrillic(manager):
    """D1 (issue 2 pages): `газ` finds «Газпром», `ромашка` finds ООО «РОМАШКА», an INN finds its company."""
    gazprom = company_factory(actor=manager, full_name="ПАО «Газпром»", short_name="Газпром")
    romashka = company_factory(actor=manager, full_name="ООО «РОМАШКА»", short_name="РОМАШКА")
    client = api_client(manager)

    def found(query: str) -> list[int]:
        return [row["id"] for row in client.get("/api/v1/companies/", {"search": query}).json()["results"]]

    assert found("газ") == [gazprom.pk]
    assert found("ромашка") == [romashka.pk]
    assert found(romashka.inn) == [romashka.pk]
    assert found("нет такой") == []


def test_company_list_filters_by_curator_status_source_and_city(manager, other_manager, head):
    """R2, D1: filters by curator, status, contact source and city."""
    source = ContactSource.objects.create(name="Выставка")
    mine = company_factory(actor=manager, short_name="А-Мой", status="client", city="Тула", source=source)
    theirs = company_factory(actor=other_manager, short_name="Б-Чужой", status="prospect", city="Тверь")
    client = api_client(head)

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/companies/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(curator=manager.pk) == [mine.pk]
    assert ids(curator=other_manager.pk) == [theirs.pk]
    assert ids(status="client") == [mine.pk]
    assert ids(source=source.pk) == [mine.pk]
    assert ids(city="Тверь") == [theirs.pk]
    assert ids(ordering="name") == [mine.pk, theirs.pk]
    assert ids(ordering="-name") == [theirs.pk, mine.pk]


def test_company_list_rejects_bad_filter_values_naming_the_parameter(manager):
    """ARCHITECTURE.md API: bad input is a 400 naming what is wrong, never a server error."""
    client = api_client(manager)
    for params, field in (
        ({"status": "bogus"}, "status"),
        ({"curator": "abc"}, "curator"),
        ({"ordering": "inn"}, "ordering"),
        ({"curator": str(2**70)}, "curator"),
    ):
        response = client.get("/api/v1/companies/", params)
        assert response.status_code == 400, params
        assert field in response.json(), response.json()


def test_company_list_costs_the_same_queries_for_10_and_50_rows(manager, categories):
    """ARCHITECTURE.md convention 2: the API list runs a constant number of queries."""
    client = api_client(manager)

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/companies/", {"page_size": 50})
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    for n in range(50):
        company_factory(
            actor=manager, short_name=f"Компания {n:02}", product_categories=categories[: n % 3 + 1]
        )
        if n == 9:
            small, rows = count_queries()
            assert rows == 10
    large, rows = count_queries()
    assert rows == 50
    assert large == small


def test_contact_and_bank_account_lists_cost_the_same_queries_for_10_and_50_rows(manager, company):
    """ARCHITECTURE.md convention 2: the record lists run a constant number of queries."""
    client = api_client(manager)
    rng = random.Random(11)

    def count_queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page_size": 50}).status_code == 200
        return len(ctx.captured_queries)

    for n in range(10):
        contact_factory(actor=manager, company=company, full_name=f"Человек {n}")
        bank_account_factory(
            actor=manager, company=company, settlement_account=generate_settlement_account(rng, SBERBANK_BIK)
        )
    small = count_queries("/api/v1/contacts/"), count_queries("/api/v1/bank-accounts/")
    boss = Contact.objects.first()
    for n in range(40):
        contact_factory(actor=manager, company=company, full_name=f"Сотрудник {n}", reports_to=boss)
        bank_account_factory(
            actor=manager, company=company, settlement_account=generate_settlement_account(rng, SBERBANK_BIK)
        )
    assert (count_queries("/api/v1/contacts/"), count_queries("/api/v1/bank-accounts/")) == small


def test_absurd_ids_are_404_or_400_never_a_server_error(manager, company):
    """ARCHITECTURE.md API: ids beyond 64 bits or not numbers are simply not found (both engines)."""
    client = api_client(manager)
    huge = str(2**70)
    for url in (
        f"/api/v1/companies/{huge}/",
        f"/api/v1/companies/{huge}/history/",
        "/api/v1/contacts/abc/",
        f"/api/v1/bank-accounts/{huge}/",
        f"/api/v1/users/{huge}/",
        "/api/v1/companies/-1/",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post("/api/v1/contacts/", {"company": huge, "full_name": "X"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["company"]
    response = client.patch(f"/api/v1/companies/{company.pk}/", {"source": huge}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["source"]


# Companies: writes ------------------------------------------------------------------------------------


def test_create_company_with_profile_and_relations(manager, categories):
    """D1, D9, D10: a company is created with requisites, contacts, purchase profile and categories."""
    source = ContactSource.objects.create(name="Интернет")
    response = api_client(manager).post(
        "/api/v1/companies/",
        {
            "full_name": "Публичное акционерное общество «Сбербанк России»",
            "short_name": "Сбербанк",
            "inn": "7707083893",
            "kpp": "773601001",
            "ogrn": "1027700132195",
            "phones": ["8 (495) 500-55-50", "+7 495 500 55 50"],
            "emails": ["Sberbank@Sberbank.ru"],
            "website": "sberbank.ru",
            "founded_on": "1991-06-20",
            "source": source.pk,
            "product_categories": [categories[0].pk, categories[2].pk],
            "city": "Москва",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phones"] == ["+74955005550"]  # one number in two spellings
    assert body["emails"] == ["sberbank@sberbank.ru"]
    assert body["website"] == "https://sberbank.ru"
    assert body["legal_form"] == "ПАО"
    assert body["founded_on"] == "1991-06-20"
    assert sorted(body["product_categories"]) == sorted([categories[0].pk, categories[2].pk])
    assert body["source"] == source.pk and body["curator"] == manager.pk and body["version"] == 1
    assert Company.objects.get(pk=body["id"]).city == "Москва"


def test_create_company_names_every_bad_field_and_writes_nothing(manager):
    """D1 validation: one answer names every bad field; nothing is half-written."""
    response = api_client(manager).post(
        "/api/v1/companies/",
        {
            "full_name": "ООО «Ромашка»",
            "inn": "7707083894",
            "kpp": "77360100",
            "ogrn": "1027700132196",
            "emails": ["not-an-email"],
            "phones": ["12"],
            "status": "bogus",
        },
        format="json",
    )
    assert response.status_code == 400
    # The serializer refuses the status choice first; once types are right the service names the rest.
    assert set(response.json()) == {"status"}
    response = api_client(manager).post(
        "/api/v1/companies/",
        {"full_name": "ООО «Ромашка»", "inn": "7707083894", "kpp": "77360100", "ogrn": "1027700132196",
         "emails": ["not-an-email"], "phones": ["12"]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert {"inn", "kpp", "ogrn", "emails", "phones"} <= set(response.json())
    assert all(isinstance(m, str) for messages in response.json().values() for m in messages)
    assert not Company.objects.exists()


def test_duplicate_inn_and_kpp_is_refused_naming_inn(manager):
    """D1: INN + KPP is unique among companies; a branch with another KPP is allowed."""
    client = api_client(manager)
    payload = {"full_name": "ПАО Сбербанк", "inn": "7707083893", "kpp": "773601001"}
    assert client.post("/api/v1/companies/", payload, format="json").status_code == 201
    response = client.post("/api/v1/companies/", payload, format="json")
    assert response.status_code == 400
    assert "inn" in response.json()
    branch = client.post("/api/v1/companies/", {**payload, "kpp": "773602001"}, format="json")
    assert branch.status_code == 201, branch.json()


def test_stale_version_is_a_409_and_changes_nothing(manager, company):
    """D11: an edit based on an old version does not overwrite a colleague's change."""
    client = api_client(manager)
    first = client.patch(f"/api/v1/companies/{company.pk}/", {"city": "Тула", "version": 1}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    history = Company.history.count()
    stale = client.patch(f"/api/v1/companies/{company.pk}/", {"city": "Тверь", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "detail" in stale.json()
    company.refresh_from_db()
    assert company.city == "Тула" and company.version == 2
    assert Company.history.count() == history
    fresh = client.patch(f"/api/v1/companies/{company.pk}/", {"city": "Тверь", "version": 2}, format="json")
    assert fresh.status_code == 200 and fresh.json()["city"] == "Тверь"


def test_put_replaces_and_patch_keeps_other_fields(manager, company):
    """D1: PUT needs the required fields; PATCH changes only what it names."""
    client = api_client(manager)
    assert client.put(f"/api/v1/companies/{company.pk}/", {"city": "Тула"}, format="json").status_code == 400
    response = client.put(
        f"/api/v1/companies/{company.pk}/",
        {"full_name": "ООО «Новое имя»", "status": "client"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["short_name"] == company.short_name  # not named, so kept
    response = client.patch(f"/api/v1/companies/{company.pk}/", {"status": "former"}, format="json")
    assert response.json()["full_name"] == "ООО «Новое имя»" and response.json()["status"] == "former"


def test_head_of_sales_creates_a_company_for_another_curator(head, manager):
    """R2: the head of sales may pick the curator of a new company; a manager may not."""
    response = api_client(head).post(
        "/api/v1/companies/", {"full_name": "ООО «Для Ивана»", "curator": manager.pk}, format="json"
    )
    assert response.status_code == 201 and response.json()["curator"] == manager.pk
    response = api_client(manager).post(
        "/api/v1/companies/", {"full_name": "ООО «Для главы»", "curator": head.pk}, format="json"
    )
    assert response.status_code == 400 and "curator" in response.json()
    assert not Company.objects.filter(full_name="ООО «Для главы»").exists()


# History ----------------------------------------------------------------------------------------------


def test_history_lists_who_changed_what_newest_first(manager, company):
    """D11: company, bank account and person changes with who, when, old → new; paginated."""
    client = api_client(manager)
    client.patch(f"/api/v1/companies/{company.pk}/", {"city": "Тула"}, format="json")
    contact = contact_factory(actor=manager, company=company, full_name="Иванов Иван")
    services.contact_update(actor=manager, contact=contact, position="Директор по закупкам")

    response = client.get(f"/api/v1/companies/{company.pk}/history/", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and body["next"] and len(body["results"]) == 2
    latest = body["results"][0]
    assert set(latest) == {
        "when", "user", "object_type", "object_type_label", "object_label", "object_id", "action",
        "action_label", "reason", "changes"
    }  # fmt: skip
    assert (latest["object_type"], latest["action"]) == ("contact", "changed")
    assert latest["object_id"] == contact.pk and latest["object_label"] == "Иванов Иван"
    assert latest["user"] == {"id": manager.pk, "username": manager.username, "full_name": manager.full_name}
    assert latest["changes"] == [
        {"field": "position", "label": latest["changes"][0]["label"], "old": "Директор",
         "new": "Директор по закупкам"}
    ]  # fmt: skip
    second_page = client.get(body["next"]).json()["results"]
    city_change = second_page[0]
    assert city_change["object_id"] == company.pk
    assert [(c["field"], c["old"], c["new"]) for c in city_change["changes"]] == [("city", "Москва", "Тула")]


@pytest.mark.parametrize(
    ("language", "person", "changed"), [("ru", "Контактное лицо", "изменение"), ("en", "Person", "changed")]
)
def test_history_codes_do_not_change_with_the_language(manager, company, language, person, changed):
    """D11: ``object_type``, ``action`` and each change's ``field`` are codes an integration can rely on in
    any language; the ``*_label`` fields carry the words in the language asked for."""
    contact = contact_factory(actor=manager, company=company, full_name="Иванов Иван")
    services.contact_update(actor=manager, contact=contact, phones=["8 (916) 000-11-22"])
    services.contact_delete(actor=manager, contact=contact)
    client = api_client(manager)

    body = client.get(f"/api/v1/companies/{company.pk}/history/", HTTP_ACCEPT_LANGUAGE=language).json()

    entries = body["results"]
    assert [(e["object_type"], e["action"]) for e in entries] == [
        ("contact", "deleted"),
        ("contact", "changed"),
        ("contact", "created"),
        ("company", "created"),
    ]
    assert entries[1]["object_type_label"] == person
    assert entries[1]["action_label"] == changed
    # Phones are display text, formatted as on the History tab; the deleted record's last values are old.
    assert [(c["field"], c["old"], c["new"]) for c in entries[1]["changes"]] == [
        ("phones", "", "+7 916 000-11-22")
    ]
    last_values = {c["field"]: (c["old"], c["new"]) for c in entries[0]["changes"]}
    assert last_values["full_name"] == ("Иванов Иван", "")


# Bank accounts and people -----------------------------------------------------------------------------


def _account_payload(company: Company, seed: int, **extra: Any) -> dict[str, Any]:
    return {
        "company": company.pk,
        "bik": SBERBANK_BIK,
        "settlement_account": generate_settlement_account(random.Random(seed), SBERBANK_BIK),
        "correspondent_account": SBERBANK_CORR,
        "bank_name": "ПАО Сбербанк",
        **extra,
    }


def test_bank_accounts_keep_one_primary_and_filter_by_company(manager, company, other_manager):
    """D1: several accounts per company, one primary; a new primary demotes the old one."""
    client = api_client(manager)
    other_company = company_factory(actor=other_manager)
    bank_account_factory(actor=other_manager, company=other_company)
    first = client.post("/api/v1/bank-accounts/", _account_payload(company, 1), format="json").json()
    second = client.post("/api/v1/bank-accounts/", _account_payload(company, 2), format="json").json()
    assert first["is_primary"] is True and second["is_primary"] is False
    assert set(first) == {
        "id", "company", "bik", "settlement_account", "correspondent_account", "bank_name", "is_primary"
    }  # fmt: skip

    response = client.patch(f"/api/v1/bank-accounts/{second['id']}/", {"is_primary": True}, format="json")
    assert response.status_code == 200
    assert BankAccount.objects.get(pk=first["id"]).is_primary is False

    listed = client.get("/api/v1/bank-accounts/", {"company": company.pk}).json()
    assert [row["id"] for row in listed["results"]] == [second["id"], first["id"]]

    assert client.delete(f"/api/v1/bank-accounts/{second['id']}/").status_code == 204
    assert BankAccount.objects.get(pk=first["id"]).is_primary is True  # the remaining one takes over


def test_bank_account_with_a_wrong_key_is_refused_naming_the_field(manager, company):
    """D1: the settlement account's control key is checked with the BIK; nothing is written."""
    payload = _account_payload(company, 3)
    digits = payload["settlement_account"]
    payload["settlement_account"] = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    response = api_client(manager).post("/api/v1/bank-accounts/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["settlement_account"]
    assert not BankAccount.objects.exists()


def test_records_name_an_existing_company_and_never_move(manager, company, other_manager):
    """D1, D2: a record's company must exist; a record cannot be moved to another company."""
    client = api_client(manager)
    response = client.post("/api/v1/contacts/", {"company": 987654, "full_name": "Никто"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["company"]
    contact = contact_factory(actor=manager, company=company)
    elsewhere = company_factory(actor=manager)
    response = client.patch(f"/api/v1/contacts/{contact.pk}/", {"company": elsewhere.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["company"]
    contact.refresh_from_db()
    assert contact.company == company


def test_people_form_an_org_tree_within_one_company(manager, company):
    """D2: a person reports to someone of the same company; cycles and other companies are refused."""
    client = api_client(manager)
    boss = client.post(
        "/api/v1/contacts/",
        {"company": company.pk, "full_name": "Директор Д. Д.", "decision_role": "decision_maker",
         "is_leader": True, "birthday": "1970-05-01", "emails": ["Boss@Example.ru"]},
        format="json",
    ).json()  # fmt: skip
    assert boss["emails"] == ["boss@example.ru"] and boss["is_active"] is True
    worker = client.post(
        "/api/v1/contacts/", {"company": company.pk, "full_name": "Инженер И. И.", "reports_to": boss["id"]},
        format="json",
    ).json()  # fmt: skip
    assert worker["reports_to"] == boss["id"]
    assert set(worker) == {
        "id", "company", "full_name", "position", "department", "reports_to", "decision_role", "phones",
        "emails", "birthday", "is_leader", "is_active",
    }  # fmt: skip

    cycle = client.patch(f"/api/v1/contacts/{boss['id']}/", {"reports_to": worker["id"]}, format="json")
    assert cycle.status_code == 400 and list(cycle.json()) == ["reports_to"]

    outsider = contact_factory(actor=manager, company=company_factory(actor=manager), full_name="Чужой")
    response = client.patch(f"/api/v1/contacts/{worker['id']}/", {"reports_to": outsider.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["reports_to"]

    listed = client.get(
        "/api/v1/contacts/", {"company": company.pk, "decision_role": "decision_maker"}
    ).json()
    assert [row["id"] for row in listed["results"]] == [boss["id"]]

    assert client.delete(f"/api/v1/contacts/{boss['id']}/").status_code == 204
    assert Contact.objects.get(pk=worker["id"]).reports_to is None


# Users ------------------------------------------------------------------------------------------------


def test_users_list_and_me(manager, head, finance):
    """R4: the team with roles in API names; /users/me/ is the caller."""
    client = api_client(finance)
    me = client.get("/api/v1/users/me/").json()
    assert me == {"id": finance.pk, "username": "finance", "full_name": finance.full_name, "role": "finance"}
    body = client.get("/api/v1/users/").json()
    assert {row["username"] for row in body["results"]} == {"manager", "head", "finance"}
    assert client.get("/api/v1/users/", {"role": "head_of_sales"}).json()["results"] == [
        {"id": head.pk, "username": "head", "full_name": head.full_name, "role": "head_of_sales"}
    ]


def test_former_employees_leave_the_list_but_stay_readable(manager, head):
    """D11: history points at former employees, so /users/{id}/ still answers for them."""
    manager.is_active = False
    manager.save()
    client = api_client(head)
    assert [row["username"] for row in client.get("/api/v1/users/").json()["results"]] == ["head"]
    assert client.get(f"/api/v1/users/{manager.pk}/").json()["username"] == "manager"


# Schema and docs --------------------------------------------------------------------------------------


def test_openapi_schema_generates_without_warnings(tmp_path):
    """ARCHITECTURE.md API: an OpenAPI 3 schema that validates, with no generator warnings."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/auth/token/", "/api/v1/companies/{id}/history/", "/api/v1/users/me/"):
        assert f"{path}:" in text


def test_docs_load_swagger_ui_without_the_network(manager):
    """Issue 2: no assets from the network; the docs page uses the bundled Swagger UI."""
    client = APIClient()
    client.force_login(manager)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn." not in html and "unpkg" not in html
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Kurator API"


def test_docs_send_a_browser_that_is_not_signed_in_to_the_login_page(manager):
    """R4: /api/docs/ is a page for people: a browser not signed in goes to the login page and comes back
    after it; an API client still gets 401, and nothing is shown to either."""
    anonymous = APIClient()
    page = anonymous.get(
        "/api/docs/", HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    )
    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/api/docs/"
    assert anonymous.get("/api/docs/", HTTP_ACCEPT="*/*").status_code == 401
    assert anonymous.get("/api/schema/", HTTP_ACCEPT="*/*").status_code == 401  # the schema is for machines

    browser = Client()
    browser.force_login(manager)
    assert browser.get("/api/docs/", HTTP_ACCEPT="text/html").status_code == 200
