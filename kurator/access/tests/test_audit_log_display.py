"""The audit log for people (D12): details written for machines read as names and dates (on the page and in
the CSV, which also keeps them as stored), a sign-in lock-out as its end in local time, a backup as its file
name, the rules of server commands in words, the client and its filter on one line; the whole log is paged
without counting a million lines (the page shows an estimate, the API's ``count`` is PostgreSQL's estimate
without a filter)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from rest_framework.test import APIClient

from kurator.access import services
from kurator.access.api_views import AuditPagination
from kurator.access.audit import audit_record
from kurator.access.labels import detail_text, detail_texts, rule_label
from kurator.access.models import AuditAction, AuditEvent
from kurator.access.tests.factories_access import ask, grant
from kurator.accounts import throttle
from kurator.accounts.models import SignInLock

pytestmark = pytest.mark.django_db


def _detail(response, event: AuditEvent) -> str:
    html = response.content.decode()
    match = re.search(rf'data-testid="detail-{event.pk}"[^>]*>([^<]*)<', html)
    assert match, f"no detail shown for {event.action}"
    return match.group(1)


def test_an_approval_reads_who_and_until_when(client, head, other_manager, company):
    """D12: «Approved access» says «Кузнецов О., until <date>», not ``request:1 user:3 until:…``; so does the
    CSV, which also keeps the stored detail in its last column."""
    access_request = ask(other_manager, company)
    services.access_request_approve(actor=head, request=access_request, expires_on=date(2026, 12, 4))
    event = AuditEvent.objects.get(action=AuditAction.APPROVE_ACCESS)
    assert event.detail == f"request:{access_request.pk} user:{other_manager.pk} until:2026-12-04"
    client.force_login(head)
    response = client.get(reverse("access:audit_log"))
    assert _detail(response, event) == "Кузнецов О., until 12/04/2026"
    assert f'title="{event.detail}"' in response.content.decode()
    with translation.override("ru"):
        assert detail_texts([(event.action, event.detail)])[0].endswith(" 04.12.2026")
    export = b"".join(client.get(reverse("access:audit_export")).streaming_content).decode("utf-8-sig")
    line = next(row for row in export.split("\r\n") if "approve_access" in row)
    assert line.endswith(";Кузнецов О., until 12/04/2026;" + event.detail)
    assert export.split("\r\n")[0].endswith(";Detail;Detail as stored")


def _lock_out(username: str) -> SignInLock:
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.7")
    with pytest.raises(throttle.SignInLocked):
        for _ in range(throttle.max_failures()):
            throttle.authenticate_throttled(request=request, username=username, password="wrong-password")
    return SignInLock.objects.get()


def test_a_lockout_reads_until_when_in_local_time(client, head, manager, settings):
    """D12: the lock-out line stores its end for machines (``until:`` and the UTC time) and shows it in words,
    in the server's zone (Europe/Moscow) and the reader's format, on the page and in the CSV."""
    settings.TIME_ZONE = "Europe/Moscow"
    lock = _lock_out("manager")
    event = AuditEvent.objects.get(action=AuditAction.LOCKOUT)
    assert event.detail == f"until:{lock.locked_until.isoformat()}"
    assert event.detail.endswith("+00:00")
    words = "until " + date_format(timezone.localtime(lock.locked_until), "SHORT_DATETIME_FORMAT")
    client.force_login(head)
    response = client.get(reverse("access:audit_log"))
    assert _detail(response, event) == words
    assert rule_label(event.rule) == "locked out"
    export = b"".join(client.get(reverse("access:audit_export")).streaming_content).decode("utf-8-sig")
    line = next(row for row in export.split("\r\n") if ";lockout;" in row)
    assert line.endswith(f";{words};{event.detail}")


@pytest.mark.parametrize(
    "detail",
    [
        "until:2026-12-04T15:30:00+00:00",
        "until 2026-12-04T15:30:00.123456+00:00",  # the form written before the machine form
        "until:2026-12-04T18:30:00+03:00",
    ],
)
def test_a_lockout_detail_reads_in_moscow_time_in_russian(settings, detail):
    settings.TIME_ZONE = "Europe/Moscow"
    with translation.override("ru"):
        assert detail_text("lockout", detail, {}) == "до 04.12.2026 18:30"
    with translation.override("en"):
        assert detail_text("lockout", detail, {}) == "until 12/04/2026 6:30 p.m."
    assert detail_text("lockout", "until soon", {}) == "until soon"


def test_an_unlock_and_a_purge_read_in_words():
    assert detail_text("unlock", "username: ivanov", {}) == "user name: ivanov"
    assert detail_text("unlock", "ip: 10.0.0.1", {}) == "IP address: 10.0.0.1"
    new = "Договор; v2.pdf; versions:3; trashed:2026-12-04: дубль"  # a «; » in the name
    words = "Договор; v2.pdf; 3 versions; in the trash since 12/04/2026: дубль"
    assert detail_text("purge", new, {}) == words
    old = "Договор.pdf; 1 version(s); trashed 2026-12-04: дубль"
    assert detail_text("purge", old, {}) == "Договор.pdf; 1 version; in the trash since 12/04/2026: дубль"
    with translation.override("ru"):
        for count, words in ((1, "1 версия"), (3, "3 версии"), (5, "5 версий"), (21, "21 версия")):
            detail = f"Договор.pdf; versions:{count}; trashed:2026-12-04: дубль"
            assert detail_text("purge", detail, {}) == f"Договор.pdf; {words}; в корзине с 04.12.2026: дубль"
    assert detail_text("purge", "Договор.pdf", {}) == "Договор.pdf"


def test_the_rules_of_server_commands_and_sign_in_read_in_words(client, head):
    """D12: a line written by ``manage.py backup`` / ``restore`` names its rule «server command», not
    ``command``; the lock-out and user-management rules read in words too."""
    event = audit_record(action=AuditAction.BACKUP, allowed=True, rule="command", detail="kurator.tar.gz")
    client.force_login(head)
    html = client.get(reverse("access:audit_log")).content.decode()
    row = re.search(rf'data-testid="detail-{event.pk}".*?</tr>', html, re.S)
    assert row and "server command (manage.py)" in row.group(0)
    assert [rule_label(r) for r in ("ip_locked_out", "unlocked", "accounts.manage_users")] == [
        "address locked out",
        "lock lifted",
        "user management",
    ]
    with translation.override("ru"):
        assert rule_label("command") == "команда на сервере (manage.py)"


def test_a_direct_grant_a_refusal_and_a_revocation_name_the_colleague(client, head, other_manager, company):
    access = grant(head, other_manager, company, reason="Замещает куратора")
    services.access_grant_revoke(actor=head, grant=access, reason="Вернулся куратор")
    services.access_request_refuse(actor=head, request=ask(other_manager, company), comment="Нет")
    client.force_login(head)
    response = client.get(reverse("access:audit_log"))
    shown = {
        e.action: _detail(response, e)
        for e in AuditEvent.objects.filter(
            action__in=[AuditAction.APPROVE_ACCESS, AuditAction.REVOKE_ACCESS, AuditAction.REFUSE_ACCESS]
        )
    }
    expiry = access.expires_on.strftime("%m/%d/%Y")
    assert shown == {
        AuditAction.APPROVE_ACCESS: f"Кузнецов О., until {expiry}: Замещает куратора",
        AuditAction.REVOKE_ACCESS: "Кузнецов О.: Вернулся куратор",
        AuditAction.REFUSE_ACCESS: "Кузнецов О.",
    }


def test_the_user_lines_name_the_person_and_the_change(head, manager):
    names = {manager.pk: manager.short_name}
    assert detail_text("user_created", f"user:{manager.pk} role:manager", names) == "Петров И.: role: Manager"
    assert (
        detail_text("user_changed", f"user:{manager.pk} role:manager>finance names", names)
        == "Петров И.: role: Manager → Finance, name changed"
    )
    assert detail_text("user_reactivated", "user:999", names) == "#999"
    # Anything not in a known form is shown as it is.
    assert detail_text("approve_access", "user:1 until:someday", names) == "user:1 until:someday"
    assert detail_text("download", "v2 Договор №12.pdf", names) == "v2 Договор №12.pdf"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/var/lib/kurator/backups/kurator-2026-11-27_03-00.tar.gz", "kurator-2026-11-27_03-00.tar.gz"),
        ("C:\\Kurator\\backups\\kurator-2026-11-27.tar.gz", "kurator-2026-11-27.tar.gz"),
        ("kurator.tar.gz", "kurator.tar.gz"),
    ],
)
def test_a_backup_shows_its_file_name_not_the_server_path(client, head, path, name):
    """D12: «Took a backup» shows the archive's name; the full path stays in the log (and the CSV)."""
    event = audit_record(action=AuditAction.BACKUP, allowed=True, rule="command", detail=path)
    client.force_login(head)
    response = client.get(reverse("access:audit_log"))
    assert _detail(response, event) == name
    assert event.detail == path


def test_the_client_and_its_filter_stay_on_one_line(client, head, manager, company):
    audit_record(action=AuditAction.VIEW_SOLVENCY, allowed=True, rule="curator", user=manager, obj=company)
    client.force_login(head)
    html = client.get(reverse("access:audit_log")).content.decode()
    cell = re.search(r'<td class="small text-nowrap"><a href="/companies/\d+/"[^>]*>[^<]*</a>&nbsp;<a ', html)
    assert cell


def _many(head, manager, company, n: int) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=AuditAction.VIEW_SOLVENCY, allowed=True, rule="curator", user=manager, company=company
        )
        for _ in range(n)
    )


def _analyse() -> None:
    """PostgreSQL's estimate of the log's rows, as autovacuum keeps it (a table never analysed is counted)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE access_auditevent")


def _counting_the_log(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "access_auditevent" in q["sql"]
    ]


def test_the_whole_log_is_paged_without_counting_it(client, head, manager, company):
    """D12: without a filter the page reads the next page's first line instead of counting the log (on
    PostgreSQL the header shows the planner's estimate, «≈ N»); with a filter it counts."""
    _many(head, manager, company, 120)
    _analyse()
    client.force_login(head)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("access:audit_log"))
    page = response.context["page"]
    assert len(page.object_list) == 50 and page.has_next() and page.paginator.num_pages == 2
    assert "?page=2" in response.content.decode()
    if connection.vendor == "postgresql":
        assert not _counting_the_log(queries)
        assert not page.paginator.exact and page.paginator.count == 120
        assert 'data-testid="audit-count"><span title="An estimate' in response.content.decode()
    last = client.get(reverse("access:audit_log"), {"page": 3})
    assert len(last.context["page"].object_list) == 20 and not last.context["page"].has_next()
    beyond = client.get(reverse("access:audit_log"), {"page": 9})  # counted then: the last page
    assert beyond.context["page"].number == 3
    with CaptureQueriesContext(connection) as queries:
        narrowed = client.get(reverse("access:audit_log"), {"user": manager.pk})
    assert _counting_the_log(queries)
    assert narrowed.context["page"].paginator.count == 120 and narrowed.context["page"].paginator.exact
    assert 'data-testid="audit-count">120<' in narrowed.content.decode()


def test_the_whole_log_in_the_api_counts_by_estimate_on_postgresql(head, manager, company):
    """D12: ``GET /api/v1/audit-log/`` without a filter: ``count`` is PostgreSQL's estimate (exact on
    SQLite), ``next`` exact; with a filter ``count`` is exact."""
    _many(head, manager, company, 60)
    _analyse()
    api = APIClient()
    api.force_authenticate(head)
    with CaptureQueriesContext(connection) as queries:
        first = api.get("/api/v1/audit-log/").json()
    assert len(first["results"]) == 50 and first["next"] and first["previous"] is None
    assert first["count"] == 60  # the estimate just after ANALYZE, or the exact count on SQLite
    if connection.vendor == "postgresql":
        assert not _counting_the_log(queries)
        _many(head, manager, company, 10)  # the estimate lags until the next ANALYZE
        assert api.get("/api/v1/audit-log/").json()["count"] == 60
        assert api.get("/api/v1/audit-log/", {"page": 2}).json()["count"] == 70  # at least the rows read
    total = AuditEvent.objects.count()
    second = api.get(first["next"]).json()
    assert len(second["results"]) == total - 50 and second["next"] is None
    assert api.get("/api/v1/audit-log/", {"page": 5}).status_code == 404
    with CaptureQueriesContext(connection) as queries:
        narrowed = api.get("/api/v1/audit-log/", {"user": manager.pk}).json()
    assert narrowed["count"] == total and _counting_the_log(queries)
    described = AuditPagination().get_paginated_response_schema({"type": "array"})
    assert "estimate" in described["properties"]["count"]["description"]
