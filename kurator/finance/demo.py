"""Demo contracts, purchases, invoices, payments, collection work, statements and conflicts
(``manage.py demo_data``), on top of the demo companies and deals.

Everything goes through the services, as a user would enter it: the curator signs contracts and enters orders,
finance issues invoices and books payments. The history is spread over the last eighteen months, so that the
purchase statistics, the ageing buckets, payment discipline and ratings differ from client to client.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from kurator.accounts.models import Role, User
from kurator.companies.models import Company, CompanyStatus, ProductCategory
from kurator.finance.models import (
    CollectionKind,
    ConflictSeverity,
    ContractStatus,
    Invoice,
    ObligationParty,
    Order,
    OrderStatus,
    Product,
)
from kurator.finance.services import conflicts as conflict_services
from kurator.finance.services import contracts as contract_services
from kurator.finance.services import orders as order_services
from kurator.finance.services import receivables as receivable_services
from kurator.finance.services import solvency as solvency_services

# (category, name, article, unit, base price); the categories are the purchase profile's shipped dictionary.
PRODUCTS = (
    ("Оборудование", "Насос циркуляционный НЦ-25", "НЦ-25", "шт", "18 450,00"),
    ("Оборудование", "Насос дренажный НД-40", "НД-40", "шт", "12 900,00"),
    ("Оборудование", "Теплообменник пластинчатый ТП-10", "ТП-10", "шт", "126 000,00"),
    ("Оборудование", "Шкаф управления ШУ-3", "ШУ-3", "шт", "54 300,00"),
    ("Комплектующие", "Клапан обратный DN50", "КО-50", "шт", "3 250,00"),
    ("Комплектующие", "Задвижка чугунная DN100", "ЗЧ-100", "шт", "9 870,00"),
    ("Комплектующие", "Манометр МП-100", "МП-100", "шт", "1 540,00"),
    ("Комплектующие", "Датчик давления ДД-16", "ДД-16", "шт", "7 820,00"),
    ("Расходные материалы", "Труба полипропиленовая 32", "ТП-32", "м", "118,00"),
    ("Расходные материалы", "Кабель ВВГнг 3×2,5", "ВВГ-325", "м", "96,40"),
    ("Расходные материалы", "Прокладка паронитовая DN50", "ПП-50", "шт", "42,00"),
    ("Сервисное обслуживание", "Монтаж оборудования", "УСЛ-МОНТ", "час", "2 400,00"),
    ("Сервисное обслуживание", "Пусконаладочные работы", "УСЛ-ПНР", "компл", "35 000,00"),
    ("Сервисное обслуживание", "Сервисное обслуживание (месяц)", "УСЛ-СЕРВ", "мес", "15 000,00"),
    ("Программное обеспечение", "Лицензия системы диспетчеризации (год)", "ПО-ДИСП", "шт", "48 000,00"),
    ("Обучение", "Обучение эксплуатационного персонала", "ОБУЧ-1", "день", "22 000,00"),
)
CONTRACT_SUBJECTS = (
    "Поставка насосного оборудования",
    "Поставка трубопроводной арматуры",
    "Комплексная поставка и монтаж",
    "Сервисное обслуживание оборудования",
)
DELIVERY_TERMS = (
    "Доставка транспортом поставщика до склада покупателя",
    "Самовывоз со склада поставщика",
    "Доставка транспортной компанией за счёт покупателя",
)
COLLECTION_OUTCOMES = {
    CollectionKind.CALL: "Бухгалтерия подтвердила задолженность, обещают оплатить",
    CollectionKind.LETTER: "Направлено письмо с актом сверки",
    CollectionKind.CLAIM: "Направлена претензия, срок ответа 30 дней",
    CollectionKind.PROMISE: "Финансовый директор обещал оплату",
}
CONFLICTS = (
    ("Срыв сроков поставки", "Поставка задержана на 10 дней из-за перевозчика, клиент требует неустойку."),
    ("Брак в партии", "В партии клапанов обнаружено 3 изделия с дефектом уплотнения."),
    ("Разногласия по акту сверки", "Клиент не согласен с суммой задолженности в акте сверки."),
)


@dataclass
class DemoFinanceResult:
    contracts: int = 0
    orders: int = 0
    invoices: int = 0
    payments: int = 0


def _products(head: User) -> list[Product]:
    existing = list(Product.objects.filter(is_active=True))
    if existing:
        return existing
    categories = {c.name: c for c in ProductCategory.objects.filter(is_active=True)}
    if not categories:
        return []
    fallback = next(iter(categories.values()))
    # A category renamed or removed by the head of sales falls back to the first one left.
    return [
        order_services.product_create(
            actor=head,
            name=name,
            code=code,
            unit=unit,
            base_price=price,
            category=categories.get(kind, fallback),
        )
        for kind, name, code, unit, price in PRODUCTS
    ]


class _Numbers:
    """Invoice numbers run from 1 in each year, as in most Russian companies' books."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        for year, number in Invoice.objects.values_list("year", "number"):
            if number.isdigit():
                self.last[year] = max(self.last.get(year, 0), int(number))

    def next(self, year: int) -> str:
        self.last[year] = self.last.get(year, 0) + 1
        return str(self.last[year])


def _client(
    rng: random.Random,
    result: DemoFinanceResult,
    company: Company,
    products: list[Product],
    numbers: _Numbers,
    finance: User,
    head: User,
    today: date,
) -> None:
    curator = company.curator
    term = rng.choice((14, 30, 30, 45))
    signed = today - timedelta(days=rng.randint(400, 600))
    contract = contract_services.contract_create(
        actor=curator,
        company=company,
        number=f"{rng.randint(10, 99)}/{signed.year}-П",
        subject=rng.choice(CONTRACT_SUBJECTS),
        status=ContractStatus.IN_EXECUTION,
        signed_on=signed,
        valid_from=signed,
        valid_until=signed + timedelta(days=730),
        payment_term_days=term,
        prepayment_percent=rng.choice((0, 0, 30, 50)),
        delivery_terms=rng.choice(DELIVERY_TERMS),
    )
    result.contracts += 1
    contract_services.obligation_create(
        actor=curator,
        contract=contract,
        party=ObligationParty.OURS,
        description="Поставить годовой объём по спецификации № 2",
        due_on=today + timedelta(days=rng.randint(-20, 60)),
    )
    contract_services.obligation_create(
        actor=curator,
        contract=contract,
        party=ObligationParty.CLIENT,
        description="Подписать акт сверки за полугодие",
        due_on=today - timedelta(days=rng.randint(40, 90)),
        done_on=today - timedelta(days=rng.randint(10, 39)),
    )
    # How the client pays: most on time, some late, a few badly.
    lateness = rng.choice((0, 0, 0, 5, 12, 40, 75, 120))
    ordered_on = today - timedelta(days=rng.randint(420, 540))
    while ordered_on < today - timedelta(days=3):
        lines = [
            {
                "product": product,
                "quantity": Decimal(rng.choice((1, 2, 3, 5, 10, 20, 50))),
                "price": product.base_price,
                "discount_percent": Decimal(rng.choice((0, 0, 3, 5, 10))),
            }
            for product in rng.sample(products, rng.randint(1, 4))
        ]
        order = order_services.order_create(
            actor=curator, company=company, ordered_on=ordered_on, lines=lines, contract=contract
        )
        result.orders += 1
        if rng.random() < 0.06:
            order_services.order_set_status(actor=curator, order=order, status=OrderStatus.CANCELLED)
        else:
            _confirm(order, curator, head)
            order_services.order_set_status(actor=curator, order=order, status=OrderStatus.SHIPPED)
            order_services.order_set_status(actor=curator, order=order, status=OrderStatus.COMPLETED)
            _invoice_and_pay(rng, result, order, contract, numbers, finance, today, lateness)
        ordered_on += timedelta(days=rng.randint(20, 75))


def _confirm(order: Order, curator: User, head: User) -> None:
    """The curator confirms; where credit control stops the order, the head of sales approves it (the
    approval stays on record, as in a real department)."""
    try:
        order_services.order_set_status(actor=curator, order=order, status=OrderStatus.CONFIRMED)
    except order_services.CreditApprovalRequired as blocked:
        order_services.credit_approval_decide(
            actor=head, approval=blocked.approval, approve=True, comment="Клиент надёжный, отгрузку согласую"
        )
        order.refresh_from_db()


def _invoice_and_pay(
    rng: random.Random,
    result: DemoFinanceResult,
    order: object,
    contract: object,
    numbers: _Numbers,
    finance: User,
    today: date,
    lateness: int,
) -> None:
    issued_on: date = order.ordered_on  # type: ignore[attr-defined]
    invoice = receivable_services.invoice_create(
        actor=finance,
        company=order.company,  # type: ignore[attr-defined]
        number=numbers.next(issued_on.year),
        issued_on=issued_on,
        amount=order.total,  # type: ignore[attr-defined]
        contract=contract,
        order=order,
    )
    result.invoices += 1
    paid_on = invoice.due_on + timedelta(days=max(0, rng.randint(-5, 3) + rng.randint(0, lateness)))
    if paid_on >= today:
        return  # not paid yet: it is part of the receivables, due or overdue
    amount = invoice.amount
    if lateness >= 40 and rng.random() < 0.3:
        amount = (invoice.amount / 2).quantize(Decimal("0.01"))  # paid in part; the rest is overdue
    receivable_services.payment_create(
        actor=finance,
        company=invoice.company,
        paid_on=paid_on,
        amount=amount,
        reference=str(rng.randint(100, 9999)),
        purpose=f"Оплата по счёту № {invoice.number} от {issued_on:%d.%m.%Y}",
        allocations=[(invoice, amount)],
    )
    result.payments += 1


def _collection(rng: random.Random, company: Company, finance: User, today: date) -> None:
    overdue = list(
        Invoice.objects.filter(
            company=company, status__in=("issued", "partly_paid"), due_on__lt=today
        ).order_by("due_on")[:1]
    )
    if not overdue:
        return
    invoice = overdue[0]
    receivable_services.collection_action_create(
        actor=finance,
        company=company,
        kind=CollectionKind.CALL,
        # An invoice only just overdue was called about today, not in the future (the service refuses that).
        happened_on=min(today, invoice.due_on + timedelta(days=3)),
        outcome=COLLECTION_OUTCOMES[CollectionKind.CALL],
        invoice=invoice,
    )
    if (today - invoice.due_on).days > 30:
        receivable_services.collection_action_create(
            actor=finance,
            company=company,
            kind=CollectionKind.CLAIM,
            happened_on=min(today, invoice.due_on + timedelta(days=30)),
            outcome=COLLECTION_OUTCOMES[CollectionKind.CLAIM],
            invoice=invoice,
        )
    # A promise: some already broken (the reminder job flags them), some still ahead.
    promised = today + timedelta(days=rng.choice((-4, -1, 5, 10)))
    receivable_services.collection_action_create(
        actor=company.curator,
        company=company,
        kind=CollectionKind.PROMISE,
        happened_on=min(today, promised - timedelta(days=7)),
        outcome=COLLECTION_OUTCOMES[CollectionKind.PROMISE],
        invoice=invoice,
        promised_on=promised,
        promised_amount=invoice.amount - invoice.paid,
    )


def _statements(rng: random.Random, company: Company, finance: User, today: date) -> None:
    revenue = Decimal(rng.randint(30, 900)) * 1_000_000
    for year in (today.year - 2, today.year - 1):
        assets = revenue * Decimal(rng.choice(("0.6", "0.8", "1.1")))
        equity = assets * Decimal(rng.choice(("0.15", "0.35", "0.55")))
        current_liabilities = (assets - equity) * Decimal("0.7")
        solvency_services.statement_create(
            actor=finance,
            company=company,
            year=year,
            revenue=revenue,
            net_profit=(revenue * Decimal(rng.choice(("-0.02", "0.03", "0.07", "0.12")))).quantize(
                Decimal("1")
            ),
            total_assets=assets.quantize(Decimal("1")),
            equity=equity.quantize(Decimal("1")),
            liabilities=(assets - equity).quantize(Decimal("1")),
            current_assets=(assets * Decimal(rng.choice(("0.45", "0.6", "0.75")))).quantize(Decimal("1")),
            current_liabilities=current_liabilities.quantize(Decimal("1")),
        )
        revenue = (revenue * Decimal(rng.choice(("0.9", "1.05", "1.2")))).quantize(Decimal("1"))


def load_demo_finance(*, rng: random.Random, companies: list[Company]) -> DemoFinanceResult:
    """Contracts, orders, invoices and payments for about a third of the clients, with collection work where
    they are late, statements for some, credit limits for a few and three conflicts."""
    result = DemoFinanceResult()
    head = User.objects.filter(role=Role.HEAD_OF_SALES, is_active=True).order_by("pk").first()
    finance = User.objects.filter(role=Role.FINANCE, is_active=True).order_by("pk").first()
    if head is None or finance is None:
        return result
    products = _products(head)
    if not products:
        return result
    today = timezone.localdate()
    numbers = _Numbers()
    live = Company.objects.filter(pk__in=[c.pk for c in companies], status=CompanyStatus.CLIENT)
    clients = list(live.select_related("curator").order_by("pk"))
    buyers = [c for c in clients if rng.random() < 0.35]
    for company in buyers:
        _client(rng, result, company, products, numbers, finance, head, today)
        _collection(rng, company, finance, today)
        if rng.random() < 0.5:
            _statements(rng, company, finance, today)
        if rng.random() < 0.2:
            order_services.credit_limit_set(
                actor=finance, company=company, amount=Decimal(rng.choice((300_000, 500_000, 1_000_000)))
            )
    for (title, description), company in zip(CONFLICTS, buyers[:3], strict=False):
        conflict_services.conflict_create(
            actor=company.curator,
            company=company,
            occurred_on=today - timedelta(days=rng.randint(3, 40)),
            title=title,
            description=description,
            severity=rng.choice((ConflictSeverity.MEDIUM, ConflictSeverity.HIGH)),
        )
    return result
