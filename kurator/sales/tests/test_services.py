"""Deals moving through the pipeline (S3), with the stage standards (R1) and one owner per client (R2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities.models import Activity, Notification
from kurator.companies import services as company_services
from kurator.companies.models import Company
from kurator.core.errors import AccessDenied, EditConflict
from kurator.sales import services
from kurator.sales.models import ChecklistItem, Deal, LostReason, Pipeline, Stage, StageVisit
from kurator.sales.standards import StandardsNotMet
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def make_deal(actor: User, company: Company, **fields: Any) -> Deal:
    return services.deal_create(actor=actor, company=company, **fields)


def log_meeting(deal: Deal, author: User, *, decision_maker: bool = True, kind: str = "meeting") -> Activity:
    contact = contact_factory(
        actor=author,
        company=deal.company,
        full_name="Лицо Принимающее Решение" if decision_maker else "Секретарь Анна",
        decision_role="decision_maker" if decision_maker else "gatekeeper",
    )
    activity = Activity.objects.create(
        company=deal.company, deal=deal, kind=kind, occurred_at=timezone.now(), author=author
    )
    activity.contacts.add(contact)
    return activity


def fresh(deal: Deal) -> Deal:
    return Deal.objects.select_related("stage").get(pk=deal.pk)


# Creating -------------------------------------------------------------------------------------------------


def test_a_new_deal_belongs_to_the_curator_in_the_first_stage_of_the_default_pipeline(manager, company):
    """S3, R2: the owner is the client's curator; the deal starts in Знакомство with its stage history."""
    deal = make_deal(manager, company)
    assert deal.owner == manager
    assert deal.pipeline.is_default
    assert deal.stage.code == "acquaintance"
    assert deal.probability == deal.stage.probability
    assert company.short_name in deal.title
    visits = list(StageVisit.objects.filter(deal=deal))
    assert [(v.stage.code, v.left_at, v.entered_by) for v in visits] == [("acquaintance", None, manager)]


def test_the_head_opens_a_deal_for_a_managers_client_owned_by_the_curator(head, manager, company):
    """R2: whoever opens it, the deal of a client belongs to the client's curator."""
    deal = make_deal(head, company, amount="150000.50")
    assert deal.owner == manager
    assert deal.amount == Decimal("150000.50")


def test_a_colleague_cannot_open_a_deal_for_someone_elses_client(other_manager, company):
    """R2: only the curator or the head of sales opens a client's deals; nothing is written."""
    with pytest.raises(AccessDenied):
        make_deal(other_manager, company)
    assert not Deal.objects.exists()


def test_the_sales_technology_pipeline_is_chosen_when_it_exists(head, manager):
    """S3: a client of a sales technology with its own pipeline gets deals in that pipeline."""
    technology = company_services.dictionary_item_save(actor=head, kind="technologies", name="Дилерская")
    pipeline = services.pipeline_save(actor=head, name="Дилеры", sales_technology=technology)
    services.stage_save(actor=head, pipeline=pipeline, name="Первый звонок", code="call")
    client = company_factory(actor=manager, sales_technology=technology)
    deal = make_deal(manager, client)
    assert deal.pipeline == pipeline
    assert deal.stage.code == "call"


def test_bad_fields_are_named_and_nothing_is_written(manager, company, other_manager):
    """S3: amount > 0, probability 0–100, people of the client only; a co-owner only by the head."""
    stranger = contact_factory(actor=other_manager, company=company_factory(actor=other_manager))
    with pytest.raises(ValidationError) as caught:
        make_deal(
            manager, company, amount="-5", probability=150, contacts=[stranger.pk], co_owner=other_manager
        )
    assert set(caught.value.message_dict) == {"amount", "probability", "contacts", "co_owner"}
    assert not Deal.objects.exists()


def test_opening_a_deal_straight_in_a_later_stage_checks_the_standards_on_the_way(manager, company):
    """R1: a deal opened in Переговоры needs an amount, like a deal moved there."""
    with pytest.raises(StandardsNotMet) as caught:
        make_deal(manager, company, stage=stage("negotiations"))
    assert [u.code for u in caught.value.unmet] == ["required_field:amount"]
    assert not Deal.objects.exists() and not StageVisit.objects.exists()
    deal = make_deal(manager, company, stage=stage("negotiations"), amount=100000)
    assert deal.stage.code == "negotiations"


# Updating -------------------------------------------------------------------------------------------------


def test_only_the_head_names_a_co_owner(manager, head, senior_manager, company):
    """R2: the head of sales may add a co-owner; the owner may not; the co-owner is not the owner."""
    deal = make_deal(manager, company)
    with pytest.raises(ValidationError) as caught:
        services.deal_update(actor=manager, deal=deal, co_owner=senior_manager)
    assert caught.value.error_dict["co_owner"][0].code == "co_owner_forbidden"
    with pytest.raises(ValidationError) as caught:
        services.deal_update(actor=head, deal=deal, co_owner=manager)
    assert caught.value.error_dict["co_owner"][0].code == "same_as_owner"
    updated = services.deal_update(actor=head, deal=deal, co_owner=senior_manager)
    assert updated.co_owner == senior_manager
    assert updated.version == 2


def test_a_stale_version_is_an_edit_conflict(manager, company):
    """S3: an edit made on an old copy is refused (409), nothing is overwritten."""
    deal = make_deal(manager, company)
    services.deal_update(actor=manager, deal=deal, expected_version=1, amount=500)
    with pytest.raises(EditConflict):
        services.deal_update(actor=manager, deal=deal, expected_version=1, amount=900)
    assert fresh(deal).amount == Decimal("500")


def test_contacts_of_the_client_are_set(manager, company):
    """S3: the people involved are the client's people."""
    deal = make_deal(manager, company)
    person = contact_factory(actor=manager, company=company)
    updated = services.deal_update(actor=manager, deal=deal, contacts=[person.pk])
    assert list(updated.contacts.all()) == [person]


# Moving and the standards (R1) ----------------------------------------------------------------------------


def test_moving_to_negotiations_needs_an_amount_and_a_refusal_writes_nothing(manager, company):
    """S3, R1: the shipped standard — an amount before Переговоры; a refused move changes nothing."""
    deal = make_deal(manager, company)
    with pytest.raises(StandardsNotMet) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"), expected_version=1)
    assert caught.value.message_dict == {"unmet": [caught.value.unmet[0].message]}
    again = fresh(deal)
    assert (again.stage.code, again.version) == ("acquaintance", 1)
    assert StageVisit.objects.filter(deal=deal).count() == 1


def test_moving_to_contract_without_meeting_is_refused(manager, company):
    """S3, R1: a meeting or negotiation with a decision maker, logged on this deal, before Договор."""
    deal = make_deal(manager, company, amount=1000)
    deal = services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    with pytest.raises(StandardsNotMet) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("contract"))
    (unmet,) = caught.value.unmet
    assert unmet.code == "required_activity"
    assert "decision maker" in unmet.message
    log_meeting(deal, manager, decision_maker=False)
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=manager, deal=deal, stage=stage("contract"))
    log_meeting(deal, manager, kind="call")
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=manager, deal=deal, stage=stage("contract"))
    log_meeting(deal, manager, kind="negotiation")
    moved = services.deal_move(actor=manager, deal=deal, stage=stage("contract"))
    assert moved.stage.code == "contract"


def test_a_meeting_on_another_deal_does_not_count(manager, company):
    """R1: the required activity is logged on this deal."""
    deal = make_deal(manager, company, amount=1000, stage=stage("negotiations"))
    other = make_deal(manager, company)
    log_meeting(other, manager)
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=manager, deal=deal, stage=stage("contract"))


def test_skipping_stages_does_not_dodge_a_standard(manager, company):
    """R1: moving from Знакомство straight to Оплата checks Переговоры and Договор too."""
    deal = make_deal(manager, company)
    with pytest.raises(StandardsNotMet) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("payment"))
    assert [u.code for u in caught.value.unmet] == [
        "required_field:amount",
        "required_activity",
        "signed_contract",
    ]
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=manager, deal=deal, stage=stage("won"))


def test_the_signed_contract_rule_is_enforced_and_met_by_a_signed_contract_of_the_deal(manager, company):
    """R1, D5: «a signed contract before Оплата» — a draft, or a signed contract of another deal, does not
    count; a signed contract tied to the deal does."""
    from kurator.finance.services.contracts import contract_create, contract_set_status

    deal = make_deal(manager, company, amount=1000, stage=stage("negotiations"))
    log_meeting(deal, manager)
    with pytest.raises(StandardsNotMet) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("payment"))
    assert [u.code for u in caught.value.unmet] == ["signed_contract"]
    other = make_deal(manager, company)
    contract_create(
        actor=manager, company=company, deal=other, number="1", status="signed", signed_on="2026-01-10"
    )
    draft = contract_create(actor=manager, company=company, deal=deal, number="2")
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=manager, deal=deal, stage=stage("payment"))
    contract_set_status(actor=manager, contract=draft, status="signed")
    moved = services.deal_move(actor=manager, deal=deal, stage=stage("payment"))
    assert moved.stage.code == "payment"


def test_moving_backward_needs_nothing(manager, company):
    """R1: standards are entry conditions of the stages ahead; going back is free."""
    deal = make_deal(manager, company, amount=1000, stage=stage("negotiations"))
    services.deal_update(actor=manager, deal=deal, amount=None)
    moved = services.deal_move(actor=manager, deal=deal, stage=stage("acquaintance"))
    assert moved.stage.code == "acquaintance"


def test_the_head_overrides_with_a_reason_which_is_recorded(
    head, manager, company, django_capture_on_commit_callbacks
):
    """R1: the head of sales may skip an unmet standard with a reason: the stage history and the deal's
    history keep it with what was missing; the owner is notified."""
    deal = make_deal(manager, company)
    with pytest.raises(StandardsNotMet):
        services.deal_move(actor=head, deal=deal, stage=stage("negotiations"), override_reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.deal_move(
            actor=head, deal=deal, stage=stage("negotiations"), override_reason="Сумма будет после КП"
        )
    visit = StageVisit.objects.get(deal=deal, left_at__isnull=True)
    assert visit.override_reason == "Сумма будет после КП"
    assert [u["code"] for u in visit.unmet] == ["required_field:amount"]
    record = moved.history.first()
    assert "Сумма будет после КП" in record.history_change_reason
    assert Notification.objects.filter(recipient=manager, kind="deal_moved").exists()


def test_a_manager_cannot_override_even_with_a_reason(manager, company):
    """R1: only the head of sales overrides a standard."""
    deal = make_deal(manager, company)
    with pytest.raises(StandardsNotMet):
        services.deal_move(
            actor=manager, deal=deal, stage=stage("negotiations"), override_reason="Очень надо"
        )
    assert fresh(deal).stage.code == "acquaintance"


def test_the_checklist_must_be_ticked(head, manager, company):
    """R1: every active checklist item of the stage is ticked before the deal enters it."""
    item = services.checklist_item_save(actor=head, stage=stage("negotiations"), text="Отправлено КП")
    retired = services.checklist_item_save(actor=head, stage=stage("negotiations"), text="Старое")
    services.checklist_item_deactivate(actor=head, item=retired)
    deal = make_deal(manager, company, amount=1000)
    with pytest.raises(StandardsNotMet) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    assert [u.code for u in caught.value.unmet] == [f"checklist_item:{item.pk}"]
    services.deal_check_item(actor=manager, deal=deal, item=item, done=True)
    assert (
        services.deal_move(actor=manager, deal=deal, stage=stage("negotiations")).stage.code == "negotiations"
    )


def test_lost_needs_a_reason_and_closes_the_deal(manager, company):
    """S3: a deal is lost at any stage with a reason from the dictionary."""
    deal = make_deal(manager, company)
    with pytest.raises(ValidationError) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("lost"))
    assert "lost_reason" in caught.value.message_dict
    assert fresh(deal).closed_at is None
    reason = LostReason.objects.first()
    lost = services.deal_move(
        actor=manager, deal=deal, stage=stage("lost"), lost_reason=reason.pk if reason else None
    )
    assert lost.closed_at is not None and lost.lost_reason == reason and lost.probability == 0


def test_reopening_a_closed_deal_is_for_the_head(head, manager, company):
    """S3: a closed deal is reopened only by the head of sales."""
    deal = make_deal(manager, company)
    deal = services.deal_move(
        actor=manager, deal=deal, stage=stage("lost"), lost_reason=LostReason.objects.first()
    )
    with pytest.raises(ValidationError) as caught:
        services.deal_move(actor=manager, deal=deal, stage=stage("acquaintance"))
    assert caught.value.error_dict["stage"][0].code == "reopen_forbidden"
    reopened = services.deal_move(actor=head, deal=deal, stage=stage("acquaintance"))
    assert reopened.closed_at is None and reopened.lost_reason is None


def test_moving_closes_the_stay_and_opens_a_new_one(manager, company):
    """S3: the stage history records each stay; the same stage is refused."""
    deal = make_deal(manager, company, amount=1000)
    with pytest.raises(ValidationError):
        services.deal_move(actor=manager, deal=deal, stage=stage("acquaintance"))
    moved = services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"), expected_version=1)
    assert moved.version == 2 and moved.probability == stage("negotiations").probability
    visits = list(StageVisit.objects.filter(deal=deal).order_by("entered_at", "id"))
    assert [v.stage.code for v in visits] == ["acquaintance", "negotiations"]
    assert visits[0].left_at is not None and visits[1].left_at is None


def test_two_moves_with_the_same_version_one_wins_one_conflicts(manager, head, company):
    """S3: of two people moving the same deal at once, the second gets a conflict; nothing is lost."""
    deal = make_deal(manager, company, amount=1000)
    services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"), expected_version=1)
    with pytest.raises(EditConflict):
        services.deal_move(
            actor=head,
            deal=deal,
            stage=stage("lost"),
            expected_version=1,
            lost_reason=LostReason.objects.first(),
        )
    assert fresh(deal).stage.code == "negotiations"


def test_a_colleague_cannot_move_the_deal(other_manager, manager, company):
    """R2: only the owner, the co-owner or the head of sales moves a deal."""
    deal = make_deal(manager, company, amount=1000)
    with pytest.raises(AccessDenied):
        services.deal_move(actor=other_manager, deal=deal, stage=stage("negotiations"))


# The curator (R2) -----------------------------------------------------------------------------------------


def test_open_deals_follow_a_new_curator_closed_ones_stay(head, manager, senior_manager, company):
    """R2: when the client is handed over, its open deals go with it; a co-owner who becomes the owner stops
    being the co-owner; closed deals keep their owner."""
    open_deal = make_deal(manager, company)
    services.deal_update(actor=head, deal=open_deal, co_owner=senior_manager)
    closed = make_deal(manager, company)
    services.deal_move(
        actor=manager, deal=closed, stage=stage("lost"), lost_reason=LostReason.objects.first()
    )
    company_services.company_reassign(actor=head, company=company, curator=senior_manager, reason="Отпуск")
    open_deal, closed = fresh(open_deal), fresh(closed)
    assert (open_deal.owner, open_deal.co_owner) == (senior_manager, None)
    assert closed.owner == manager


def test_a_merge_moves_the_duplicates_deals_to_the_survivors_curator(head, manager, other_manager):
    """R2: the duplicate's deals move to the survivor and its curator."""
    survivor = company_factory(actor=manager)
    duplicate = company_factory(actor=other_manager)
    deal = make_deal(other_manager, duplicate)
    company_services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    deal = fresh(deal)
    assert (deal.company_id, deal.owner) == (survivor.pk, manager)


# Pipeline settings ---------------------------------------------------------------------------------------


def test_pipeline_settings_are_for_the_head(head, manager):
    """S3, R1: only the head of sales defines pipelines and stages."""
    with pytest.raises(AccessDenied):
        services.pipeline_save(actor=manager, name="Тендеры")
    pipeline = services.pipeline_save(actor=head, name="Тендеры", is_default=True)
    assert list(Pipeline.objects.filter(is_default=True)) == [pipeline]
    assert [s.code for s in pipeline.stages.order_by("order")] == ["won", "lost"]
    first = services.stage_save(actor=head, pipeline=pipeline, name="Заявка", code="bid", max_days=5)
    second = services.stage_save(actor=head, pipeline=pipeline, name="Торги", code="auction")
    assert [s.code for s in pipeline.stages.order_by("order")] == ["bid", "auction", "won", "lost"]
    services.stage_move_order(actor=head, stage=second, order=1)
    assert [s.code for s in pipeline.stages.order_by("order")] == ["auction", "bid", "won", "lost"]
    with pytest.raises(ValidationError) as caught:
        services.stage_save(
            actor=head,
            pipeline=pipeline,
            stage=first,
            code="auction",
            max_days=0,
            required_fields=["amount", "colour"],
            required_activity_kinds=["dance"],
        )
    assert set(caught.value.message_dict) == {
        "code",
        "max_days",
        "required_fields",
        "required_activity_kinds",
    }
    with pytest.raises(ValidationError):
        services.pipeline_save(actor=head, pipeline=pipeline, is_default=False)
    assert ChecklistItem.objects.count() == 0
