"""``make bench``: fill a separate PostgreSQL database with 100,000 companies and time the main pages.

    python -m bench.run [--companies 100000] [--requests 30] [--refill]

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kurator_bench); it is
created if missing and migrated. The fill is skipped when the database already holds the expected rows, so a
second run only measures; ``--refill`` drops and recreates the database first.

The fill writes with PostgreSQL COPY: the demo generator (kurator.companies.demo) gives the values, and the
derived columns (search text, completeness) are computed in Python by the same functions the services use.
The measurement uses Django's test Client in this process, logged in as a manager (a token for the API), so
the times are server times: routing, middleware, views, SQL and rendering, without a network.

Exit code: 0 whether or not the target is met; 1 when a page failed (error status or an exception).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench import access, finance, sales
from bench.common import FillReport, print_fill_time, truncate, vacuum_analyze

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kurator_bench"
TARGET_MEDIAN_MS = 50.0
SEED = 20261127
PEOPLE_PER_COMPANY = 2
ACCOUNTS_PER_COMPANY = 1
# Fragments of firm names (words of the generator's names): each hits about one company in a hundred and
# thirty. Several of them, because the plan PostgreSQL picks for one of them is a matter of its statistics.
NAME_FRAGMENTS = (
    "меридиа",
    "ромашк",
    "арсенал",
    "вертикал",
    "горизонт",
    "кристалл",
    "зенит",
    "спектр",
    "эталон",
    "монолит",
)
# A common word part ("…строй…"): hits about one company in ten; the hardest case for LIMIT + ORDER BY.
COMMON_FRAGMENT = "строй"


# --------------------------------------------------------------------------- the database


def database_settings(url: str) -> dict[str, Any]:
    import dj_database_url

    config = dict(dj_database_url.parse(url))
    if "postgresql" not in str(config["ENGINE"]):
        raise SystemExit(f"The bench needs PostgreSQL; BENCH_DATABASE_URL is {url!r}")
    return config


def prepare_database(url: str, *, refill: bool) -> str:
    """Create the bench database if it is missing (drop it first with ``refill``). Returns what was done."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    config = database_settings(url)
    name = config["NAME"]
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    conninfo = make_conninfo("", **{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists and refill:
            if "bench" not in name:
                # A guard against pointing BENCH_DATABASE_URL at a real database by mistake.
                raise SystemExit(f"Refusing to drop database {name!r}: its name does not contain 'bench'.")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = False
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return "created"
    return "exists"


def setup_django(url: str) -> None:
    # Settings read DATABASE_URL when they are imported, so it is set before django.setup().
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kurator.settings")
    import django

    django.setup()


# --------------------------------------------------------------------------- the fill


class Table:
    """Rows for one model, in the order of its concrete fields, ready for COPY."""

    def __init__(self, model: Any) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.columns = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        self.json = [f.attname for f in fields if f.get_internal_type() == "JSONField"]
        self.rows: list[list[Any]] = []

    def add(self, values: dict[str, Any]) -> None:
        get = values.get
        row = [get(a) for a in self.attnames]
        for name in self.json:
            index = self.attnames.index(name)
            row[index] = json.dumps(row[index], ensure_ascii=False)
        self.rows.append(row)

    def copy(self, cursor: Any) -> None:
        self.copy_rows(cursor, self.rows)

    def copy_rows(self, cursor: Any, rows: Iterable[list[Any]]) -> None:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def bench_users() -> list[Any]:
    """The department of the bench: 16 managers, 3 key-account managers and a head of sales."""
    from kurator.accounts.models import Role, User
    from kurator.companies.demo import MALE_NAMES, SURNAMES

    roles = [Role.MANAGER] * 16 + [Role.SENIOR_MANAGER] * 3 + [Role.HEAD_OF_SALES]
    rng = random.Random(SEED)
    users = []
    for number, role in enumerate(roles, start=1):
        first, last = rng.choice(MALE_NAMES)[0], rng.choice(SURNAMES)
        user, created = User.objects.get_or_create(
            username=f"bench{number}", defaults={"role": role, "first_name": first, "last_name": last}
        )
        if created:
            # Nobody logs in with a password here (force_login and a token), so no hashing cost.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    return users


def _company_tables() -> list[Any]:
    from django.apps import apps

    from kurator.companies.models import BankAccount, Company, Contact

    return [
        Company,
        Contact,
        BankAccount,
        Company.product_categories.through,
        Company.history.model,
        Contact.history.model,
        BankAccount.history.model,
        apps.get_model("companies", "HistoricalCompany_product_categories"),
    ]


def secondary_indexes(cursor: Any, tables: list[str]) -> list[tuple[str, str]]:
    """Name and definition of each index on ``tables`` that no constraint (primary key, unique) owns."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.tablename, i.indexname
        """,
        [tables],
    )
    return [(name, definition) for name, definition in cursor.fetchall()]


def foreign_keys(cursor: Any, tables: list[str]) -> list[tuple[str, str, str]]:
    """Table, name and definition of each foreign key of ``tables``."""
    cursor.execute(
        """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
        WHERE c.contype = 'f' AND t.relname = ANY(%s)
        ORDER BY t.relname, c.conname
        """,
        [tables],
    )
    return [(table, name, definition) for table, name, definition in cursor.fetchall()]


def copy_with_indexes_rebuilt(
    cursor: Any, models: list[Any], tables: Iterable[Any], phases: dict[str, float], *, started: float
) -> float:
    """COPY ``tables`` (``Table`` rows) into the tables of ``models`` with their secondary indexes and foreign
    keys dropped, then rebuild them: an index built once is much faster than one updated row by row, and a
    foreign key added back is checked once per constraint (one join) instead of row by row. Records the
    "copy", "indexes" and "foreign keys" phases from ``started``; returns when the last one ended."""
    from django.core.management.color import no_style
    from django.db import connection

    table_names = [m._meta.db_table for m in models]
    indexes = secondary_indexes(cursor, table_names)
    keys = foreign_keys(cursor, table_names)
    for table, name, _definition in keys:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    for table_rows in tables:
        table_rows.copy(cursor.cursor)
    for statement in connection.ops.sequence_reset_sql(no_style(), models):
        cursor.execute(statement)
    phases["copy"] = time.perf_counter() - started
    mark = time.perf_counter()
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    phases["indexes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    phases["foreign keys"] = time.perf_counter() - mark
    return time.perf_counter()


def row_counts() -> tuple[int, int, int]:
    from kurator.companies.models import BankAccount, Company, Contact

    return Company.objects.count(), Contact.objects.count(), BankAccount.objects.count()


def fill(companies: int, log: Callable[[str], None]) -> FillReport:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from kurator.companies.demo import DemoGenerator, Dictionaries
    from kurator.companies.dossier import (
        build_search_text,
        build_sort_name,
        checklist_status,
        completeness_of,
    )
    from kurator.companies.models import Company, Contact

    expected = (companies, companies * PEOPLE_PER_COMPANY, companies * ACCOUNTS_PER_COMPANY)
    users = bench_users()
    if row_counts() == expected:
        return FillReport(skipped=True)

    report = FillReport(skipped=False)
    started = time.perf_counter()
    models = _company_tables()
    with connection.cursor() as cursor:
        truncate(cursor, models)

    log(f"generating {companies:,} companies…")
    company_t, contact_t, account_t, link_t, h_company_t, h_contact_t, h_account_t, h_link_t = (
        Table(m) for m in models
    )
    curators = users[:-1]  # the head curates nobody here
    generator = DemoGenerator(seed=SEED, curators=curators, dictionaries=Dictionaries.load())
    now = timezone.now()
    contact_id = account_id = link_id = 0
    history_id = {"company": 0, "contact": 0, "account": 0, "link": 0}

    def history(table: Table, key: str, values: dict[str, Any], when: datetime, user_id: int) -> None:
        history_id[key] += 1
        table.add(
            {
                **values,
                "history_id": history_id[key],
                "history_date": when,
                "history_type": "+",
                "history_user_id": user_id,
                "history_change_reason": None,
            }
        )

    for index in range(companies):
        spec = generator.company(people=PEOPLE_PER_COMPANY, bank_accounts=ACCOUNTS_PER_COMPANY)
        company_id = index + 1
        when = now - timedelta(days=spec.age_days, seconds=index % 86400)
        company = Company(id=company_id, **spec.fields)
        company.referred_by_id = spec.referred_by + 1 if spec.referred_by is not None else None
        contacts: list[Contact] = []
        first_contact = contact_id + 1
        for person in spec.people:
            contact_id += 1
            contacts.append(
                Contact(
                    id=contact_id,
                    company_id=company_id,
                    created_at=when,
                    updated_at=when,
                    reports_to_id=first_contact + person.boss if person.boss is not None else None,
                    **person.fields,
                )
            )
        status = checklist_status(company, contacts, bool(spec.bank_accounts), bool(spec.categories))
        has_profile = bool(spec.categories) or any(
            getattr(company, f) is not None
            for f in ("application_sphere_id", "delivery_method_id", "sales_technology_id")
        )
        company.created_at = company.updated_at = when
        company.general_updated_at = company.requisites_updated_at = company.people_updated_at = when
        company.profile_updated_at = when if has_profile else None
        company.created_by_id = company.curator_id
        company.completeness = completeness_of(status)
        company.search_text = build_search_text(company, contacts)
        company.sort_name = build_sort_name(company)
        values = company.__dict__
        company_t.add(values)
        history(h_company_t, "company", values, when, company.curator_id)
        company_history_id = history_id["company"]
        for category in spec.categories:
            link_id += 1
            link = {"id": link_id, "company_id": company_id, "productcategory_id": category.pk}
            link_t.add(link)
            history_id["link"] += 1
            h_link_t.add({**link, "history_id": company_history_id, "m2m_history_id": history_id["link"]})
        for contact in contacts:
            contact_t.add(contact.__dict__)
            history(h_contact_t, "contact", contact.__dict__, when, company.curator_id)
        for number, account in enumerate(spec.bank_accounts):
            account_id += 1
            row = {
                **account,
                "id": account_id,
                "company_id": company_id,
                "is_primary": number == 0,
                "created_at": when,
                "updated_at": when,
            }
            account_t.add(row)
            history(h_account_t, "account", row, when, company.curator_id)
    report.phases["generate"] = time.perf_counter() - started

    log("writing with COPY…")
    mark = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Building an index once is much faster than updating it row by row (the trigram GIN index above
        # all), so secondary indexes are dropped for the COPY and rebuilt from their own definitions.
        indexes = secondary_indexes(cursor, [m._meta.db_table for m in models])
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table in (
            company_t,
            contact_t,
            account_t,
            link_t,
            h_company_t,
            h_contact_t,
            h_account_t,
            h_link_t,
        ):
            table.copy(cursor.cursor)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        # The foreign keys are checked now (they are deferred to the commit otherwise, and PostgreSQL will not
        # build an index on a table with pending checks).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        report.phases["copy"] = time.perf_counter() - mark
        mark = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        report.phases["indexes"] = time.perf_counter() - mark
        mark = time.perf_counter()
    report.phases["commit"] = time.perf_counter() - mark

    log("VACUUM ANALYZE…")
    mark = time.perf_counter()
    vacuum_analyze(models)
    report.phases["vacuum analyze"] = time.perf_counter() - mark
    report.seconds = time.perf_counter() - started
    assert row_counts() == expected, (row_counts(), expected)
    return report


# --------------------------------------------------------------------------- the measurement


@dataclass
class Result:
    scenario: str
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    sql_ms: float = 0.0
    rows: str = ""
    error: str = ""
    target_ms: float = TARGET_MEDIAN_MS
    explain: str = ""  # with --explain: the plans of the slow queries of a scenario over its target

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")

    @property
    def p95(self) -> float:
        if not self.times_ms:
            return float("nan")
        ordered = sorted(self.times_ms)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]  # nearest rank


def fetch(client: Any, url: str, headers: dict[str, str]) -> Any:
    """GET ``url``; a streamed answer (a download, a CSV export) is made as it is read, so it is read to the
    end, as a browser would."""
    response = client.get(url, headers=headers)
    if response.streaming:
        for _chunk in response.streaming_content:
            pass
    return response


def measure(
    name: str,
    client: Any,
    urls: Iterator[str],
    *,
    requests: int,
    warmup: int,
    rows: str = "",
    headers: dict[str, str] | None = None,
    target_ms: float = TARGET_MEDIAN_MS,
) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result = Result(name, rows=rows, target_ms=target_ms)
    headers = headers or {}
    try:
        for _ in range(warmup):
            fetch(client, next(urls), headers)
        for _ in range(requests):
            url = next(urls)
            started = time.perf_counter()
            response = fetch(client, url, headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code} for {url}"
                return result
            result.times_ms.append(elapsed)
        # Queries are counted in separate requests, so that recording them does not weigh on the times.
        counts, sql_times = [], []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                fetch(client, next(urls), headers)
            counts.append(len(captured.captured_queries))
            sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        result.queries = max(counts)
        result.sql_ms = statistics.median(sql_times)
        if EXPLAIN_MS is not None and result.median >= result.target_ms:
            result.explain = explain(lambda: fetch(client, next(urls), headers), EXPLAIN_MS)
    except Exception as exc:  # a crashed page is reported, the other scenarios still run
        result.error = f"{type(exc).__name__}: {exc}"
    return result


# ``--explain MS``: a scenario over its target prints EXPLAIN ANALYZE of each of its queries that took MS or
# more (one more request, its queries run again under EXPLAIN: they are read-only selects).
EXPLAIN_MS: float | None = None


def explain(call: Callable[[], Any], threshold_ms: float) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    out = []
    for query in captured.captured_queries:
        ms = float(query["time"]) * 1000
        sql = query["sql"]
        if ms < threshold_ms or not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        out.append(f"  {ms:.1f} ms: {sql}\n{plan}")
    return "\n".join(out) or f"  (no query took {threshold_ms:g} ms or more)"


def cycle(values: list[str]) -> Iterator[str]:
    while True:
        yield from values


def selected(name: str, only: list[str] | None) -> bool:
    """Whether a scenario is run: all when ``--only`` is not given, else those naming one of its words."""
    return not only or any(word.lower() in name.lower() for word in only)


def run_scenarios(companies: int, requests: int, warmup: int, only: list[str] | None = None) -> list[Result]:
    from django.conf import settings
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from kurator.accounts.models import Role, User
    from kurator.accounts.tokens import api_token_create
    from kurator.companies.models import Company
    from kurator.companies.selectors import company_list

    # Production-like: no query log, no template debugging (settings were imported with DEBUG on, which
    # keeps plain static file storage for the test client).
    settings.DEBUG = False
    # WhiteNoise warns that collectstatic has not run; the bench serves no static files.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    manager = User.objects.filter(role=Role.MANAGER, username__startswith="bench").order_by("id").first()
    assert manager is not None
    browser = Client()
    browser.force_login(manager)
    api = Client()
    _token, api_key = api_token_create(actor=manager, name="bench")
    rng = random.Random(SEED)

    def url(name: str, *args: Any) -> str | None:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return None

    results: list[Result] = []
    list_url = url("companies:list")
    detail_ids = [rng.randint(1, companies) for _ in range(requests + warmup + 5)]
    inns = list(Company.objects.filter(pk__in=detail_ids[:10]).values_list("inn", flat=True))

    def found(query: str) -> int:
        return company_list(actor=manager, search=query).count()

    name_hits, common_hits = [found(f) for f in NAME_FRAGMENTS], found(COMMON_FRAGMENT)
    inn_hits = [found(inn) for inn in inns]
    inn_rows = "1 each" if set(inn_hits) == {1} else f"{sum(1 for h in inn_hits if h)}/{len(inns)} found"
    plan: list[tuple[str, str | None, list[str], str, dict[str, str] | None]] = [
        ("company list, page 1", list_url, [""], f"{companies:,}", None),
        (
            "search name fragment",
            list_url,
            [f"?q={f}" for f in NAME_FRAGMENTS],
            f"{min(name_hits)}–{max(name_hits)}",
            None,
        ),
        (f"search word «{COMMON_FRAGMENT}»", list_url, [f"?q={COMMON_FRAGMENT}"], f"{common_hits:,}", None),
        ("search by INN", list_url, [f"?q={inn}" for inn in inns], inn_rows, None),
        ("dossier page", "detail", [], "1", None),
        ("API list", "/api/v1/companies/", [""], f"{companies:,}", {"Authorization": f"Token {api_key}"}),
    ]
    for name, base, suffixes, rows, headers in plan:
        if not selected(name, only):
            continue
        client = api if headers else browser
        if base == "detail":
            urls = [u for u in (url("companies:detail", pk) for pk in detail_ids) if u]
        else:
            urls = [base + s for s in suffixes] if base else []
        if not urls:
            results.append(Result(name, error="not available (URL not defined yet)"))
            continue
        results.append(
            measure(name, client, cycle(urls), requests=requests, warmup=warmup, rows=rows, headers=headers)
        )
    if selected("match", only):
        results += run_match_scenarios(detail_ids, requests=requests, warmup=warmup)
    return results


MATCH_TARGET_MS = 20.0


def _drop_a_letter(name: str, rng: random.Random) -> str:
    position = rng.randint(3, max(3, len(name) - 3))
    return name[:position] + name[position + 1 :]


def run_match_scenarios(company_ids: list[int], *, requests: int, warmup: int) -> list[Result]:
    """The inquiry matcher (R2) on its own, as an inquiry or an import row calls it: one call per inquiry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kurator.companies.models import Company, Contact
    from kurator.inquiries.matching import match_company

    companies = list(Company.objects.filter(pk__in=company_ids).order_by("pk"))
    people = {c.company_id: c for c in Contact.objects.filter(company__in=companies).exclude(phones=[])}
    # A typo in the name (one letter dropped) keeps it "possible"; a new INN and name match nothing.
    rng = random.Random(SEED + 1)
    inquiries: dict[str, list[dict[str, Any]]] = {
        "match: INN (certain)": [{"inn": c.inn, "kpp": c.kpp} for c in companies],
        "match: person's phone": [{"phones": people[c.pk].phones[:1]} for c in companies if c.pk in people],
        "match: e-mail domain": [
            {"emails": ["zakaz@" + c.emails[0].split("@", 1)[1]]} for c in companies if c.emails
        ],
        "match: similar name": [{"name": _drop_a_letter(c.short_name, rng)} for c in companies],
        "match: nothing": [
            {"name": f"ООО «Небывалое {n}»", "phones": [f"+7 999 {n:03d}-00-11"]} for n in range(50)
        ],
    }
    results = []
    for name, calls in inquiries.items():
        result = Result(name, rows=f"{len(calls)} inquiries", target_ms=MATCH_TARGET_MS)
        if not calls:
            result.error = "no data for this scenario"
            results.append(result)
            continue
        try:
            source = cycle(list(range(len(calls))))  # type: ignore[arg-type]
            for _ in range(warmup):
                match_company(**calls[int(next(source))])
            for _ in range(requests):
                started = time.perf_counter()
                match_company(**calls[int(next(source))])
                result.times_ms.append((time.perf_counter() - started) * 1000)
            counts, sql_times = [], []
            for _ in range(5):
                with CaptureQueriesContext(connection) as captured:
                    match_company(**calls[int(next(source))])
                counts.append(len(captured.captured_queries))
                sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
            result.queries = max(counts)
            result.sql_ms = statistics.median(sql_times)
        except Exception as exc:  # reported, the other scenarios still run
            result.error = f"{type(exc).__name__}: {exc}"
        results.append(result)
    return results


# --------------------------------------------------------------------------- the import (S1)

IMPORT_TARGET_S = 60.0
IMPORT_HEADINGS = [
    *("№", "Наименование", "ИНН", "КПП", "ОГРН", "Телефон", "E-mail", "Юридический адрес", "Город", "Сайт"),
    *("Контактное лицо", "Должность", "Телефон контактного лица", "Источник", "БИК", "Р/с", "К/с", "Банк"),
]
# What the generated list plants besides new companies (shares of the rows).
IMPORT_BASE_DUPLICATES = 0.04  # rows naming a company of the base by its INN/KPP
IMPORT_FILE_DUPLICATES = 0.01  # rows repeating an earlier row of the file
IMPORT_BAD_ROWS = 0.02  # a wrong INN checksum or a phone that is no phone


@dataclass
class ImportBench:
    rows: int = 0
    size: int = 0
    planted: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str = ""


def _spelled_phone(e164: str) -> str:
    """``+74951234567`` as an office list writes it: ``8 (495) 123-45-67``."""
    d = e164.removeprefix("+7")
    return f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:10]}" if len(d) == 10 else e164


def generate_import_file(path: Any, rows: int) -> dict[str, int]:
    """A Windows-1251, `;`-delimited list of ``rows`` clients as offices keep them (phones in any
    spelling, INNs with spaces, a person and a bank account per firm), duplicates and bad rows planted."""
    import csv

    from kurator.companies.demo import DemoGenerator, Dictionaries
    from kurator.companies.models import Company

    rng = random.Random(SEED + 2)
    generator = DemoGenerator(seed=SEED + 1, curators=[None], dictionaries=Dictionaries.load())
    generator.reserve(Company.objects.values_list("inn", "kpp").iterator(chunk_size=10000))
    # New firms get domains of their own: a shared corporate domain would make them look like the old ones.
    for website, emails in Company.objects.values_list("website", "emails").iterator(chunk_size=10000):
        generator.used_domains.update(e.rpartition("@")[2] for e in emails)
        generator.used_domains.add(website.removeprefix("https://"))
    count = Company.objects.count()
    sample_ids = rng.sample(range(1, count + 1), min(count, int(rows * IMPORT_BASE_DUPLICATES) + 10))
    base = list(Company.objects.filter(pk__in=sample_ids).values_list("short_name", "inn", "kpp", "phones"))
    planted = {"new": 0, "base duplicate": 0, "file duplicate": 0, "bad": 0}
    written: list[list[str]] = []
    with open(path, "w", encoding="cp1251", errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(IMPORT_HEADINGS)
        for number in range(1, rows + 1):
            roll = rng.random()
            if roll < IMPORT_BASE_DUPLICATES and base:
                name, inn, kpp, phones = base.pop()
                row = [str(number), name, inn, kpp, "", _spelled_phone(phones[0]) if phones else ""]
                row += [""] * (len(IMPORT_HEADINGS) - len(row))
                planted["base duplicate"] += 1
            elif roll < IMPORT_BASE_DUPLICATES + IMPORT_FILE_DUPLICATES and written:
                row = [str(number), *rng.choice(written)[1:]]
                planted["file duplicate"] += 1
            else:
                spec = generator.company(people=1, bank_accounts=1)
                f, person, account = spec.fields, spec.people[0].fields, spec.bank_accounts[0]
                inn = f["inn"]
                if rng.random() < 0.1:
                    inn = f"{inn[:4]} {inn[4:7]} {inn[7:]}"
                source = f["source"]
                row = [
                    str(number),
                    f["short_name"] if rng.random() < 0.5 else f["full_name"],
                    inn,
                    f["kpp"],
                    f["ogrn"],
                    ", ".join(_spelled_phone(p) for p in f["phones"]),
                    ", ".join(f["emails"]),
                    f["legal_address"],
                    f["city"],
                    f["website"],
                    person["full_name"],
                    person["position"],
                    ", ".join(_spelled_phone(p) for p in person["phones"]),
                    source.name if source is not None else "",
                    account["bik"],
                    account["settlement_account"],
                    account["correspondent_account"],
                    account["bank_name"],
                ]
                if roll > 1 - IMPORT_BAD_ROWS:
                    if rng.random() < 0.5:
                        digits = f["inn"]
                        row[2] = digits[:-1] + str((int(digits[-1]) + 1) % 10)
                    else:
                        row[5] = "12-34"
                    planted["bad"] += 1
                else:
                    planted["new"] += 1
                    written.append(row)
            writer.writerow(row)
    return planted


def run_import(rows: int, log: Callable[[str], None]) -> ImportBench:
    """Time the dry run, the preview and the apply of a generated list of ``rows`` rows against the bench
    base, inside a transaction that is rolled back (the base keeps its companies). The apply's time includes
    the foreign-key checks a commit would run; the apply reuses the preview's checks of the rows, as it does
    in the UI and the API, and matches every row against the base again."""
    import tempfile
    from pathlib import Path

    from django.conf import settings
    from django.db import connection, transaction

    from kurator.accounts.models import Role, User
    from kurator.companies.models import Company
    from kurator.inquiries import importing

    result = ImportBench(rows=rows)
    head = User.objects.filter(role=Role.HEAD_OF_SALES, username__startswith="bench").first()
    curator = User.objects.filter(role=Role.MANAGER, username__startswith="bench").order_by("id").first()
    assert head is not None and curator is not None
    before = Company.objects.count()
    with tempfile.TemporaryDirectory(prefix="kurator-import-") as folder:
        path = Path(folder) / "clients.csv"
        log(f"import: generating {rows:,} rows…")
        result.planted = generate_import_file(path, rows)
        data = path.read_bytes()
        result.size = len(data)
        # The bench list is bigger than the default upload limit; the limits are not what is measured.
        settings.KURATOR_IMPORT_MAX_BYTES = max(settings.KURATOR_IMPORT_MAX_BYTES, len(data) + 1)
        settings.KURATOR_IMPORT_MAX_ROWS = max(settings.KURATOR_IMPORT_MAX_ROWS, rows)
        settings.MEDIA_ROOT = Path(folder) / "media"
        try:
            log("import: dry run…")
            started = time.perf_counter()
            analysis = importing.import_dry_run(actor=head, data=data, filename=path.name)
            result.seconds["dry run"] = time.perf_counter() - started
            result.totals["dry run"] = analysis.totals
            del analysis
            with transaction.atomic():
                log("import: preview batch…")
                started = time.perf_counter()
                batch = importing.import_prepare(actor=head, data=data, filename=path.name, curator=curator)
                result.seconds["preview (a batch)"] = time.perf_counter() - started
                log("import: apply…")
                started = time.perf_counter()
                batch = importing.import_apply(actor=head, batch=batch)
                with connection.cursor() as cursor:
                    # The foreign keys are checked at COMMIT; the rollback would skip that work, so it is
                    # done (and timed) here.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                result.seconds["apply"] = time.perf_counter() - started
                result.totals["apply"] = batch.totals
                created = Company.objects.count() - before
                if created != batch.totals["new"]:
                    result.error = f"apply created {created} companies for {batch.totals['new']} new rows"
                transaction.set_rollback(True)
        except Exception as exc:  # reported; the page scenarios' results still print
            result.error = f"{type(exc).__name__}: {exc}"
    # A rolled-back insert leaves its rows and index entries behind as dead space, which a plain VACUUM only
    # marks reusable (the trigram indexes would stay twice their size): rewriting the tables gives the next
    # run the base the fill left.
    log("import: rolled back; VACUUM FULL…")
    with connection.cursor() as cursor:
        for model in _company_tables():
            cursor.execute(f'VACUUM (FULL, ANALYZE) "{model._meta.db_table}"')
    assert Company.objects.count() == before
    return result


def print_import_report(result: ImportBench) -> bool:
    print()
    planted = ", ".join(f"{v:,} {k}" for k, v in result.planted.items())
    size = result.size / 1e6
    print(f"Import (S1): {result.rows:,} rows, Windows-1251 CSV with `;`, {size:.1f} MB; planted: {planted}")
    if result.error:
        print(f"ERROR: {result.error}")
        return False
    header = f"{'step':<20} {'seconds':>8} {'rows/s':>9}  {'new':>7} {'duplicate':>9} {'refused':>8}"
    print(header)
    print("-" * len(header))
    for step, seconds in result.seconds.items():
        totals = result.totals.get(step) or result.totals.get("dry run", {})
        print(
            f"{step:<20} {seconds:>8.1f} {result.rows / seconds:>9,.0f}  {totals.get('new', 0):>7,} "
            f"{totals.get('duplicate', 0):>9,} {totals.get('refused', 0):>8,}"
        )
    apply = result.seconds.get("apply", float("inf"))
    dry_run = result.seconds.get("dry run", float("inf"))
    together = apply + result.seconds.get("preview (a batch)", float("inf"))
    ok = apply < IMPORT_TARGET_S and dry_run < IMPORT_TARGET_S
    print()
    verdict = "PASS" if ok else "FAIL"
    limit = f"{IMPORT_TARGET_S:.0f} s"
    print(
        f"Target: {result.rows:,} rows checked (dry run) and written (apply), each under {limit}: {verdict}"
    )
    print(
        "The dry run and the preview check and match every row; the apply reuses the preview's checks, "
        "matches every row\nagain and writes (the foreign-key checks of the commit included). "
        f"Upload to applied (preview + apply): {together:.1f} s."
    )
    return ok


# --------------------------------------------------------------------------- the report


def data_size() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        database = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('companies_company'))")
        companies = cursor.fetchone()[0]
    return {"database": database, "companies table with indexes": companies}


def print_report(
    results: list[Result],
    report: FillReport,
    counts: tuple[int, int, int],
    url: str,
    requests: int,
    sales_report: FillReport | None = None,
    finance_report: FillReport | None = None,
    access_report: FillReport | None = None,
) -> bool:
    config = database_settings(url)
    print()
    print(
        f"Kurator bench — PostgreSQL {config['NAME']} at {config.get('HOST') or 'localhost'}:"
        f"{config.get('PORT') or 5432}"
    )
    sizes = ", ".join(f"{k} {v}" for k, v in data_size().items())
    print(f"Data: {counts[0]:,} companies, {counts[1]:,} people, {counts[2]:,} bank accounts; {sizes}")
    print_fill_time("Fill", report, f"; target under 120 s: {'PASS' if report.seconds < 120 else 'FAIL'}")
    if sales_report is not None:
        sales.print_fill(sales_report)
    if finance_report is not None:
        finance.print_fill(finance_report)
    if access_report is not None:
        access.print_fill(access_report)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Times: {requests} requests per scenario after a warm-up, Django test client, server time; "
        f"{os.cpu_count()} CPUs, load average {load} (other work on the machine inflates the times)."
    )
    print()
    width = max([28, *(len(r.scenario) for r in results)])
    header = (
        f"{'scenario':<{width}} {'median ms':>10} {'p95 ms':>8} {'SQL/req':>8} {'SQL ms':>7} "
        f"{'rows':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for r in results:
        if r.error:
            passed = False
            print(f"{r.scenario:<{width}} {'—':>10} {'—':>8} {'—':>8} {'—':>7} {r.rows:>8}  ERROR: {r.error}")
            continue
        ok = r.median < r.target_ms
        passed = passed and ok
        print(
            f"{r.scenario:<{width}} {r.median:>10.1f} {r.p95:>8.1f} {r.queries:>8} {r.sql_ms:>7.1f} "
            f"{r.rows:>8}  {'PASS' if ok else 'FAIL'}"
        )
    for r in results:
        if r.explain:
            print()
            print(f"EXPLAIN ANALYZE, {r.scenario} ({r.median:.1f} ms, target {r.target_ms:.0f} ms):")
            print(r.explain)
    print()
    print(
        f"Targets: every page's median under {TARGET_MEDIAN_MS:.0f} ms, "
        f"the ageing report's under {finance.AGEING_TARGET_MS:.0f} ms, "
        f"one match's under {MATCH_TARGET_MS:.0f} ms; the access pages and API lists under "
        f"{access.TARGET_MS:.0f} ms, a month's CSV export under {access.EXPORT_TARGET_MS / 1000:.0f} s, a "
        f"wrong-password sign-in under {access.LOGIN_TARGET_MS:.0f} ms: {'PASS' if passed else 'FAIL'}"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per scenario (30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (3)")
    parser.add_argument("--refill", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=100_000,
        help="rows of the client-list import scenario (0 skips it)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="run only the scenarios whose name holds one of these comma-separated words (deal,funnel)",
    )
    parser.add_argument(
        "--explain",
        type=float,
        default=None,
        metavar="MS",
        help="print EXPLAIN ANALYZE of the queries of MS or more of each scenario over its target",
    )
    args = parser.parse_args(argv)
    global EXPLAIN_MS
    EXPLAIN_MS = args.explain
    only = [w.strip() for w in args.only.split(",") if w.strip()] or None
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)

    def log(message: str) -> None:
        print(f"bench: {message}", flush=True)

    log(f"database {prepare_database(url, refill=args.refill)}; migrating…")
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    report = fill(args.companies, log)
    if report.skipped:
        # An earlier run (or the import scenario's rollback) may have left the visibility map stale.
        log("VACUUM ANALYZE…")
        vacuum_analyze(_company_tables())
    else:
        log(f"filled in {report.seconds:.1f} s")
    # Deals, activities and tasks over the companies; a base of an earlier bench keeps its companies.
    sales_report = sales.fill_sales(args.companies, log)
    if sales_report.skipped:
        vacuum_analyze(sales.sales_models())
    else:
        log(f"sales data filled in {sales_report.seconds:.1f} s")
    # Orders, invoices, payments and the rest of finance over the companies; kept when already there.
    finance_report = finance.fill_finance(args.companies, log)
    if finance_report.skipped:
        vacuum_analyze(finance.finance_models())
    else:
        log(f"finance data filled in {finance_report.seconds:.1f} s")
    # Documents, access requests and grants, and the audit log; kept when already there.
    access_report = access.fill_access(args.companies, log)
    if access_report.skipped:
        vacuum_analyze(access.access_models())
    else:
        log(f"access data filled in {access_report.seconds:.1f} s")
    log("measuring…")
    results = run_scenarios(args.companies, args.requests, args.warmup, only)
    results += sales.run_sales_scenarios(
        args.requests, args.warmup, measure=measure, result=Result, only=only
    )
    results += finance.run_finance_scenarios(
        args.requests, args.warmup, measure=measure, result=Result, only=only, explain_ms=args.explain
    )
    results += access.run_access_scenarios(
        args.requests, args.warmup, measure=measure, result=Result, only=only, explain_ms=args.explain
    )
    print_report(
        results, report, row_counts(), url, args.requests, sales_report, finance_report, access_report
    )
    failed = any(r.error and not r.error.startswith("not available") for r in results)
    if args.import_rows:
        # Last: its rolled-back rows leave dead tuples the other scenarios should not pay for.
        imported = run_import(args.import_rows, log)
        print_import_report(imported)
        failed = failed or bool(imported.error)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
