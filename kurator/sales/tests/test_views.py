"""The sales pages across roles (S3, R1, R3): the board, the list, a deal, moving it with and without
JavaScript, standards refused and overridden, edit conflicts, the dossier's Deals tab."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.sales import services
from kurator.sales.models import ChecklistItem, ChecklistMark, Deal, Pipeline, Stage, StageVisit
from kurator.sales.templatetags.sales_ui import rub
from tests.factories import company_factory


def login(user: User) -> Client:
    # English msgids in assertions stay valid whatever the Russian translation says.
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return unescape(response.content.decode())


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def make_deal(actor: User, company: Company, **fields: Any) -> Deal:
    return services.deal_create(actor=actor, company=company, **fields)


def move(
    client: Client,
    deal: Deal,
    target: Stage,
    *,
    version: int | None = None,
    json_: bool = False,
    **extra: Any,
):
    data = {"stage": target.pk, "version": deal.version if version is None else version, **extra}
    headers = {"Accept": "application/json"} if json_ else {}
    return client.post(reverse("sales:move", args=[deal.pk]), data, headers=headers)


# Money -----------------------------------------------------------------------------------------------------


def test_roubles_are_written_the_russian_way() -> None:
    """S3: amounts read «1 234 567,89 ₽» (non-breaking spaces between groups, a decimal comma)."""
    assert rub(Decimal("1234567.89")) == "1\u00a0234\u00a0567,89\u00a0₽"
    assert rub(Decimal("15")) == "15,00\u00a0₽"
    assert rub(None) == "—"


# The board -------------------------------------------------------------------------------------------------


def test_board_shows_a_column_per_stage_with_count_total_and_cards(manager, company) -> None:
    """S3: columns per stage with the number of deals and their total; cards with title, client, amount and
    owner; stable hooks for the browser tests."""
    first = make_deal(manager, company, title="Поставка труб", amount=Decimal("1234567.89"))
    make_deal(manager, company, title="Поставка кранов", amount=Decimal("1000"))
    response = login(manager).get(reverse("sales:board"))
    assert response.status_code == 200
    html = text_of(response)
    for code in ("acquaintance", "negotiations", "contract", "payment", "won", "lost"):
        assert f'data-testid="stage-{code}"' in html
    assert f'data-testid="deal-{first.pk}"' in html
    assert "Поставка труб" in html and company.short_name in html
    assert "1\u00a0235\u00a0567,89\u00a0₽" in html  # the column total
    assert f'data-testid="move-{first.pk}"' in html  # the keyboard / no-JS move control
    assert "sales/board.js" in html and "<script>" not in html  # no inline script


def test_board_marks_a_deal_longer_in_its_stage_than_allowed(manager, company) -> None:
    """R1: a card whose deal stayed longer than the stage's longest stay is marked overdue."""
    deal = make_deal(manager, company)
    Stage.objects.filter(pk=deal.stage_id).update(max_days=3)
    Deal.objects.filter(pk=deal.pk).update(stage_entered_at=deal.stage_entered_at.replace(year=2020))
    html = text_of(login(manager).get(reverse("sales:board")))
    assert 'data-testid="overdue"' in html


def test_board_only_mine_narrows_to_own_deals(manager, other_manager, company) -> None:
    """R3: everyone sees every deal; "only mine" shows one's own."""
    mine = make_deal(manager, company)
    theirs = make_deal(other_manager, company_factory(actor=other_manager))
    client = login(manager)
    everything = text_of(client.get(reverse("sales:board")))
    assert f'data-testid="deal-{mine.pk}"' in everything and f'data-testid="deal-{theirs.pk}"' in everything
    only = text_of(client.get(reverse("sales:board"), {"mine": "1"}))
    assert f'data-testid="deal-{mine.pk}"' in only and f'data-testid="deal-{theirs.pk}"' not in only


def test_colleague_sees_the_deal_on_the_board_without_a_move_control(manager, other_manager, company) -> None:
    """R3: a colleague reads the card; only its owner may move it."""
    deal = make_deal(manager, company)
    html = text_of(login(other_manager).get(reverse("sales:board")))
    assert f'data-testid="deal-{deal.pk}"' in html
    assert f'data-testid="move-{deal.pk}"' not in html


def test_board_runs_the_same_number_of_queries_for_one_deal_and_twenty(manager, company) -> None:
    """S3: the board's cost does not grow with the number of deals."""
    client = login(manager)
    make_deal(manager, company)
    client.get(reverse("sales:board"))  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("sales:board")).status_code == 200
    companies = [company_factory(actor=manager) for _ in range(4)]
    for number in range(19):
        deal = make_deal(manager, companies[number % 4], amount=Decimal(1000 + number))
        if number % 3 == 0:
            services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
    with CaptureQueriesContext(connection) as twenty:
        assert client.get(reverse("sales:board")).status_code == 200
    assert len(twenty) == len(one)


# The list --------------------------------------------------------------------------------------------------


def test_list_filters_by_status_owner_and_search(manager, other_manager, company, head) -> None:
    """S3, R3: the list with filters."""
    won = make_deal(manager, company, title="Выигранная", amount=Decimal(10))
    services.deal_move(actor=head, deal=won, stage=stage("won"), override_reason="тест")
    other = make_deal(other_manager, company_factory(actor=other_manager), title="Чужая")
    client = login(manager)
    html = text_of(client.get(reverse("sales:list"), {"status": "won"}))
    assert f"deal-row-{won.pk}" in html and f"deal-row-{other.pk}" not in html
    html = text_of(client.get(reverse("sales:list"), {"owner": other_manager.pk}))
    assert f"deal-row-{other.pk}" in html and f"deal-row-{won.pk}" not in html
    html = text_of(client.get(reverse("sales:list"), {"q": "Чуж"}))
    assert f"deal-row-{other.pk}" in html and f"deal-row-{won.pk}" not in html


def test_list_with_an_unknown_filter_value_shows_the_error_and_no_rows(manager, company) -> None:
    make_deal(manager, company)
    response = login(manager).get(reverse("sales:list"), {"owner": "99999"})
    assert response.status_code == 200
    assert "deal-row-" not in text_of(response)
    assert "is-invalid" in text_of(response)


def test_list_runs_the_same_number_of_queries_for_one_deal_and_twenty(manager, company) -> None:
    """S3: a list page's cost does not grow with its rows."""
    client = login(manager)
    make_deal(manager, company)
    client.get(reverse("sales:list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("sales:list"))
    for _ in range(19):
        make_deal(manager, company_factory(actor=manager), amount=Decimal(5))
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(reverse("sales:list"))
    assert text_of(response).count("deal-row-") == 20
    assert len(twenty) == len(one)


# A deal: create, edit, read ------------------------------------------------------------------------------


def test_curator_opens_a_deal_from_the_dossier(manager, company) -> None:
    """S3: a deal is opened for a client by its curator; the owner is the curator."""
    client = login(manager)
    tab = text_of(client.get(reverse("sales:company_deals", args=[company.pk])))
    assert 'data-testid="new-deal"' in tab
    response = client.post(
        reverse("sales:create") + f"?company={company.pk}",
        {"title": "Новая", "amount": "1500.50", "expected_close": "2030-01-31"},
    )
    deal = Deal.objects.get(title="Новая")
    assert response.status_code == 302 and response["Location"] == reverse("sales:detail", args=[deal.pk])
    assert deal.owner == manager and deal.amount == Decimal("1500.50")
    tab = text_of(client.get(reverse("sales:company_deals", args=[company.pk])))
    assert f"deal-row-{deal.pk}" in tab


def test_a_colleague_cannot_open_a_deal_for_someone_elses_client(other_manager, company) -> None:
    """R2, R3: the colleague reads the Deals tab but is offered no "New deal" and is refused."""
    client = login(other_manager)
    tab = text_of(client.get(reverse("sales:company_deals", args=[company.pk])))
    assert 'data-testid="new-deal"' not in tab
    response = client.post(reverse("sales:create") + f"?company={company.pk}", {"title": "Чужая"})
    assert response.status_code == 403
    assert not Deal.objects.filter(title="Чужая").exists()


def test_deal_page_shows_standards_history_and_move_form_to_the_owner(manager, company) -> None:
    """S3, R1: the next stage's standard with what is missing, the move form and the stage history."""
    deal = make_deal(manager, company)
    html = text_of(login(manager).get(reverse("sales:detail", args=[deal.pk])))
    assert 'data-testid="stage-progress"' in html
    assert 'data-testid="next-standards"' in html
    unmet = re.search(r'data-testid="unmet-standards">(.*?)</ul>', html, re.S)
    assert unmet and "Amount" in unmet.group(1)
    assert 'data-testid="move-form"' in html and 'data-testid="move-next"' in html
    assert 'data-testid="stage-history"' in html and "Знакомство" in html


def test_colleague_reads_the_deal_but_gets_no_move_form_and_a_post_is_refused(
    manager, other_manager, company
) -> None:
    """R3: every seller reads every deal; only its owner, co-owner or the head of sales moves it."""
    deal = make_deal(manager, company, amount=Decimal(100))
    client = login(other_manager)
    page = client.get(reverse("sales:detail", args=[deal.pk]))
    assert page.status_code == 200
    html = text_of(page)
    assert 'data-testid="move-form"' not in html and 'data-testid="read-only"' in html
    response = move(client, deal, stage("negotiations"))
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage.code == "acquaintance" and deal.version == 1
    assert StageVisit.objects.filter(deal=deal).count() == 1


def test_finance_reads_deals_only(manager, finance, company) -> None:
    """R3: finance reads the board, the list and a deal; it moves and edits nothing."""
    deal = make_deal(manager, company, amount=Decimal(100))
    client = login(finance)
    for url in (reverse("sales:board"), reverse("sales:list"), reverse("sales:detail", args=[deal.pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert 'data-testid="move-' not in text_of(response).replace('data-testid="move-feedback"', "")
    assert move(client, deal, stage("negotiations")).status_code == 403
    assert client.get(reverse("sales:edit", args=[deal.pk])).status_code == 403
    assert client.get(reverse("sales:pipelines")).status_code == 403
    deal.refresh_from_db()
    assert deal.stage.code == "acquaintance"


def test_edit_with_a_stale_version_reports_a_conflict_and_keeps_the_other_change(
    manager, head, company
) -> None:
    """S3: two people editing at once: one succeeds, the other gets a clear conflict message."""
    deal = make_deal(manager, company, amount=Decimal(100))
    services.deal_update(actor=head, deal=deal, expected_version=deal.version, amount=Decimal(200))
    response = login(manager).post(
        reverse("sales:edit", args=[deal.pk]), {"title": deal.title, "amount": "300", "version": 1}
    )
    assert response.status_code == 409
    assert 'data-testid="edit-conflict"' in text_of(response)
    deal.refresh_from_db()
    assert deal.amount == Decimal(200)


def test_edit_saves_with_the_current_version(manager, company) -> None:
    deal = make_deal(manager, company)
    response = login(manager).post(
        reverse("sales:edit", args=[deal.pk]),
        {"title": "Переименована", "amount": "10", "version": deal.version},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Переименована" and deal.amount == Decimal(10)


# Moving ----------------------------------------------------------------------------------------------------


def test_the_no_js_move_form_moves_the_deal_and_returns_to_the_board(manager, company) -> None:
    """S3: the keyboard path: the card's "Move to…" form is a plain POST."""
    deal = make_deal(manager, company, amount=Decimal(500))
    board = reverse("sales:board") + "?mine=1"
    response = move(login(manager), deal, stage("negotiations"), next=board)
    assert response.status_code == 302 and response["Location"] == board
    deal.refresh_from_db()
    assert deal.stage.code == "negotiations" and deal.version == 2


def test_the_no_js_move_form_shows_what_is_missing(manager, company) -> None:
    """R1: a move forward without the standard is refused with the list of what is missing; nothing is
    written, and a seller is offered no override."""
    deal = make_deal(manager, company)
    response = move(login(manager), deal, stage("negotiations"))
    assert response.status_code == 400
    html = text_of(response)
    items = re.search(r'data-testid="unmet-standards">(.*?)</ul>', html, re.S)
    assert items and "Amount" in items.group(1)
    assert 'data-testid="override-form"' not in html
    deal.refresh_from_db()
    assert deal.stage.code == "acquaintance" and deal.version == 1


def test_the_move_page_lists_what_a_chosen_stage_needs(manager, company) -> None:
    """R1: GET /deals/<id>/move/?stage= shows the unmet standards before trying (the no-JS path)."""
    deal = make_deal(manager, company)
    html = text_of(login(manager).get(reverse("sales:move", args=[deal.pk]), {"stage": stage("contract").pk}))
    items = re.search(r'data-testid="unmet-standards">(.*?)</ul>', html, re.S)
    assert items and "decision maker" in items.group(1)


def test_a_drag_answers_json_with_the_unmet_list(manager, company) -> None:
    """R1: the board's drag gets the list to show (and puts the card back)."""
    deal = make_deal(manager, company)
    response = move(login(manager), deal, stage("negotiations"), json_=True)
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["can_override"] is False
    assert [u["code"] for u in body["unmet"]] == ["required_field:amount"]


def test_a_drag_that_meets_the_standard_moves_and_answers_the_new_version(manager, company) -> None:
    deal = make_deal(manager, company, amount=Decimal(1))
    response = move(login(manager), deal, stage("negotiations"), json_=True)
    assert response.status_code == 200
    assert json.loads(response.content) == {"id": deal.pk, "stage": stage("negotiations").pk, "version": 2}


def test_head_of_sales_is_offered_the_override_and_it_needs_a_reason(manager, head, company) -> None:
    """R1: the head of sales may override an unmet standard with a reason, which is recorded and shown."""
    deal = make_deal(manager, company)
    client = login(head)
    refused = move(client, deal, stage("negotiations"))
    assert refused.status_code == 400
    assert 'data-testid="override-form"' in text_of(refused)
    assert json.loads(move(client, deal, stage("negotiations"), json_=True).content)["can_override"] is True
    deal.refresh_from_db()
    assert deal.stage.code == "acquaintance"

    done = move(client, deal, stage("negotiations"), override_reason="Клиент подтвердил бюджет устно")
    assert done.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.code == "negotiations"
    visit = StageVisit.objects.get(deal=deal, stage__code="negotiations")
    assert visit.override_reason == "Клиент подтвердил бюджет устно" and visit.entered_by == head
    assert [u["code"] for u in visit.unmet] == ["required_field:amount"]
    html = text_of(login(manager).get(reverse("sales:detail", args=[deal.pk])))
    assert 'data-testid="override-record"' in html and "Клиент подтвердил бюджет устно" in html


def test_a_stale_move_gets_a_clear_conflict_message(manager, head, company) -> None:
    """S3: two people moving the same deal at once: one succeeds, the other is told to reload."""
    deal = make_deal(manager, company, amount=Decimal(1))
    first = move(login(head), deal, stage("negotiations"), version=1)
    assert first.status_code == 302
    client = login(manager)
    second = move(client, deal, stage("lost"), version=1, lost_reason="1")
    assert second.status_code == 409
    assert 'data-testid="move-conflict"' in text_of(second) and "Reload" in text_of(second)
    as_json = move(client, deal, stage("acquaintance"), version=1, json_=True)
    assert as_json.status_code == 409 and "Reload" in json.loads(as_json.content)["conflict"]
    deal.refresh_from_db()
    assert deal.stage.code == "negotiations" and deal.version == 2


def test_moving_to_lost_asks_for_the_reason(manager, company) -> None:
    """S3: Lost with a reason from the dictionary, at any stage."""
    deal = make_deal(manager, company)
    client = login(manager)
    refused = move(client, deal, stage("lost"))
    assert refused.status_code == 400 and "lost_reason_errors" in text_of(refused)
    from kurator.sales.models import LostReason

    reason = LostReason.objects.filter(is_active=True).first()
    assert reason is not None
    assert move(client, deal, stage("lost"), lost_reason=reason.pk, lost_note="Дорого").status_code == 302
    deal.refresh_from_db()
    assert deal.stage.code == "lost" and deal.lost_reason == reason


def test_the_owner_ticks_a_checklist_item_and_a_colleague_cannot(manager, other_manager, company) -> None:
    """R1: checklist items are ticked on the deal page by those who work the deal."""
    deal = make_deal(manager, company)
    item = ChecklistItem.objects.create(stage=stage("negotiations"), text="Выслать презентацию")
    url = reverse("sales:check_item", args=[deal.pk])
    assert login(other_manager).post(url, {"item": item.pk, "done": "1"}).status_code == 403
    assert not ChecklistMark.objects.exists()
    client = login(manager)
    assert 'data-testid="checklist"' in text_of(client.get(reverse("sales:detail", args=[deal.pk])))
    assert client.post(url, {"item": item.pk, "done": "1"}).status_code == 302
    assert ChecklistMark.objects.filter(deal=deal, item=item, done_by=manager).exists()
    client.post(url, {"item": item.pk, "done": "0"})
    assert not ChecklistMark.objects.exists()


def test_the_default_pipeline_is_shown_first(manager, head) -> None:
    services.pipeline_save(actor=head, name="Тендеры", position=0)
    html = text_of(login(manager).get(reverse("sales:board")))
    default = Pipeline.objects.get(is_default=True)
    assert re.search(rf'<option value="{default.pk}" selected>', html)


def test_list_shows_open_deals_unless_asked_and_finds_cyrillic_in_any_case(manager, head, company) -> None:
    """S3: the list opens on the open deals ("any status" shows all; a chosen stage shows its deals
    whatever the status); the search folds case, Cyrillic included, and finds the client by INN."""
    won = make_deal(manager, company, title="Выигранная", amount=Decimal(10))
    services.deal_move(actor=head, deal=won, stage=stage("won"), override_reason="тест")
    other = make_deal(manager, company, title="Чужая ёлка")
    client = login(manager)
    html = text_of(client.get(reverse("sales:list")))
    assert f"deal-row-{other.pk}" in html and f"deal-row-{won.pk}" not in html
    html = text_of(client.get(reverse("sales:list"), {"status": "all"}))
    assert f"deal-row-{other.pk}" in html and f"deal-row-{won.pk}" in html
    html = text_of(client.get(reverse("sales:list"), {"stage": stage("won").pk}))
    assert f"deal-row-{won.pk}" in html and f"deal-row-{other.pk}" not in html
    for query in ("чуж", "ЧУЖАЯ ЕЛКА", company.inn):
        html = text_of(client.get(reverse("sales:list"), {"q": query}))
        assert f"deal-row-{other.pk}" in html, query
    services.deal_update(actor=manager, deal=other, title="Своя")
    assert f"deal-row-{other.pk}" in text_of(client.get(reverse("sales:list"), {"q": "сво"}))
    assert f"deal-row-{other.pk}" not in text_of(client.get(reverse("sales:list"), {"q": "чуж"}))
