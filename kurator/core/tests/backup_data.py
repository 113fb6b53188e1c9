"""What the backup tests share: a dossier with stored documents, archive surgery, a restore in a new process
and row comparisons between the source database and a restored one."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from kurator.access.audit import audit_record
from kurator.access.models import AuditAction
from kurator.accounts.models import User
from kurator.core import backup
from kurator.core.backup import PgTarget
from kurator.documents.models import Document, DocumentSection, DocumentVersion
from kurator.inquiries.models import ImportBatch
from tests.factories import company_factory

# The tables whose rows a round trip compares one by one (every table's row count is compared too).
KEY_TABLES = (
    "accounts_user",
    "companies_company",
    "documents_document",
    "documents_documentversion",
    "inquiries_importbatch",
    "access_auditevent",
)

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    + "Договор №12 от 01.02.2026\r\n".encode("cp1251")
    + b"%%EOF\n"
)


def version_add(
    document: Document, *, number: int, data: bytes, original_name: str, user: User
) -> DocumentVersion:
    version = DocumentVersion(
        document=document,
        number=number,
        original_name=original_name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
    )
    version.file.save("upload", ContentFile(data), save=False)
    version.save()
    return version


@dataclass
class Dossier:
    document: Document
    versions: list[DocumentVersion]
    files: dict[str, bytes]  # storage name → the bytes written


def dossier_with_documents(*, manager: User, head: User) -> Dossier:
    """Two clients; a contract with two versions (a PDF, then 300 KB of binary), a trashed letter, a client
    list import, and audit lines — all committed by the caller's transactional test."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    company_factory(actor=manager, full_name="АО «Василёк»")
    document = Document.objects.create(
        company=company,
        section=DocumentSection.CONTRACTS,
        name="Договор №12 от 01.02.2026",
        created_by=manager,
        version=2,
    )
    binary = bytes(range(256)) * 1200 + b"\r\n\x00\x1a"
    versions = [
        version_add(
            document, number=1, data=PDF, original_name="Договор №12 от 01.02.2026.pdf", user=manager
        ),
        version_add(document, number=2, data=binary, original_name="Договор №12 (подписан).pdf", user=head),
    ]
    letter = Document.objects.create(
        company=company,
        section=DocumentSection.CORRESPONDENCE,
        name="Письмо о зачёте",
        created_by=manager,
        trash_reason="дубль",
    )
    versions.append(
        version_add(letter, number=1, data=b"letter " * 50, original_name="письмо.pdf", user=manager)
    )
    rows = "ИНН;Название\r\n7707083893;ПАО Сбербанк\r\n".encode("cp1251")
    batch = ImportBatch(
        original_name="клиенты.csv",
        checksum=hashlib.sha256(rows).hexdigest(),
        created_by=head,
        curator=manager,
    )
    batch.file.save("clients.csv", ContentFile(rows), save=False)
    batch.save()
    audit_record(action=AuditAction.DOWNLOAD, allowed=True, rule="curator", user=manager, obj=document)
    audit_record(action=AuditAction.VIEW_DOCUMENTS, allowed=False, rule="no_grant", user=head, obj=company)
    files = {version.file.name: version.file.storage.open(version.file.name).read() for version in versions}
    files[batch.file.name] = rows
    return Dossier(document=document, versions=versions, files=files)


# --- archives ----------------------------------------------------------------------------------------------


def archive_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        out = {}
        for member in tar:
            stream = tar.extractfile(member)
            assert stream is not None
            out[member.name] = stream.read()
        return out


def manifest_of(path: Path) -> dict[str, Any]:
    return dict(json.loads(archive_members(path)["manifest.json"]))


def archive_rewrite(
    source: Path, target: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]
) -> Path:
    """A copy of an archive with its members changed (tampering, as a damaged disk or a person would)."""
    members = change(archive_members(source))
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def manifest_changed(members: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> dict[str, bytes]:
    manifest = json.loads(members.pop("manifest.json"))
    change(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    return members


# --- a restore in a new process -----------------------------------------------------------------------------


@dataclass
class Target:
    """An empty database and storage to restore into, as a new Kurator process sees them."""

    engine: str
    url: str
    media: Path
    var: Path
    sqlite_path: Path | None = None
    pg_name: str | None = None

    def manage(self, *args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "MEDIA_ROOT": str(self.media),
            "KURATOR_VAR_DIR": str(self.var),
            **(environ or {}),
        }
        return subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", *args, "--skip-checks"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        if self.engine == "sqlite":
            assert self.sqlite_path is not None
            # With the converters Django registered (dates, booleans, decimals) rows read as the source's do.
            with contextlib.closing(
                sqlite3.connect(
                    self.sqlite_path, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
                )
            ) as db:
                yield db.cursor()
        else:
            from psycopg.types.string import TextLoader

            with pg_connect(self.pg_name) as pg:
                # JSON as text, as Django's connection reads it (Django decodes it itself).
                for json_type in ("json", "jsonb"):
                    pg.adapters.register_loader(json_type, TextLoader)
                with pg.cursor() as cursor:
                    yield cursor


def sqlite_target(tmp_path: Path) -> Target:
    path = tmp_path / "restored" / "kurator.sqlite3"
    path.parent.mkdir(parents=True)
    return Target("sqlite", f"sqlite:///{path}", tmp_path / "restored-media", tmp_path, sqlite_path=path)


def pg_params(dbname: str | None = None) -> dict[str, str]:
    params = dict(PgTarget.from_settings(connection.settings_dict).params)
    if dbname is not None:
        params["dbname"] = dbname
    return params


def pg_connect(dbname: str | None) -> Any:
    import psycopg

    params: dict[str, Any] = pg_params(dbname)
    return psycopg.connect(**params, autocommit=True)


def pg_url(dbname: str) -> str:
    params = pg_params(dbname)
    user = quote(params.get("user", ""), safe="")
    password = ":" + quote(params["password"], safe="") if params.get("password") else ""
    at = f"{user}{password}@" if user else ""
    return f"postgres://{at}{params.get('host', 'localhost')}:{params.get('port', '5432')}/{dbname}"


@contextlib.contextmanager
def pg_database(name: str, tmp_path: Path) -> Iterator[Target]:
    """A new, empty PostgreSQL database beside the test database, dropped at the end."""
    from psycopg import sql

    with pg_connect("postgres") as pg:
        pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Target("postgresql", pg_url(name), tmp_path / "restored-media", tmp_path, pg_name=name)
    finally:
        with pg_connect("postgres") as pg:
            pg.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- comparisons -------------------------------------------------------------------------------------------


def rows(cursor: Any, table: str) -> list[tuple[Any, ...]]:
    cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608 (a constant table name)
    return [tuple(row) for row in cursor.fetchall()]


def source_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        return rows(cursor, table)


def without_action(table_rows: list[tuple[Any, ...]], action: str) -> list[tuple[Any, ...]]:
    """Audit rows but the ones of ``action`` (the backup's own line, the restore's own line)."""
    return [row for row in table_rows if action not in row]


def source_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return backup._count_rows(cursor, "postgresql" if connection.vendor == "postgresql" else "sqlite")


def round_trip_differences(target: Target, dossier: Dossier, before: dict[str, int]) -> list[str]:
    """Everything that differs between the source (as it was backed up) and the restored target."""
    differences = []
    with target.cursor() as cursor:
        after = backup._count_rows(cursor, target.engine)
        restored = {table: rows(cursor, table) for table in KEY_TABLES}
    # The restore adds its own audit line to the restored log; nothing else differs.
    expected = {**before, "access.AuditEvent": before["access.AuditEvent"] + 1}
    differences += [
        f"{label}: {after.get(label)} rows, {count} before"
        for label, count in expected.items()
        if after.get(label) != count
    ]
    for table in KEY_TABLES:
        source, copy = source_rows(table), restored[table]
        if table == "access_auditevent":
            source = without_action(source, AuditAction.BACKUP)  # written after the dump
            copy = without_action(copy, AuditAction.RESTORE_BACKUP)
        if source != copy:
            first = next((pair for pair in zip(source, copy, strict=False) if pair[0] != pair[1]), ((), ()))
            columns = [(i, a, b) for i, (a, b) in enumerate(zip(*first, strict=False)) if a != b]
            differences.append(
                f"{table}: {len(source)} rows, {len(copy)} restored; differing columns: {columns}"
            )
    for name, data in dossier.files.items():
        restored_file = target.media / name
        if not restored_file.is_file() or restored_file.read_bytes() != data:
            differences.append(f"{name}: not byte-identical")
    for version in DocumentVersion.objects.all():
        if hashlib.sha256((target.media / version.file.name).read_bytes()).hexdigest() != version.sha256:
            differences.append(f"{version.file.name}: SHA-256 differs from the version's")
    return differences


@contextlib.contextmanager
def empty_target(tmp_path: Path) -> Iterator[Target]:
    """A new database of the suite's engine (a file that does not exist yet, or a new PostgreSQL database)."""
    if connection.vendor == "sqlite":
        yield sqlite_target(tmp_path)
    else:
        with pg_database(f"kurator_restore_{uuid.uuid4().hex[:12]}", tmp_path) as target:
            yield target


def migrated_unused(target: Target) -> None:
    """Give the target the test database as it is now: migrated, seeded, otherwise empty."""
    if target.engine == "sqlite":
        assert target.sqlite_path is not None
        connection.ensure_connection()
        with contextlib.closing(sqlite3.connect(target.sqlite_path)) as copy:
            connection.connection.backup(copy)
    else:
        copy_schema_and_seeds(target)
    with target.cursor() as cursor:
        assert "companies_company" in backup._tables(cursor, target.engine)


def copy_schema_and_seeds(target: Target) -> None:
    """pg_dump the test database as it is now into the target (PostgreSQL)."""
    source = PgTarget.from_settings(connection.settings_dict)
    dump = target.var / "migrated.dump"
    pg_dump, pg_restore = backup.pg_tool("pg_dump")[0], backup.pg_tool("pg_restore")[0]
    backup._run(
        [pg_dump, "-Fc", "--no-owner", "--file", str(dump), source.dbname], source.environment(), "pg_dump"
    )
    backup._run(
        [pg_restore, "--no-owner", "--exit-on-error", "--dbname", str(target.pg_name), str(dump)],
        source.environment(),
        "pg_restore",
    )
