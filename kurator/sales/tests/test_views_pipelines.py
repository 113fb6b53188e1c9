"""Pipeline settings (S3, R1): the head of sales defines pipelines, their stages in order, each stage's
standard and checklist; nobody else may; the services' refusals are shown next to the fields."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kurator.accounts.models import User
from kurator.sales.models import ChecklistItem, Pipeline, Stage


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return unescape(response.content.decode())


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


@pytest.mark.parametrize("role", ["manager", "senior_manager", "finance"])
def test_only_the_head_of_sales_reaches_the_settings(role, request) -> None:
    """R1: the standards are set by the head of sales."""
    user = request.getfixturevalue(role)
    pipeline = default_pipeline()
    stage = pipeline.stages.get(code="negotiations")
    client = login(user)
    for url in (
        reverse("sales:pipelines"),
        reverse("sales:pipeline_create"),
        reverse("sales:pipeline_edit", args=[pipeline.pk]),
        reverse("sales:stage_edit", args=[pipeline.pk, stage.pk]),
    ):
        assert client.get(url).status_code == 403
    response = client.post(reverse("sales:stage_edit", args=[pipeline.pk, stage.pk]), {"name": "Взлом"})
    assert response.status_code == 403
    stage.refresh_from_db()
    assert stage.name != "Взлом"


def test_the_settings_page_lists_each_stage_with_its_standard(head) -> None:
    """R1: the shipped standards read in words."""
    html = text_of(login(head).get(reverse("sales:pipelines")))
    assert "Основная воронка" in html
    assert "Required field: Amount." in html
    assert "decision maker" in html
    assert "A signed contract." in html  # before payment: enforced now that contracts are kept (D5)
    assert "not enforced yet" not in html
    assert reverse("companies:dictionary", args=["lost_reasons"]) in html


def test_head_creates_a_pipeline_and_a_stage_with_a_standard(head) -> None:
    """S3, R1: a new pipeline starts with Won and Lost; an open stage goes before them, with its standard."""
    client = login(head)
    response = client.post(
        reverse("sales:pipeline_create"), {"name": "Тендеры", "is_active": "on", "position": "3"}
    )
    pipeline = Pipeline.objects.get(name="Тендеры")
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:pipeline_edit", args=[pipeline.pk]
    )
    response = client.post(
        reverse("sales:stage_create", args=[pipeline.pk]),
        {
            "name": "Заявка на тендер",
            "code": "bid",
            "kind": "open",
            "probability": "20",
            "max_days": "14",
            "required_fields": ["amount", "expected_close"],
            "required_activity_kinds": ["meeting", "negotiation"],
            "activity_with_decision_maker": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    stage = Stage.objects.get(pipeline=pipeline, code="bid")
    assert stage.required_fields == ["amount", "expected_close"]
    assert stage.required_activity_kinds == ["meeting", "negotiation"]
    assert stage.activity_with_decision_maker and stage.max_days == 14 and stage.probability == 20
    codes = list(pipeline.stages.order_by("order").values_list("code", flat=True))
    assert codes == ["bid", "won", "lost"]
    html = text_of(client.get(reverse("sales:pipeline_edit", args=[pipeline.pk])))
    assert 'data-testid="stage-row-bid"' in html and "Required fields: Amount, Expected close date." in html


def test_a_refused_stage_shows_the_message_next_to_the_field(head) -> None:
    """R1: a duplicate code is refused by the service and shown under the code field; nothing is written."""
    pipeline = default_pipeline()
    before = pipeline.stages.count()
    response = login(head).post(
        reverse("sales:stage_create", args=[pipeline.pk]),
        {
            "name": "Ещё переговоры",
            "code": "negotiations",
            "kind": "open",
            "probability": "10",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    html = text_of(response)
    assert 'id="id_code_errors"' in html and "Another stage of this pipeline has this code." in html
    assert pipeline.stages.count() == before


def test_a_form_error_is_shown_next_to_its_field(head) -> None:
    pipeline = default_pipeline()
    stage = pipeline.stages.get(code="contract")
    response = login(head).post(
        reverse("sales:stage_edit", args=[pipeline.pk, stage.pk]),
        {"name": "", "code": "contract", "kind": "open", "probability": "150"},
    )
    html = text_of(response)
    assert 'id="id_name_errors"' in html and 'id="id_probability_errors"' in html
    stage.refresh_from_db()
    assert stage.name == "Договор"


def test_the_default_pipeline_cannot_lose_its_mark_from_the_form(head) -> None:
    pipeline = default_pipeline()
    response = login(head).post(
        reverse("sales:pipeline_edit", args=[pipeline.pk]), {"name": pipeline.name, "is_active": "on"}
    )
    assert response.status_code == 200
    assert 'id="id_is_default_errors"' in text_of(response)
    assert Pipeline.objects.get(pk=pipeline.pk).is_default


def test_stages_move_up_and_down(head) -> None:
    pipeline = default_pipeline()
    client = login(head)
    contract = pipeline.stages.get(code="contract")
    client.post(reverse("sales:stage_order", args=[contract.pk]), {"direction": "up"})
    codes = list(pipeline.stages.order_by("order").values_list("code", flat=True))
    assert codes[:3] == ["acquaintance", "contract", "negotiations"]
    client.post(reverse("sales:stage_order", args=[contract.pk]), {"direction": "down"})
    codes = list(pipeline.stages.order_by("order").values_list("code", flat=True))
    assert codes[:3] == ["acquaintance", "negotiations", "contract"]


def test_checklist_items_are_added_and_deactivated(head) -> None:
    """R1: the stage's checklist."""
    pipeline = default_pipeline()
    stage = pipeline.stages.get(code="negotiations")
    client = login(head)
    empty = client.post(reverse("sales:checklist_add", args=[stage.pk]), {"text": "  "})
    assert empty.status_code == 400 and 'id="id_text_errors"' in text_of(empty)
    client.post(reverse("sales:checklist_add", args=[stage.pk]), {"text": "Выслать КП"})
    item = ChecklistItem.objects.get(stage=stage, text="Выслать КП")
    assert "Выслать КП" in text_of(client.get(reverse("sales:stage_edit", args=[pipeline.pk, stage.pk])))
    client.post(reverse("sales:checklist_deactivate", args=[item.pk]))
    item.refresh_from_db()
    assert not item.is_active
