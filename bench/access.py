"""The restricted-access part of the bench (R4, D12): the audit log, the dossier's documents, access requests
and grants over the bench's companies, written with COPY, and the pages that read them (the audit log with its
filters and CSV export, the Documents tab, downloads, the solvency tab that writes an audit row, the requests
page) and the sign-in throttle.

The fill runs after the companies', the sales and the finance fills and keeps them. Per 100,000 companies:
- 200 people in the log: the bench's department (16 managers, 3 key-account managers, the head of sales), the
  finance user and 179 more (``bench-staff-NNN``: managers, a few key-account managers and finance).
- 1,000,000 audit events over the last two years, more on weekdays and in office hours and a little more every
  month, written in time order (ids grow with the time, as appends do). Who: the head of sales and finance
  often, managers each with a log-normal weight. What: mostly views of the documents and solvency sections,
  downloads, uploads and views of financial statements, then requests and decisions, sign-in failures,
  exports, tokens and backups; 5 % refused (``no_grant``, wrong passwords, lock-outs). The rule is what the
  policy would name: the curator for a manager's own client, ``grant:<id>`` otherwise, the head of sales,
  finance. Clients get a log-normal weight, so the log crowds on some of them.
- 50,000 documents in the five sections with 1–3 versions each (names as an office writes them, contracts
  tied to the client's contracts, letters to its deals, a few files to a conflict; 2 % in the trash). The
  files are not in storage (lists do not read them), except a few 1 MB PDFs written through the storage into
  a media folder of the bench (``BENCH_MEDIA_ROOT``, default ``var/bench-media``) for the downloads; they are
  written again when missing.
- 5,000 access requests (most approved, some refused or withdrawn, the last days' still waiting) and 3,000
  grants (one per approved request and a few given directly): expired, live (the last weeks') and 8 %
  revoked.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import FillReport, print_fill_time, truncate, vacuum_analyze

SEED = 20261130
EVENTS_PER_COMPANY = 10  # 1,000,000 audit events per 100,000 companies
DOCUMENTS_PER_COMPANY = 0.5
REQUESTS_PER_COMPANY = 0.05
GRANTS_PER_COMPANY = 0.03
PEOPLE = 200  # in the audit log
AUDIT_DAYS = 730
REFUSED = 0.05
REAL_FILES = 3  # documents whose latest version is a real file in the bench's media folder
REAL_SIZE = 1024 * 1024
REAL_NAME = "Скан договора (бенч) №"  # the real files' names start with it
TARGET_MS = 200.0  # pages and API lists (the size: 1,000,000 events, 100,000 companies)
EXPORT_TARGET_MS = 5000.0  # a month of the log as CSV: a file a person waits for
LOGIN_TARGET_MS = 500.0  # a sign-in with a wrong password: Argon2 on purpose, plus the throttle's writes
SLOW_S = 1.0
SLOW_REQUESTS = 5
BENCH_PASSWORD = "bench-correct-horse-7"  # the sign-in scenario's users, on the bench base only
LOGIN_USERS = 12  # wrong-password sign-ins rotate over them, four each at most, so none is locked out


def access_models() -> list[Any]:
    from kurator.access.models import AccessGrant, AccessRequest, AuditEvent
    from kurator.documents.models import Document, DocumentVersion

    return [Document, DocumentVersion, AccessRequest, AccessGrant, AuditEvent]


def access_counts() -> dict[str, int]:
    from kurator.access.models import AccessGrant, AccessRequest, AuditEvent
    from kurator.documents.models import Document, DocumentVersion

    return {
        "audit events": AuditEvent.objects.count(),
        "documents": Document.objects.count(),
        "document versions": DocumentVersion.objects.count(),
        "access requests": AccessRequest.objects.count(),
        "access grants": AccessGrant.objects.count(),
    }


def expected_counts(companies: int) -> dict[str, int]:
    return {
        "audit events": companies * EVENTS_PER_COMPANY,
        "documents": int(companies * DOCUMENTS_PER_COMPANY),
        "access requests": int(companies * REQUESTS_PER_COMPANY),
        "access grants": int(companies * GRANTS_PER_COMPANY),
    }


def filled(counts: dict[str, int], expected: dict[str, int]) -> bool:
    """The documents as the fill left them (the bench adds none); the log, requests and grants at least as
    many (each run's views and downloads add audit rows, and a run may give a grant)."""
    return (
        counts["documents"] == expected["documents"]
        and counts["document versions"] > 0
        and all(counts[k] >= v for k, v in expected.items() if k != "documents")
    )


def bench_media_root() -> Path:
    from django.conf import settings

    return Path(os.environ.get("BENCH_MEDIA_ROOT") or Path(settings.VAR_DIR) / "bench-media")


# --------------------------------------------------------------------------- the people


def staff() -> list[Any]:
    """The 200 people of the log: the bench's department, the finance user and ``bench-staff-NNN``."""
    from django.contrib.auth.hashers import make_password

    from bench.finance import finance_user
    from bench.run import bench_users
    from kurator.accounts.models import Role, User
    from kurator.companies.demo import MALE_NAMES, SURNAMES

    known = [*bench_users(), finance_user()]
    more = PEOPLE - len(known)
    roles = [Role.FINANCE] * 3 + [Role.SENIOR_MANAGER] * 6
    roles += [Role.MANAGER] * (more - len(roles))
    have = set(User.objects.filter(username__startswith="bench-staff-").values_list("username", flat=True))
    rng = random.Random(SEED)
    new = []
    for number, role in enumerate(roles, start=len(known) + 1):
        username = f"bench-staff-{number:03d}"
        first, last = rng.choice(MALE_NAMES)[0], rng.choice(SURNAMES)
        if username not in have:
            # Nobody signs in as them but the sign-in scenario, which gives a few a password.
            new.append(
                User(
                    username=username,
                    role=role,
                    first_name=first,
                    last_name=last,
                    password=make_password(None),
                )
            )
    User.objects.bulk_create(new)
    extra = list(User.objects.filter(username__startswith="bench-staff-").order_by("username"))
    return known + extra


# --------------------------------------------------------------------------- the fill


def _streamed_table(model: Any, rows: Callable[[], Iterator[dict[str, Any]]]) -> Any:
    """A bench.run.Table whose rows are made while COPY writes them (the log's million rows never sit in
    memory)."""
    from bench.run import Table

    class Streamed(Table):
        def copy(self, cursor: Any) -> None:
            self.copy_rows(cursor, ([values.get(a) for a in self.attnames] for values in rows()))

    return Streamed(model)


SECTIONS = {"requisites": 15, "contracts": 35, "solvency": 15, "correspondence": 25, "other": 10}
TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
}
TRASH_REASONS = ["Загружен по ошибке", "Дубликат", "Не тот клиент", "Заменён новой редакцией"]
REFUSALS = ["Нет оснований для доступа", "Обратитесь к куратору клиента", "Сделка закрыта"]
REQUEST_REASONS = [
    "Готовлю коммерческое предложение, нужен договор",
    "Клиент просит копию договора",
    "Замещаю куратора на время отпуска",
    "Нужна отчётность для оценки лимита",
    "Сверка по претензии клиента",
]


def _document_name(section: str, rng: random.Random, day: date) -> tuple[str, str]:
    """An office's name for a document of ``section`` and its file's extension."""
    when = f"{day:%d.%m.%Y}"
    number = rng.randint(1, 400)
    if section == "requisites":
        return rng.choice(
            [
                ("Карточка предприятия", "pdf"),
                (f"Выписка из ЕГРЮЛ от {when}", "pdf"),
                ("Устав", "pdf"),
                ("Реквизиты для договора", "docx"),
            ]
        )
    if section == "contracts":
        return rng.choice(
            [
                (f"Договор поставки №{number} от {when}", "pdf"),
                (f"Договор поставки №{number} от {when}", "docx"),
                (f"Дополнительное соглашение №{rng.randint(1, 9)} к договору №{number}", "pdf"),
                (f"Спецификация №{rng.randint(1, 30)} от {when}", "xlsx"),
            ]
        )
    if section == "solvency":
        year = day.year - 1
        return rng.choice(
            [
                (f"Бухгалтерский баланс за {year} год", "pdf"),
                (f"Отчёт о финансовых результатах за {year} год", "xlsx"),
                (f"Справка об отсутствии задолженности от {when}", "pdf"),
            ]
        )
    if section == "correspondence":
        return rng.choice(
            [
                (f"Письмо исх. №{number} от {when}", "pdf"),
                (f"Претензия от {when}", "pdf"),
                ("Гарантийное письмо", "pdf"),
                (f"Коммерческое предложение от {when}", "docx"),
            ]
        )
    return rng.choice(
        [
            (f"Акт сверки на {when}", "xlsx"),
            ("Фото склада", "jpg"),
            ("Скан доверенности", "pdf"),
            (f"Протокол встречи {when}", "docx"),
        ]
    )


def real_file(index: int) -> bytes:
    """The bytes of real file ``index`` (1-based): a one-page PDF padded to 1 MB, the same every time."""
    from kurator.documents.demo import minimal_pdf

    head = minimal_pdf([f"Договор поставки №Б-{index}", "Бенчмарк Kurator"])
    padding = random.Random(SEED + index).randbytes(REAL_SIZE - len(head) - 2)
    return head + b"%" + padding + b"\n"


def _by_company(sql: str) -> dict[int, list[int]]:
    from django.db import connection

    found: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for company_id, pk in cursor.fetchall():
            found.setdefault(company_id, []).append(pk)
    return found


def fill_access(companies: int, log: Callable[[str], None]) -> FillReport:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.run import Table, copy_with_indexes_rebuilt
    from kurator.accounts.models import Role
    from kurator.companies.models import Company

    expected = expected_counts(companies)
    counts = access_counts()
    if filled(counts, expected):
        return FillReport(skipped=True, counts=counts)

    report = FillReport(skipped=False)
    started = time.perf_counter()
    models = access_models()
    from kurator.access.models import AccessGrant, AccessRequest, AuditEvent
    from kurator.documents.models import Document, DocumentVersion

    with connection.cursor() as cursor:
        # TRUNCATE passes the audit log's trigger (it refuses UPDATE and DELETE only).
        truncate(cursor, models)

    rng = random.Random(SEED)
    tz = timezone.get_current_timezone()
    now = timezone.now()

    log("access: the people…")
    people = staff()
    head = next(u.pk for u in people if u.role == Role.HEAD_OF_SALES)
    managers = [u for u in people if u.role in (Role.MANAGER, Role.SENIOR_MANAGER)]
    manager_ids = [u.pk for u in managers]
    manager_cum = list(itertools.accumulate(rng.lognormvariate(0, 0.8) for _ in managers))
    usernames = {u.pk: u.username for u in people}
    roles = {u.pk: u.role for u in people}

    def a_manager() -> int:
        return manager_ids[bisect.bisect(manager_cum, rng.random() * manager_cum[-1])]

    log("access: reading the companies and what documents tie to…")
    rows = list(Company.objects.order_by("pk").values_list("pk", "curator_id", "status"))
    company_ids = [pk for pk, _c, _s in rows]
    curator_of = {pk: curator for pk, curator, _s in rows}
    curated: dict[int, list[int]] = {}
    for pk, curator, _s in rows:
        if curator is not None:
            curated.setdefault(curator, []).append(pk)
    company_cum = list(
        itertools.accumulate(
            rng.lognormvariate(0, 1.5) * (3.0 if status == "client" else 1.0) for _p, _c, status in rows
        )
    )

    def a_company() -> int:
        return company_ids[bisect.bisect(company_cum, rng.random() * company_cum[-1])]

    contracts = _by_company("SELECT company_id, id FROM finance_contract ORDER BY id")
    conflicts = _by_company("SELECT company_id, id FROM finance_conflict ORDER BY id")
    deals = _by_company("SELECT company_id, id FROM sales_deal ORDER BY id")
    statements = [
        (pk, company) for company, ids in _by_company(
            "SELECT company_id, id FROM finance_financialstatement ORDER BY id"
        ).items() for pk in ids
    ]  # fmt: skip

    # ------------------------------------------------------------------ documents and versions
    log(f"access: {expected['documents']:,} documents…")
    mark = time.perf_counter()
    document_t, version_t = Table(Document), Table(DocumentVersion)
    section_names = list(SECTIONS)
    section_cum = list(itertools.accumulate(SECTIONS.values()))
    span_s = AUDIT_DAYS * 86400
    first_day = now - timedelta(seconds=span_s)
    made = sorted(
        (first_day + timedelta(seconds=rng.random() * span_s), a_company())
        for _ in range(expected["documents"] - REAL_FILES)
    )
    # The real files: a typical client of a curator, uploaded yesterday.
    real_company = next(pk for pk in company_ids[len(company_ids) // 2 :] if curator_of[pk] is not None)
    made += [(now - timedelta(days=1, minutes=n), real_company) for n in range(REAL_FILES, 0, -1)]
    documents_of: dict[int, list[int]] = {}
    document_company: list[int] = [0]  # by document id
    document_versions: list[int] = [0]
    version_id = 0
    for document_id, (created, company_id) in enumerate(made, start=1):
        real = document_id > len(made) - REAL_FILES
        section = (
            "contracts" if real else section_names[bisect.bisect(section_cum, rng.random() * section_cum[-1])]
        )
        name, ext = _document_name(section, rng, timezone.localtime(created, tz).date())
        contract = deal = conflict = None
        if section == "contracts" and contracts.get(company_id) and rng.random() < 0.7:
            contract = rng.choice(contracts[company_id])
        elif section == "correspondence" and deals.get(company_id) and rng.random() < 0.2:
            deal = rng.choice(deals[company_id])
        elif section == "other" and conflicts.get(company_id) and rng.random() < 0.3:
            conflict = rng.choice(conflicts[company_id])
        author = curator_of[company_id] or head
        roll = rng.random()
        versions = 1 if real or roll < 0.7 else 2 if roll < 0.92 else 3
        uploaded = created
        for number in range(1, versions + 1):
            version_id += 1
            if number > 1:
                uploaded = min(now, uploaded + timedelta(days=rng.expovariate(1 / 20)))
            if real:
                index = REAL_FILES - (len(made) - document_id)
                content = real_file(index)
                file_name = f"{REAL_NAME}{index}.pdf"
                size, digest = len(content), hashlib.sha256(content).hexdigest()
            else:
                file_name = f"{name}.{ext}" if number == 1 else f"{name} (ред. {number}).{ext}"
                size = int(rng.lognormvariate(math.log(250_000), 1.0)) + 2_000
                digest = f"{rng.getrandbits(256):064x}"
            version_t.add(
                {
                    "id": version_id,
                    "document_id": document_id,
                    "number": number,
                    "file": f"documents/{company_id}/{document_id}/{rng.getrandbits(128):032x}",
                    "original_name": file_name,
                    "content_type": TYPES["pdf" if real else ext],
                    "size": size,
                    "sha256": digest,
                    "uploaded_by_id": author,
                    "uploaded_at": uploaded,
                    "comment": "" if number == 1 else "Новая редакция",
                }
            )
        trashed = not real and rng.random() < 0.02
        trashed_at = min(now, uploaded + timedelta(days=rng.randint(1, 60))) if trashed else None
        document_t.add(
            {
                "id": document_id,
                "created_at": created,
                "updated_at": trashed_at or uploaded,
                "company_id": company_id,
                "section": section,
                "name": file_name.removesuffix(".pdf") if real else name,
                "contract_id": contract,
                "deal_id": deal,
                "conflict_id": conflict,
                "version": versions,
                "created_by_id": author,
                "trashed_at": trashed_at,
                "trashed_by_id": author if trashed else None,
                "trash_reason": rng.choice(TRASH_REASONS) if trashed else "",
            }
        )
        documents_of.setdefault(company_id, []).append(document_id)
        document_company.append(company_id)
        document_versions.append(versions)
    report.phases["generate documents"] = time.perf_counter() - mark

    # ------------------------------------------------------------------ requests and grants
    log("access: requests and grants…")
    mark = time.perf_counter()
    request_t, grant_t = Table(AccessRequest), Table(AccessGrant)
    request_company: list[int] = [0]
    grant_company: list[int] = [0]
    pending_keys: set[tuple[int, int, int | None]] = set()
    grant_id = 0

    def add_grant(
        user: int, company: int, document: int | None, request: int | None, at: datetime, expires: date
    ) -> None:
        nonlocal grant_id
        grant_id += 1
        revoked = rng.random() < 0.08
        last = min(now, datetime.combine(expires, datetime.min.time(), tzinfo=tz))
        revoked_at = at + (last - at) * rng.random() if revoked and last > at else None
        grant_t.add(
            {
                "id": grant_id,
                "created_at": at,
                "updated_at": revoked_at or at,
                "user_id": user,
                "company_id": company,
                "document_id": document,
                "request_id": request,
                "granted_by_id": head,
                "expires_on": expires,
                "revoked_at": revoked_at,
                "revoked_by_id": head if revoked_at else None,
                "revoke_reason": "Работа завершена" if revoked_at else "",
            }
        )
        grant_company.append(company)

    created_times = sorted(
        first_day + timedelta(seconds=rng.random() * span_s) for _ in range(expected["access requests"])
    )
    for request_id, created in enumerate(created_times, start=1):
        requester = a_manager()
        company = a_company()
        while curator_of[company] == requester:
            company = a_company()
        document = (
            rng.choice(documents_of[company]) if documents_of.get(company) and rng.random() < 0.2 else None
        )
        age = now - created
        roll = rng.random()
        if age < timedelta(days=10) and roll < 0.6 and (requester, company, document) not in pending_keys:
            status = "pending"
            pending_keys.add((requester, company, document))
        else:
            status = "approved" if roll < 0.54 else "refused" if roll < 0.84 else "withdrawn"
        decided = min(now, created + timedelta(hours=rng.uniform(0.2, 48))) if status != "pending" else None
        expires = (
            timezone.localtime(decided, tz).date() + timedelta(days=rng.choice([7, 7, 14, 30, 30, 60, 90]))
            if status == "approved" and decided
            else None
        )
        request_t.add(
            {
                "id": request_id,
                "created_at": created,
                "updated_at": decided or created,
                "requester_id": requester,
                "company_id": company,
                "document_id": document,
                "reason": rng.choice(REQUEST_REASONS),
                "status": status,
                "decided_by_id": head if status in ("approved", "refused") else None,
                "decided_at": decided,
                "decision_comment": rng.choice(REFUSALS) if status == "refused" else "",
                "expires_on": expires,
            }
        )
        request_company.append(company)
        if status == "approved" and decided and expires:
            add_grant(requester, company, document, request_id, decided, expires)
    while grant_id < expected["access grants"]:  # given directly, without a request
        at = first_day + timedelta(seconds=rng.random() * span_s)
        company = a_company()
        expires = timezone.localtime(at, tz).date() + timedelta(days=rng.choice([7, 30, 90]))
        add_grant(a_manager(), company, None, None, at, expires)
    report.phases["generate requests and grants"] = time.perf_counter() - mark

    # ------------------------------------------------------------------ the audit log
    documents_n = len(document_company) - 1
    events = expected["audit events"]
    # Hourly slots over two years: office hours, weekdays, a little more every month.
    start = (now - timedelta(days=AUDIT_DAYS)).replace(minute=0, second=0, microsecond=0)
    hours = int((now - start).total_seconds() // 3600)
    hour_weight = [0.01] * 8 + [0.3, 0.8, 1, 1, 1, 0.7, 1, 1, 1, 1, 0.6, 0.3] + [0.05] * 4
    day_weight = [1, 1, 1, 1, 0.95, 0.12, 0.06]
    slot_cum = list(
        itertools.accumulate(
            hour_weight[local.hour] * day_weight[local.weekday()] * (0.7 + 0.6 * slot / hours)
            for slot in range(hours)
            for local in [timezone.localtime(start + timedelta(hours=slot), tz)]
        )
    )
    allowed_actions = {
        "view_documents": 300,
        "view_solvency": 220,
        "download": 200,
        "view_statements": 80,
        "upload": 80,
        "request_access": 25,
        "approve_access": 15,
        "refuse_access": 6,
        "revoke_access": 2,
        "trash": 8,
        "restore": 1,
        "token_created": 2,
        "token_revoked": 1,
        "export_audit": 2,
        "user_deactivated": 0.2,
        "backup": 1,
    }
    refused_actions = {
        "view_documents": 35,
        "view_solvency": 30,
        "download": 15,
        "view_statements": 5,
        "login_failed": 13,
        "lockout": 2,
    }
    allowed_names, refused_names = list(allowed_actions), list(refused_actions)
    allowed_cum = list(itertools.accumulate(allowed_actions.values()))
    refused_cum = list(itertools.accumulate(refused_actions.values()))
    # Who acts: the head of sales and finance often, managers by their weight.
    actor_ids = [u.pk for u in people]
    actor_cum = list(
        itertools.accumulate(
            8.0
            if u.role == Role.HEAD_OF_SALES
            else 4.0
            if u.role == Role.FINANCE
            else rng.lognormvariate(0, 0.8)
            for u in people
        )
    )
    office_ip = {pk: f"10.20.{n // 250}.{n % 250 + 1}" for n, pk in enumerate(actor_ids)}
    grants_n, requests_n = grant_id, len(request_company) - 1

    def audit_rows() -> Iterator[dict[str, Any]]:
        points = sorted(rng.random() * slot_cum[-1] for _ in range(events))
        for event_id, point in enumerate(points, start=1):
            slot = min(bisect.bisect(slot_cum, point), hours - 1)
            below = slot_cum[slot - 1] if slot else 0.0
            share = (point - below) / ((slot_cum[slot] - below) or 1.0)
            at = start + timedelta(hours=slot, seconds=share * 3599)
            allowed = rng.random() >= REFUSED
            if allowed:
                action = allowed_names[bisect.bisect(allowed_cum, rng.random() * allowed_cum[-1])]
            else:
                action = refused_names[bisect.bisect(refused_cum, rng.random() * refused_cum[-1])]
            if action in ("approve_access", "refuse_access", "revoke_access", "restore", "export_audit"):
                user: int | None = head
            elif action in ("request_access",) or not allowed:
                user = a_manager()
            elif action == "backup":
                user = None
            else:
                user = actor_ids[bisect.bisect(actor_cum, rng.random() * actor_cum[-1])]
            role = roles.get(user) if user else None
            object_type, object_id, company, detail = "", None, None, ""
            if action in ("view_documents", "view_solvency"):
                if action == "view_documents" and rng.random() < 0.2:
                    object_id = rng.randint(1, documents_n)
                    object_type, company = "document", document_company[object_id]
                elif allowed and role in (Role.MANAGER, Role.SENIOR_MANAGER) and user in curated:
                    company = rng.choice(curated[user])  # mostly the manager's own clients
                    object_type, object_id = "company", company
                else:
                    company = a_company()
                    object_type, object_id = "company", company
            elif action in ("download", "upload", "trash", "restore"):
                object_id = rng.randint(1, documents_n)
                object_type, company = "document", document_company[object_id]
                if action == "download":
                    detail = f"v{document_versions[object_id]}"
            elif action == "view_statements" and statements:
                object_id, company = rng.choice(statements)
                object_type = "financialstatement"
            elif action in ("request_access", "approve_access", "refuse_access"):
                object_id = rng.randint(1, requests_n)
                object_type, company = "accessrequest", request_company[object_id]
            elif action == "revoke_access":
                object_id = rng.randint(1, grants_n)
                object_type, company = "accessgrant", grant_company[object_id]
            elif action in ("token_created", "token_revoked"):
                object_type, object_id = "apitoken", rng.randint(1, 400)
            elif action == "user_deactivated":
                object_type, object_id = "user", rng.choice(manager_ids)
            elif action == "export_audit":
                detail = f"date_from={(at - timedelta(days=30)):%Y-%m-%d}&date_to={at:%Y-%m-%d}"
            if not allowed:
                rule = {"login_failed": "bad_password", "lockout": "locked_out"}.get(action, "no_grant")
            elif action == "backup":
                rule = ""
            elif role == Role.HEAD_OF_SALES:
                rule = "head_of_sales"
            elif role == Role.FINANCE:
                rule = "finance"
            elif company is not None and curator_of.get(company) == user:
                rule = "curator"
            elif action in ("request_access", "token_created", "token_revoked"):
                rule = str(role or "")
            else:
                rule = f"grant:{rng.randint(1, grants_n)}"
            typed = usernames[user] if user else ""
            if action in ("login_failed", "lockout"):
                user, typed = None, usernames[a_manager()]
            ip = (
                office_ip[user]
                if user and rng.random() < 0.9
                else f"95.{rng.randint(24, 220)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
            yield {
                "id": event_id,
                "at": at,
                "user_id": user,
                "username": typed,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "company_id": company,
                "ip": None if action == "backup" else ip,
                "allowed": allowed,
                "rule": rule,
                "detail": detail,
            }

    log(f"access: writing with COPY ({events:,} audit events made on the way)…")
    mark = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copied = [document_t, version_t, request_t, grant_t, _streamed_table(AuditEvent, audit_rows)]
        mark = copy_with_indexes_rebuilt(cursor, models, copied, report.phases, started=mark)
    report.phases["commit"] = time.perf_counter() - mark

    log("access: VACUUM ANALYZE…")
    mark = time.perf_counter()
    vacuum_analyze(access_models())
    report.phases["vacuum analyze"] = time.perf_counter() - mark
    report.seconds = time.perf_counter() - started
    report.counts = access_counts()
    assert filled(report.counts, expected), (report.counts, expected)
    return report


def print_fill(report: FillReport) -> None:
    from django.db import connection

    counts = report.counts or access_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('access_auditevent')),"
            " pg_size_pretty(pg_relation_size('access_auditevent'))"
        )
        with_indexes, table = cursor.fetchone()
    listed = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    print(f"Access data: {listed}; audit log {table} ({with_indexes} with indexes)")
    print_fill_time("Access fill", report)


# --------------------------------------------------------------------------- the measurement


@dataclass
class Scenario:
    name: str
    urls: list[str]
    rows: str = ""
    client: str = "head"  # head (browser), api (the head's token), granted (a manager with a live grant)
    target_ms: float = TARGET_MS


def _scalar(sql: str, params: Iterable[Any] = ()) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    return row[0] if row else None


def _rows(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def ensure_real_files() -> list[int]:
    """The documents whose latest version is a real 1 MB file: their files written through the storage into
    the bench's media folder when missing (or changed). Returns their ids."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kurator.documents.models import DocumentVersion

    ids = []
    versions = DocumentVersion.objects.filter(original_name__startswith=REAL_NAME).order_by("document_id")
    for version in versions:
        index = int(version.original_name.removeprefix(REAL_NAME).removesuffix(".pdf"))
        content = real_file(index)
        if hashlib.sha256(content).hexdigest() != version.sha256:
            raise RuntimeError(
                f"real file {index}: the generator no longer makes the bytes the fill recorded"
            )
        name = version.file.name
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as stored:
                if hashlib.sha256(stored.read()).hexdigest() == version.sha256:
                    ids.append(version.document_id)
                    continue
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:
            raise RuntimeError(f"real file {index}: the storage saved it as {saved!r}, not {name!r}")
        ids.append(version.document_id)
    return ids


def live_company_grant() -> Any:
    """A live grant to a client's whole confidential section, of a client with financial statements, for a
    manager who is not its curator — given now through the service if the base has none left."""
    from django.utils import timezone

    from kurator.access.models import AccessGrant
    from kurator.access.services import access_grant_create
    from kurator.accounts.models import Role, User
    from kurator.companies.models import Company
    from kurator.finance.models import FinancialStatement

    today = timezone.localdate()
    with_statements = FinancialStatement.objects.values("company_id")
    live = (
        AccessGrant.objects.filter(
            revoked_at__isnull=True,
            expires_on__gte=today + timedelta(days=1),
            document__isnull=True,
            company_id__in=with_statements,
            user__is_active=True,
            user__role__in=(Role.MANAGER, Role.SENIOR_MANAGER),
        )
        .select_related("user", "company")
        .order_by("-expires_on", "pk")
    )
    for grant in live:
        if grant.company.curator_id != grant.user_id:
            return grant
    head = User.objects.filter(role=Role.HEAD_OF_SALES, username__startswith="bench").first()
    company = Company.objects.filter(pk__in=with_statements).order_by("pk").first()
    user = User.objects.filter(username__startswith="bench-staff-", role=Role.MANAGER).order_by("pk").first()
    assert head is not None and company is not None and user is not None
    return access_grant_create(
        actor=head,
        user=user,
        company=company,
        expires_on=today + timedelta(days=60),
        reason="Бенчмарк: вкладка платёжеспособности по доступу",
    )


def login_users() -> list[str]:
    """The wrong-password scenario's usernames, with a real (Argon2) password, their counters and locks
    cleared so that an earlier run's failures do not lock them now."""
    from kurator.accounts.models import User
    from kurator.accounts.throttle import login_unlock

    users = list(User.objects.filter(username__startswith="bench-staff-").order_by("username")[:LOGIN_USERS])
    for user in users:
        if not user.has_usable_password():
            user.set_password(BENCH_PASSWORD)
            user.save(update_fields=["password"])
        login_unlock(user.username)
    return [u.username for u in users]


def _month_before(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def run_access_scenarios(
    requests: int,
    warmup: int,
    *,
    measure: Any,
    result: Any,
    only: list[str] | None = None,
    explain_ms: float | None = None,
) -> list[Any]:
    """The audit log (page, filters, CSV export, API), the Documents tab and the documents API, downloads,
    the audited solvency tab, the requests and grants pages — as the head of sales — and sign-in failures."""
    from django.test import Client, override_settings
    from django.utils import timezone

    from bench.finance import time_call
    from bench.run import fetch, selected
    from bench.sales import _available
    from kurator.accounts.models import Role, User
    from kurator.accounts.tokens import api_token_create

    def wanted(name: str) -> bool:
        return selected(name, only) or selected("access", only) or selected("security", only)

    head = User.objects.filter(role=Role.HEAD_OF_SALES, username__startswith="bench").first()
    assert head is not None
    today = timezone.localdate()
    month_from, month_to = _month_before(today)
    total = _scalar("SELECT count(*) FROM access_auditevent")
    if not total or not _scalar("SELECT count(*) FROM documents_document"):
        return [result("access pages", error="no audit events or documents in the bench base")]
    busy_user, busy_user_n = _rows(
        "SELECT user_id, count(*) FROM access_auditevent WHERE user_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
        " LIMIT 1"
    )[0]
    busy_company, busy_company_n = _rows(
        "SELECT company_id, count(*) FROM access_auditevent WHERE company_id IS NOT NULL GROUP BY 1"
        " ORDER BY 2 DESC LIMIT 1"
    )[0]
    window = [
        timezone.make_aware(datetime.combine(month_from, datetime.min.time())),
        timezone.make_aware(datetime.combine(month_to + timedelta(days=1), datetime.min.time())),
    ]
    downloads_n = _scalar(
        "SELECT count(*) FROM access_auditevent WHERE action = 'download' AND at >= %s AND at < %s", window
    )
    month_n = _scalar("SELECT count(*) FROM access_auditevent WHERE at >= %s AND at < %s", window)
    by_documents = _rows(
        "SELECT company_id, count(*) FROM documents_document WHERE trashed_at IS NULL GROUP BY 1"
        " ORDER BY 2 DESC, 1"
    )
    many, many_n = by_documents[0]
    middle = len(by_documents) // 2
    typical = by_documents[middle : middle + 20]
    solvent = _rows(
        "SELECT i.company_id, count(*) FROM finance_invoice i WHERE EXISTS (SELECT 1 FROM"
        " finance_financialstatement s WHERE s.company_id = i.company_id) GROUP BY 1 ORDER BY 2 DESC, 1"
        " LIMIT 1"
    )
    pending_n = _scalar("SELECT count(*) FROM access_accessrequest WHERE status = 'pending'")
    requests_n = _scalar("SELECT count(*) FROM access_accessrequest")
    grants_n = _scalar("SELECT count(*) FROM access_accessgrant")
    span = f"date_from={month_from:%Y-%m-%d}&date_to={month_to:%Y-%m-%d}"
    month = f"{month_from:%m.%Y}"

    media = bench_media_root()
    media.mkdir(parents=True, exist_ok=True)
    results: list[Any] = []
    # Downloads read the bench's media folder; the rest of the bench keeps its settings.
    with override_settings(MEDIA_ROOT=str(media)):
        real = ensure_real_files() if wanted("access: download") or wanted("access: API download") else []
        grant = live_company_grant() if wanted("access: solvency tab, granted") else None
        plan = [
            Scenario("access: audit log, first page", ["/access/audit/"], f"{total:,}"),
            Scenario("access: audit log ?user=", [f"/access/audit/?user={busy_user}"], f"{busy_user_n:,}"),
            Scenario(
                "access: audit log ?company=",
                [f"/access/audit/?company={busy_company}"],
                f"{busy_company_n:,}",
            ),
            Scenario(
                "access: audit log, downloads of a month",
                [f"/access/audit/?action=download&{span}"],
                f"{downloads_n:,}",
            ),
            Scenario(
                f"access: CSV export, downloads {month}",
                [f"/access/audit/export/?action=download&{span}"],
                f"{downloads_n:,}",
                target_ms=EXPORT_TARGET_MS,
            ),
            Scenario(
                f"access: CSV export, all of {month}",
                [f"/access/audit/export/?{span}"],
                f"{month_n:,}",
                target_ms=EXPORT_TARGET_MS,
            ),
            Scenario("access: API audit-log, first page", ["/api/v1/audit-log/"], f"{total:,}", client="api"),
            Scenario("access: documents tab, most documents", [f"/documents/company/{many}/"], f"{many_n:,}"),
            Scenario(
                "access: documents tab, typical",
                [f"/documents/company/{c}/" for c, _n in typical],
                f"{typical[0][1]}",
            ),
            Scenario(
                "access: API documents ?company=",
                [f"/api/v1/documents/?company={many}"],
                f"{many_n:,}",
                client="api",
            ),
            Scenario(
                "access: download 1 MB (checksum)",
                [f"/documents/{pk}/download/" for pk in real],
                f"{len(real)} files",
            ),
            Scenario(
                "access: API download 1 MB",
                [f"/api/v1/documents/{pk}/download/" for pk in real],
                f"{len(real)} files",
                client="api",
            ),
            Scenario(
                "access: solvency tab (audited), head",
                [f"/finance/company/{solvent[0][0]}/solvency/"] if solvent else [],
                f"{solvent[0][1]:,} invoices" if solvent else "",
            ),
            Scenario(
                "access: solvency tab, granted manager",
                [f"/finance/company/{grant.company_id}/solvency/"] if grant else [],
                f"grant #{grant.pk}" if grant else "",
                client="granted",
            ),
            Scenario(
                "access: requests page, head",
                ["/access/requests/"],
                f"{pending_n:,} waiting of {requests_n:,}",
            ),
            Scenario("access: grants page, head", ["/access/grants/"], f"{grants_n:,}"),
            Scenario(
                "access: API access-requests", ["/api/v1/access-requests/"], f"{requests_n:,}", client="api"
            ),
        ]
        browser = Client()
        browser.force_login(head)
        _token, api_key = api_token_create(actor=head, name="bench")
        api = Client()
        granted = Client()
        if grant is not None:
            granted.force_login(grant.user)
        clients = {"head": (browser, {}), "api": (api, {"Authorization": f"Token {api_key}"})}
        clients["granted"] = (granted, {})

        for scenario in plan:
            if not wanted(scenario.name):
                continue
            if not scenario.urls:
                results.append(result(scenario.name, rows=scenario.rows, error="no data for this scenario"))
                continue
            try:
                available = _available(scenario.urls[0])
            except Exception as exc:  # a half-written URL module of another area: reported, not fatal
                results.append(
                    result(scenario.name, rows=scenario.rows, error=f"{type(exc).__name__}: {exc}")
                )
                continue
            if not available:
                results.append(
                    result(scenario.name, rows=scenario.rows, error="not available (URL not defined yet)")
                )
                continue
            client, headers = clients[scenario.client]
            started = time.perf_counter()
            fetch(client, scenario.urls[0], headers)
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
                    target_ms=scenario.target_ms,
                )
            )

    results += _login_scenarios(
        requests, warmup, result=result, wanted=wanted, time_call=time_call, explain_ms=explain_ms
    )
    return results


def _login_scenarios(
    requests: int,
    warmup: int,
    *,
    result: Any,
    wanted: Callable[[str], bool],
    time_call: Any,
    explain_ms: float | None,
) -> list[Any]:
    """Sign-in with a wrong password: the throttle (its lock-out check, the attempt written, the counts,
    the audit row) around Argon2; and a username locked out, which the throttle refuses without Argon2."""
    from django.test import Client

    from kurator.accounts.throttle import active_lockout, login_unlock, login_unlock_ip

    results: list[Any] = []
    wrong, locked = "login: wrong password (Argon2 + throttle)", "login: locked-out username"
    argon2 = "login: Argon2 check alone"
    if not (wanted(wrong) or wanted(locked) or wanted(argon2) or wanted("login")):
        return results
    names = login_users()
    client = Client()
    counter = itertools.count()
    addresses: set[str] = set()

    def attempt(username: str) -> None:
        n = next(counter)
        ip = f"10.77.{n // 250 % 250}.{n % 250 + 1}"
        addresses.add(ip)
        response = client.post(
            "/accounts/login/", {"username": username, "password": "not-the-password"}, REMOTE_ADDR=ip
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} for a wrong password")

    if wanted(wrong) or wanted("login"):
        rotation = itertools.cycle(names)
        timed = time_call(
            wrong,
            lambda: attempt(next(rotation)),
            requests=requests,
            warmup=warmup,
            result=result,
            rows=f"{len(names)} users",
            target_ms=LOGIN_TARGET_MS,
            explain_ms=explain_ms,
        )
        if not timed.error and any(active_lockout(username=n) for n in names):
            timed.error = "a username was locked out during the run (more than four failures each)"
        results.append(timed)
    if wanted(argon2) or wanted("login"):
        # What the sign-in costs without the throttle: the difference is the throttle's share.
        from django.contrib.auth.hashers import check_password, make_password

        encoded = make_password(BENCH_PASSWORD)
        results.append(
            time_call(
                argon2,
                lambda: check_password("not-the-password", encoded),
                requests=requests,
                warmup=warmup,
                result=result,
                rows="1 hash",
                target_ms=LOGIN_TARGET_MS,
            )
        )
    if wanted(locked) or wanted("login"):
        victim = names[-1]
        login_unlock(victim)
        for _ in range(5):  # the fifth failure locks the username
            attempt(victim)
        if active_lockout(username=victim) is None:
            results.append(result(locked, error="five failures did not lock the username"))
        else:
            results.append(
                time_call(
                    locked,
                    lambda: attempt(victim),
                    requests=requests,
                    warmup=warmup,
                    result=result,
                    rows="1 user",
                    target_ms=TARGET_MS,
                    explain_ms=explain_ms,
                )
            )
    # Leave nobody locked: a later run starts from clean counters.
    for name in names:
        login_unlock(name)
    for ip in addresses:
        login_unlock_ip(ip)
    return results
