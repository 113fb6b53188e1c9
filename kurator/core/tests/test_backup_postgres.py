"""D12 on PostgreSQL: a pg_dump archive restored into a database that ``migrate`` has made — the same rows,
byte-identical documents, the append-only trigger of the audit log still refusing UPDATE and DELETE, and the
sequences where they were.

These run in the suite's PostgreSQL pass (tests/runner.py). Elsewhere they are skipped — unless
REQUIRE_POSTGRES=1 and PostgreSQL does not answer, or its client programs are missing: then they fail."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kurator.accounts.models import Role, User
from kurator.core.backup import BackupError, pg_tool
from kurator.core.tests.backup_data import (
    dossier_with_documents,
    manifest_of,
    migrated_unused,
    pg_database,
    round_trip_differences,
    source_counts,
)
from tests.factories import UserFactory
from tests.runner import DEFAULT_POSTGRES_URL, postgres_reachable

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _fail_or_skip(message: str) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{message} (REQUIRE_POSTGRES=1)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        url = os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
        if not postgres_reachable(url):
            _fail_or_skip(f"PostgreSQL does not answer at {url}")
        pytest.skip("runs in the suite's PostgreSQL pass (DATABASE_URL=postgres://…; see tests/runner.py)")
    for program in ("pg_dump", "pg_restore"):
        try:
            pg_tool(program)
        except BackupError as exc:
            _fail_or_skip(str(exc))


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_a_postgresql_backup_restores_into_a_migrated_database_with_its_audit_trigger(
    media, tmp_path
) -> None:
    """D12: pg_dump → pg_restore into a migrated, unused database: the same rows and documents; the audit
    log still refuses UPDATE and DELETE; a new company after the restore gets a new id."""
    import psycopg

    with pg_database(f"kurator_restore_{uuid.uuid4().hex[:12]}", tmp_path) as target:
        migrated_unused(target)
        manager: User = UserFactory.create(username="manager", role=Role.MANAGER)
        head: User = UserFactory.create(username="head", role=Role.HEAD_OF_SALES)
        dossier = dossier_with_documents(manager=manager, head=head)
        before = source_counts()
        archive = tmp_path / "out" / "kurator.tar.gz"
        call_command("backup", "--output", str(archive), verbosity=0)
        manifest = manifest_of(archive)
        assert manifest["database"]["engine"] == "postgresql"
        assert manifest["database"]["server_major"] >= 15
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600

        done = target.manage("restore", str(archive), "--yes")
        assert done.returncode == 0, done.stderr
        assert round_trip_differences(target, dossier, before) == []

        with target.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'access_auditevent'::regclass AND NOT tgisinternal"
            )
            assert cursor.fetchall() == [("access_auditevent_append_only",)]
            for statement in (
                "UPDATE access_auditevent SET detail = 'rewritten'",
                "DELETE FROM access_auditevent",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    cursor.execute(statement)
            cursor.execute("SELECT max(id) FROM companies_company")
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(pg_get_serial_sequence('companies_company', 'id'))")
            assert cursor.fetchone()[0] > highest


def test_a_pg_dump_older_than_the_server_is_refused(settings, tmp_path) -> None:
    """D12: pg_dump 9 cannot dump a PostgreSQL 15 server: the backup says which client to install."""
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    settings.KURATOR_PG_BIN_DIR = str(tmp_path)
    output = tmp_path / "out" / "kurator.tar.gz"
    with pytest.raises(CommandError, match="pg_dump 9") as refused:
        call_command("backup", "--output", str(output), verbosity=0)
    assert "KURATOR_PG_BIN_DIR" in str(refused.value)
    assert not output.exists()
