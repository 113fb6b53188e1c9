"""The finance part of the bench (D4–D8): the catalogue, orders, invoices, payments, the collection log,
contracts and financial statements over the bench's companies, written with COPY, and the pages that read
them (the ageing report, the dossier's purchase statistics, receivables and solvency).

The fill runs after the companies' and the sales fill and keeps them: a base that holds the companies and the
deals but no finance rows (a bench database of an earlier version) only gets the new rows. Per 100,000
companies: 500 products in 30 categories, 250,000 orders with 1,000,000 lines, 300,000 invoices and the
payments that settle them (with ``--companies N`` the same proportions; the catalogue stays 500 products).

What the data looks like:
- Only clients and former clients buy (prospects have no orders). Each buyer gets a log-normal weight, so that
  orders crowd on some accounts: the busiest client has a few hundred orders, the median one a handful. Each
  buyer buys mostly from a few categories of its own (its purchase profile's and two or three more).
- Orders over the last 26 months; old ones are mostly completed, some cancelled or left as drafts; the last
  weeks' are drafts, confirmed or shipped as well. Lines: 1 to about 12 per order (4 on average), quantity ×
  price × (1 − discount) rounded half up to kopecks; ``Order.total`` is the sum of the lines.
- Contracts for about half of the buyers (yearly, with a payment term and sometimes a prepayment), with an
  obligation of each side. An order under a contract in force is linked to it.
- Invoices: one per purchase (two with a prepayment: the prepaid share at once, the rest on shipping, due
  after the contract's payment term), a fifth of the cancelled orders' invoices cancelled, and invoices for
  services without an order up to 300,000. Issue dates over the last 26 months, so due dates run from about
  two years ago to two months ahead.
- Payment discipline per client: most pay around the due date, some late by weeks, a few by months and some
  of those never pay an invoice. An invoice whose payment date is still ahead is open (overdue if its due date
  has passed), sometimes with a part paid already; so every ageing bucket has invoices. Payments: one per
  client and day, allocated to the invoices paid that day; some paid in two instalments, a few overpaid (the
  client's credit), most from the bank statement (payer's INN, a bank key), a hundred and fifty unrecognised
  in the review queue. ``Invoice.paid/paid_on/status/year`` and ``Payment.allocated`` are what the services
  keep.
- The collection log: calls, letters, claims and court for the overdue invoices (more the older), promises
  with dates (kept, broken, or still ahead), calls about invoices that were paid late.
- Financial statements (one to three years) for a third of the clients; credit limits for a sixth of the
  buyers; conflicts, some open.
- History records ("created") for the models that keep history, as the services leave them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any

from bench.common import FillReport, print_fill_time, truncate, vacuum_analyze

SEED = 20261129
PRODUCTS = 500
CATEGORIES = 30
ORDERS_PER_COMPANY = 2.5
LINES_PER_COMPANY = 10
INVOICES_PER_COMPANY = 3
HISTORY_DAYS = 790  # orders and invoices over the last 26 months
REVIEW_QUEUE = 150  # bank payments nobody recognised yet
TARGET_MS = 50.0
AGEING_TARGET_MS = 200.0
SLOW_S = 1.0
SLOW_REQUESTS = 5

# The dictionary ships six categories; the bench's catalogue has thirty.
MORE_CATEGORIES = [
    "Электродвигатели",
    "Подшипники",
    "Кабельная продукция",
    "Насосы",
    "Компрессоры",
    "Трубопроводная арматура",
    "Метизы",
    "Инструмент",
    "Средства защиты",
    "Смазочные материалы",
    "Фильтры",
    "Приводная техника",
    "Электрощитовое оборудование",
    "Освещение",
    "Автоматика",
    "Датчики",
    "Гидравлика",
    "Пневматика",
    "Сварочное оборудование",
    "Упаковка",
    "Лакокрасочные материалы",
    "Промышленная химия",
    "Запасные части",
    "Монтажные работы",
]
NOUNS = [
    "Модуль",
    "Блок",
    "Комплект",
    "Узел",
    "Агрегат",
    "Набор",
    "Элемент",
    "Устройство",
    "Картридж",
    "Панель",
]
UNITS = ["шт"] * 8 + ["компл", "м", "кг"]
TERMS = [0, 10, 14, 14, 30, 30, 30, 45, 60]  # a contract's payment term, days
PREPAYMENTS = [0] * 7 + [30, 50, 100]  # a contract's prepayment, %
DISCOUNTS = [0] * 12 + [3, 5, 5, 7, 10, 10, 15]
# A client's payment discipline: (share of clients, mean days late, spread, chance of never paying an invoice)
DISCIPLINE = [(0.70, (-5, 3), 5, 0.002), (0.22, (5, 30), 15, 0.01), (0.08, (30, 120), 40, 0.08)]
OUTCOMES = {
    "call": ["Обещали оплатить на неделе", "Бухгалтер не отвечает", "Ждут поступления от своего клиента"],
    "letter": ["Направлено письмо с актом сверки", "Письмо-напоминание отправлено"],
    "claim": ["Претензия направлена заказным письмом", "Претензия получена клиентом"],
    "court": ["Подан иск в арбитражный суд", "Назначено предварительное заседание"],
    "schedule": ["Согласован график: три платежа", "Подписан график погашения"],
    "promise": ["Обещали оплатить", "Гарантийное письмо об оплате"],
}
CONFLICTS = [
    ("Недовольство сроками поставки", "Клиент жалуется на задержку отгрузки"),
    ("Спор о качестве партии", "Часть партии вернули с претензией к качеству"),
    ("Разногласия по сверке", "Акт сверки не сходится на сумму последнего счёта"),
    ("Жалоба на менеджера", "Клиент недоволен скоростью ответа"),
    ("Спор о цене", "Клиент не согласен с изменением цены по допсоглашению"),
]


def finance_models() -> list[Any]:
    from kurator.finance import models as fm

    plain = [
        fm.Product,
        fm.Contract,
        fm.Obligation,
        fm.Order,
        fm.OrderLine,
        fm.Invoice,
        fm.Payment,
        fm.Allocation,
        fm.CollectionAction,
        fm.FinancialStatement,
        fm.CreditLimit,
        fm.Conflict,
    ]
    return plain + [m.history.model for m in plain if hasattr(m, "history")]


def finance_counts() -> dict[str, int]:
    from kurator.finance.models import (
        Allocation,
        CollectionAction,
        Contract,
        FinancialStatement,
        Invoice,
        Order,
        OrderLine,
        Payment,
        Product,
    )

    return {
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "order lines": OrderLine.objects.count(),
        "invoices": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "allocations": Allocation.objects.count(),
        "contracts": Contract.objects.count(),
        "collection actions": CollectionAction.objects.count(),
        "financial statements": FinancialStatement.objects.count(),
    }


def expected_counts(companies: int) -> dict[str, int]:
    return {
        "products": PRODUCTS,
        "orders": int(companies * ORDERS_PER_COMPANY),
        "order lines": companies * LINES_PER_COMPANY,
        "invoices": companies * INVOICES_PER_COMPANY,
    }


def finance_user() -> Any:
    from kurator.accounts.models import Role, User

    user, created = User.objects.get_or_create(
        username="bench-finance",
        defaults={"role": Role.FINANCE, "first_name": "Ольга", "last_name": "Бухгалтерова"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _money(kopecks: int) -> str:
    """Kopecks as the numeric literal COPY takes: ``123456`` → ``1234.56``."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


class Rows:
    """A bench.run.Table that also fills the model's plain defaults for the fields a row leaves out (a field
    a later migration adds does not break the fill), with a 'created' history record where the model keeps
    history."""

    def __init__(self, model: Any, history: bool = True) -> None:
        from bench.run import Table

        self.table = Table(model)
        # What the ORM would write for a field left out: its default, or "" for a blank text field.
        self.defaults = {
            f.attname: f.get_default()
            for f in model._meta.concrete_fields
            if not f.primary_key and not (f.has_default() and callable(f.default))
        }
        self.history = Table(model.history.model) if history and hasattr(model, "history") else None
        self.count = 0

    def add(self, values: dict[str, Any], when: datetime | None = None, user_id: int | None = None) -> None:
        row = {**self.defaults, **values}
        self.table.add(row)
        self.count += 1
        if self.history is not None:
            self.history.add(
                {
                    **row,
                    "history_id": row["id"],
                    "history_date": when or row.get("created_at"),
                    "history_type": "+",
                    "history_user_id": user_id,
                    "history_change_reason": None,
                }
            )

    def tables(self) -> Iterator[Any]:
        yield self.table
        if self.history is not None:
            yield self.history


def ensure_categories() -> list[int]:
    from kurator.companies.models import ProductCategory

    have = set(ProductCategory.objects.values_list("name", flat=True))
    position = ProductCategory.objects.count()
    for name in MORE_CATEGORIES:
        if len(have) >= CATEGORIES:
            break
        if name not in have:
            position += 1
            ProductCategory.objects.create(name=name, position=position)
            have.add(name)
    return list(ProductCategory.objects.order_by("position", "pk").values_list("pk", flat=True))


def fill_finance(companies: int, log: Callable[[str], None]) -> FillReport:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.run import bench_users, copy_with_indexes_rebuilt
    from kurator.accounts.models import Role
    from kurator.companies.models import Company
    from kurator.finance import models as fm
    from kurator.finance.models.receivables import invoice_number_key

    expected = expected_counts(companies)
    counts = finance_counts()
    if all(counts[k] == v for k, v in expected.items()):
        return FillReport(skipped=True, counts=counts)

    report = FillReport(skipped=False)
    started = time.perf_counter()
    models = finance_models()
    with connection.cursor() as cursor:
        truncate(cursor, models)

    rng = random.Random(SEED)
    users = bench_users()
    head = next(u.pk for u in users if u.role == Role.HEAD_OF_SALES)
    fin = finance_user().pk
    curator_ids = [u.pk for u in users if u.role != Role.HEAD_OF_SALES]
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first_day = today - timedelta(days=HISTORY_DAYS)

    def at(day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, clock(hour, rng.randint(0, 59)), tzinfo=tz)

    # ------------------------------------------------------------------ the catalogue
    log("finance: the catalogue…")
    category_ids = ensure_categories()
    product_t = Rows(fm.Product)
    by_category: dict[int, list[int]] = {c: [] for c in category_ids}
    prices: list[int] = [0]  # kopecks, by product id
    names: set[str] = set()
    # Some categories are larger than others.
    category_weights = list(itertools.accumulate(rng.uniform(0.3, 2.0) for _ in category_ids))
    created = at(first_day - timedelta(days=60))
    for product_id in range(1, PRODUCTS + 1):
        category = category_ids[bisect.bisect(category_weights, rng.random() * category_weights[-1])]
        name = ""
        while not name or name in names:
            letters = "".join(rng.choice("АБВГДКМНПРСТ") for _ in range(2))
            name = f"{rng.choice(NOUNS)} {letters}-{rng.randint(100, 9999)}"
        names.add(name)
        price = int(round(rng.lognormvariate(math.log(15_000), 1.1), -1)) * 100 or 1000
        prices.append(price)
        by_category[category].append(product_id)
        product_t.add(
            {
                "id": product_id,
                "created_at": created,
                "updated_at": created,
                "name": name,
                "code": f"{category:02d}-{product_id:05d}",
                "category_id": category,
                "unit": rng.choice(UNITS),
                "base_price": _money(price),
                "is_active": rng.random() > 0.03,
            },
            user_id=head,
        )
    for category in category_ids:  # every category has a product
        if not by_category[category]:
            by_category[category].append(rng.randint(1, PRODUCTS))

    # ------------------------------------------------------------------ the buyers
    log(f"finance: reading {companies:,} companies…")
    rows = list(Company.objects.order_by("pk").values_list("pk", "curator_id", "status", "inn", "short_name"))
    profile: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT company_id, productcategory_id FROM companies_company_product_categories")
        for company_id, category in cursor.fetchall():
            profile.setdefault(company_id, []).append(category)
    buyers = [r for r in rows if r[2] in ("client", "former")]
    weights = [rng.lognormvariate(0, 1.3) * (1.0 if r[2] == "client" else 0.4) for r in buyers]
    cum_buyer = list(itertools.accumulate(weights))

    def a_buyer() -> int:
        return bisect.bisect(cum_buyer, rng.random() * cum_buyer[-1])

    @dataclass
    class Buyer:
        pool: list[int]
        term: int
        late: tuple[float, float, float]  # mean days late, spread, chance of never paying
        contracts: list[tuple[int, date, date, int, int]] = field(default_factory=list)

    discipline_cum = list(itertools.accumulate(d[0] for d in DISCIPLINE))
    info: list[Buyer] = []
    for company_id, _curator, _status, _inn, _name in buyers:
        chosen = set(profile.get(company_id, []))
        chosen.update(rng.sample(category_ids, rng.randint(1, 4)))
        pool = [p for c in chosen for p in by_category[c]]
        share, (low, high), spread, never = DISCIPLINE[bisect.bisect(discipline_cum, rng.random())]
        del share
        info.append(Buyer(pool, rng.choice(TERMS), (rng.uniform(low, high), spread, never)))

    # ------------------------------------------------------------------ contracts and obligations
    log("finance: contracts…")
    contract_t, obligation_t = Rows(fm.Contract), Rows(fm.Obligation)
    contract_id = obligation_id = 0
    for index, (company_id, curator, _status, _inn, _name) in enumerate(buyers):
        if rng.random() > min(0.9, 0.35 + weights[index] / 10):
            continue
        author = curator or rng.choice(curator_ids)
        signed = today - timedelta(days=rng.randint(0, 365 * 3))
        for number in range(1, 1 + (1 if weights[index] < 3 else rng.randint(2, 3))):
            contract_id += 1
            until = signed + timedelta(days=365)
            status = "executed" if until < today else "in_execution"
            roll = rng.random()
            if roll < 0.05:
                status = "terminated"
            elif roll < 0.09 and until >= today:
                status = "draft"
            term, prepay = rng.choice(TERMS), rng.choice(PREPAYMENTS)
            draft = status == "draft"
            ended = None
            if status == "terminated":
                ended = min(today, signed + timedelta(days=rng.randint(30, 300)))
            created = at(signed - timedelta(days=rng.randint(3, 20)))
            contract_t.add(
                {
                    "id": contract_id,
                    "created_at": created,
                    "updated_at": created,
                    "company_id": company_id,
                    "number": f"{signed.year}/{company_id}-{number}",
                    "subject": "Поставка продукции",
                    "status": status,
                    "amount": _money(int(round(rng.lognormvariate(math.log(2_000_000), 1.0), -3)) * 100),
                    "signed_on": None if draft else signed,
                    "valid_from": signed,
                    "valid_until": until,
                    "execution_planned_on": until,
                    "executed_on": until if status == "executed" else None,
                    "terminated_on": ended,
                    "payment_term_days": term,
                    "prepayment_percent": prepay,
                    "delivery_terms": "Самовывоз со склада" if rng.random() < 0.3 else "Доставка до склада",
                    "created_by_id": author,
                },
                user_id=author,
            )
            if not draft:
                info[index].contracts.append((contract_id, signed, ended or until, term, prepay))
            for party, what, due in (
                ("ours", "Поставка по спецификации", signed + timedelta(days=rng.randint(20, 200))),
                ("client", "Оплата по договору", signed + timedelta(days=rng.randint(30, 330))),
            ):
                obligation_id += 1
                done = None
                if due < today and rng.random() < 0.92:
                    done = min(today, due + timedelta(days=rng.randint(-10, 15)))
                obligation_t.add(
                    {
                        "id": obligation_id,
                        "created_at": created,
                        "updated_at": created,
                        "contract_id": contract_id,
                        "party": party,
                        "description": what,
                        "due_on": due,
                        "done_on": done,
                        "responsible_id": author if party == "ours" else None,
                    },
                    user_id=author,
                )
            signed = until + timedelta(days=rng.randint(-15, 30))
            if signed > today:
                break

    def contract_at(buyer: Buyer, day: date) -> tuple[int, date, date, int, int] | None:
        for contract in buyer.contracts:
            if contract[1] <= day <= contract[2]:
                return contract
        return None

    # ------------------------------------------------------------------ orders and lines
    order_count, line_count = expected["orders"], expected["order lines"]
    log(f"finance: generating {order_count:,} orders with {line_count:,} lines…")
    mark = time.perf_counter()
    drafts = sorted(
        (first_day + timedelta(days=rng.randint(0, HISTORY_DAYS)), a_buyer()) for _ in range(order_count)
    )
    extra = [0] * order_count
    for _ in range(line_count - order_count):
        extra[rng.randrange(order_count)] += 1
    order_t, line_t = Rows(fm.Order), Rows(fm.OrderLine)
    line_id = 0
    # (order id, buyer index, date, status, total, contract)
    orders: list[tuple[int, int, date, str, int, tuple[int, date, date, int, int] | None]] = []
    for order_id, (ordered_on, index) in enumerate(drafts, start=1):
        company_id, curator = buyers[index][:2]
        buyer = info[index]
        age = (today - ordered_on).days
        roll = rng.random()
        if age <= 14:
            status = (
                "draft"
                if roll < 0.15
                else "confirmed"
                if roll < 0.5
                else "shipped"
                if roll < 0.8
                else "completed"
                if roll < 0.95
                else "cancelled"
            )
        elif age <= 45:
            status = (
                "draft"
                if roll < 0.03
                else "confirmed"
                if roll < 0.05
                else "shipped"
                if roll < 0.15
                else "cancelled"
                if roll < 0.2
                else "completed"
            )
        else:
            status = "draft" if roll < 0.03 else "cancelled" if roll < 0.08 else "completed"
        contract = contract_at(buyer, ordered_on)
        total = 0
        pool = buyer.pool
        count = 1 + extra[order_id - 1]
        products = (
            rng.sample(pool, count)
            if count <= len(pool) and rng.random() < 0.8
            else [rng.randint(1, PRODUCTS) for _ in range(count)]
        )
        for position, product in enumerate(products):
            line_id += 1
            quantity = max(1, int(rng.lognormvariate(1.5, 1.0)))
            price = prices[product] * rng.choice((95, 100, 100, 100, 105, 110)) // 100
            discount = rng.choice(DISCOUNTS)
            amount = (quantity * price * (100 - discount) + 50) // 100
            total += amount
            line_t.add(
                {
                    "id": line_id,
                    "order_id": order_id,
                    "product_id": product,
                    "quantity": quantity,
                    "price": _money(price),
                    "discount_percent": discount,
                    "amount": _money(amount),
                    "position": position,
                }
            )
        author = curator or rng.choice(curator_ids)
        created = at(ordered_on)
        updated = at(min(today, ordered_on + timedelta(days=rng.randint(0, 20))))
        order_t.add(
            {
                "id": order_id,
                "created_at": created,
                "updated_at": max(created, updated),
                "company_id": company_id,
                "contract_id": contract[0] if contract else None,
                "number": f"З-{order_id:06d}",
                "ordered_on": ordered_on,
                "status": status,
                "total": _money(total),
                "version": 1 if status == "draft" else 2,
                "created_by_id": author,
            },
            when=created,
            user_id=author,
        )
        orders.append((order_id, index, ordered_on, status, total, contract))
    report.phases["generate orders"] = time.perf_counter() - mark

    # ------------------------------------------------------------------ invoices
    mark = time.perf_counter()
    invoice_count = expected["invoices"]
    log(f"finance: generating {invoice_count:,} invoices with their payments…")
    # (issued, due, buyer index, amount, order id, contract id, cancelled)
    bills: list[tuple[date, date, int, int, int | None, int | None, bool]] = []
    for order_id, index, ordered_on, status, total, contract in orders:
        if status == "draft" or total == 0:
            continue
        if status == "cancelled":
            if rng.random() < 0.2:
                bills.append((ordered_on, ordered_on + timedelta(days=5), index, total, order_id, None, True))
            continue
        term = contract[3] if contract else info[index].term
        prepay = contract[4] if contract else 0
        contract_id_ = contract[0] if contract else None
        shipped = ordered_on + timedelta(days=rng.randint(0, 7))
        if prepay:
            first = total * prepay // 100
            bills.append(
                (ordered_on, ordered_on + timedelta(days=3), index, first, order_id, contract_id_, False)
            )
            if total - first > 0 and shipped <= today:
                due = shipped + timedelta(days=term)
                bills.append((shipped, due, index, total - first, order_id, contract_id_, False))
        elif shipped <= today:
            bills.append(
                (shipped, shipped + timedelta(days=term), index, total, order_id, contract_id_, False)
            )
    if len(bills) > invoice_count:
        rng.shuffle(bills)
        del bills[invoice_count:]
    while len(bills) < invoice_count:  # services and the like, without an order
        index = a_buyer()
        issued = first_day + timedelta(days=rng.randint(0, HISTORY_DAYS))
        contract = contract_at(info[index], issued)
        term = contract[3] if contract else info[index].term
        amount = int(round(rng.lognormvariate(math.log(40_000), 1.0), -2)) * 100 or 10_000
        cancelled = rng.random() < 0.01
        contract_id_ = contract[0] if contract else None
        bills.append((issued, issued + timedelta(days=term), index, amount, None, contract_id_, cancelled))
    bills.sort(key=lambda b: (b[0], b[2]))

    invoice_t, payment_t, allocation_t, action_t = (
        Rows(fm.Invoice),
        Rows(fm.Payment),
        Rows(fm.Allocation),
        Rows(fm.CollectionAction),
    )
    numbers: dict[int, int] = {}
    # (buyer index, day) → [(invoice id, amount, number, issued)]: one payment per client and day.
    paying: dict[tuple[int, date], list[tuple[int, int, str, date]]] = {}
    action_id = 0

    def collect(index: int, invoice_id: int, due: date, until: date, settled: bool) -> None:
        """The collection log of an invoice overdue from ``due`` until ``until`` (today or when paid)."""
        nonlocal action_id
        late = (until - due).days
        steps = [("call", 7), ("letter", 20), ("claim", 45), ("court", 100)]
        company_id, curator = buyers[index][:2]
        author = curator or rng.choice(curator_ids)
        for kind, after in steps:
            if late <= after or rng.random() < 0.25:
                break
            day = due + timedelta(days=after + rng.randint(0, 6))
            action_id += 1
            promise = kind in ("call", "letter") and rng.random() < 0.5
            promised_on = day + timedelta(days=rng.randint(3, 14)) if promise else None
            kept: bool | None = None
            if promised_on is not None:
                kept = (settled and promised_on >= until) if promised_on <= today else None
                if promised_on < today and not settled and rng.random() < 0.2:
                    kept = None  # a passed promise nobody marked: flagged to the curator
            created = at(day, 15)
            action_t.add(
                {
                    "id": action_id,
                    "created_at": created,
                    "updated_at": created,
                    "company_id": company_id,
                    "invoice_id": invoice_id,
                    "kind": "promise" if promise and kind == "call" else kind,
                    "happened_on": day,
                    "outcome": rng.choice(OUTCOMES[kind]),
                    "promised_on": promised_on,
                    "promised_amount": None,
                    "promise_kept": kept,
                    "author_id": author if kind in ("call", "letter") else fin,
                },
                user_id=author,
            )

    for invoice_id, (issued, due, index, amount, bill_order, contract_id_, cancelled) in enumerate(bills, 1):
        company_id = buyers[index][0]
        numbers[issued.year] = numbers.get(issued.year, 0) + 1
        invoice_number = str(numbers[issued.year])
        paid = 0
        paid_on = None
        status = "cancelled" if cancelled else "issued"
        if not cancelled:
            late_mean, late_spread, never_pays = info[index].late
            settle = max(issued, due + timedelta(days=round(rng.gauss(late_mean, late_spread))))
            if rng.random() < never_pays:
                settle = today + timedelta(days=3650)
            if settle <= today:
                if rng.random() < 0.12 and (settle - issued).days > 2:
                    first_day_paid = issued + timedelta(days=rng.randint(0, (settle - issued).days - 1))
                    part = amount * rng.randint(20, 80) // 100
                    paying.setdefault((index, first_day_paid), []).append(
                        (invoice_id, part, invoice_number, issued)
                    )
                    paying.setdefault((index, settle), []).append(
                        (invoice_id, amount - part, invoice_number, issued)
                    )
                else:
                    paying.setdefault((index, settle), []).append(
                        (invoice_id, amount, invoice_number, issued)
                    )
                paid, paid_on, status = amount, settle, "paid"
                if (settle - due).days > 15 and rng.random() < 0.5:
                    collect(index, invoice_id, due, settle, True)
            else:
                if rng.random() < 0.25 and (today - issued).days > 1:
                    part_on = issued + timedelta(days=rng.randint(0, (today - issued).days))
                    part = amount * rng.randint(20, 80) // 100
                    paying.setdefault((index, part_on), []).append((invoice_id, part, invoice_number, issued))
                    paid, status = part, "partly_paid"
                if due < today:
                    collect(index, invoice_id, due, today, False)
        author = fin if rng.random() < 0.8 else head
        created = at(issued, 11)
        invoice_t.add(
            {
                "id": invoice_id,
                "created_at": created,
                "updated_at": at(paid_on, 16) if paid_on else created,
                "company_id": company_id,
                "contract_id": contract_id_,
                "order_id": bill_order,
                "number": invoice_number,
                "number_key": invoice_number_key(invoice_number),
                "year": issued.year,
                "issued_on": issued,
                "due_on": due,
                "amount": _money(amount),
                "paid": _money(paid),
                "paid_on": paid_on,
                "status": status,
                "version": 1 if status == "issued" else 2,
                "created_by_id": author,
            },
            when=created,
            user_id=author,
        )

    # ------------------------------------------------------------------ payments and allocations
    allocation_id = 0
    for payment_id, ((index, day), parts) in enumerate(sorted(paying.items(), key=lambda p: p[0][1]), 1):
        company_id, _curator, _status, inn, short_name = buyers[index]
        allocated = sum(p[1] for p in parts)
        amount = allocated
        if rng.random() < 0.02:
            amount += round(rng.uniform(100, 50_000)) * 100  # an overpayment: the client's credit
        bank = rng.random() < 0.7
        created = at(day, 12)
        listed = ", ".join(f"№ {p[2]} от {p[3]:%d.%m.%Y}" for p in parts[:3])
        payment_t.add(
            {
                "id": payment_id,
                "created_at": created,
                "updated_at": created,
                "company_id": company_id,
                "paid_on": day,
                "amount": _money(amount),
                "allocated": _money(allocated),
                "reference": f"п/п {rng.randint(1, 9999)}",
                "purpose": f"Оплата по счёту {listed}. В т.ч. НДС 20 %",
                "source": "bank" if bank else "manual",
                "payer_name": short_name if bank else "",
                "payer_inn": inn if bank else "",
                "bank_key": f"bench:{payment_id}" if bank else None,
                "review_status": "",
                "created_by_id": fin,
            },
            user_id=fin,
        )
        for invoice_id, part, _number, _issued in parts:
            allocation_id += 1
            allocation_t.add(
                {
                    "id": allocation_id,
                    "payment_id": payment_id,
                    "invoice_id": invoice_id,
                    "amount": _money(part),
                    "created_at": created,
                    "created_by_id": fin,
                }
            )
    payment_id = payment_t.count
    for _ in range(REVIEW_QUEUE):
        payment_id += 1
        day = today - timedelta(days=rng.randint(0, 20))
        created = at(day, 9)
        payment_t.add(
            {
                "id": payment_id,
                "created_at": created,
                "updated_at": created,
                "company_id": None,
                "paid_on": day,
                "amount": _money(int(round(rng.lognormvariate(math.log(60_000), 1.0), -2)) * 100 or 10_000),
                "allocated": "0.00",
                "reference": f"п/п {rng.randint(1, 9999)}",
                "purpose": "Оплата за товар по договору",
                "source": "bank",
                "payer_name": f"ООО «Плательщик {payment_id}»",
                "payer_inn": f"77{rng.randint(10**7, 10**8 - 1)}",
                "bank_key": f"bench:{payment_id}",
                "review_status": "pending",
                "review_reason": "Плательщик не найден по ИНН",
                "created_by_id": fin,
            },
            user_id=fin,
        )
    report.phases["generate invoices and payments"] = time.perf_counter() - mark

    # ------------------------------------------------------------------ statements, limits, conflicts
    mark = time.perf_counter()
    statement_t, limit_t, conflict_t = Rows(fm.FinancialStatement), Rows(fm.CreditLimit), Rows(fm.Conflict)
    purchases: dict[int, int] = {}
    for _order_id, index, _on, status, total, _contract in orders:
        if status in ("confirmed", "shipped", "completed"):
            purchases[index] = purchases.get(index, 0) + total
    statement_id = limit_id = conflict_id = 0
    for index, (company_id, curator, status, _inn, _name) in enumerate(buyers):
        author = curator or rng.choice(curator_ids)
        if status == "client" and rng.random() < 0.35:
            revenue = rng.lognormvariate(math.log(200_000_000), 1.3)
            for year in range(today.year - rng.randint(1, 3), today.year):
                statement_id += 1
                revenue *= rng.uniform(0.85, 1.25)
                assets = revenue * rng.uniform(0.4, 1.2)
                equity = assets * rng.uniform(-0.1, 0.6)
                liabilities = assets - equity
                created = at(date(year + 1, 4, rng.randint(1, 28)) if year + 1 <= today.year else today)
                statement_t.add(
                    {
                        "id": statement_id,
                        "created_at": created,
                        "updated_at": created,
                        "company_id": company_id,
                        "year": year,
                        "revenue": _money(int(revenue) * 100),
                        "net_profit": _money(int(revenue * rng.gauss(0.05, 0.08)) * 100)
                        if rng.random() < 0.98
                        else None,
                        "total_assets": _money(int(assets) * 100),
                        "equity": _money(int(equity) * 100),
                        "liabilities": _money(int(liabilities) * 100),
                        "current_assets": _money(int(assets * rng.uniform(0.4, 0.8)) * 100),
                        "current_liabilities": _money(int(liabilities * rng.uniform(0.4, 0.9)) * 100),
                        "source": "import" if rng.random() < 0.6 else "manual",
                        "entered_by_id": fin,
                    },
                    user_id=fin,
                )
        bought = purchases.get(index, 0)
        if bought and rng.random() < 0.17:
            limit_id += 1
            created = at(today - timedelta(days=rng.randint(0, 500)))
            monthly = bought * 30 // HISTORY_DAYS
            limit_t.add(
                {
                    "id": limit_id,
                    "created_at": created,
                    "updated_at": created,
                    "company_id": company_id,
                    "amount": _money(max(100_000_00, round(monthly * 2, -6))),
                    "set_by_id": fin,
                },
                user_id=fin,
            )
        if rng.random() < 0.05 + min(0.3, weights[index] / 50):
            conflict_id += 1
            day = today - timedelta(days=rng.randint(0, 700))
            roll = rng.random()
            state = "open" if roll < 0.1 else "in_progress" if roll < 0.18 else "resolved"
            title, text = rng.choice(CONFLICTS)
            created = at(day)
            conflict_t.add(
                {
                    "id": conflict_id,
                    "created_at": created,
                    "updated_at": created,
                    "company_id": company_id,
                    "occurred_on": day,
                    "title": title,
                    "description": text,
                    "severity": rng.choice(("low", "medium", "medium", "high", "critical")),
                    "status": state,
                    "resolution": "Урегулировано, клиенту предоставлена скидка"
                    if state == "resolved"
                    else "",
                    "resolved_on": min(today, day + timedelta(days=rng.randint(1, 40)))
                    if state == "resolved"
                    else None,
                    "author_id": author,
                },
                user_id=author,
            )
    report.phases["generate the rest"] = time.perf_counter() - mark

    log("finance: writing with COPY…")
    mark = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copied = [
            table
            for rows_ in (
                product_t,
                contract_t,
                obligation_t,
                order_t,
                line_t,
                invoice_t,
                payment_t,
                allocation_t,
                action_t,
                statement_t,
                limit_t,
                conflict_t,
            )
            for table in rows_.tables()
        ]
        mark = copy_with_indexes_rebuilt(cursor, models, copied, report.phases, started=mark)
    report.phases["commit"] = time.perf_counter() - mark

    log("finance: VACUUM ANALYZE…")
    mark = time.perf_counter()
    vacuum_analyze(finance_models())
    report.phases["vacuum analyze"] = time.perf_counter() - mark
    report.seconds = time.perf_counter() - started
    report.counts = finance_counts()
    for key, value in expected.items():
        assert report.counts[key] == value, (key, report.counts)
    return report


def print_fill(report: FillReport) -> None:
    from django.db import connection

    counts = report.counts or finance_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('finance_order')"
            " + pg_total_relation_size('finance_orderline')),"
            " pg_size_pretty(pg_total_relation_size('finance_invoice')"
            " + pg_total_relation_size('finance_payment') + pg_total_relation_size('finance_allocation'))"
        )
        order_size, invoice_size = cursor.fetchone()
    listed = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    print(f"Finance data: {listed}; orders with lines {order_size}, invoices with payments {invoice_size}")
    print_fill_time("Finance fill", report)


# --------------------------------------------------------------------------- the measurement

STUB_MARK = b'text-secondary">\xe2\x80\xa6</div>'  # the placeholder the stub views render


@dataclass
class Scenario:
    name: str
    urls: list[str]
    rows: str = ""
    api: bool = False
    target_ms: float = TARGET_MS


def _by_company(sql: str) -> list[tuple[int, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(company, n) for company, n in cursor.fetchall()]


def time_call(
    name: str,
    call: Callable[[], Any],
    *,
    requests: int,
    warmup: int,
    result: Any,
    rows: str,
    target_ms: float,
    explain_ms: float | None = None,
) -> Any:
    """A selector called directly, as the page calls it: time, queries and their SQL time."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timed = result(name, rows=rows, target_ms=target_ms)
    try:
        for _ in range(warmup):
            call()
        for _ in range(requests):
            started = time.perf_counter()
            call()
            timed.times_ms.append((time.perf_counter() - started) * 1000)
        counts, sql_times = [], []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                call()
            counts.append(len(captured.captured_queries))
            sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        timed.queries = max(counts)
        timed.sql_ms = statistics.median(sql_times)
        if explain_ms is not None and timed.median >= target_ms:
            from bench.run import explain

            timed.explain = explain(call, explain_ms)
    except Exception as exc:  # reported, the other scenarios still run
        timed.error = f"{type(exc).__name__}: {exc}"
    return timed


def _evaluated(value: Any) -> Any:
    """A selector may hand back querysets the template iterates: evaluate them, as rendering would."""
    from django.db.models import QuerySet

    if isinstance(value, QuerySet):
        return list(value)
    if isinstance(value, dict):
        return {k: _evaluated(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_evaluated(v) for v in value]
    return value


def run_finance_scenarios(
    requests: int,
    warmup: int,
    *,
    measure: Any,
    result: Any,
    only: list[str] | None = None,
    explain_ms: float | None = None,
) -> list[Any]:
    """The ageing report (page and selector), the purchase statistics, the receivables and the solvency of a
    client (dossier tabs and API), the API's invoices of a client — as the head of sales."""
    from django.db.models import Sum
    from django.test import Client
    from django.utils import timezone

    from bench.run import selected
    from bench.sales import _available
    from kurator.accounts.models import Role, User
    from kurator.accounts.tokens import api_token_create
    from kurator.finance.models import OPEN_INVOICE_STATUSES, Invoice

    def wanted(name: str) -> bool:
        return selected(name, only) or selected("finance", only)

    head = User.objects.filter(role=Role.HEAD_OF_SALES, username__startswith="bench").first()
    assert head is not None
    today = timezone.localdate()
    by_orders = _by_company(
        "SELECT company_id, count(*) FROM finance_order WHERE status IN ('confirmed', 'shipped', 'completed')"
        " GROUP BY company_id ORDER BY 2 DESC, 1"
    )
    by_invoices = _by_company(
        "SELECT company_id, count(*) FROM finance_invoice GROUP BY company_id ORDER BY 2 DESC, 1"
    )
    with_statements = _by_company(
        "SELECT i.company_id, count(*) FROM finance_invoice i WHERE EXISTS (SELECT 1 FROM"
        " finance_financialstatement s WHERE s.company_id = i.company_id) GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    if not by_orders or not by_invoices:
        return [result("finance pages", error="no orders or invoices in the bench base")]
    lines = dict(
        _by_company(
            "SELECT o.company_id, count(*) FROM finance_orderline l JOIN finance_order o ON o.id = l.order_id"
            f" WHERE o.company_id IN ({by_orders[0][0]}, {by_orders[len(by_orders) // 2][0]}) GROUP BY 1"
        )
    )
    busiest, busiest_n = by_orders[0]
    middle = len(by_orders) // 2
    typical = by_orders[middle : middle + 20]
    debtor, debtor_n = by_invoices[0]
    typical_debtors = by_invoices[len(by_invoices) // 2 : len(by_invoices) // 2 + 20]
    solvent, solvent_n = with_statements[0] if with_statements else (debtor, debtor_n)
    open_invoices = Invoice.objects.filter(status__in=OPEN_INVOICE_STATUSES)
    open_n = open_invoices.count()
    overdue_n = open_invoices.filter(due_on__lt=today).count()
    open_sum = open_invoices.aggregate(s=Sum("amount"))["s"] or 0
    typical_rows = f"{typical[0][1]} orders"
    plan = [
        Scenario(
            "finance: ageing page, head",
            ["/finance/"],
            f"{open_n:,} open ({overdue_n:,} overdue), {open_sum / 1_000_000:,.0f} M ₽",
            target_ms=AGEING_TARGET_MS,
        ),
        Scenario(
            "finance: purchases, typical",
            [f"/finance/company/{c}/purchases/" for c, _n in typical],
            typical_rows,
        ),
        Scenario(
            "finance: purchases, busiest",
            [f"/finance/company/{busiest}/purchases/"],
            f"{busiest_n:,} orders, {lines.get(busiest, 0):,} lines",
        ),
        Scenario(
            "finance: API purchase-stats, typical",
            [f"/api/v1/companies/{c}/purchase-stats/" for c, _n in typical],
            typical_rows,
            api=True,
        ),
        Scenario(
            "finance: API purchase-stats, busiest",
            [f"/api/v1/companies/{busiest}/purchase-stats/"],
            f"{busiest_n:,} orders",
            api=True,
        ),
        Scenario(
            "finance: receivables tab, typical",
            [f"/finance/company/{c}/receivables/" for c, _n in typical_debtors],
            f"{typical_debtors[0][1]} invoices",
        ),
        Scenario(
            "finance: receivables tab, busiest",
            [f"/finance/company/{debtor}/receivables/"],
            f"{debtor_n:,} invoices",
        ),
        Scenario(
            "finance: API receivables, busiest",
            [f"/api/v1/companies/{debtor}/receivables/"],
            f"{debtor_n:,} invoices",
            api=True,
        ),
        Scenario(
            "finance: API invoices ?company=",
            [f"/api/v1/invoices/?company={debtor}"],
            f"{debtor_n:,} invoices",
            api=True,
        ),
        Scenario(
            "finance: solvency tab, busy client",
            [f"/finance/company/{solvent}/solvency/"],
            f"{solvent_n:,} invoices",
        ),
    ]
    browser = Client()
    browser.force_login(head)
    _token, api_key = api_token_create(actor=head, name="bench")
    api = Client()
    api_headers = {"Authorization": f"Token {api_key}"}

    results: list[Any] = []
    for scenario in plan:
        if not wanted(scenario.name):
            continue
        try:
            available = _available(scenario.urls[0])
        except Exception as exc:  # a half-written URL module of another area: reported, not fatal
            results.append(result(scenario.name, rows=scenario.rows, error=f"{type(exc).__name__}: {exc}"))
            continue
        if not available:
            results.append(
                result(scenario.name, rows=scenario.rows, error="not available (URL not defined yet)")
            )
            continue
        client, headers = (api, api_headers) if scenario.api else (browser, {})
        started = time.perf_counter()
        first = client.get(scenario.urls[0], headers=headers)
        slow = time.perf_counter() - started > SLOW_S
        if first.status_code == 200 and STUB_MARK in first.content:
            results.append(result(scenario.name, rows=scenario.rows, error="not available (a stub view yet)"))
            continue
        timed = measure(
            scenario.name,
            client,
            itertools.cycle(scenario.urls),
            requests=min(requests, SLOW_REQUESTS) if slow else requests,
            warmup=0 if slow else warmup,
            rows=scenario.rows,
            headers=headers,
            target_ms=scenario.target_ms,
        )
        results.append(timed)

    name = "finance: ageing selector"
    if wanted(name):
        try:
            from kurator.finance.selectors.receivables import receivables_ageing
        except ImportError:
            results.append(result(name, error="not available (selector not written yet)"))
        else:
            results.append(
                time_call(
                    name,
                    lambda: _evaluated(receivables_ageing(actor=head)),
                    requests=requests,
                    warmup=warmup,
                    result=result,
                    rows=f"{open_n:,} open",
                    target_ms=AGEING_TARGET_MS,
                    explain_ms=explain_ms,
                )
            )
    name = "finance: purchase_stats selector, busiest"
    if wanted(name):
        try:
            from kurator.finance.selectors.orders import purchase_stats
        except ImportError:
            results.append(result(name, error="not available (selector not written yet)"))
        else:
            from kurator.companies.models import Company

            company = Company.objects.get(pk=busiest)
            results.append(
                time_call(
                    name,
                    lambda: _evaluated(purchase_stats(company=company)),
                    requests=requests,
                    warmup=warmup,
                    result=result,
                    rows=f"{busiest_n:,} orders",
                    target_ms=TARGET_MS,
                    explain_ms=explain_ms,
                )
            )
    return results
