"""The deals and pipelines API (S3, R1, R2): shapes, filters, the 400 ``unmet`` answer, 409, roles."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.sales import services
from kurator.sales.models import Deal, Stage

pytestmark = pytest.mark.django_db


def api(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def make_deal(actor: User, company: Company, **fields: Any) -> Deal:
    return services.deal_create(actor=actor, company=company, **fields)


def test_pipelines_list_their_stages_in_order(manager):
    """S3: the default pipeline's stage codes, in order, with their standards in words (R1)."""
    response = api(manager).get("/api/v1/pipelines/")
    assert response.status_code == 200
    (default,) = [p for p in response.json()["results"] if p["is_default"]]
    assert [s["code"] for s in default["stages"]] == [
        "acquaintance",
        "negotiations",
        "contract",
        "payment",
        "won",
        "lost",
    ]
    assert {"id", "name", "code", "order", "kind", "probability", "max_days", "standard"} <= set(
        default["stages"][0]
    )
    assert default["stages"][1]["standard"]


def test_deal_fields_and_amount_as_decimal_string(manager, company):
    """S3: a deal answers with the contract's fields; amounts are decimal strings."""
    deal = make_deal(manager, company, amount="1234567.89")
    body = api(manager).get(f"/api/v1/deals/{deal.pk}/").json()
    assert {
        "id",
        "company",
        "contacts",
        "owner",
        "co_owner",
        "amount",
        "expected_close",
        "stage",
        "probability",
        "lost_reason",
        "version",
    } <= set(body)
    assert body["amount"] == "1234567.89"
    assert (body["company"], body["owner"], body["stage"], body["version"]) == (
        company.pk,
        manager.pk,
        stage("acquaintance").pk,
        1,
    )


def test_create_and_update_with_version(manager, company):
    """S3: a deal is created by the curator; an edit with a stale version is refused with 409."""
    client = api(manager)
    created = client.post("/api/v1/deals/", {"company": company.pk, "amount": "500.00"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    ok = client.patch(f"/api/v1/deals/{pk}/", {"amount": "700", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(f"/api/v1/deals/{pk}/", {"amount": "900", "version": 1}, format="json")
    assert stale.status_code == 409
    assert Deal.objects.get(pk=pk).amount == 700


def test_move_answers_unmet_standards_with_400(manager, company):
    """R1: a move that misses a standard answers 400 with the list of what is missing; nothing changes."""
    deal = make_deal(manager, company)
    response = api(manager).post(
        f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("contract").pk, "version": 1}, format="json"
    )
    assert response.status_code == 400
    unmet = response.json()["unmet"]
    assert [u["code"] for u in unmet] == ["required_field:amount", "required_activity"]
    assert all(u["message"] for u in unmet)
    assert Deal.objects.get(pk=deal.pk).stage.code == "acquaintance"


def test_move_succeeds_then_a_stale_version_conflicts(manager, head, company):
    """S3: the first move wins; a second one made on the same version gets 409."""
    deal = make_deal(manager, company, amount=1000)
    moved = api(manager).post(
        f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("negotiations").pk, "version": 1}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    assert moved.json()["stage"] == stage("negotiations").pk
    stale = api(head).post(
        f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("acquaintance").pk, "version": 1}, format="json"
    )
    assert stale.status_code == 409


def test_lost_needs_a_reason_in_the_api(manager, company):
    """S3: a lost stage without a reason is a 400 naming ``lost_reason``."""
    deal = make_deal(manager, company)
    response = api(manager).post(f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("lost").pk}, format="json")
    assert response.status_code == 400 and "lost_reason" in response.json()


def test_the_head_overrides_through_the_api(head, manager, company):
    """R1: the head of sales moves past an unmet standard with a reason; a manager's reason is not enough."""
    deal = make_deal(manager, company)
    body = {"stage": stage("negotiations").pk, "override_reason": "Согласовано"}
    assert api(manager).post(f"/api/v1/deals/{deal.pk}/move/", body, format="json").status_code == 400
    assert api(head).post(f"/api/v1/deals/{deal.pk}/move/", body, format="json").status_code == 200


@pytest.mark.parametrize(
    ("who", "read", "move"),
    [
        ("manager", 200, 200),
        ("other_manager", 200, 403),
        ("head", 200, 200),
        ("finance", 200, 403),
        ("anonymous", 401, 401),
    ],
)
def test_deal_access_by_role(request, manager, company, who, read, move):
    """R2, R3: everyone in the department reads deals; only the owner and the head of sales move them."""
    deal = make_deal(manager, company, amount=1000)
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = api(user)
    assert client.get(f"/api/v1/deals/{deal.pk}/").status_code in (read, 403 if read == 401 else read)
    response = client.post(
        f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("negotiations").pk}, format="json"
    )
    assert response.status_code in (move, 403 if move == 401 else move)
    if move != 200:
        assert Deal.objects.get(pk=deal.pk).stage.code == "acquaintance"


def test_colleagues_cannot_create_deals_for_someone_elses_client(other_manager, finance, company):
    """R2: a colleague and finance are refused (403); nothing is created."""
    for user in (other_manager, finance):
        response = api(user).post("/api/v1/deals/", {"company": company.pk}, format="json")
        assert response.status_code == 403
    assert not Deal.objects.exists()


def test_filters(manager, head, company, senior_manager):
    """S3: the list filters by company, stage, owner, pipeline and status."""
    from tests.factories import company_factory

    other = company_factory(actor=senior_manager)
    mine = make_deal(manager, company, amount=1000)
    theirs = make_deal(senior_manager, other)
    services.deal_move(actor=manager, deal=mine, stage=stage("negotiations"))
    client = api(head)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/deals/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"company={company.pk}") == {mine.pk}
    assert ids(f"stage={stage('negotiations').pk}") == {mine.pk}
    assert ids(f"owner={senior_manager.pk}") == {theirs.pk}
    assert ids(f"pipeline={mine.pipeline_id}") == {mine.pk, theirs.pk}
    assert ids("status=open") == {mine.pk, theirs.pk}
    assert ids("status=lost") == set()
    assert client.get("/api/v1/deals/?status=maybe").status_code == 400


def test_a_deal_write_refuses_fields_it_cannot_change_by_name(manager, company) -> None:
    """S3, R1, R2: the stage changes only through move (standards apply) and the owner is the curator; a
    request that tries is told so instead of silently ignored; repeating the current value is fine."""

    api = APIClient()
    api.force_authenticate(manager)
    created = api.post("/api/v1/deals/", {"company": company.pk, "owner": manager.pk + 1000}, format="json")
    assert created.status_code == 400 and "owner" in created.json()
    deal = api.post("/api/v1/deals/", {"company": company.pk}, format="json").json()
    moved = api.patch(f"/api/v1/deals/{deal['id']}/", {"stage": deal["stage"] + 1}, format="json")
    assert moved.status_code == 400 and "stage" in moved.json()
    same = api.patch(
        f"/api/v1/deals/{deal['id']}/", {"stage": deal["stage"], "title": "Новая"}, format="json"
    )
    assert same.status_code == 200 and same.json()["title"] == "Новая"


def test_a_new_deal_cannot_be_expected_to_close_in_the_past(manager, company) -> None:
    """S3: an expected close date is ahead; a closed deal is moved to won or lost instead."""

    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(
        "/api/v1/deals/", {"company": company.pk, "expected_close": "2020-01-01"}, format="json"
    )
    assert response.status_code == 400 and "expected_close" in response.json()
