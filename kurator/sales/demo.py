"""Demo deals, contact history and tasks on top of the demo companies (``manage.py demo_data``).

Everything goes through the services, so the demo obeys the stage standards (R1) like a user would: a deal
reaches «Договор» only after a logged meeting with a decision maker, and «Оплата» only with a signed contract.
Afterwards only timestamps are moved into the past, so the board shows deals of different ages and some stuck
past their stage's limit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from kurator.accounts.models import User
from kurator.activities import services as activity_services
from kurator.activities.models import Activity, ActivityKind
from kurator.companies import services as company_services
from kurator.companies.models import Company, CompanyStatus, Contact, DecisionRole
from kurator.sales import services
from kurator.sales.models import Deal, LostReason, Stage, StageVisit

DEAL_TITLES = (
    "Поставка оборудования",
    "Годовой контракт на расходные материалы",
    "Пилотная партия",
    "Расширение ассортимента",
    "Сервисное обслуживание",
    "Комплектация объекта",
    "Замена поставщика",
    "Поставка под тендер",
)
RESULTS = {
    ActivityKind.CALL: (
        "Договорились о встрече",
        "Уточнили потребность и объёмы",
        "Клиент просит коммерческое предложение",
        "Не дозвонились, перезвонить",
    ),
    ActivityKind.MEETING: (
        "Презентовали продукцию, интерес подтверждён",
        "Обсудили условия поставки и оплаты",
        "Показали образцы, клиент доволен качеством",
    ),
    ActivityKind.NEGOTIATION: (
        "Согласовали цену со скидкой 5%",
        "Обсудили отсрочку платежа 30 дней",
        "Клиент сравнивает с предложением конкурента",
    ),
    ActivityKind.LETTER: ("Отправили коммерческое предложение", "Направили проект договора"),
    ActivityKind.EMAIL: ("Выслали прайс-лист", "Ответили на вопросы по срокам поставки"),
    ActivityKind.NOTE: ("Клиент планирует закупку в следующем квартале", "Сменился директор по закупкам"),
}
NEXT_STEPS = (
    "Позвонить и узнать решение",
    "Отправить коммерческое предложение",
    "Согласовать дату встречи",
    "Выслать проект договора",
)
# Where the demo deals end up, with weights.
FINAL_STAGES = (
    ("acquaintance", 22),
    ("negotiations", 24),
    ("contract", 14),
    ("payment", 10),
    ("won", 18),
    ("lost", 12),
)


@dataclass
class DemoSalesResult:
    deals: int = 0
    activities: int = 0
    tasks: int = 0


def _at(day: datetime, rng: random.Random) -> datetime:
    """A working hour of ``day``, never later than an hour ago (a contact is logged once it happened)."""
    moment = day.replace(hour=rng.randint(9, 18), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
    return min(moment, timezone.now() - timedelta(hours=1))


def _log(
    rng: random.Random,
    result: DemoSalesResult,
    *,
    actor: User,
    company: Company,
    kind: str,
    when: datetime,
    deal: Deal | None = None,
    contacts: list[Contact] | None = None,
) -> None:
    activity_services.activity_create(
        actor=actor,
        company=company,
        kind=kind,
        occurred_at=when,
        deal=deal,
        contacts=contacts or [],
        users=[actor],
        result=rng.choice(RESULTS[ActivityKind(kind)]),
    )
    result.activities += 1


def _backdate_deal(deal: Deal, visits: list[StageVisit], start: datetime, rng: random.Random) -> None:
    """Spread the deal's stays over the days since ``start`` (the services stamped them all "now")."""
    now = timezone.now()
    moment = start
    for number, visit in enumerate(visits):
        last = number == len(visits) - 1
        left = None if last and not visit.stage.is_closed else moment + timedelta(days=rng.randint(2, 20))
        if left is not None and left > now:
            left = now
        StageVisit.objects.filter(pk=visit.pk).update(entered_at=moment, left_at=left if not last else None)
        if last:
            closed = moment if visit.stage.is_closed else None
            Deal.objects.filter(pk=deal.pk).update(
                created_at=start, stage_entered_at=moment, closed_at=closed
            )
        moment = left or moment


def _demo_deal(
    rng: random.Random,
    result: DemoSalesResult,
    company: Company,
    stages: dict[str, Stage],
    reasons: list[LostReason],
) -> None:
    curator = company.curator
    contacts = list(company.contacts.all())
    decision_makers = [c for c in contacts if c.decision_role == DecisionRole.DECISION_MAKER]
    final = rng.choices([s for s, _w in FINAL_STAGES], [w for _s, w in FINAL_STAGES])[0]
    if final not in ("acquaintance", "negotiations", "lost") and not decision_makers:
        final = "negotiations"
    started = timezone.now() - timedelta(days=rng.randint(5, 160))
    amount = Decimal(rng.randrange(50, 5000) * 1000)
    deal = services.deal_create(
        actor=curator,
        company=company,
        title=rng.choice(DEAL_TITLES),
        contacts=contacts[:2],
        amount=amount if final != "acquaintance" or rng.random() < 0.5 else None,
        expected_close=(timezone.localdate() + timedelta(days=rng.randint(7, 90))),
        source=company.source,
    )
    result.deals += 1
    _log(
        rng, result, actor=curator, company=company, kind=ActivityKind.CALL, when=_at(started, rng), deal=deal
    )
    path = ["negotiations", "contract", "payment", "won"]
    target_index = path.index(final) + 1 if final in path else 0
    if final == "lost":
        target_index = rng.randint(0, 2)
    day = started
    for code in path[:target_index]:
        day += timedelta(days=rng.randint(2, 12))
        if code == "contract":
            _log(
                rng,
                result,
                actor=curator,
                company=company,
                kind=rng.choice((ActivityKind.MEETING, ActivityKind.NEGOTIATION)),
                when=_at(day, rng),
                deal=deal,
                contacts=decision_makers[:1],
            )
        if code == "payment":
            _sign_contract(rng, deal, day)
        deal = services.deal_move(actor=curator, deal=deal, stage=stages[code])
    if final == "lost":
        deal = services.deal_move(
            actor=curator, deal=deal, stage=stages["lost"], lost_reason=rng.choice(reasons)
        )
    visits = list(StageVisit.objects.filter(deal=deal).select_related("stage").order_by("entered_at", "id"))
    _backdate_deal(deal, visits, started, rng)
    if not deal.stage.is_closed and rng.random() < 0.7:
        # The next step: some due today, some in the coming days, a few already overdue.
        due_in = rng.choice((-2, -1, 0, 0, 1, 2, 3, 5))
        due_day = timezone.localdate() + timedelta(days=due_in)
        activity_services.task_create(
            actor=curator,
            title=rng.choice(NEXT_STEPS),
            assignee=curator,
            due_at=timezone.make_aware(datetime.combine(due_day, time(rng.randint(9, 17)))),
            company=company,
            deal=deal,
        )
        result.tasks += 1


def _sign_contract(rng: random.Random, deal: Deal, day: datetime) -> None:
    """The signed contract the payment stage asks for (R1, D5), entered through the contracts service."""
    from kurator.finance.models import ContractStatus
    from kurator.finance.services.contracts import contract_create

    signed_on = min(timezone.localdate(day), timezone.localdate())
    contract_create(
        actor=deal.owner,
        company=deal.company,
        deal=deal,
        number=f"{signed_on:%y%m}-{deal.pk}",
        subject=deal.title,
        status=ContractStatus.SIGNED,
        amount=deal.amount,
        signed_on=signed_on,
        valid_from=signed_on,
        valid_until=signed_on.replace(year=signed_on.year + 1, day=min(signed_on.day, 28)),
        payment_term_days=rng.choice((0, 10, 14, 30, 45)),
        prepayment_percent=rng.choice((0, 0, 30, 50, 100)),
    )


def _birthdays_soon(rng: random.Random, companies: list[Company]) -> None:
    """A few leaders' birthdays and company anniversaries in the coming days (D10), so that the curators'
    reminders and calendar feeds have something to show on the first start."""
    today = timezone.localdate()
    for offset, company in zip((2, 4, 6), companies[:3], strict=False):
        leader = company.contacts.filter(is_active=True).order_by("id").first()
        if leader is None:
            continue
        day = today + timedelta(days=offset)
        birthday = day.replace(year=rng.randint(1962, 1988)) if (day.month, day.day) != (2, 29) else None
        if birthday is None:
            continue
        company_services.contact_update(
            actor=company.curator, contact=leader, birthday=birthday, is_leader=True
        )
    for offset, company in zip((3, 5), companies[3:5], strict=False):
        day = today + timedelta(days=offset)
        if (day.month, day.day) != (2, 29):
            company_services.company_update(
                actor=company.curator, company=company, founded_on=day.replace(year=rng.randint(1995, 2015))
            )


def load_demo_sales(*, rng: random.Random, companies: list[Company]) -> DemoSalesResult:
    """Deals for about half of the clients and prospects, contacts logged with the others."""
    result = DemoSalesResult()
    pipeline = services.default_pipeline()
    if pipeline is None or not companies:
        return result
    stages = {s.code: s for s in Stage.objects.filter(pipeline=pipeline)}
    if not {"negotiations", "contract", "payment", "won", "lost"} <= stages.keys():
        return result
    reasons = list(LostReason.objects.filter(is_active=True))
    live = [
        c
        for c in Company.objects.filter(pk__in=[c.pk for c in companies]).select_related("curator")
        if c.status != CompanyStatus.FORMER
    ]
    for company in live:
        if rng.random() < 0.5:
            _demo_deal(rng, result, company, stages, reasons)
        elif rng.random() < 0.6:
            when = timezone.now() - timedelta(days=rng.randint(1, 300))
            kind = rng.choice((ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.LETTER, ActivityKind.NOTE))
            _log(rng, result, actor=company.curator, company=company, kind=kind, when=_at(when, rng))
    by_curator: dict[int, list[Company]] = {}
    for company in live:
        by_curator.setdefault(company.curator_id, []).append(company)
    for curated in by_curator.values():
        _birthdays_soon(rng, curated)
    # The history records of the moves and entries were stamped "now"; the timeline reads occurred_at and
    # the stage history reads the visits, so only the deals' own creation stamps need to follow.
    Activity.objects.filter(created_at__gt=F("occurred_at")).update(created_at=F("occurred_at"))
    return result
