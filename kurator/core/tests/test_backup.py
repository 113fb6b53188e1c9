"""D12 (nothing is lost): ``manage.py backup`` writes one archive with the database and every stored file, and
``manage.py restore`` brings it back into an empty database and storage — the same rows, byte-identical
documents. A restore runs in a new process against a new database, as it would on a new server; it runs on the
engine the suite runs on (a new SQLite file, or a new PostgreSQL database in the suite's PostgreSQL pass)."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kurator.access.models import AuditAction, AuditEvent
from kurator.accounts.models import Role, User
from kurator.core import backup
from kurator.core.backup import BackupError, pg_tool
from kurator.core.tests.backup_data import (
    Dossier,
    archive_members,
    archive_rewrite,
    dossier_with_documents,
    empty_target,
    manifest_changed,
    manifest_of,
    migrated_unused,
    round_trip_differences,
    source_counts,
)
from kurator.documents.models import DocumentVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump and a new process see committed rows only

ENGINE = "postgresql" if connection.vendor == "postgresql" else "sqlite"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def dossier(manager, head, media) -> Dossier:
    return dossier_with_documents(manager=manager, head=head)


def take_backup(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "out" / "kurator.tar.gz"
    call_command("backup", "--output", str(path), *args, verbosity=0)
    return path


def test_a_freshly_migrated_database_counts_as_empty() -> None:
    """D12: what ``migrate`` writes by itself (content types, permissions, seeded dictionaries) does not make
    a database "in use"; every other table of a new database is empty. A new seeded table fails here: add
    its model to ``REFERENCE_TABLES_OF``."""
    with connection.cursor() as cursor:
        assert backup._used_tables(cursor, ENGINE) == []


def test_backup_and_restore_give_the_same_rows_and_byte_identical_documents(dossier, tmp_path) -> None:
    """D12: a backup restored into an empty database and storage has the same rows in every table, the same
    companies, documents, versions and audit lines, and every document byte for byte."""
    before = source_counts()
    archive = take_backup(tmp_path)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no temporary left behind
    manifest = manifest_of(archive)
    assert manifest["database"]["engine"] == ENGINE
    assert manifest["rows"] == before
    assert manifest["migrations"]["access"].startswith("0003") or manifest["migrations"]["access"] > "0003"
    assert manifest["problems"] == []
    versions = {v.file.name: v for v in DocumentVersion.objects.all()}
    listed = {item["name"]: item for item in manifest["files"]}
    assert set(listed) == set(dossier.files)
    for name, version in versions.items():
        assert (listed[name]["sha256"], listed[name]["size"]) == (version.sha256, version.size)
    members = archive_members(archive)
    assert all(members["files/" + name] == data for name, data in dossier.files.items())
    assert (
        AuditEvent.objects.filter(action=AuditAction.BACKUP, detail=str(archive), allowed=True).count() == 1
    )

    with empty_target(tmp_path) as target:
        done = target.manage("restore", str(archive), "--yes")
        assert done.returncode == 0, done.stderr
        assert round_trip_differences(target, dossier, before) == []
        with target.cursor() as cursor:
            cursor.execute("SELECT action, detail FROM access_auditevent WHERE action = 'restore_backup'")
            assert cursor.fetchall() == [("restore_backup", str(archive))]

        # A second restore into the database just restored is refused: it is in use now.
        again = target.manage("restore", str(archive), "--yes")
        assert again.returncode != 0
        assert "access_auditevent" in again.stderr and "companies_company" in again.stderr
        assert round_trip_differences(target, dossier, before) == []


@pytest.mark.skipif(ENGINE == "postgresql", reason="on PostgreSQL: test_backup_postgres.py, with the trigger")
def test_restore_into_a_migrated_but_unused_database(media, tmp_path) -> None:
    """D12: the usual target — a database that ``migrate`` has just made — is accepted and replaced."""
    with empty_target(tmp_path) as target:
        migrated_unused(target)
        manager: User = UserFactory.create(username="manager", role=Role.MANAGER)
        head: User = UserFactory.create(username="head", role=Role.HEAD_OF_SALES)
        dossier = dossier_with_documents(manager=manager, head=head)
        before = source_counts()
        archive = take_backup(tmp_path)
        done = target.manage("restore", str(archive), "--yes")
        assert done.returncode == 0, done.stderr
        assert round_trip_differences(target, dossier, before) == []


def test_an_archive_with_a_changed_file_is_refused_before_anything_is_written(dossier, tmp_path) -> None:
    """D12: one byte changed in a stored document inside the archive: the restore names the file and writes
    nothing — no database, no file."""
    archive = take_backup(tmp_path)
    name = dossier.versions[1].file.name

    def flip_a_byte(members: dict[str, bytes]) -> dict[str, bytes]:
        data = bytearray(members["files/" + name])
        data[1000] ^= 0x01
        members["files/" + name] = bytes(data)
        return members

    damaged = archive_rewrite(archive, tmp_path / "damaged.tar.gz", flip_a_byte)
    with empty_target(tmp_path) as target:
        refused = target.manage("restore", str(damaged), "--yes")
        assert refused.returncode != 0
        assert name in refused.stderr
        assert not target.media.exists()
        if target.sqlite_path is not None:
            assert not target.sqlite_path.exists()
        else:
            with target.cursor() as cursor:
                assert backup._tables(cursor, ENGINE) == set()


def test_the_storage_must_hold_none_of_the_files(dossier, tmp_path) -> None:
    """D12: a storage that already holds one of the backup's files is refused: the restore would have to
    rename it and the database would no longer find it."""
    archive = take_backup(tmp_path)
    name = dossier.versions[0].file.name
    with empty_target(tmp_path) as target:
        (target.media / name).parent.mkdir(parents=True)
        (target.media / name).write_bytes(b"another file")
        refused = target.manage("restore", str(archive), "--yes")
        assert refused.returncode != 0
        assert name in refused.stderr
        assert (target.media / name).read_bytes() == b"another file"
        assert [p for p in target.media.rglob("*") if p.is_file()] == [target.media / name]
        if target.sqlite_path is not None:
            assert not target.sqlite_path.exists()


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("missing_file", "files/{name}"),
        ("unlisted_file", "files/extra.bin"),
        ("database_changed", "database/"),
        ("truncated", ""),
    ],
)
def test_a_damaged_archive_is_refused(dossier, tmp_path, damage, named) -> None:
    """D12: a file missing from the archive, a file the manifest does not list, a changed database dump or a
    cut-off archive: the restore refuses before it looks at the target, which stays as it was."""
    archive = take_backup(tmp_path)
    name = dossier.versions[0].file.name

    def change(members: dict[str, bytes]) -> dict[str, bytes]:
        if damage == "missing_file":
            del members["files/" + name]
        elif damage == "unlisted_file":
            members["files/extra.bin"] = b"x"
        elif damage == "database_changed":
            member = next(key for key in members if key.startswith("database/"))
            members[member] = members[member][:-1] + bytes([members[member][-1] ^ 1])
        return members

    damaged = archive_rewrite(archive, tmp_path / "damaged.tar.gz", change)
    if damage == "truncated":
        damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    events, files = AuditEvent.objects.count(), sorted(Path(p).name for p in dossier.files)
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(damaged), "--yes", verbosity=0)
    assert named.format(name=name) in str(refused.value)
    assert AuditEvent.objects.count() == events
    assert sorted(p.name for p in (tmp_path / "media").rglob("*") if p.is_file()) == files


def test_an_archive_of_another_engine_is_refused(dossier, tmp_path) -> None:
    """D12: a PostgreSQL dump does not go into SQLite (nor a SQLite file into PostgreSQL): the message says
    both engines; nothing is written."""
    archive = take_backup(tmp_path)
    other = "postgresql" if ENGINE == "sqlite" else "sqlite"

    def relabel(members: dict[str, bytes]) -> dict[str, bytes]:
        old = backup.DATABASE_MEMBERS[ENGINE]
        members[backup.DATABASE_MEMBERS[other]] = members.pop(old)

        def engine(manifest: dict[str, Any]) -> None:
            manifest["database"] |= {"engine": other, "member": backup.DATABASE_MEMBERS[other]}

        return manifest_changed(members, engine)

    foreign = archive_rewrite(archive, tmp_path / "foreign.tar.gz", relabel)
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(foreign), "--yes", verbosity=0)
    assert other in str(refused.value) and ENGINE in str(refused.value)
    assert AuditEvent.objects.count() == events


def test_an_archive_of_a_newer_kurator_is_refused(dossier, tmp_path) -> None:
    """D12: a backup whose database has migrations this code does not know is refused by name."""
    archive = take_backup(tmp_path)

    def newer(members: dict[str, bytes]) -> dict[str, bytes]:
        return manifest_changed(
            members, lambda manifest: manifest["migrations"].update(documents="0099_future")
        )

    with pytest.raises(CommandError, match=r"documents\.0099_future"):
        call_command("restore", str(archive_rewrite(archive, tmp_path / "newer.tar.gz", newer)), "--yes")


def test_a_document_that_does_not_match_its_checksum_stops_the_backup(dossier, tmp_path) -> None:
    """D12: a backup never carries silent corruption: a stored file whose bytes no longer match the version's
    SHA-256 stops it, naming the document and the version, and no archive is written. With --allow-mismatch
    the backup is taken and the disagreement recorded in the manifest (and shown again at restore)."""
    version = dossier.versions[0]
    (tmp_path / "media" / version.file.name).write_bytes(b"rotten bits")
    output = tmp_path / "out" / "kurator.tar.gz"

    with pytest.raises(CommandError) as refused:
        call_command("backup", "--output", str(output), verbosity=0)
    message = str(refused.value)
    # «id» in English, «ID» in Russian: the suite may run in either language.
    assert "Договор №12 от 01.02.2026" in message and f"id {version.document_id}" in message.lower()
    assert version.file.name in message and version.sha256 in message
    assert not output.exists() and list(output.parent.iterdir()) == []
    assert not AuditEvent.objects.filter(action=AuditAction.BACKUP).exists()

    call_command("backup", "--output", str(output), "--allow-mismatch", verbosity=0)
    manifest = manifest_of(output)
    [problem] = manifest["problems"]
    assert problem["problem"] == "mismatch" and problem["name"] == version.file.name
    assert problem["expected_sha256"] == version.sha256
    assert problem["sha256"] == hashlib.sha256(b"rotten bits").hexdigest()
    assert archive_members(output)["files/" + version.file.name] == b"rotten bits"
    verified = call_command("restore", str(output), "--verify-only")
    assert verified is None


def test_a_missing_stored_file_stops_the_backup(dossier, tmp_path) -> None:
    """D12: a version whose file is gone from the storage stops the backup, naming the document."""
    version = dossier.versions[2]
    (tmp_path / "media" / version.file.name).unlink()
    with pytest.raises(CommandError) as refused:
        take_backup(tmp_path)
    assert "Письмо о зачёте" in str(refused.value) and version.file.name in str(refused.value)

    archive = take_backup(tmp_path, "--allow-mismatch")
    manifest = manifest_of(archive)
    assert [p["problem"] for p in manifest["problems"]] == ["missing"]
    assert version.file.name not in {item["name"] for item in manifest["files"]}


def test_a_backup_never_replaces_a_file(dossier, tmp_path) -> None:
    """D12: an existing archive (or any file) at the output path is left alone."""
    output = tmp_path / "out" / "kurator.tar.gz"
    output.parent.mkdir()
    output.write_bytes(b"yesterday's backup")
    with pytest.raises(CommandError, match=r"kurator\.tar\.gz"):
        call_command("backup", "--output", str(output), verbosity=0)
    assert output.read_bytes() == b"yesterday's backup"


def test_a_missing_postgresql_client_is_a_clear_error(settings, tmp_path) -> None:
    """D12: without pg_dump (or with KURATOR_PG_BIN_DIR pointing at the wrong folder) the error says what to
    install and where Kurator looked."""
    settings.KURATOR_PG_BIN_DIR = str(tmp_path)
    with pytest.raises(BackupError) as missing:
        pg_tool("pg_dump")
    assert "pg_dump" in str(missing.value) and str(tmp_path) in str(missing.value)
    assert "KURATOR_PG_BIN_DIR" in str(missing.value)
