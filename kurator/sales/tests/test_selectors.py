"""Reads of deals (S3, R3): the board and the list run a constant number of queries; the stage history
counts the days per stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kurator.sales import selectors, services
from kurator.sales.models import LostReason, Pipeline, Stage, StageVisit

pytestmark = pytest.mark.django_db


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def default() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def test_board_columns_counts_totals_and_capped_cards(manager, head, company):
    """S3: a column per stage with its count and total; cards capped per stage, newest first; won/lost only
    recent."""
    deals = [services.deal_create(actor=manager, company=company, amount=100 * (i + 1)) for i in range(4)]
    services.deal_move(actor=manager, deal=deals[0], stage=stage("negotiations"))
    services.deal_move(
        actor=manager, deal=deals[1], stage=stage("lost"), lost_reason=LostReason.objects.first()
    )
    old = deals[2]
    services.deal_move(actor=manager, deal=old, stage=stage("lost"), lost_reason=LostReason.objects.first())
    old.refresh_from_db()
    type(old).objects.filter(pk=old.pk).update(stage_entered_at=timezone.now() - timedelta(days=60))
    columns = {c.stage.code: c for c in selectors.deal_board(actor=head, pipeline=default(), per_stage=1)}
    assert list(columns) == ["acquaintance", "negotiations", "contract", "payment", "won", "lost"]
    assert (columns["acquaintance"].count, columns["acquaintance"].total) == (1, 400)
    assert [d.pk for d in columns["negotiations"].cards] == [deals[0].pk]
    assert [d.pk for d in columns["lost"].cards] == [deals[1].pk]
    assert columns["lost"].count == 1
    mine = selectors.deal_board(actor=head, pipeline=default(), owner=head)
    assert all(c.count == 0 and not c.cards for c in mine)


def test_board_queries_do_not_grow_with_deals(manager, head, company):
    """S3: the board costs the same for one deal as for many."""
    services.deal_create(actor=manager, company=company)
    pipeline = default()
    with CaptureQueriesContext(connection) as one:
        selectors.deal_board(actor=head, pipeline=pipeline)
    for _ in range(12):
        deal = services.deal_create(actor=manager, company=company, amount=10)
        services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    with CaptureQueriesContext(connection) as many:
        columns = selectors.deal_board(actor=head, pipeline=pipeline)
        for column in columns:
            for card in column.cards:
                _ = (card.company.short_name, card.owner.full_name)
    assert len(many) == len(one) <= 3


def test_list_queries_do_not_grow_and_filters_apply(manager, head, company):
    """S3: the list costs one query for a page whatever its length; filters narrow it."""
    services.deal_create(actor=manager, company=company, title="Поставка бетона")
    with CaptureQueriesContext(connection) as one:
        rows = list(selectors.deal_list(actor=head, filters={}))
        _ = [(r.company.short_name, r.owner.full_name, r.stage.name) for r in rows]
    for i in range(10):
        services.deal_create(actor=manager, company=company, title=f"Сделка {i}")
    with CaptureQueriesContext(connection) as many:
        rows = list(selectors.deal_list(actor=head, filters={}))
        _ = [(r.company.short_name, r.owner.full_name, r.stage.name) for r in rows]
    assert len(rows) == 11 and len(many) == len(one) == 1
    assert [d.title for d in selectors.deal_list(actor=head, filters={"q": "бетон"})] == ["Поставка бетона"]
    assert selectors.deal_list(actor=head, filters={"status": "won"}).count() == 0
    assert selectors.deal_list(actor=head, filters={"owner": manager.pk}).count() == 11


def test_stage_history_counts_days_per_stay(manager, company):
    """S3: the stage history of a deal with the time spent in each stage."""
    deal = services.deal_create(actor=manager, company=company, amount=10)
    StageVisit.objects.filter(deal=deal).update(entered_at=timezone.now() - timedelta(days=3))
    services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    stays = selectors.deal_stage_history(deal=deal)
    assert [s.stage.code for s in stays] == ["acquaintance", "negotiations"]
    assert stays[0].days == pytest.approx(3, abs=0.1)
    assert stays[1].left_at is None


def test_pipelines_with_stages_in_three_queries(manager):
    """S3: pipelines with their ordered stages and checklists."""
    with CaptureQueriesContext(connection) as queries:
        pipelines = selectors.pipelines_with_stages(actor=manager)
        codes = [s.code for s in pipelines[0].stages.all()]
    assert codes[0] == "acquaintance" and len(queries) == 3
