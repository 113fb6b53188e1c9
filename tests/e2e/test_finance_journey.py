"""Issue 5's "done when" journeys, in a real Chromium (D4, D5, D6, D7, D8, R4).

1. Finance imports the 1C statement ``statement_two_matched_one_queued.txt`` from Finance → Bank statements:
   two payments are matched (Альфа-Снаб by the invoice number in the purpose, Бета Трейд by amount), the third
   (an INN no client has) waits in the review queue; finance assigns it to the client and its invoice, and the
   client's Receivables tab and Solvency tab (rating, payment discipline) change. The same file imported again
   is refused on the upload form (when it was imported) and adds nothing.
2. The curator registers a contract with an overdue obligation of ours (flagged), enters an order with two
   lines whose confirmation breaks the credit limit finance set; the head of sales approves it on Credit
   approvals and the order is confirmed; the Purchases tab shows the statistics with it.
3. A colleague manager reads Contracts, Purchases, Receivables and Conflicts of that client, gets only the
   lock notice on Solvency (403, no figures) and none of the buttons that would write.
4. A conflict the curator registers shows on the dossier header as open; resolving it removes it.

The clients and invoices the statement expects come from ``kurator/finance/tests/factories_bank.py``; a third
client, Гамма Логистик, is in the dossiers under another INN, so its payment cannot be matched and finance
chooses it by hand. Assertions use stable hooks (``data-testid``, form field names, element ids) and data the
test wrote (names, numbers, amounts in the ``1 234,56 ₽`` format), so they hold whether or not the interface
strings are translated."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from kurator.accounts.models import Role, User
from kurator.companies.models import Company
from kurator.finance.models import (
    ApprovalStatus,
    BankStatement,
    Conflict,
    Contract,
    CreditApproval,
    CreditLimit,
    Invoice,
    InvoiceStatus,
    Obligation,
    ObligationParty,
    Order,
    OrderStatus,
    Payment,
    ReviewStatus,
)
from kurator.finance.services import contracts as contract_services
from kurator.finance.tests.factories_bank import STATEMENT, statement_clients
from kurator.finance.tests.factories_orders import (
    credit_limit_factory,
    line,
    order_factory,
    product_factory,
)
from kurator.finance.tests.factories_receivables import invoice_factory, payment_factory
from tests.e2e.helpers import csrf_token, log_in, make_user, new_page
from tests.factories import company_factory, contact_factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
GAMMA_PAYMENT = Decimal("27300.00")


@pytest.fixture(autouse=True)
def seeded_defaults(transactional_db: Any) -> None:
    """The dictionaries and the default pipeline the migrations seed: a transactional test that ran before
    this one emptied the tables."""
    for module in (
        "kurator.companies.migrations.0002_search_index_and_dictionaries",
        "kurator.sales.migrations.0002_default_pipeline",
    ):
        importlib.import_module(module).seed(apps, None)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def rub(amount: str) -> str:
    """``"27300.00"`` → ``27 300,00 ₽`` as the pages print money (non-breaking spaces)."""
    whole, _dot, cents = f"{Decimal(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{NBSP.join(groups)},{cents}{NBSP}₽"


def watch_errors(page: Any) -> list[str]:
    """JavaScript errors of the page (a broken chart script shows up here)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def wait_for_charts(page: Any) -> None:
    """Every Chart.js chart on the page drawn and done animating, so the screenshot shows its bars."""
    page.wait_for_function(
        "() => !window.Chart || [...document.querySelectorAll('canvas')].every(c => {"
        " const chart = window.Chart.getChart(c); return !chart || !window.Chart.animator.running(chart); })"
    )


def dossier_tab(page: Any, company: Company, tab: str) -> Any:
    """Open the dossier and click the tab whose link ends in ``/<tab>/`` (as a person does)."""
    page.goto(f"/companies/{company.pk}/")
    with page.expect_navigation():
        page.click(f".kurator-tabs a.nav-link[href$='/company/{company.pk}/{tab}/']")
    return page


# Journey 1: the bank statement -----------------------------------------------------------------------------


@dataclass
class Gamma:
    company: Company
    paid: Invoice
    open: Invoice


def gamma_client(curator: User, finance: User) -> Gamma:
    """Гамма Логистик is a client under another INN than the one it paid from (7417400290), so the import
    cannot match its payment. Invoice 290 was paid on time; invoice 302 (27 300,00, due 13.11.2026) is the
    open one the payment of 24.11.2026 settles, 11 days late.

    Payment discipline (selectors/solvency.py): before — 2 invoices counted, 1 late (302, still open, late
    since 13.11), the oldest overdue ≥ 14 days → 1 + 2|1 + 1|0 points of 9 → C (D once 302 is more than 30
    days overdue); after — 302 paid 11 days late: share 1/2 → 1, worst 11 days → 2, nothing overdue → 3,
    6 of 9 = 0.67 → **B**."""
    company = company_factory(
        actor=curator, full_name="ООО «Гамма Логистик»", short_name="Гамма Логистик", city="Челябинск"
    )
    paid = invoice_factory(
        actor=finance,
        company=company,
        number="290",
        amount=Decimal("10000.00"),
        issued_on=date(2026, 8, 20),
        due_on=date(2026, 9, 4),
    )
    payment_factory(
        actor=finance,
        company=company,
        amount=Decimal("10000.00"),
        paid_on=date(2026, 9, 1),
        reference="1187",
        allocations=[(paid, Decimal("10000.00"))],
    )
    open_ = invoice_factory(
        actor=finance,
        company=company,
        number="302",
        amount=GAMMA_PAYMENT,
        issued_on=date(2026, 10, 29),
        due_on=date(2026, 11, 13),
    )
    return Gamma(company=company, paid=paid, open=open_)


def bucket_of(due_on: date) -> str:
    """The ageing bucket of an open invoice due on ``due_on``, today."""
    days = (timezone.localdate() - due_on).days
    if days <= 0:
        return "not_due"
    for key, most in (("d1_30", 30), ("d31_60", 60), ("d61_90", 90)):
        if days <= most:
            return key
    return "over_90"


def solvency_text(page: Any, company: Company) -> tuple[str, str]:
    """The rating letter and the payment discipline card's text of ``company``'s Solvency tab."""
    dossier_tab(page, company, "solvency")
    rating = page.locator("[data-testid=solvency-rating] [data-testid=rating]")
    expect(rating).to_be_visible()
    return rating.inner_text().strip(), page.locator("[data-testid=solvency-discipline]").inner_text()


def upload_statement(page: Any) -> None:
    page.set_input_files("[data-testid=bank-upload] input[name=file]", str(STATEMENT))
    with page.expect_navigation():
        page.click("[data-testid=bank-upload] button[type=submit]")


def test_finance_imports_a_statement_resolves_the_queued_payment_and_sees_receivables_and_rating_change(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    """D6, D4: finance imports the 1C statement from Finance → Bank statements: two payments matched
    (invoice 123 by its number, 245 by amount), one (INN 7417400290) in the review queue; assigned to Гамма
    Логистик and its invoice 302, the client's receivables drop by 27 300,00 and its rating goes from C/D to B
    with the payment discipline changed. Importing the same file again is refused and adds nothing."""
    curator = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    finance = make_user("kuznetsova", Role.FINANCE, "Елена", "Кузнецова")
    clients = statement_clients(curator=curator, finance=finance)
    gamma = gamma_client(curator, finance)
    errors = watch_errors(page)

    log_in(page, finance.username)

    # The finance page: the ageing of all receivables (267 800,00 open) as a table and a chart.
    with page.expect_navigation():
        page.click("a.nav-link[href='/finance/']")
    expect(page.locator("[data-testid=ageing-total]")).to_have_text(rub("267800"))
    expect(page.locator("#ageing-chart")).to_be_visible()
    wait_for_charts(page)
    screenshot(page, "01-finance-ageing")

    # Before: Гамма owes 27 300,00, all overdue, in the bucket of its days overdue; its rating is C or D.
    dossier_tab(page, gamma.company, "receivables")
    ageing = page.locator("[data-testid=company-ageing]")
    expect(ageing.locator("[data-testid=receivables-total]")).to_have_text(rub(str(GAMMA_PAYMENT)))
    expect(ageing.locator("[data-testid=receivables-overdue]")).to_have_text(rub(str(GAMMA_PAYMENT)))
    bucket = ageing.locator(f"[data-testid=bucket-{bucket_of(gamma.open.due_on)}]")
    expect(bucket).to_contain_text(rub(str(GAMMA_PAYMENT)))
    expect(page.locator("[data-testid=open-invoices]")).to_contain_text("302")
    screenshot(page, "02-gamma-receivables-before")
    rating_before, discipline_before = solvency_text(page, gamma.company)
    assert rating_before in ("C", "D"), rating_before
    assert rub(str(GAMMA_PAYMENT)) in discipline_before
    screenshot(page, "03-gamma-solvency-before")

    # Finance → Bank statements: upload the file; two matched, one sent to review.
    page.goto("/finance/")
    with page.expect_navigation():
        page.click("a.nav-link[href='/finance/bank/']")
    upload_statement(page)
    page.wait_for_url(re.compile(r"/finance/bank/statements/\d+/$"))
    expect(page.locator("[data-testid=matched-count]")).to_have_text("2")
    expect(page.locator("[data-testid=queued-count]")).to_have_text("1")
    expect(page.locator("[data-testid=duplicate-count]")).to_have_text("0")
    matched = page.locator("[data-testid=bank-matched]")
    expect(matched).to_contain_text("Альфа-Снаб")
    expect(matched).to_contain_text("№ 123")
    expect(matched).to_contain_text("Бета Трейд")
    expect(matched).to_contain_text("№ 245")
    queued = page.locator("[data-testid=bank-queued]")
    expect(queued).to_contain_text("7417400290")
    expect(queued).to_contain_text(rub(str(GAMMA_PAYMENT)))
    screenshot(page, "04-bank-import-result")
    for invoice in (clients.alpha_123, clients.beta_245):
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
    pending = Payment.objects.get(review_status=ReviewStatus.PENDING)
    assert pending.company is None and pending.amount == GAMMA_PAYMENT

    # The review queue on the bank page holds the one payment; finance reviews it.
    with page.expect_navigation():
        page.click("a[href='/finance/bank/']")
    queue = page.locator("[data-testid=bank-queue]")
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(queue).to_contain_text("Гамма Логистик")
    screenshot(page, "05-review-queue")
    with page.expect_navigation():
        queue.locator(f"a[href='/finance/bank/payments/{pending.pk}/']").click()

    # Whose payment: found by name, the client chosen, then its invoice 302.
    page.fill("[data-testid=payer-search] input[name=q]", "Гамма")
    with page.expect_navigation():
        page.click("[data-testid=payer-search] button[type=submit]")
    with page.expect_navigation():
        page.click(f"[data-testid=payer-choices] a[href*='company={gamma.company.pk}']")
    resolve = page.locator("[data-testid=resolve-form]")
    expect(resolve).to_contain_text("Гамма Логистик")
    resolve.locator(f"input[name=invoices][value='{gamma.open.pk}']").check()
    screenshot(page, "06-review-payment")
    with page.expect_navigation():
        resolve.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/finance/bank/$"))
    expect(page.locator("[data-testid=bank-queue] tbody tr")).to_have_count(0)
    expect(page.locator("[data-testid=bank-reviewed]")).to_contain_text("№ 302")
    screenshot(page, "07-queue-resolved")
    pending.refresh_from_db()
    assert pending.company == gamma.company and pending.review_status == ReviewStatus.RESOLVED
    gamma.open.refresh_from_db()
    assert gamma.open.status == InvoiceStatus.PAID and gamma.open.paid_on == date(2026, 11, 24)

    # The same file again: refused on the upload form, saying when it was imported; nothing added.
    payments = Payment.objects.count()
    upload_statement(page)
    expect(page).to_have_url(re.compile(r"/finance/bank/$"))
    refusal = page.locator("[data-testid=bank-upload] #id_file_errors")
    expect(refusal).to_contain_text(STATEMENT.name)
    imported_on = timezone.localtime(BankStatement.objects.get().created_at).strftime("%d.%m.%Y")
    expect(refusal).to_contain_text(imported_on)
    screenshot(page, "08-bank-import-again")
    assert Payment.objects.count() == payments
    assert Payment.objects.filter(statement__isnull=False).count() == 3
    assert BankStatement.objects.count() == 1

    # After: Гамма owes nothing; the rating is B and the payment discipline changed.
    dossier_tab(page, gamma.company, "receivables")
    ageing = page.locator("[data-testid=company-ageing]")
    expect(ageing.locator("[data-testid=receivables-total]")).to_have_text(rub("0"))
    expect(ageing.locator("[data-testid=receivables-overdue]")).to_have_text(rub("0"))
    expect(ageing.locator(f"[data-testid=bucket-{bucket_of(gamma.open.due_on)}]")).not_to_contain_text(
        rub(str(GAMMA_PAYMENT))
    )
    screenshot(page, "09-gamma-receivables-after")
    rating_after, discipline_after = solvency_text(page, gamma.company)
    assert rating_after == "B" != rating_before
    assert discipline_after != discipline_before
    assert rub(str(GAMMA_PAYMENT)) not in discipline_after
    screenshot(page, "10-gamma-solvency-after")

    # The finance page's total fell by the three payments: 267 800 − 150 000 − 48 500 − 27 300 = 42 000.
    page.goto("/finance/")
    expect(page.locator("[data-testid=ageing-total]")).to_have_text(rub("42000"))
    assert not errors, errors


# Journeys 2 and 3: contract, order over the credit limit, a colleague's view --------------------------------


def test_curator_enters_a_contract_and_an_order_over_the_limit_head_approves_colleague_reads_only(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    """D5, D8, D9, D6, R4: the curator registers a signed contract and an obligation of ours five days
    overdue (flagged on the contract and the Contracts tab), enters an order with two lines (2 × 45 000,00 and
    10 × 1 500,00 less 10 % = 103 500,00) under a 100 000,00 credit limit: confirming it asks the head of
    sales, who approves it on Credit approvals, and the order is confirmed. The Purchases tab computes
    2 purchases, 143 500,00 in all, 71 750,00 on average, 2 categories. A colleague manager reads the tabs,
    gets only the lock notice on Solvency and no button that writes."""
    curator = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    colleague = make_user("petrova", Role.MANAGER, "Ольга", "Петрова")
    head = make_user("smirnova", Role.HEAD_OF_SALES, "Мария", "Смирнова")
    finance = make_user("kuznetsova", Role.FINANCE, "Елена", "Кузнецова")
    company = company_factory(
        actor=curator, full_name="ООО «Север-Металл»", short_name="Север-Металл", city="Вологда"
    )
    machine = product_factory(actor=head, name="Станок токарный 16К20", category="Станки", base_price="45000")
    cutter = product_factory(
        actor=head, name="Фреза концевая 12 мм", category="Инструмент", base_price="1500"
    )
    today = timezone.localdate()
    earlier = order_factory(
        company=company,
        actor=head,
        ordered_on=today - timedelta(days=45),
        lines=[line(machine, 1, "40000")],
        status=OrderStatus.COMPLETED,
    )
    assert earlier.total == Decimal("40000.00")
    credit_limit_factory(company=company, amount="100000", actor=finance)
    errors = watch_errors(page)

    log_in(page, curator.username)

    # Contracts tab → New contract: signed, 30 days to pay.
    dossier_tab(page, company, "contracts")
    with page.expect_navigation():
        page.click("[data-testid=new-contract]")
    form = page.locator("[data-testid=contract-form]")
    form.locator("[name=number]").fill("17-П/2026")
    form.locator("[name=subject]").fill("Поставка токарных станков и инструмента")
    form.locator("[name=status]").select_option("signed")
    form.locator("[name=amount]").fill("1 200 000")
    form.locator("[name=signed_on]").fill((today - timedelta(days=40)).isoformat())
    form.locator("[name=valid_until]").fill((today + timedelta(days=325)).isoformat())
    form.locator("[name=payment_term_days]").fill("30")
    with page.expect_navigation():
        page.click("[data-testid=save-contract]")
    page.wait_for_url(re.compile(r"/finance/contracts/\d+/$"))
    contract = Contract.objects.get(company=company, number="17-П/2026")
    assert contract.status == "signed" and contract.amount == Decimal("1200000")

    # An obligation of ours that fell due five days ago: flagged on the contract page.
    add = page.locator("[data-testid=obligation-add]")
    add.locator("[name=new-party]").select_option(ObligationParty.OURS.value)
    add.locator("[name=new-description]").fill("Поставить первую партию станков")
    add.locator("[name=new-due_on]").fill((today - timedelta(days=5)).isoformat())
    add.locator("[name=new-responsible]").select_option(str(curator.pk))
    with page.expect_navigation():
        add.locator("button[type=submit]").click()
    obligation = Obligation.objects.get(contract=contract)
    assert obligation.party == ObligationParty.OURS and obligation.done_on is None
    row = page.locator(f"[data-testid=obligation-{obligation.pk}]")
    expect(row).to_have_attribute("data-overdue", "1")
    expect(row.locator("[data-testid=overdue-badge]")).to_be_visible()
    expect(page.locator("[data-testid=overdue-ours]")).to_contain_text("1")
    expect(page.locator("[data-testid=contract-overdue]")).to_be_visible()
    screenshot(page, "01-contract-page")
    dossier_tab(page, company, "contracts")
    expect(page.locator(f"[data-testid=overdue-{contract.pk}]")).to_contain_text("1")
    expect(page.locator("[data-testid=overdue-total]")).to_be_visible()
    screenshot(page, "02-contracts-tab")

    # Purchases tab → New order with two lines under the contract.
    dossier_tab(page, company, "purchases")
    expect(page.locator("[data-testid=credit-limit]")).to_have_text(rub("100000"))
    with page.expect_navigation():
        page.click("[data-testid=new-order]")
    page.select_option("[data-testid=order-form] [name=contract]", str(contract.pk))
    page.select_option("[name=lines-0-product]", str(machine.pk))
    page.fill("[name=lines-0-quantity]", "2")
    with page.expect_navigation():
        page.click("[data-testid=add-line]")
    page.select_option("[name=lines-1-product]", str(cutter.pk))
    page.fill("[name=lines-1-quantity]", "10")
    page.fill("[name=lines-1-discount_percent]", "10")
    screenshot(page, "03-order-form")
    with page.expect_navigation():
        page.click("[data-testid=save-order]")
    page.wait_for_url(re.compile(r"/finance/orders/\d+/$"))
    order = Order.objects.exclude(pk=earlier.pk).get(company=company)
    assert order.status == OrderStatus.DRAFT and order.contract == contract
    assert order.total == Decimal("103500.00")
    expect(page.locator("[data-testid=order-total]")).to_have_text(rub("103500"))

    # Confirming breaks the limit (103 500 owed on confirmed orders > 100 000): the head of sales decides.
    with page.expect_navigation():
        page.click("[data-testid=status-confirmed]")
    expect(page.locator("[data-testid=order-approvals]")).to_be_visible()
    approval = CreditApproval.objects.get(order=order)
    assert approval.status == ApprovalStatus.PENDING
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    screenshot(page, "04-order-awaiting-approval")

    # The head of sales approves it on Finance → Credit approvals.
    boss = new_page(page, live_server)
    try:
        boss_errors = watch_errors(boss)
        log_in(boss, head.username)
        with boss.expect_navigation():
            boss.click("a.nav-link[href='/finance/']")
        with boss.expect_navigation():
            boss.click("a.nav-link[href='/finance/approvals/']")
        request = boss.locator(f"[data-testid=approval-{approval.pk}]")
        expect(request).to_contain_text("Север-Металл")
        expect(request).to_contain_text(rub("103500"))
        screenshot(boss, "05-credit-approvals")
        request.locator("textarea[name=comment]").fill("Клиент платит в срок, лимит пересмотрим")
        with boss.expect_navigation():
            request.locator("button[name=decision][value=approve]").click()
        expect(boss.locator("[data-testid=pending-approvals] [data-testid^=approval-]")).to_have_count(0)
        expect(
            boss.locator(f"[data-testid=decided-approvals] [data-testid=approval-{approval.pk}]")
        ).to_be_visible()
        screenshot(boss, "06-credit-approvals-decided")
        assert not boss_errors, boss_errors
    finally:
        boss.context.close()
    approval.refresh_from_db()
    order.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED and approval.decided_by == head
    assert order.status == OrderStatus.CONFIRMED

    # The curator's Purchases tab: two purchases, 143 500,00, 71 750,00 on average, two categories.
    dossier_tab(page, company, "purchases")
    expect(page.locator("[data-testid=stat-total]")).to_have_text(rub("143500"))
    expect(page.locator("[data-testid=stat-average]")).to_have_text(rub("71750"))
    expect(page.locator("[data-testid=stat-categories] .badge")).to_have_count(2)
    expect(page.locator(f"[data-testid=order-row-{order.pk}]")).to_contain_text(rub("103500"))
    screenshot(page, "07-purchases-tab")
    assert not errors, errors

    # A colleague manager reads the client's finance tabs and may write nothing (R4).
    other = new_page(page, live_server)
    try:
        other_errors = watch_errors(other)
        log_in(other, colleague.username)
        dossier_tab(other, company, "contracts")
        expect(other.locator(f"[data-testid=contract-row-{contract.pk}]")).to_contain_text("17-П/2026")
        expect(other.locator("[data-testid=new-contract]")).to_have_count(0)
        other.goto(f"/finance/contracts/{contract.pk}/")
        expect(other.locator(f"[data-testid=obligation-{obligation.pk}]")).to_have_attribute(
            "data-overdue", "1"
        )
        for hook in ("edit-contract", "obligation-add", f"done-{obligation.pk}"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)

        dossier_tab(other, company, "purchases")
        expect(other.locator("[data-testid=stat-total]")).to_have_text(rub("143500"))
        for hook in ("new-order", "credit-limit-form"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)
        other.goto(f"/finance/orders/{order.pk}/")
        expect(other.locator("[data-testid=order-total]")).to_have_text(rub("103500"))
        for hook in ("edit-order", "order-actions"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)

        dossier_tab(other, company, "receivables")
        expect(other.locator("[data-testid=company-receivables]")).to_be_visible()
        for hook in ("new-invoice", "new-payment", "collection-form"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)

        dossier_tab(other, company, "conflicts")
        expect(other.locator("[data-testid=company-conflicts]")).to_be_visible()
        expect(other.locator("[data-testid=new-conflict]")).to_have_count(0)

        response = other.goto(f"/finance/company/{company.pk}/solvency/")
        assert response is not None and response.status == 403
        expect(other.locator("[data-testid=solvency-locked]")).to_be_visible()
        for hook in ("rating", "solvency-factors", "solvency-discipline", "suggested-limit", "add-statement"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)
        screenshot(other, "08-colleague-solvency-locked")

        # Posting what the missing buttons would post is refused too, and nothing changes.
        token = csrf_token(other)
        for url, data in (
            (f"/finance/company/{company.pk}/credit-limit/", {"amount": "5000000"}),
            (
                f"/finance/contracts/{contract.pk}/obligations/",
                {"new-party": "client", "new-description": "Оплатить", "new-due_on": today.isoformat()},
            ),
            (f"/finance/orders/{order.pk}/status/", {"status": "shipped", "version": str(order.version)}),
        ):
            refused = other.request.post(url, form={"csrfmiddlewaretoken": token, **data})
            assert refused.status == 403, (url, refused.status)
        assert not other_errors, other_errors
    finally:
        other.context.close()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert CreditLimit.objects.get(company=company).amount == Decimal("100000")
    assert list(Obligation.objects.filter(contract=contract)) == [obligation]


# Journey 4: a conflict on the dossier header ----------------------------------------------------------------


def test_a_conflict_the_curator_registers_shows_open_on_the_dossier_header_until_resolved(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    """D7: the curator registers a conflict on the Conflicts tab (the people of both sides, the contract it is
    about, severity high); the dossier header shows it as open on every tab, to a colleague too; once it is
    resolved with the resolution and its date the header no longer shows it and the tab keeps it resolved."""
    curator = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    colleague = make_user("petrova", Role.MANAGER, "Ольга", "Петрова")
    company = company_factory(
        actor=curator, full_name="ООО «Север-Металл»", short_name="Север-Металл", city="Вологда"
    )
    buyer = contact_factory(
        actor=curator, company=company, full_name="Лебедева Анна Игоревна", position="Менеджер по закупкам"
    )
    contract = contract_services.contract_create(
        actor=curator,
        company=company,
        number="17-П/2026",
        status="signed",
        signed_on=timezone.localdate() - timedelta(days=40),
    )
    errors = watch_errors(page)
    log_in(page, curator.username)

    dossier_tab(page, company, "conflicts")
    expect(page.locator("[data-testid=open-conflicts]")).to_have_count(0)
    with page.expect_navigation():
        page.click("[data-testid=new-conflict]")
    form = page.locator("[data-testid=conflict-form]")
    form.locator("[name=occurred_on]").fill(timezone.localdate().isoformat())
    form.locator("[name=severity]").select_option("high")
    form.locator("[name=title]").fill("Сорваны сроки поставки")
    form.locator("[name=description]").fill("Клиент жалуется: первая партия станков задержана на неделю.")
    form.locator("[name=our_people]").select_option(str(curator.pk))
    form.locator(f"[name=client_people][value='{buyer.pk}']").check()
    form.locator("[name=contract]").select_option(str(contract.pk))
    screenshot(page, "01-conflict-form")
    with page.expect_navigation():
        page.click("[data-testid=save-conflict]")
    page.wait_for_url(re.compile(r"/finance/conflicts/\d+/$"))
    conflict = Conflict.objects.get(company=company)
    assert conflict.status == "open" and conflict.contract == contract
    assert list(conflict.our_people.all()) == [curator]
    assert list(conflict.client_people.all()) == [buyer]
    screenshot(page, "02-conflict-page")

    # Open: on the dossier header, whichever tab, for the curator and for a colleague.
    page.goto(f"/companies/{company.pk}/")
    header = page.locator("[data-testid=open-conflicts]")
    expect(header).to_contain_text("1")
    screenshot(page, "03-dossier-header-open-conflict")
    dossier_tab(page, company, "conflicts")
    expect(page.locator("[data-testid=open-conflicts]")).to_be_visible()
    expect(page.locator(f"[data-testid=conflict-row-{conflict.pk}]")).to_contain_text(
        "Сорваны сроки поставки"
    )
    screenshot(page, "04-conflicts-tab")
    other = new_page(page, live_server)
    try:
        log_in(other, colleague.username)
        other.goto(f"/companies/{company.pk}/")
        expect(other.locator("[data-testid=open-conflicts]")).to_be_visible()
        dossier_tab(other, company, "conflicts")
        expect(other.locator("[data-testid=new-conflict]")).to_have_count(0)
        other.goto(f"/finance/conflicts/{conflict.pk}/")
        for hook in ("resolve-conflict", "edit-conflict-link"):
            expect(other.locator(f"[data-testid={hook}]")).to_have_count(0)
    finally:
        other.context.close()

    # Resolved with the resolution and its date: the header is clear again, the tab keeps the conflict.
    page.goto(f"/finance/conflicts/{conflict.pk}/")
    with page.expect_navigation():
        page.click("[data-testid=resolve-conflict]")
    resolve = page.locator("[data-testid=resolve-form]")
    resolve.locator("[name=resolution]").fill("Отгрузили партию экспрессом за наш счёт, клиент доволен.")
    resolve.locator("[name=resolved_on]").fill(timezone.localdate().isoformat())
    with page.expect_navigation():
        page.click("[data-testid=save-resolution]")
    expect(page.locator("[data-testid=conflict-resolution]")).to_contain_text("экспрессом")
    conflict.refresh_from_db()
    assert conflict.status == "resolved" and conflict.resolved_on == timezone.localdate()
    screenshot(page, "05-conflict-resolved")
    page.goto(f"/companies/{company.pk}/")
    expect(page.locator("[data-testid=open-conflicts]")).to_have_count(0)
    dossier_tab(page, company, "conflicts")
    expect(page.locator(f"[data-testid=conflict-row-{conflict.pk}]")).to_be_visible()
    expect(page.locator("[data-testid=open-conflicts]")).to_have_count(0)
    screenshot(page, "06-dossier-resolved")
    assert not errors, errors
