"""Issue 6's "done when" journey, in a real Chromium (R3, R4, D12).

A manager opens a colleague's client: the contact history is open to her (R3), the Documents and Solvency tabs
show only a lock notice — no document name, no figures (R4). She asks for access with a reason; the head of
sales sees the waiting request in the navbar, approves it for seven days (the date offered by default); the
manager then lists and downloads the contract byte for byte and reads the solvency figures. The head of sales
finds the request, the approval and the download (allowed by «grant #N») in the audit log, narrows it to the
manager and exports it as CSV for Russian Excel (a BOM, «;»). A backup taken before the journey is restored by
``manage.py restore`` in a new process into an empty database and an empty storage: the contract document
comes back byte-identical, its version row with the same SHA-256 (D12).

No page may trip the Content Security Policy (no inline script left): the browser console is watched.
Assertions use stable hooks (``data-testid``, element ids, URLs) and data the test wrote, so they hold whether
or not the interface strings are translated yet."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib
import io
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kurator.access.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestStatus,
    AuditAction,
    AuditEvent,
)
from kurator.accounts.models import Role, User
from kurator.activities.models import Activity, ActivityKind
from kurator.activities.services import activity_create
from kurator.companies.models import Company
from kurator.core.backup import PgTarget
from kurator.documents.demo import minimal_pdf
from kurator.documents.models import Document, DocumentVersion
from kurator.documents.services import document_upload
from kurator.finance.services import contracts as contract_services
from kurator.finance.services.solvency import statement_create
from tests.e2e.helpers import log_in, make_user, new_page
from tests.factories import company_factory, contact_factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
CONTRACT_FILE = "Договор №17-П от 01.02.2026.pdf"
CONTRACT_PDF = minimal_pdf(["Dogovor No 17-P ot 01.02.2026", "Postavka tokarnyh stankov"])
REVENUE_2025 = "48250000"
REASON = "Готовлю коммерческое предложение на замену станков, нужен договор и платёжеспособность."


@pytest.fixture(autouse=True)
def seeded_defaults(transactional_db: Any) -> None:
    """The dictionaries and the default pipeline the migrations seed: a transactional test that ran before
    this one emptied the tables."""
    for module in (
        "kurator.companies.migrations.0002_search_index_and_dictionaries",
        "kurator.sales.migrations.0002_default_pipeline",
    ):
        importlib.import_module(module).seed(apps, None)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """The journey's own storage, so the backup holds exactly this test's files."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def rub(amount: str) -> str:
    """``"48250000"`` → ``48 250 000,00 ₽`` as the pages print money (non-breaking spaces)."""
    whole, _dot, cents = f"{Decimal(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{NBSP.join(groups)},{cents}{NBSP}₽"


def watch(page: Any) -> list[str]:
    """JavaScript errors and Content Security Policy violations the browser reports for ``page``."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    page.on("console", console)
    return problems


def dossier_tab(page: Any, company: Company, href: str) -> Any:
    """Open the dossier and click the tab linking to ``href`` (as a person does); the response."""
    page.goto(f"/companies/{company.pk}/")
    with page.expect_navigation() as navigation:
        page.click(f".kurator-tabs a.nav-link[href='{href}']")
    return navigation.value


def open_access_menu(page: Any, href: str) -> None:
    """Navbar → Access (a Bootstrap dropdown: the static script must run under the CSP) → the entry."""
    page.click("[data-testid=nav-access] > a.dropdown-toggle")
    entry = page.locator(f"[data-testid=nav-access] .dropdown-menu a.dropdown-item[href='{href}']")
    expect(entry).to_be_visible()
    with page.expect_navigation():
        entry.click()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The client -------------------------------------------------------------------------------------------------


@dataclass
class ClientX:
    company: Company
    activities: list[Activity]
    document: Document
    version: DocumentVersion


def client_x(curator: User) -> ClientX:
    """Север-Металл, curated by ``curator``: two contacts on its timeline, a signed contract with its PDF in
    the Contracts section, the statements of 2024 and 2025 (so the Solvency tab has figures)."""
    company = company_factory(
        actor=curator, full_name="ООО «Север-Металл»", short_name="Север-Металл", city="Вологда"
    )
    buyer = contact_factory(
        actor=curator, company=company, full_name="Лебедева Анна Игоревна", position="Менеджер по закупкам"
    )
    now = timezone.now()
    activities = [
        activity_create(
            actor=curator,
            company=company,
            kind=ActivityKind.CALL,
            occurred_at=now - timedelta(days=12),
            contacts=[buyer],
            subject="Звонок о замене станочного парка",
            result="Просят предложение на три токарных станка",
        ),
        activity_create(
            actor=curator,
            company=company,
            kind=ActivityKind.MEETING,
            occurred_at=now - timedelta(days=3),
            contacts=[buyer],
            subject="Встреча на заводе в Вологде",
            result="Подписали договор поставки",
        ),
    ]
    contract = contract_services.contract_create(
        actor=curator,
        company=company,
        number="17-П/2026",
        status="signed",
        signed_on=timezone.localdate() - timedelta(days=3),
    )
    document = document_upload(
        actor=curator,
        company=company,
        section="contracts",
        contract=contract,
        file=SimpleUploadedFile(CONTRACT_FILE, CONTRACT_PDF, content_type="application/pdf"),
    )
    statement_create(
        actor=curator,
        company=company,
        year=2024,
        revenue="41000000",
        net_profit="2100000",
        total_assets="30000000",
        equity="12000000",
        liabilities="18000000",
        current_assets="16000000",
        current_liabilities="9000000",
    )
    statement_create(
        actor=curator,
        company=company,
        year=2025,
        revenue=REVENUE_2025,
        net_profit="3400000",
        total_assets="34000000",
        equity="15000000",
        liabilities="19000000",
        current_assets="19500000",
        current_liabilities="9500000",
    )
    version = DocumentVersion.objects.get(document=document)
    return ClientX(company=company, activities=activities, document=document, version=version)


# A restore in a new process (as kurator/core/tests/test_backup.py does it) ----------------------------------


@dataclass
class Target:
    """An empty database and an empty storage, as a new Kurator process would see them."""

    url: str
    media: Path
    var: Path
    sqlite_path: Path | None = None
    pg_params: dict[str, Any] | None = None

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "MEDIA_ROOT": str(self.media),
            "KURATOR_VAR_DIR": str(self.var),
        }
        return subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", *args, "--skip-checks"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path)) as db:
                return [tuple(row) for row in db.execute(sql.replace("%s", "?"), params).fetchall()]
        import psycopg

        assert self.pg_params is not None
        with psycopg.connect(**self.pg_params, autocommit=True) as pg, pg.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]


@contextlib.contextmanager
def empty_target(tmp_path: Path) -> Iterator[Target]:
    """A new database of the engine the suite runs on — a SQLite file that does not exist yet, or a new
    PostgreSQL database beside the test database (dropped at the end) — and a storage folder not made yet."""
    media, var = tmp_path / "restored-media", tmp_path / "restored-var"
    var.mkdir()
    if connection.vendor != "postgresql":
        path = tmp_path / "restored" / "kurator.sqlite3"
        path.parent.mkdir()
        yield Target(f"sqlite:///{path}", media, var, sqlite_path=path)
        return
    import psycopg
    from psycopg import sql

    params: dict[str, Any] = dict(PgTarget.from_settings(connection.settings_dict).params)
    name = f"kurator_restore_{uuid.uuid4().hex[:12]}"
    admin = {**params, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as pg:
        pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        user = quote(params.get("user", ""), safe="")
        password = ":" + quote(params["password"], safe="") if params.get("password") else ""
        at = f"{user}{password}@" if user else ""
        url = f"postgres://{at}{params.get('host', 'localhost')}:{params.get('port', '5432')}/{name}"
        yield Target(url, media, var, pg_params={**params, "dbname": name})
    finally:
        with psycopg.connect(**admin, autocommit=True) as pg:
            pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# The journey ------------------------------------------------------------------------------------------------


def test_colleague_asks_for_access_head_approves_for_a_week_download_is_audited_and_backup_restores(
    page: Any, live_server: Any, screenshot: Any, media: Path, tmp_path: Path
) -> None:
    """R3, R4, D12: a manager reads a colleague's client's contact history but gets only lock notices on its
    Documents and Solvency tabs (no document name, no figures); she asks for access; the head of sales sees
    the count in the navbar and approves it until today + 7 days (offered by default); the manager downloads
    the contract (the same SHA-256 as uploaded) and sees the figures; the head of sales finds the request,
    the approval and the download under «grant #N» in the audit log, filters it by the manager and exports
    CSV (BOM, «;»). The backup taken before the journey restores into an empty database and storage with the
    contract byte-identical. No page trips the Content Security Policy."""
    head = make_user("smirnova", Role.HEAD_OF_SALES, "Мария", "Смирнова")
    curator = make_user("ivanov", Role.MANAGER, "Иван", "Иванов")
    colleague = make_user("petrova", Role.MANAGER, "Ольга", "Петрова")
    x = client_x(curator)
    company, document = x.company, x.document
    assert x.version.sha256 == sha256(CONTRACT_PDF)
    today = timezone.localdate()
    week = today + timedelta(days=7)
    timeline_url = reverse("activities:company_timeline", args=[company.pk])
    documents_url = reverse("documents:company_documents", args=[company.pk])
    solvency_url = reverse("finance:company_solvency", args=[company.pk])

    # The backup, before anyone asks for anything.
    archive = tmp_path / "backup" / "kurator-before.tar.gz"
    call_command("backup", "--output", str(archive), verbosity=0)
    assert archive.is_file()

    problems = watch(page)

    # --- The colleague: the history is open (R3); documents and solvency are locked (R4). ---
    log_in(page, colleague.username)
    response = dossier_tab(page, company, timeline_url)
    assert response is not None and response.status == 200
    for activity in x.activities:
        entry = page.locator(f"#activity-{activity.pk}")
        expect(entry).to_be_visible()
        expect(entry).to_contain_text(activity.subject)
    expect(page.locator(f"#activity-{x.activities[1].pk}")).to_contain_text("Подписали договор поставки")
    screenshot(page, "01-colleague-contact-history")

    response = dossier_tab(page, company, documents_url)
    assert response is not None and response.status == 403
    expect(page.locator("[data-testid=documents-locked]")).to_be_visible()
    expect(page.locator("[data-testid=granted-documents]")).to_have_count(0)
    expect(page.locator(f"a[href^='/documents/{document.pk}/']")).to_have_count(0)
    html = page.content()
    for secret in (document.name, CONTRACT_FILE, x.version.sha256):
        assert secret not in html, secret
    screenshot(page, "02-documents-locked")

    response = dossier_tab(page, company, solvency_url)
    assert response is not None and response.status == 403
    expect(page.locator("[data-testid=solvency-locked]")).to_be_visible()
    for hook in ("rating", "solvency-factors", "solvency-ratios", "solvency-statements", "suggested-limit"):
        expect(page.locator(f"[data-testid={hook}]")).to_have_count(0)
    assert rub(REVENUE_2025) not in page.content()
    screenshot(page, "03-solvency-locked")

    # «Request access» from the documents' lock notice: the whole confidential section, with a reason.
    dossier_tab(page, company, documents_url)
    with page.expect_navigation():
        page.click("[data-testid=documents-locked] [data-testid=request-access]")
    form = page.locator("[data-testid=access-request-form]")
    expect(form.locator("[data-testid=access-target]")).to_contain_text("Север-Металл")
    assert document.name not in page.content()
    form.locator("textarea[name=reason]").fill(REASON)
    screenshot(page, "04-request-form")
    with page.expect_navigation():
        form.locator("[data-testid=send-request]").click()
    access_request = AccessRequest.objects.get(requester=colleague, company=company)
    assert access_request.status == AccessRequestStatus.PENDING
    assert access_request.document is None and access_request.reason == REASON
    # Back on the (still locked) solvency tab, which now says the request is waiting.
    expect(page).to_have_url(f"{live_server.url}{solvency_url}")
    expect(page.locator("[data-testid=access-request-pending]")).to_be_visible()
    expect(page.locator("[data-testid=solvency-locked] [data-testid=request-access]")).to_have_count(0)
    screenshot(page, "05-request-waiting")
    # The documents' notice now says the request is waiting instead of offering another; so does the form.
    dossier_tab(page, company, documents_url)
    notice = page.locator("[data-testid=documents-locked]")
    expect(notice.locator("[data-testid=access-request-pending]")).to_be_visible()
    expect(notice.locator("[data-testid=request-access]")).to_have_count(0)
    screenshot(page, "05b-documents-request-waiting")
    page.goto(f"{reverse('access:request')}?company={company.pk}")
    expect(page.locator("[data-testid=request-pending]")).to_be_visible()
    expect(page.locator("[data-testid=send-request]")).to_have_count(0)
    page.goto(reverse("access:my_requests"))
    mine = page.locator(f"[data-testid=my-requests] [data-testid=request-{access_request.pk}]")
    expect(mine).to_contain_text("Север-Металл")
    expect(mine.locator(f"[data-testid=withdraw-{access_request.pk}]")).to_be_visible()

    # --- The head of sales: the count in the navbar, the request, approved until today + 7 days. ---
    boss = new_page(page, live_server)
    try:
        problems += watch(boss)
        log_in(boss, head.username)
        expect(boss.locator("[data-testid=pending-access-requests]")).to_have_text("1")
        open_access_menu(boss, reverse("access:requests"))
        pending = boss.locator(f"[data-testid=pending-requests] [data-testid=request-{access_request.pk}]")
        expect(pending).to_contain_text(colleague.full_name)
        expect(pending).to_contain_text("Север-Металл")
        expect(pending).to_contain_text(REASON)
        expires = pending.locator("input[name=expires_on]")
        expect(expires).to_have_value(week.isoformat())  # a week, offered by default
        screenshot(boss, "06-head-access-requests")
        with boss.expect_navigation():
            pending.locator(f"[data-testid=approve-{access_request.pk}] button[type=submit]").click()
        expect(boss.locator(".kurator-messages .alert-success")).to_contain_text(week.strftime("%d.%m.%Y"))
        expect(boss.locator("[data-testid=pending-requests] [data-testid^=request-]")).to_have_count(0)
        decided = boss.locator(f"[data-testid=decided-requests] [data-testid=request-{access_request.pk}]")
        expect(decided).to_contain_text(week.strftime("%d.%m.%Y"))
        expect(boss.locator("[data-testid=pending-access-requests]")).to_have_count(0)
        screenshot(boss, "07-head-request-approved")
        access_request.refresh_from_db()
        grant = AccessGrant.objects.get(request=access_request)
        assert access_request.status == AccessRequestStatus.APPROVED
        assert (grant.user, grant.granted_by, grant.expires_on) == (colleague, head, week)
        assert grant.document is None and grant.revoked_at is None

        # --- The colleague again: the contract listed, downloaded byte for byte; the figures shown. ---
        response = dossier_tab(page, company, documents_url)
        assert response is not None and response.status == 200
        row = page.locator(f"[data-testid=document-{document.pk}]")
        expect(row.locator("[data-testid=document-name]")).to_have_text(document.name)
        expect(page.locator("[data-testid=documents-locked]")).to_have_count(0)
        screenshot(page, "08-documents-after-grant")
        with page.expect_download() as downloading:
            row.locator(f"[data-testid=download-{document.pk}]").click()
        download = downloading.value
        assert download.failure() is None
        downloaded = Path(download.path()).read_bytes()
        assert sha256(downloaded) == sha256(CONTRACT_PDF) == x.version.sha256
        assert download.suggested_filename.endswith(".pdf")

        response = dossier_tab(page, company, solvency_url)
        assert response is not None and response.status == 200
        expect(page.locator("[data-testid=solvency-locked]")).to_have_count(0)
        expect(page.locator("[data-testid=rating]")).to_be_visible()
        expect(page.locator("[data-testid=statement-2025]")).to_contain_text(rub(REVENUE_2025))
        expect(page.locator("[data-testid=ratios-2025]")).to_be_visible()
        screenshot(page, "09-solvency-after-grant")

        # --- The head of sales: the audit log, filtered by the colleague, exported. ---
        asked = AuditEvent.objects.get(action=AuditAction.REQUEST_ACCESS, user=colleague)
        approved = AuditEvent.objects.get(action=AuditAction.APPROVE_ACCESS, user=head)
        downloaded_event = AuditEvent.objects.get(action=AuditAction.DOWNLOAD, user=colleague)
        assert downloaded_event.rule == f"grant:{grant.pk}" and downloaded_event.allowed
        assert (downloaded_event.object_type, downloaded_event.object_id) == ("document", document.pk)
        refused = list(
            AuditEvent.objects.filter(user=colleague, allowed=False).values_list("pk", "action", "rule")
        )
        assert {(a, r) for _pk, a, r in refused} == {
            (AuditAction.VIEW_DOCUMENTS.value, "no_grant"),
            (AuditAction.VIEW_SOLVENCY.value, "no_grant"),
        }

        open_access_menu(boss, reverse("access:audit_log"))
        log = boss.locator("[data-testid=audit-list]")
        for event in (asked, approved, downloaded_event):
            expect(log.locator(f"[data-testid=audit-{event.pk}]")).to_be_visible()
        download_row = log.locator(f"[data-testid=audit-{downloaded_event.pk}]")
        expect(download_row).to_contain_text(colleague.full_name)
        rule_link = download_row.locator(f"a[href='{reverse('access:grants')}?grant={grant.pk}']")
        expect(rule_link).to_contain_text(f"#{grant.pk}")
        for pk, _action, _rule in refused:
            expect(log.locator(f"[data-testid=audit-{pk}]")).to_have_class("table-danger")
        screenshot(boss, "10-audit-log")

        filters = boss.locator("[data-testid=audit-filters]")
        filters.locator("select[name=user]").select_option(str(colleague.pk))
        with boss.expect_navigation():
            filters.locator("button[type=submit]").click()
        expect(boss).to_have_url(
            re.compile(rf"{reverse('access:audit_log')}\?(.*&)?user={colleague.pk}(&|$)")
        )
        for event in (asked, downloaded_event):
            expect(log.locator(f"[data-testid=audit-{event.pk}]")).to_be_visible()
        expect(log.locator(f"[data-testid=audit-{approved.pk}]")).to_have_count(0)
        shown = AuditEvent.objects.filter(user=colleague).count()
        expect(log.locator("tbody tr")).to_have_count(shown)
        screenshot(boss, "11-audit-log-colleague")

        with boss.expect_download() as exporting:
            filters.locator("[data-testid=audit-export]").click()
        exported = Path(exporting.value.path()).read_bytes()
        assert exporting.value.suggested_filename.endswith(".csv")
    finally:
        boss.context.close()

    assert exported.startswith(b"\xef\xbb\xbf"), exported[:20]
    lines = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = lines[0], [line for line in lines[1:] if line]
    assert len(header) == 15, header  # …, the rule, its code, the detail in words and as stored
    login, action_code, object_id, rule_code = 2, 4, 6, 12
    assert len(body) == shown and {line[login] for line in body} == {colleague.username}
    assert [colleague.username, AuditAction.DOWNLOAD.value, str(document.pk), f"grant:{grant.pk}"] in [
        [line[login], line[action_code], line[object_id], line[rule_code]] for line in body
    ]
    assert AuditAction.REQUEST_ACCESS.value in {line[action_code] for line in body}
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_AUDIT, user=head).count() == 1
    assert not problems, problems

    # --- The backup of before, restored into an empty database and storage, in a new process (D12). ---
    with empty_target(tmp_path) as target:
        done = target.manage("restore", str(archive), "--yes")
        assert done.returncode == 0, done.stderr
        rows = target.query(
            "SELECT file, sha256, size FROM documents_documentversion WHERE document_id = %s", (document.pk,)
        )
        assert rows == [(x.version.file.name, x.version.sha256, len(CONTRACT_PDF))]
        restored = (target.media / x.version.file.name).read_bytes()
        assert restored == CONTRACT_PDF == (media / x.version.file.name).read_bytes()
        assert sha256(restored) == rows[0][1]
        # The state of before the journey: the contract, no request, no grant.
        assert target.query("SELECT name FROM documents_document") == [(document.name,)]
        assert target.query("SELECT count(*) FROM access_accessrequest") == [(0,)]
        assert target.query("SELECT count(*) FROM access_accessgrant") == [(0,)]
