"""The sales part of the bench (S3, D3): deals with their stage history, activities and tasks over the
bench's companies, written with COPY, and the pages that read them.

The fill runs after the companies' fill and keeps them: a base that already holds the companies but not the
deals (a bench database of an earlier version) only gets the new rows. Per 100,000 companies: 300,000 deals,
1,000,000 activities and about 200,000 tasks (with ``--companies N`` the same proportions).

What the data looks like:
- Companies get a weight drawn from a log-normal law (clients three times the prospects'), so that deals and
  activities crowd on some accounts as they do in a real book: the busiest company has about a hundred times
  the typical one's activities.
- Deals open over three years in the default pipeline's first stage and walk it: each stay lasts an
  exponential time around the stage's norm, then the deal moves on (55 %, 60 %, 75 %, 90 % of the time from
  Знакомство, Переговоры, Договор, Оплата) or is lost; a few stick in their stage. Each stay is a StageVisit
  (1 to 5 per deal); deals whose walk reaches the present stay open, so the open deals are mostly recent.
  The owner is the company's curator; amounts from Переговоры on (the shipped standard), a co-owner now and
  then, the loss reason of lost deals.
- Activities: six kinds in believable shares, at any time over three years, 40 % on one of the company's
  deals (within the deal's life), with the client's people and our users as participants for many of them,
  a next step with a date for 15 % — which is a task for the author, as the service makes it.
- Tasks: those next steps and some more of their own; the past ones mostly done.
- History records ("created") for deals, activities and tasks, as the services leave them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bench.common import FillReport, print_fill_time, truncate, vacuum_analyze

SEED = 20261128
DEALS_PER_COMPANY = 3
ACTIVITIES_PER_COMPANY = 10
YEARS = 3
DEAL_SHARE_OF_ACTIVITIES = 0.40
NEXT_STEP_SHARE = 0.15  # activities with a dated next step (each one a task)
STANDALONE_TASKS_PER_COMPANY = 0.5  # tasks of their own, besides the next steps
SLOW_S = 1.0  # a page slower than this on its first request is timed SLOW_REQUESTS times only
SLOW_REQUESTS = 5

# Stage code: (mean stay in days, chance of moving on rather than being lost)
WALK = {
    "acquaintance": (9.0, 0.55),
    "negotiations": (16.0, 0.60),
    "contract": (9.0, 0.75),
    "payment": (6.0, 0.90),
}
STUCK = 0.012  # chance at each open stage that the deal is left there and forgotten
ORDER = ["acquaintance", "negotiations", "contract", "payment", "won"]

KINDS_FREE = {"call": 45, "email": 25, "note": 12, "meeting": 8, "letter": 6, "negotiation": 4}
KINDS_DEAL = {"call": 30, "email": 20, "meeting": 20, "negotiation": 15, "note": 10, "letter": 5}
SUBJECTS = {
    "call": [
        "Уточнение потребности",
        "Звонок по заявке",
        "Напоминание о КП",
        "Сверка объёмов",
        "Холодный звонок",
    ],
    "email": ["Коммерческое предложение", "Прайс-лист", "Ответ на запрос", "Счёт на оплату", "Спецификация"],
    "note": ["Заметка", "Сведения от партнёра", "Итоги выставки"],
    "meeting": ["Встреча в офисе клиента", "Презентация продукции", "Визит на производство"],
    "letter": ["Письмо с образцами", "Благодарственное письмо", "Оригиналы документов"],
    "negotiation": ["Переговоры по цене", "Согласование условий поставки", "Обсуждение договора"],
}
RESULTS = [
    "Клиент заинтересован, просит КП.",
    "Договорились созвониться на следующей неделе.",
    "Получили обратную связь по ценам, нужна скидка.",
    "Согласовали объём первой партии.",
    "ЛПР в отпуске, перезвонить позже.",
    "Отправили образцы, ждём решения.",
    "",
]
NEXT_STEPS = ["Перезвонить", "Отправить КП", "Выставить счёт", "Назначить встречу", "Подготовить договор"]
TASK_TITLES = ["Подготовить отчёт по клиенту", "Проверить оплату", "Обновить реквизиты", "Поздравить клиента"]
DEAL_SUBJECTS = ["Поставка", "Годовой контракт", "Пробная партия", "Расширение ассортимента", "Сервис"]


def _pick(rng: random.Random, weights: dict[str, int]) -> Callable[[], str]:
    keys = list(weights)
    cum = list(itertools.accumulate(weights.values()))
    total = cum[-1]
    return lambda: keys[bisect.bisect(cum, rng.random() * total)]


def sales_models() -> list[Any]:
    from kurator.activities.models import Activity, Task
    from kurator.sales.models import Deal, StageVisit

    return [
        Deal,
        Deal.contacts.through,
        Deal.history.model,
        _m2m_history(Deal, "contacts"),
        StageVisit,
        Activity,
        Activity.contacts.through,
        Activity.users.through,
        Activity.history.model,
        _m2m_history(Activity, "contacts"),
        _m2m_history(Activity, "users"),
        Task,
        Task.history.model,
    ]


def _m2m_history(model: Any, name: str) -> Any:
    from django.apps import apps

    return apps.get_model(model._meta.app_label, f"Historical{model.__name__}_{name}")


def sales_counts() -> dict[str, int]:
    from kurator.activities.models import Activity, Task
    from kurator.sales.models import Deal, StageVisit

    return {
        "deals": Deal.objects.count(),
        "stage visits": StageVisit.objects.count(),
        "activities": Activity.objects.count(),
        "tasks": Task.objects.count(),
    }


def fill_sales(companies: int, log: Callable[[str], None]) -> FillReport:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.run import Table, bench_users, copy_with_indexes_rebuilt
    from kurator.accounts.models import Role
    from kurator.companies.models import Company, Contact
    from kurator.sales.models import LostReason, Pipeline, deal_search_text

    deals_expected = companies * DEALS_PER_COMPANY
    activities_expected = companies * ACTIVITIES_PER_COMPANY
    counts = sales_counts()
    if counts["deals"] == deals_expected and counts["activities"] == activities_expected and counts["tasks"]:
        return FillReport(skipped=True, counts=counts)

    report = FillReport(skipped=False)
    started = time.perf_counter()
    models = sales_models()
    with connection.cursor() as cursor:
        truncate(cursor, models)

    rng = random.Random(SEED)
    users = bench_users()
    curators = [u for u in users if u.role != Role.HEAD_OF_SALES]
    seniors = [u.pk for u in users if u.role == Role.SENIOR_MANAGER]
    curator_ids = [u.pk for u in curators]
    pipeline = Pipeline.objects.get(is_default=True)
    stages = {s.code: s for s in pipeline.stages.all()}
    lost_reasons = list(LostReason.objects.values_list("pk", flat=True))
    tz = timezone.get_current_timezone()
    now = timezone.now()
    span = timedelta(days=365 * YEARS)
    span_s = span.total_seconds()
    start = now - span

    log(f"sales: reading {companies:,} companies…")
    rows = list(
        Company.objects.order_by("pk").values_list(
            "pk", "curator_id", "source_id", "status", "short_name", "inn"
        )
    )
    people: dict[int, list[int]] = {}
    for contact_id, company_id in Contact.objects.order_by("pk").values_list("pk", "company_id"):
        people.setdefault(company_id, []).append(contact_id)
    weights = [
        rng.lognormvariate(0, 1.2) * (3.0 if status == "client" else 1.0) for _, _, _, status, _, _ in rows
    ]
    cum_company = list(itertools.accumulate(weights))
    total_weight = cum_company[-1]

    def a_company() -> int:
        return bisect.bisect(cum_company, rng.random() * total_weight)

    # ------------------------------------------------------------------ deals and their stays
    log(f"sales: generating {deals_expected:,} deals…")
    deal_t, deal_contact_t, h_deal_t, h_deal_contact_t, visit_t = (Table(m) for m in models[:5])
    walks = []
    for _ in range(deals_expected):
        created = start + timedelta(seconds=rng.random() * span_s)
        walks.append((created, a_company()))
    walks.sort()
    deals: list[
        tuple[int, int, datetime, datetime, int, int]
    ] = []  # id, company index, from, to, owner, visits
    visit_id = deal_contact_id = 0
    for deal_id, (created, index) in enumerate(walks, start=1):
        company_id, curator_id, source_id, _status, short_name, inn = rows[index]
        owner = curator_id or rng.choice(curator_ids)
        path = [("acquaintance", created)]
        moment = created
        code = "acquaintance"
        while code in WALK:
            mean, onward = WALK[code]
            if rng.random() < STUCK:
                break
            moment = moment + timedelta(days=rng.expovariate(1 / mean), seconds=rng.randint(0, 3600))
            if moment > now:
                break
            code = ORDER[ORDER.index(code) + 1] if rng.random() < onward else "lost"
            path.append((code, moment))
        final, entered = path[-1]
        stage = stages[final]
        closed = entered if final in ("won", "lost") else None
        reached_negotiations = len(path) > 2 or (len(path) == 2 and final != "lost")
        amount = None
        if reached_negotiations or rng.random() < 0.4:
            amount = Decimal(round(rng.lognormvariate(math.log(350_000), 1.0), -3) or 1000)
        co_owner = None
        if seniors and rng.random() < 0.03:
            co_owner = rng.choice(seniors)
            if co_owner == owner:
                co_owner = None
        title = f"{rng.choice(DEAL_SUBJECTS)} — {short_name}"[:300]
        values = {
            "id": deal_id,
            "created_at": created,
            "updated_at": entered,
            "title": title,
            "search_text": deal_search_text(title, SimpleNamespace(short_name=short_name, inn=inn)),
            "company_id": company_id,
            "pipeline_id": pipeline.pk,
            "stage_id": stage.pk,
            "owner_id": owner,
            "co_owner_id": co_owner,
            "amount": amount,
            "expected_close": (created + timedelta(days=rng.randint(30, 150))).date(),
            "probability": stage.probability,
            "lost_reason_id": rng.choice(lost_reasons) if final == "lost" and lost_reasons else None,
            "lost_note": "",
            "source_id": source_id,
            "inquiry_id": None,
            "description": "",
            "stage_entered_at": entered,
            "closed_at": closed,
            "version": len(path),
            "created_by_id": owner,
        }
        deal_t.add(values)
        h_deal_t.add(
            {
                **values,
                "history_id": deal_id,
                "history_date": created,
                "history_type": "+",
                "history_user_id": owner,
                "history_change_reason": None,
            }
        )
        involved = people.get(company_id, [])
        roll = rng.random()
        chosen = involved[:2] if roll < 0.2 else involved[:1] if roll < 0.9 else []
        for contact_id in chosen:
            deal_contact_id += 1
            link = {"id": deal_contact_id, "deal_id": deal_id, "contact_id": contact_id}
            deal_contact_t.add(link)
            h_deal_contact_t.add({**link, "history_id": deal_id, "m2m_history_id": deal_contact_id})
        # The funnel's "passed": a later stay in a further open or won stage (the walk only goes forward, and
        # "lost" only ends it), as deal_move records it.
        last_onward = max(n for n, (code, _at) in enumerate(path) if code != "lost")
        for number, (code, entered_at) in enumerate(path):
            visit_id += 1
            visit_t.add(
                {
                    "id": visit_id,
                    "deal_id": deal_id,
                    "stage_id": stages[code].pk,
                    "entered_at": entered_at,
                    "left_at": path[number + 1][1] if number + 1 < len(path) else None,
                    "entered_by_id": owner,
                    "override_reason": "",
                    "unmet": [],
                    "passed": number < last_onward,
                }
            )
        deals.append((deal_id, company_id, created, closed or now, owner, len(path)))
    report.phases["generate deals"] = time.perf_counter() - started

    # ------------------------------------------------------------------ activities
    mark = time.perf_counter()
    log(f"sales: generating {activities_expected:,} activities…")
    on_deals = int(activities_expected * DEAL_SHARE_OF_ACTIVITIES)
    cum_deal = list(itertools.accumulate(d[5] for d in deals))  # further along, more contacts
    kind_free, kind_deal = _pick(rng, KINDS_FREE), _pick(rng, KINDS_DEAL)
    drafts: list[tuple[datetime, int, int | None, str, int]] = []  # when, company, deal, kind, curator
    for _ in range(on_deals):
        deal_id, company_id, since, until, owner, _visits = deals[
            bisect.bisect(cum_deal, rng.random() * cum_deal[-1])
        ]
        when = since + (until - since) * rng.random()
        drafts.append((when, company_id, deal_id, kind_deal(), owner))
    for _ in range(activities_expected - on_deals):
        company_id, curator_id = rows[a_company()][:2]
        when = start + timedelta(seconds=rng.random() * span_s)
        drafts.append((when, company_id, None, kind_free(), curator_id or rng.choice(curator_ids)))
    drafts.sort(key=lambda d: d[0])
    activity_t, a_contact_t, a_user_t, h_activity_t, h_a_contact_t, h_a_user_t, task_t, h_task_t = (
        Table(m) for m in models[5:]
    )
    a_contact_id = a_user_id = task_id = 0
    talks = ("meeting", "negotiation")
    for activity_id, (when, company_id, on_deal, kind, curator) in enumerate(drafts, start=1):
        author = curator if rng.random() < 0.75 else rng.choice(curator_ids)
        next_step, next_on = "", None
        roll = rng.random()
        if roll < NEXT_STEP_SHARE:
            next_step = rng.choice(NEXT_STEPS)
            next_on = (when + timedelta(days=rng.randint(1, 14))).astimezone(tz).date()
        elif roll < NEXT_STEP_SHARE + 0.05:
            next_step = rng.choice(NEXT_STEPS)
        recorded = when + timedelta(minutes=rng.randint(5, 240))
        values = {
            "id": activity_id,
            "created_at": recorded,
            "updated_at": recorded,
            "company_id": company_id,
            "deal_id": on_deal,
            "kind": kind,
            "occurred_at": when,
            "subject": rng.choice(SUBJECTS[kind]),
            "result": rng.choice(RESULTS),
            "next_step": next_step,
            "next_step_on": next_on,
            "author_id": author,
            "version": 1,
        }
        activity_t.add(values)
        h_activity_t.add(
            {
                **values,
                "history_id": activity_id,
                "history_date": recorded,
                "history_type": "+",
                "history_user_id": author,
                "history_change_reason": None,
            }
        )
        if kind != "note":
            involved = people.get(company_id, [])
            roll = rng.random()
            chosen = involved[:2] if roll < 0.1 else involved[1:2] if roll < 0.35 else involved[:1]
            if roll < 0.8:
                for contact_id in chosen:
                    a_contact_id += 1
                    link = {"id": a_contact_id, "activity_id": activity_id, "contact_id": contact_id}
                    a_contact_t.add(link)
                    h_a_contact_t.add({**link, "history_id": activity_id, "m2m_history_id": a_contact_id})
        if rng.random() < (0.7 if kind in talks else 0.1):
            ours = [author]
            if kind in talks and rng.random() < 0.3:
                other = rng.choice(curator_ids)
                if other != author:
                    ours.append(other)
            for user_id in ours:
                a_user_id += 1
                link = {"id": a_user_id, "activity_id": activity_id, "user_id": user_id}
                a_user_t.add(link)
                h_a_user_t.add({**link, "history_id": activity_id, "m2m_history_id": a_user_id})
        if next_on is not None:
            task_id += 1
            due = datetime.combine(next_on, clock(10, 0), tzinfo=tz)
            _add_task(
                rng,
                task_t,
                h_task_t,
                now,
                id=task_id,
                title=next_step,
                assignee=author,
                due=due,
                company_id=company_id,
                deal_id=on_deal,
                activity_id=activity_id,
                created=recorded,
            )
    for _ in range(int(companies * STANDALONE_TASKS_PER_COMPANY)):
        task_id += 1
        company_id, curator_id = rows[a_company()][:2]
        assignee = curator_id or rng.choice(curator_ids)
        due = (start + timedelta(days=rng.randint(0, 365 * YEARS + 30))).astimezone(tz)
        due = due.replace(hour=rng.choice((9, 10, 12, 15, 17)), minute=0, second=0, microsecond=0)
        _add_task(
            rng,
            task_t,
            h_task_t,
            now,
            id=task_id,
            title=rng.choice(TASK_TITLES),
            assignee=assignee,
            due=due,
            company_id=company_id,
            deal_id=None,
            activity_id=None,
            created=max(start, due - timedelta(days=rng.randint(1, 20))),
        )
    report.phases["generate activities and tasks"] = time.perf_counter() - mark

    log("sales: writing with COPY…")
    mark = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copied = (
            deal_t,
            deal_contact_t,
            h_deal_t,
            h_deal_contact_t,
            visit_t,
            activity_t,
            a_contact_t,
            a_user_t,
            h_activity_t,
            h_a_contact_t,
            h_a_user_t,
            task_t,
            h_task_t,
        )
        mark = copy_with_indexes_rebuilt(cursor, models, copied, report.phases, started=mark)
    report.phases["commit"] = time.perf_counter() - mark

    log("sales: VACUUM ANALYZE…")
    mark = time.perf_counter()
    vacuum_analyze(sales_models())
    report.phases["vacuum analyze"] = time.perf_counter() - mark
    report.seconds = time.perf_counter() - started
    report.counts = sales_counts()
    assert report.counts["deals"] == deals_expected, report.counts
    assert report.counts["activities"] == activities_expected, report.counts
    return report


def _add_task(
    rng: random.Random,
    table: Any,
    history: Any,
    now: datetime,
    *,
    id: int,
    title: str,
    assignee: int,
    due: datetime,
    company_id: int,
    deal_id: int | None,
    activity_id: int | None,
    created: datetime,
) -> None:
    # Old tasks are nearly all done; the last month's less so; the future's hardly.
    age = (now - due).days
    chance = 0.99 if age > 30 else 0.7 if age >= 0 else 0.05
    done = rng.random() < chance
    done_at = min(now, due + timedelta(hours=rng.randint(-48, 72))) if done else None
    if done_at is not None and done_at < created:
        done_at = created
    values = {
        "id": id,
        "created_at": created,
        "updated_at": done_at or created,
        "title": title,
        "notes": "",
        "assignee_id": assignee,
        "due_at": due,
        "company_id": company_id,
        "deal_id": deal_id,
        "activity_id": activity_id,
        "done": done,
        "done_at": done_at,
        "created_by_id": assignee,
    }
    table.add(values)
    history.add(
        {
            **values,
            "history_id": id,
            "history_date": created,
            "history_type": "+",
            "history_user_id": assignee,
            "history_change_reason": None,
        }
    )


def print_fill(report: FillReport) -> None:
    from django.db import connection

    counts = report.counts or sales_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('sales_deal')"
            " + pg_total_relation_size('sales_stagevisit')),"
            " pg_size_pretty(pg_total_relation_size('activities_activity'))"
        )
        deal_size, activity_size = cursor.fetchone()
    print(
        f"Sales data: {counts['deals']:,} deals, {counts['stage visits']:,} stage visits, "
        f"{counts['activities']:,} activities, {counts['tasks']:,} tasks; "
        f"deals with visits {deal_size}, activities table with indexes {activity_size}"
    )
    print_fill_time("Sales fill", report)


@dataclass
class Scenario:
    name: str
    urls: list[str]
    rows: str = ""
    client: str = "browser"  # browser (the manager), busy (the busiest manager), api (the manager's token)


def _available(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return True


# A word part frequent in the clients' names: the deal list's search (folded search_text, trigram index).
DEAL_SEARCH = "строй"


def run_sales_scenarios(
    requests: int, warmup: int, *, measure: Any, result: Any, only: list[str] | None = None
) -> list[Any]:
    """The deal board, list and page, the timelines, the API lists, "My day" and the funnel (S3, D3)."""
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from kurator.accounts.models import Role, User
    from kurator.accounts.tokens import api_token_create
    from kurator.activities.models import Task
    from kurator.sales.models import Deal, Pipeline

    rng = random.Random(SEED + 5)
    now = timezone.now()
    manager = User.objects.filter(role=Role.MANAGER, username__startswith="bench").order_by("id").first()
    assert manager is not None
    busy_id = (
        Task.objects.filter(done=False, due_at__lt=now + timedelta(days=8))
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("assignee", flat=True)
        .first()
    )
    busy = User.objects.get(pk=busy_id) if busy_id else manager
    pipeline = Pipeline.objects.get(is_default=True)
    first_stage = pipeline.stages.order_by("order").first()
    assert first_stage is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT company_id, count(*) FROM activities_activity GROUP BY company_id ORDER BY 2 DESC, 1"
        )
        by_company = cursor.fetchall()
    if not by_company:
        return [result("sales pages", error="no activities in the bench base")]
    busiest, busiest_n = by_company[0]
    typical = by_company[len(by_company) // 2 : len(by_company) // 2 + 20]
    deal_ids = list(Deal.objects.values_list("pk", flat=True).order_by("?")[: requests + warmup + 5])
    counts = {
        "open": Deal.objects.filter(pipeline=pipeline, stage__kind="open").count(),
        "mine": Deal.objects.filter(pipeline=pipeline, stage__kind="open", owner=manager).count(),
        "stage": Deal.objects.filter(stage=first_stage).count(),
        "all": Deal.objects.count(),
        "search": Deal.objects.filter(stage__kind="open", search_text__contains=DEAL_SEARCH).count(),
    }
    busy_tasks = Task.objects.filter(assignee=busy, done=False, due_at__lt=now + timedelta(days=8)).count()
    year_ago, today = (now - timedelta(days=365)).date(), now.date()

    plan = [
        Scenario("deal board", ["/deals/"], f"{counts['open']:,} open"),
        Scenario("deal board, own deals", ["/deals/?mine=1"], f"{counts['mine']:,} open"),
        Scenario("deal list", ["/deals/list/"], f"{counts['open']:,} open"),
        Scenario(
            f"deal list, search «{DEAL_SEARCH}»", [f"/deals/list/?q={DEAL_SEARCH}"], f"{counts['search']:,}"
        ),
        Scenario("deal page", [f"/deals/{pk}/" for pk in deal_ids], "1"),
        Scenario("timeline, busiest company", [f"/activities/company/{busiest}/"], f"{busiest_n:,}"),
        Scenario(
            "timeline, typical company",
            [f"/activities/company/{c}/" for c, _n in typical],
            f"{typical[0][1]:,}",
        ),
        Scenario(
            "API activities ?company=", [f"/api/v1/activities/?company={busiest}"], f"{busiest_n:,}", "api"
        ),
        Scenario(
            "API deals ?stage=", [f"/api/v1/deals/?stage={first_stage.pk}"], f"{counts['stage']:,}", "api"
        ),
        Scenario("my day, busy manager", ["/my-day/"], f"{busy_tasks:,} tasks", "busy"),
        Scenario("funnel, a year", [f"/deals/funnel/?from={year_ago}&to={today}"], "1 year"),
        Scenario(
            "API funnel, a year", [f"/api/v1/reports/funnel/?from={year_ago}&to={today}"], "1 year", "api"
        ),
    ]
    clients: dict[str, tuple[Any, dict[str, str] | None]] = {}
    browser = Client()
    browser.force_login(manager)
    clients["browser"] = (browser, None)
    busy_client = Client()
    busy_client.force_login(busy)
    clients["busy"] = (busy_client, None)
    _token, api_key = api_token_create(actor=manager, name="bench")
    clients["api"] = (Client(), {"Authorization": f"Token {api_key}"})

    results = []
    from bench.run import selected

    for scenario in plan:
        if not selected(scenario.name, only):
            continue
        rng.shuffle(scenario.urls)
        if not _available(scenario.urls[0]):
            results.append(
                result(scenario.name, rows=scenario.rows, error="not available (URL not defined yet)")
            )
            continue
        client, headers = clients[scenario.client]
        # A page that takes seconds is timed a few times only: its figure is clear, and the run stays short.
        started = time.perf_counter()
        client.get(scenario.urls[0], headers=headers or {})
        slow = time.perf_counter() - started > SLOW_S
        results.append(
            measure(
                scenario.name,
                client,
                itertools.cycle(scenario.urls),
                requests=min(requests, SLOW_REQUESTS) if slow else requests,
                warmup=0 if slow else warmup,
                rows=scenario.rows,
                headers=headers,
            )
        )
    return results
