"""/api/v1/inquiries/ and /api/v1/sources/ (R2, R1, S2): the contract, validation, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.accounts.tests.factories import api_token_key
from kurator.companies.models import ContactSource
from kurator.inquiries import services
from kurator.inquiries.models import Inquiry
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db

INQUIRY_FIELDS = {
    "id",
    "channel",
    "source",
    "referred_by",
    "company_name",
    "inn",
    "contact_name",
    "phone",
    "email",
    "text",
    "status",
    "company",
    "curator",
    "match",
    # Beyond the contract: read-only details of matching, routing and the response standard.
    "kpp",
    "city",
    "received_at",
    "respond_by",
    "taken_at",
    "taken_by",
    "is_late",
    "needs_review",
    "routing_explanation",
    "reject_reason",
}
ROLES = ["curator", "other_manager", "senior_manager", "head", "finance", "admin", "anonymous"]


def api(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


@pytest.fixture
def world(manager, other_manager, senior_manager, head, finance, admin_user) -> dict[str, Any]:
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    contact_factory(actor=manager, company=company, full_name="Сидоров Пётр", phones=["+7 916 555-44-33"])
    users = {
        "curator": manager,
        "other_manager": other_manager,
        "senior_manager": senior_manager,
        "head": head,
        "finance": finance,
        "admin": admin_user,
        "anonymous": None,
    }
    return {"users": users, "company": company}


def _inquiry(**fields: Any) -> Inquiry:
    fields.setdefault("channel", "web_form")
    fields.setdefault("phone", "+79165554433")
    return services.inquiry_create(actor=None, **fields)


def test_create_answers_the_contract_with_the_match(world):
    """R2: POST registers through matching and routing; the answer carries match {confidence, reasons}."""
    response = api(world["users"]["other_manager"]).post(
        "/api/v1/inquiries/",
        {"channel": "web_form", "company_name": 'ООО "Ромашка"', "phone": "8 916 555 44 33", "text": "Счёт"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == INQUIRY_FIELDS
    assert (body["company"], body["curator"]) == (world["company"].pk, world["users"]["curator"].pk)
    assert body["status"] == "new"
    assert body["phone"] == "+79165554433"
    assert body["match"]["confidence"] == "strong"
    reason = body["match"]["reasons"][0]
    assert set(reason) == {"code", "text", "company", "score"}
    assert (reason["code"], reason["company"]) == ("phone", world["company"].pk)
    assert "Сидоров Пётр" in reason["text"]
    assert body["respond_by"] and body["is_late"] is False


def test_create_refuses_bad_requisites_field_by_field(world):
    """R2: invalid INN and e-mail are 400 naming the fields; nothing is stored."""
    response = api(world["users"]["curator"]).post(
        "/api/v1/inquiries/",
        {"channel": "phone", "company_name": "Ромашка", "inn": "1234567890", "email": "nope"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"inn", "email"}
    empty = api(world["users"]["curator"]).post("/api/v1/inquiries/", {"channel": "phone"}, format="json")
    assert empty.status_code == 400 and "non_field_errors" in empty.json()
    assert Inquiry.objects.count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_who_may_list_read_and_create(world, role):
    """R3, R4: every member reads inquiries; sellers and the head create; finance reads; anonymous: 401."""
    inquiry = _inquiry()
    client = api(world["users"][role])
    listed = client.get("/api/v1/inquiries/")
    read = client.get(f"/api/v1/inquiries/{inquiry.pk}/")
    created = client.post("/api/v1/inquiries/", {"channel": "phone", "company_name": "Фирма"}, format="json")
    if role == "anonymous":
        assert (listed.status_code, read.status_code, created.status_code) == (401, 401, 401)
        return
    assert listed.status_code == read.status_code == 200
    assert listed.json()["count"] == 1
    assert created.status_code == (403 if role == "finance" else 201)
    assert Inquiry.objects.count() == (1 if role == "finance" else 2)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_take_a_curated_clients_inquiry(world, role):
    """R2: only the curator, the head of sales and the administrator take it; a colleague gets 403 with the
    curator's name; nothing changes for a refused one."""
    inquiry = _inquiry()
    response = api(world["users"][role]).post(f"/api/v1/inquiries/{inquiry.pk}/take/")
    inquiry.refresh_from_db()
    if role in {"curator", "head", "admin"}:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "taken"
        assert response.json()["taken_by"] == world["users"][role].pk
        return
    assert response.status_code == (401 if role == "anonymous" else 403)
    assert (inquiry.status, inquiry.taken_by) == ("new", None)
    if role in {"other_manager", "senior_manager"}:
        assert world["users"]["curator"].full_name in response.json()["detail"]


def test_qualify_and_reject(world):
    """R2: the curator qualifies a taken inquiry; rejecting needs a reason (400 naming it)."""
    client = api(world["users"]["curator"])
    inquiry = _inquiry()
    assert client.post(f"/api/v1/inquiries/{inquiry.pk}/qualify/").status_code == 400
    client.post(f"/api/v1/inquiries/{inquiry.pk}/take/")
    qualified = client.post(f"/api/v1/inquiries/{inquiry.pk}/qualify/")
    assert qualified.status_code == 200 and qualified.json()["status"] == "qualified"
    no_reason = client.post(f"/api/v1/inquiries/{inquiry.pk}/reject/", {"reason": ""}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    rejected = client.post(f"/api/v1/inquiries/{inquiry.pk}/reject/", {"reason": "Дорого"}, format="json")
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reject_reason"]) == ("rejected", "Дорого")
    assert api(world["users"]["other_manager"]).post(
        f"/api/v1/inquiries/{inquiry.pk}/reject/", {"reason": "x"}, format="json"
    ).status_code in (400, 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_head_confirms_matches(world, role):
    """R2, R4: confirm-match is the head of sales' (and the administrator's); others 403, nothing changes."""
    inquiry = _inquiry(phone="", company_name="Ромашка")
    assert inquiry.needs_review
    response = api(world["users"][role]).post(
        f"/api/v1/inquiries/{inquiry.pk}/confirm-match/", {"company": world["company"].pk}, format="json"
    )
    inquiry.refresh_from_db()
    if role in {"head", "admin"}:
        assert response.status_code == 200, response.content
        assert (response.json()["company"], response.json()["needs_review"]) == (world["company"].pk, False)
        assert response.json()["curator"] == world["users"]["curator"].pk
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert inquiry.needs_review and inquiry.company_id is None


def test_confirm_match_null_declares_a_new_client(world):
    """R2: ``{"company": null}`` opens a prospect when the inquiry identifies one."""
    inquiry = _inquiry(phone="+7 999 000-11-22", company_name="Ромашка")
    response = api(world["users"]["head"]).post(
        f"/api/v1/inquiries/{inquiry.pk}/confirm-match/", {"company": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["company"] not in (None, world["company"].pk)
    unknown = _inquiry(phone="+7 999 000-11-23", company_name="Ромашка")
    wrong = api(world["users"]["head"]).post(
        f"/api/v1/inquiries/{unknown.pk}/confirm-match/", {"company": 10**12}, format="json"
    )
    assert wrong.status_code == 400 and "company" in wrong.json()


def test_list_filters(world):
    """R1, R2: status (all by default; `open`), late, needs_review, channel, curator, search."""
    client = api(world["users"]["head"])
    web = _inquiry()
    review = _inquiry(phone="", company_name="Ромашка")
    rejected = _inquiry(channel="email")
    services.inquiry_reject(actor=world["users"]["curator"], inquiry=rejected, reason="Спам")

    def ids(query: str = "") -> set[int]:
        response = client.get(f"/api/v1/inquiries/{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {web.pk, review.pk, rejected.pk}
    assert ids("?status=open") == {web.pk, review.pk}
    assert ids("?status=rejected") == {rejected.pk}
    assert ids("?needs_review=true") == {review.pk}
    assert ids("?channel=email") == {rejected.pk}
    assert ids(f"?curator={world['users']['curator'].pk}") == {web.pk, rejected.pk}
    assert ids("?late=true") == set()
    assert ids("?search=ромашка") == {web.pk, review.pk, rejected.pk}
    assert client.get("/api/v1/inquiries/?status=bogus").status_code == 400
    assert client.get("/api/v1/inquiries/?curator=abc").status_code == 400


def test_unknown_or_absurd_ids_are_404(world):
    """API: a missing inquiry is 404 for reads and actions alike."""
    client = api(world["users"]["head"])
    assert client.get("/api/v1/inquiries/999999/").status_code == 404
    assert client.post("/api/v1/inquiries/999999/take/").status_code == 404
    assert client.get(f"/api/v1/inquiries/{2**70}/").status_code == 404


# Sources (S2) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_sources_are_read_by_everyone_and_written_by_the_head(world, role):
    """S2, R4: every member lists sources; only the head of sales and the administrator add or edit them."""
    client = api(world["users"][role])
    listed = client.get("/api/v1/sources/")
    before = ContactSource.objects.count()
    created = client.post("/api/v1/sources/", {"name": "Журнал «Склад и техника»"}, format="json")
    if role == "anonymous":
        assert (listed.status_code, created.status_code) == (401, 401)
        return
    assert listed.status_code == 200
    assert set(listed.json()["results"][0]) == {
        "id",
        "name",
        "parent",
        "is_recommendation",
        "is_active",
        "position",
    }
    if role in {"head", "admin"}:
        assert created.status_code == 201
        assert ContactSource.objects.count() == before + 1
    else:
        assert created.status_code == 403
        assert ContactSource.objects.count() == before


def test_sub_sources_and_their_rules(world):
    """S2: a sub-source hangs under a top-level source; deeper nesting, self-parenting, duplicates refused."""
    client = api(world["users"]["head"])
    press = ContactSource.objects.get(name="Периодические издания")
    magazine = client.post(
        "/api/v1/sources/", {"name": "Журнал «Склад»", "parent": press.pk, "position": 2}, format="json"
    )
    assert magazine.status_code == 201
    assert magazine.json()["parent"] == press.pk
    deeper = client.post(
        "/api/v1/sources/", {"name": "Рубрика", "parent": magazine.json()["id"]}, format="json"
    )
    assert deeper.status_code == 400 and "parent" in deeper.json()
    itself = client.patch(f"/api/v1/sources/{press.pk}/", {"parent": press.pk}, format="json")
    assert itself.status_code == 400
    moved_up = client.patch(
        f"/api/v1/sources/{press.pk}/",
        {"parent": ContactSource.objects.get(name="Интернет").pk},
        format="json",
    )
    assert moved_up.status_code == 400  # it has sub-sources
    twin = client.post("/api/v1/sources/", {"name": "журнал «склад»", "parent": press.pk}, format="json")
    assert twin.status_code == 400 and "name" in twin.json()
    renamed = client.patch(
        f"/api/v1/sources/{magazine.json()['id']}/",
        {"is_active": False, "name": "Журнал «Склад-2»"},
        format="json",
    )
    assert renamed.status_code == 200
    assert (renamed.json()["is_active"], renamed.json()["parent"]) == (False, press.pk)
    assert client.delete(f"/api/v1/sources/{press.pk}/").status_code == 405
