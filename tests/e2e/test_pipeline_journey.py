"""Issue 4's "done when" journey, in a real Chromium (S3, R1, D3, D10, R3): a manager converts an inquiry into
a deal, tries to move it to «Договор» without a meeting and sees what is missing, logs a meeting with the
decision maker and moves it on; a colleague sees the meeting on the company's timeline; the curator sees a
birthday reminder and the next step in «My day». The board moves deals by drag-and-drop under the same
standards, and the head of sales reads the funnel and the pipeline settings.

Assertions use stable hooks (``data-testid``, ``data-code``, element ids) and data the test wrote (names,
stage names of the seeded pipeline), so they hold whether or not the interface strings are translated."""

from __future__ import annotations

import importlib
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from kurator.accounts.models import Role, User
from kurator.activities.models import Activity, ActivityKind, Notification, Task
from kurator.activities.reminders import KIND_BIRTHDAY, run_reminders
from kurator.companies.models import Company, Contact, DecisionRole
from kurator.inquiries import services as inquiry_services
from kurator.inquiries.models import Inquiry, InquiryStatus
from kurator.sales import services as sales_services
from kurator.sales.models import Deal, Stage, StageVisit
from tests.e2e.helpers import log_in, make_user, new_page
from tests.factories import company_factory, contact_factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEETING_RESULT = "Обсудили поставку 40 станков; директор согласен на договор"
NEXT_STEP = "Отправить проект договора"


@pytest.fixture(autouse=True)
def seeded_defaults(transactional_db: Any) -> None:
    """The default pipeline with its standards, the dictionaries and the response standards the migrations
    seed: a transactional test that ran before this one emptied the tables."""
    for module in (
        "kurator.companies.migrations.0002_search_index_and_dictionaries",
        "kurator.inquiries.migrations.0002_defaults",
        "kurator.sales.migrations.0002_default_pipeline",
    ):
        importlib.import_module(module).seed(apps, None)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def stage(code: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, code=code)


def birthday_in(days: int) -> date:
    """A birthday (born in a leap year, so 29 February exists) that falls ``days`` days from today."""
    day = timezone.localdate() + timedelta(days=days)
    return date(1976, day.month, day.day)


def client_with_a_decision_maker(curator: User) -> tuple[Company, Contact]:
    company = company_factory(actor=curator, full_name='ООО "Северсталь-Сервис"', city="Череповец")
    leader = contact_factory(
        actor=curator,
        company=company,
        full_name="Громов Виктор Павлович",
        position="Генеральный директор",
        decision_role=DecisionRole.DECISION_MAKER,
        is_leader=True,
        birthday=birthday_in(3),
        phones="+7 8202 55-66-77",
    )
    contact_factory(
        actor=curator,
        company=company,
        full_name="Лебедева Анна Игоревна",
        position="Менеджер по закупкам",
        decision_role=DecisionRole.INFLUENCER,
    )
    return company, leader


def qualified_inquiry(curator: User, company: Company) -> Inquiry:
    """A call from the decision maker's phone: matched to the client, routed to its curator, who takes and
    qualifies it (kurator.inquiries.services)."""
    inquiry = inquiry_services.inquiry_create(
        actor=curator,
        channel="phone",
        phone="8 (8202) 55-66-77",
        contact_name="Виктор Павлович",
        text="Нужны 40 станков с доставкой до конца квартала.",
    )
    assert inquiry.company_id == company.pk and inquiry.curator == curator
    inquiry_services.inquiry_take(actor=curator, inquiry=inquiry)
    return inquiry_services.inquiry_qualify(actor=curator, inquiry=inquiry)


def test_manager_converts_an_inquiry_meets_the_contract_standard_and_colleague_and_curator_see_it(
    page: Any, live_server: Any, screenshot: Any, settings: Any
) -> None:
    """S3, R1, D3, R3, D10: the curator converts a qualified inquiry into a deal, gives it an amount and moves
    it to «Переговоры»; «Договор» is refused with the missing meeting with a decision maker listed and the
    deal stays; after a meeting with the decision maker is logged the move succeeds and is in the stage
    history. A colleague reads the meeting on the client's timeline; the reminder job gives the curator the
    decision maker's birthday in the notifications, and the meeting's next step is in «My day»."""
    settings.KURATOR_BIRTHDAY_REMINDER_DAYS = 7  # the decision maker's birthday, 3 days ahead, is in reach
    manager = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    colleague = make_user("petrova", Role.MANAGER, "Ольга", "Петрова")
    company, leader = client_with_a_decision_maker(manager)
    inquiry = qualified_inquiry(manager, company)
    assert inquiry.status == InquiryStatus.QUALIFIED

    # The curator opens the inquiry and converts it into a deal.
    log_in(page, manager.username)
    page.goto(f"/inquiries/{inquiry.pk}/")
    page.click("[data-testid=convert]")
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    deal = Deal.objects.get(inquiry=inquiry)
    assert page.url.endswith(f"/deals/{deal.pk}/")
    assert deal.company == company and deal.owner == manager and deal.stage == stage("acquaintance")
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.CONVERTED
    expect(page.locator("[data-testid=deal-stage]")).to_have_text("Знакомство")

    # No amount yet: the edit form gives it one; then the next stage, «Переговоры».
    assert deal.amount is None
    page.click(f"a[href$='/deals/{deal.pk}/edit/']")
    page.wait_for_url(re.compile(rf"/deals/{deal.pk}/edit/$"))
    page.fill("[name=amount]", "2450000")
    page.click("[data-testid=save-deal]")
    page.wait_for_url(re.compile(rf"/deals/{deal.pk}/$"))
    deal.refresh_from_db()
    assert deal.amount == Decimal("2450000")
    page.click("[data-testid=move-next] button[type=submit]")
    expect(page.locator("[data-testid=deal-stage]")).to_have_text("Переговоры")
    deal.refresh_from_db()
    assert deal.stage == stage("negotiations")
    # The deal page says beforehand what «Договор» asks for.
    expect(
        page.locator(
            "[data-testid=next-standards] [data-testid=unmet-standards] li[data-code=required_activity]"
        )
    ).to_be_visible()

    # «Договор» through the no-JS move control, from the keyboard: refused, the missing meeting listed, the
    # deal stays.
    version = deal.version
    move_form = page.locator("[data-testid=move-form]")
    move_form.locator("select[name=stage]").focus()
    move_form.locator("select[name=stage]").select_option(label="Договор")
    move_form.locator("[data-testid=move-submit]").press("Enter")
    page.wait_for_url(re.compile(rf"/deals/{deal.pk}/move/$"))
    missing = page.locator("[data-testid=move-refused] [data-testid=unmet-standards]")
    expect(missing.locator("li[data-code=required_activity]")).to_be_visible()
    assert "Договор" in missing.inner_text()
    expect(page.locator("[data-testid=deal-stage]")).to_have_text("Переговоры")
    screenshot(page, "01-deal-unmet-standards")
    deal.refresh_from_db()
    assert deal.stage == stage("negotiations") and deal.version == version
    assert not StageVisit.objects.filter(deal=deal, stage=stage("contract")).exists()

    # A meeting with the decision maker, logged from the deal page; its next step is today.
    page.goto(f"/deals/{deal.pk}/")
    page.click("[data-testid=log-contact]")
    page.wait_for_url(re.compile(r"/activities/new/\?"))
    page.select_option("[name=kind]", ActivityKind.MEETING.value)
    page.check(f"input[name=contacts][value='{leader.pk}']")
    page.fill("[name=subject]", "Встреча у клиента")
    page.fill("[name=result]", MEETING_RESULT)
    page.fill("[name=next_step]", NEXT_STEP)
    page.fill("[name=next_step_on]", timezone.localdate().isoformat())
    screenshot(page, "02-activity-form")
    page.click("form[method=post] button[type=submit].btn-primary")
    page.wait_for_url(re.compile(rf"/deals/{deal.pk}/$"))
    meeting = Activity.objects.get(deal=deal)
    assert meeting.kind == ActivityKind.MEETING and meeting.author == manager
    assert list(meeting.contacts.all()) == [leader]
    expect(page.locator(f"[data-testid=deal-timeline] #activity-{meeting.pk}")).to_contain_text(
        MEETING_RESULT
    )
    expect(page.locator("[data-testid=next-standards] [data-testid=standards-met]")).to_be_visible()

    # Now «Договор» is open to it.
    page.click("[data-testid=move-next] button[type=submit]")
    expect(page.locator("[data-testid=deal-stage]")).to_have_text("Договор")
    expect(page.locator("[data-testid=stage-history]")).to_contain_text("Договор")
    screenshot(page, "03-deal-moved")
    deal.refresh_from_db()
    assert deal.stage == stage("contract")
    visit = StageVisit.objects.get(deal=deal, stage=stage("contract"))
    assert visit.entered_by == manager and not visit.override_reason

    # A colleague reads the meeting on the client's contact history (R3).
    other = new_page(page, live_server)
    try:
        log_in(other, colleague.username)
        other.goto(f"/activities/company/{company.pk}/")
        entry = other.locator(f"#activity-{meeting.pk}")
        expect(entry).to_contain_text(MEETING_RESULT)
        expect(entry).to_contain_text(leader.full_name)
        expect(entry).to_contain_text(manager.full_name)
        screenshot(other, "04-colleague-company-timeline")
    finally:
        other.context.close()

    # The reminder job: the curator is told of the decision maker's birthday three days ahead (D10).
    run_reminders()
    notice = Notification.objects.get(recipient=manager, kind=KIND_BIRTHDAY)
    assert leader.full_name in notice.text
    assert not Notification.objects.filter(recipient=colleague, kind=KIND_BIRTHDAY).exists()
    page.goto(f"/deals/{deal.pk}/")
    expect(page.locator("[data-testid=unread-notifications]")).to_be_visible()
    page.click(".kurator-bell")
    page.wait_for_url(re.compile(r"/notifications/"))
    expect(page.locator(f"#notification-{notice.pk}")).to_contain_text(leader.full_name)
    screenshot(page, "05-notifications")

    # «My day»: the meeting's next step is the curator's task for today.
    task = Task.objects.get(activity=meeting)
    assert task.assignee == manager and task.deal == deal
    page.goto("/my-day/")
    expect(page.locator(f"#task-{task.pk}")).to_contain_text(NEXT_STEP)
    screenshot(page, "06-my-day")


def test_board_moves_a_dragged_deal_when_the_standard_is_met_and_puts_it_back_when_not(
    page: Any, screenshot: Any
) -> None:
    """S3, R1: on the board a deal with an amount dragged from «Знакомство» to «Переговоры» moves; the same
    deal dragged onto «Договор» without a meeting with a decision maker goes back to its column and the
    board lists what is missing; nothing is written by the refused move."""
    manager = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    company, _leader = client_with_a_decision_maker(manager)
    deal = sales_services.deal_create(
        actor=manager, company=company, title="Поставка станков", amount=Decimal("870000")
    )
    bare = sales_services.deal_create(actor=manager, company=company, title="Сервисный контракт")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, manager.username)
    page.goto("/deals/")
    card = page.locator(f"[data-testid=deal-{deal.pk}]")
    expect(page.locator(f"[data-testid=stage-acquaintance] [data-testid=deal-{deal.pk}]")).to_be_visible()
    screenshot(page, "01-board")

    # Dragged to «Переговоры»: the amount is there, the move succeeds and the board reloads its cards.
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/move/")) as moved:
        card.locator(".kurator-drag-handle").drag_to(
            page.locator("[data-testid=stage-negotiations] [data-cards]")
        )
    assert moved.value.status == 200
    deal.refresh_from_db()
    assert deal.stage == stage("negotiations")
    # The board re-read from the server carries the new version on the card.
    expect(card).to_have_attribute("data-version", str(deal.version))
    expect(page.locator(f"[data-testid=stage-negotiations] [data-testid=deal-{deal.pk}]")).to_be_visible()

    # Dragged onto «Договор» with no meeting: refused, the card goes back, the missing meeting is listed.
    version = deal.version
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/move/")) as refused:
        card.locator(".kurator-drag-handle").drag_to(
            page.locator("[data-testid=stage-contract] [data-cards]")
        )
    assert refused.value.status == 400
    missing = page.locator("[data-testid=move-refused] [data-testid=unmet-standards]")
    expect(missing.locator("li[data-code=required_activity]")).to_be_visible()
    expect(page.locator(f"[data-testid=stage-negotiations] [data-testid=deal-{deal.pk}]")).to_be_visible()
    assert page.locator(f"[data-testid=stage-contract] [data-testid=deal-{deal.pk}]").count() == 0
    assert page.locator("[data-testid=override-form]").count() == 0  # a manager may not override
    screenshot(page, "02-board-drag-refused")
    deal.refresh_from_db()
    assert deal.stage == stage("negotiations") and deal.version == version

    # A deal without an amount dragged to «Переговоры» is refused too: the amount is asked for.
    with page.expect_response(lambda r: r.url.endswith(f"/deals/{bare.pk}/move/")) as no_amount:
        page.locator(f"[data-testid=deal-{bare.pk}] .kurator-drag-handle").drag_to(
            page.locator("[data-testid=stage-negotiations] [data-cards]")
        )
    assert no_amount.value.status == 400
    expect(missing.locator("li[data-code='required_field:amount']")).to_be_visible()
    expect(page.locator(f"[data-testid=stage-acquaintance] [data-testid=deal-{bare.pk}]")).to_be_visible()
    bare.refresh_from_db()
    assert bare.stage == stage("acquaintance")

    # The same without a mouse: the card's "Move to…" link opens the move page, which refuses it alike.
    page.locator(f"[data-testid=move-{bare.pk}]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/deals/{bare.pk}/move/"))
    move_form = page.locator("[data-testid=move-form]")
    move_form.locator("select[name=stage]").select_option(label="Переговоры")
    move_form.locator("[data-testid=move-submit]").press("Enter")
    expect(
        page.locator(
            "[data-testid=move-refused] [data-testid=unmet-standards] li[data-code='required_field:amount']"
        )
    ).to_be_visible()
    bare.refresh_from_db()
    assert bare.stage == stage("acquaintance")
    assert not errors, errors


def test_head_of_sales_reads_the_funnel_and_the_pipeline_settings(page: Any, screenshot: Any) -> None:
    """S3, R1: the head of sales opens the funnel with deals that went through the stages (the chart and
    the stage table) and the pipeline settings with the default pipeline's stages and their standards."""
    head = make_user("smirnova", Role.HEAD_OF_SALES, "Мария", "Смирнова")
    manager = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    company, leader = client_with_a_decision_maker(manager)
    for n, amount in enumerate(("120000", "450000", "990000"), start=1):
        deal = sales_services.deal_create(
            actor=manager, company=company, title=f"Сделка {n}", amount=Decimal(amount), contacts=[leader]
        )
        sales_services.deal_move(actor=manager, deal=deal, stage=stage("negotiations"))
        if n == 3:
            from kurator.activities.services import activity_create

            activity_create(
                actor=manager,
                company=company,
                deal=deal,
                kind=ActivityKind.MEETING,
                occurred_at=timezone.now(),
                contacts=[leader],
                result="Договорились",
            )
            sales_services.deal_move(actor=manager, deal=deal, stage=stage("contract"))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, head.username)
    page.goto("/deals/funnel/")
    expect(page.locator("[data-testid=funnel-stages]")).to_be_visible()
    expect(page.locator("[data-testid=funnel-negotiations]")).to_contain_text("3")
    expect(page.locator("[data-testid=funnel-contract]")).to_contain_text("1")
    expect(page.locator("#funnel-chart")).to_be_visible()
    # The chart drawn and its bars grown to their values (Chart.js animates them) before the screenshot.
    page.wait_for_function(
        "() => { const c = window.Chart && window.Chart.getChart('funnel-chart');"
        " return !!c && !window.Chart.animator.running(c); }"
    )
    screenshot(page, "01-funnel")

    page.goto("/deals/pipelines/")
    default = stage("contract").pipeline
    settings_card = page.locator(f"[data-testid=pipeline-{default.pk}]")
    expect(settings_card).to_contain_text("Договор")
    expect(settings_card).to_contain_text("Переговоры")
    screenshot(page, "02-pipelines")
    assert not errors, errors
