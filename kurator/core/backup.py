"""Backups (D12: nothing is lost): one archive with the database and every stored file, and its restore.

The archive is a ``.tar.gz`` with, in this order:

- ``database/kurator.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database/kurator.sqlite3`` (a
  consistent copy made with SQLite's online backup API);
- ``files/<storage name>`` for every file a model's ``FileField`` names (document versions, client-list
  imports), read through Django's storage API, so that local disk and S3 work alike;
- ``manifest.json``, last, once every checksum is known: the format, the Kurator version and commit, the time,
  the engine, the latest applied migration of each app, the rows of every model, and each file's storage name,
  size and SHA-256 — computed from the bytes written into the archive and checked against the checksum the
  database keeps (``DocumentVersion.sha256``): a backup never carries a silently corrupted document.

The database, the row counts and the list of files come from one snapshot: on PostgreSQL ``pg_dump`` runs on a
snapshot exported by a repeatable-read transaction that the inventory is read in; on SQLite the inventory is
read from the copy that goes into the archive. The archive is written under a temporary name beside its
destination and renamed at the end, so a half-written archive never carries the final name.

A restore verifies the whole archive before it touches anything, refuses a database that is in use and a
storage that already holds one of the files, writes the files first (re-reading each from the storage to check
its checksum) and the database last, in one transaction, so that a failure at any step leaves the target as
empty as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

FORMAT = "kurator-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"postgresql": "database/kurator.dump", "sqlite": "database/kurator.sqlite3"}
FILES_PREFIX = "files/"
CHUNK = 1024 * 1024
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
COMPRESS_LEVEL = 6

# Checksums the database keeps for stored files, by model: (checksum field, size field). A file of another
# model is archived with the checksum computed from its bytes.
KEPT_CHECKSUMS: dict[str, tuple[str, str | None]] = {
    "documents.DocumentVersion": ("sha256", "size"),
    "inquiries.ImportBatch": ("checksum", None),
}

# What ``migrate`` itself writes into a new database: content types and permissions, and the dictionaries the
# data migrations seed (contact sources, sales technologies …, response standards, public mail domains, the
# default pipeline) with the history of edits to them. Sessions carry nothing worth keeping. A database whose
# other tables are all empty has never been used, and a restore may replace it. ``test_backup`` checks this
# list against a new test database.
REFERENCE_TABLES_OF = (
    "contenttypes.ContentType",
    "auth.Permission",
    "sessions.Session",
    "companies.ContactSource",
    "companies.SalesTechnology",
    "companies.DeliveryMethod",
    "companies.ApplicationSphere",
    "companies.ProductCategory",
    "inquiries.ResponseStandard",
    "inquiries.PublicMailDomain",
    "sales.Pipeline",
    "sales.Stage",
    "sales.LostReason",
)


class BackupError(Exception):
    """A backup or a restore refused or failed; the message says what and what to do."""


Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# --- shared helpers ---------------------------------------------------------------------------------------


def engine_of(settings_dict: dict[str, Any]) -> str:
    engine = str(settings_dict["ENGINE"])
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(
        _("Backups support PostgreSQL and SQLite; the database engine is %(engine)s.") % {"engine": engine}
    )


def _sha256_hex(value: str) -> str:
    return value.strip().lower()


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return bytes(data)

    @property
    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _hash_stream(stream: Any) -> tuple[int, str]:
    reader = _Hashing(stream)
    while reader.read(CHUNK):
        pass
    return reader.size, reader.hexdigest


def _model_tables() -> dict[str, str]:
    """Each concrete model's label → its table (auto-created many-to-many tables included)."""
    tables: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in tables.values():
            continue
        tables[meta.label] = meta.db_table
    return tables


def _reference_tables() -> set[str]:
    tables = {"django_migrations"}
    for label in REFERENCE_TABLES_OF:
        model = apps.get_model(label)
        tables.add(model._meta.db_table)
        history = getattr(model, "history", None)  # django-simple-history's record of dictionary edits
        if history is not None:
            tables.add(history.model._meta.db_table)
    return tables


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor: Any, engine: str) -> set[str]:
    if engine == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in cursor.fetchall()}


def _count_rows(cursor: Any, engine: str) -> dict[str, int]:
    present = _tables(cursor, engine)
    counts: dict[str, int] = {}
    for label, table in sorted(_model_tables().items()):
        if table in present:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (a model's table name)
            counts[label] = int(cursor.fetchone()[0])
    return counts


def _git_commit() -> str | None:
    git = shutil.which("git")
    if not git or not (Path(settings.BASE_DIR) / ".git").exists():
        return None
    try:
        result = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _kurator_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kurator")
    except PackageNotFoundError:
        return None


# --- PostgreSQL -------------------------------------------------------------------------------------------

# libpq options Django's OPTIONS may carry, and the environment variables pg_dump/pg_restore read them from.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


@dataclass(frozen=True)
class PgTarget:
    """Where a PostgreSQL database is, as libpq wants it."""

    params: dict[str, str]

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any]) -> PgTarget:
        params = {
            "dbname": settings_dict.get("NAME") or "",
            "user": settings_dict.get("USER") or "",
            "password": settings_dict.get("PASSWORD") or "",
            "host": settings_dict.get("HOST") or "",
            "port": str(settings_dict.get("PORT") or ""),
        }
        for key, value in (settings_dict.get("OPTIONS") or {}).items():
            if key in _LIBPQ_OPTIONS and value not in (None, ""):
                params[key] = str(value)
        return cls({key: value for key, value in params.items() if value})

    @property
    def dbname(self) -> str:
        return self.params.get("dbname", "")

    def describe(self) -> str:
        host = self.params.get("host", "localhost")
        port = self.params.get("port", "5432")
        return f"postgresql://{self.params.get('user', '')}@{host}:{port}/{self.dbname}"

    def connect(self, **kwargs: Any) -> Any:
        import psycopg

        try:
            params: dict[str, Any] = {**self.params, **kwargs}
            return psycopg.connect(**params)
        except psycopg.Error as exc:
            raise BackupError(
                _("Cannot connect to PostgreSQL at %(target)s: %(error)s")
                % {"target": self.describe(), "error": str(exc).strip()}
            ) from exc

    def environment(self) -> dict[str, str]:
        """The environment for pg_dump and pg_restore: the password goes here, never on the command line."""
        env = dict(os.environ)
        names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST"}
        names |= {"port": "PGPORT", **_LIBPQ_OPTIONS}
        for key, variable in names.items():
            if key in self.params:
                env[variable] = self.params[key]
        return env


def pg_tool(name: str) -> tuple[str, int, str]:
    """The path, major version and version line of a PostgreSQL client program (pg_dump, pg_restore)."""
    bin_dir = getattr(settings, "KURATOR_PG_BIN_DIR", "")
    path = str(Path(bin_dir) / name) if bin_dir else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        where = bin_dir or "PATH"
        raise BackupError(
            _(
                "%(program)s is not installed (looked in %(where)s). Install the PostgreSQL client of the "
                "server's version (Debian: apt-get install postgresql-client-15) or set "
                "KURATOR_PG_BIN_DIR to its folder."
            )
            % {"program": name, "where": where}
        )
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(_("%(program)s does not run: %(error)s") % {"program": path, "error": exc}) from exc
    line = result.stdout.strip()
    match = re.search(r"\)\s*(\d+)", line) or re.search(r"(\d+)\.", line)
    if result.returncode != 0 or not match:
        raise BackupError(_("%(program)s --version answered %(answer)r") % {"program": path, "answer": line})
    return path, int(match.group(1)), line


def _server_major(pg_connection: Any) -> tuple[int, str]:
    number = int(pg_connection.execute("SHOW server_version_num").fetchone()[0])
    text = str(pg_connection.execute("SHOW server_version").fetchone()[0])
    return number // 10000, text


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603 (our own arguments)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        raise BackupError(_("%(what)s failed: %(error)s") % {"what": what, "error": message[-4000:]})


# --- the snapshot a backup is read from -------------------------------------------------------------------


@dataclass
class Snapshot:
    engine: str
    database_file: Path
    cursor: Any
    database: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def _postgresql_snapshot(settings_dict: dict[str, Any], workdir: Path) -> Iterator[Snapshot]:
    target = PgTarget.from_settings(settings_dict)
    pg_dump, dump_major, dump_version = pg_tool("pg_dump")
    # Autocommit, so that the BEGIN below is the transaction's first statement and sets its isolation.
    with target.connect(autocommit=True) as pg:
        server_major, server_version = _server_major(pg)
        if dump_major < server_major:
            raise BackupError(
                _(
                    "pg_dump %(dump)s cannot dump a PostgreSQL %(server)s server: install the version "
                    "%(server)s client (or newer) or point KURATOR_PG_BIN_DIR at it."
                )
                % {"dump": dump_major, "server": server_major}
            )
        pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_id = pg.execute("SELECT pg_export_snapshot()").fetchone()[0]
        dump = workdir / "kurator.dump"
        args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}"]
        args += ["--file", str(dump), "--dbname", target.dbname]
        _run(args, target.environment(), "pg_dump")
        with pg.cursor() as cursor:
            yield Snapshot(
                engine="postgresql",
                database_file=dump,
                cursor=cursor,
                database={
                    "pg_dump_version": dump_version,
                    "pg_dump_major": dump_major,
                    "server_version": server_version,
                    "server_major": server_major,
                },
            )
        pg.execute("ROLLBACK")


@contextlib.contextmanager
def _sqlite_snapshot(alias: str, workdir: Path) -> Iterator[Snapshot]:
    copy = workdir / "kurator.sqlite3"
    source = connections[alias]
    source.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        # One step copies every page under one read lock: a consistent image even while the app writes.
        source.connection.backup(target)
        # The copy stands alone: no write-ahead log beside it.
        target.execute("PRAGMA journal_mode=DELETE")
        cursor = target.cursor()
        yield Snapshot(
            engine="sqlite",
            database_file=copy,
            cursor=cursor,
            database={"sqlite_version": sqlite3.sqlite_version},
        )
        cursor.close()
    finally:
        target.close()


# --- backup -----------------------------------------------------------------------------------------------


@dataclass
class StoredFile:
    name: str
    model: str
    ids: list[Any] = field(default_factory=list)
    expected: list[tuple[str, str, int | None]] = field(default_factory=list)  # (who, sha256, size)


def _file_inventory(cursor: Any, engine: str) -> dict[str, StoredFile]:
    """Every non-empty FileField value in the snapshot, with the checksum and size the database keeps."""
    present = _tables(cursor, engine)
    files: dict[str, StoredFile] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table not in present:
            continue
        for file_field in meta.concrete_fields:
            if not isinstance(file_field, models.FileField):
                continue
            kept = KEPT_CHECKSUMS.get(meta.label)
            columns = [meta.pk.column, file_field.column]
            if kept:
                columns.append(_column(model, kept[0]))
                columns.append(_column(model, kept[1]) if kept[1] else "NULL")
            described = _describe_rows(cursor, meta.label)
            select = ", ".join(_quote(c) if c != "NULL" else c for c in columns)
            cursor.execute(
                f"SELECT {select} FROM {_quote(meta.db_table)} "  # noqa: S608 (model metadata)
                f"WHERE {_quote(file_field.column)} <> '' ORDER BY {_quote(meta.pk.column)}"
            )
            for row in cursor.fetchall():
                pk, name = row[0], str(row[1])
                entry = files.setdefault(name, StoredFile(name=name, model=meta.label))
                entry.ids.append(pk)
                if kept:
                    who = described.get(pk, f"{meta.label} #{pk}")
                    entry.expected.append((who, _sha256_hex(str(row[2] or "")), row[3]))
    return files


def _column(model: type[models.Model], name: str) -> str:
    return str(model._meta.get_field(name).column)  # type: ignore[union-attr]


def _describe_rows(cursor: Any, label: str) -> dict[Any, str]:
    """How an error names a row: a document version by its document's name, id and version number."""
    if label != "documents.DocumentVersion":
        return {}
    version = apps.get_model("documents", "DocumentVersion")
    document = apps.get_model("documents", "Document")
    cursor.execute(
        f"SELECT v.id, v.number, d.id, d.name FROM {_quote(version._meta.db_table)} v "  # noqa: S608
        f"JOIN {_quote(document._meta.db_table)} d ON d.id = v.{_quote(_column(version, 'document'))}"
    )
    return {
        pk: _("document «%(name)s» (id %(document)s), version %(number)s")
        % {"name": name, "document": document_id, "number": number}
        for pk, number, document_id, name in cursor.fetchall()
    }


def _migrations(cursor: Any) -> dict[str, str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    latest: dict[str, str] = {}
    for app, name in cursor.fetchall():
        latest[app] = name
    return dict(sorted(latest.items()))


def default_output(folder: Path | None = None) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if folder is not None:
        return folder / f"kurator-{stamp}.tar.gz"
    return Path(settings.KURATOR_BACKUP_DIR) / f"kurator-{stamp}.tar.gz"


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    return info


def _add_stream(tar: tarfile.TarFile, name: str, size: int, stream: Any) -> tuple[int, str]:
    reader = _Hashing(stream)
    try:
        tar.addfile(_tar_info(name, size), reader)
    except OSError as exc:
        raise BackupError(
            _("%(name)s could not be read completely (%(error)s); take the backup again.")
            % {"name": name, "error": exc}
        ) from exc
    if stream.read(1):
        raise BackupError(
            _("%(name)s grew while it was being archived; take the backup again.") % {"name": name}
        )
    return reader.size, reader.hexdigest


def _archive_file(
    tar: tarfile.TarFile, entry: StoredFile, problems: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Copy one stored file into the archive, hashing the bytes written; note every disagreement."""
    storage_name = entry.name
    try:
        size = default_storage.size(storage_name)
        handle = default_storage.open(storage_name, "rb")
    except Exception as exc:  # a storage says "missing" in its own way (OSError, botocore's ClientError …)
        for who, _sha, _size in entry.expected or [(f"{entry.model} #{pk}", "", None) for pk in entry.ids]:
            problems.append(
                {
                    "name": storage_name,
                    "model": entry.model,
                    "ids": entry.ids,
                    "who": who,
                    "problem": "missing",
                    "detail": f"{type(exc).__name__}: {exc}",
                }
            )
        return None
    with handle:
        written, sha256 = _add_stream(tar, FILES_PREFIX + storage_name, size, handle)
    for who, expected_sha, expected_size in entry.expected:
        if expected_sha != sha256 or (expected_size is not None and int(expected_size) != written):
            problems.append(
                {
                    "name": storage_name,
                    "model": entry.model,
                    "ids": entry.ids,
                    "who": who,
                    "problem": "mismatch",
                    "sha256": sha256,
                    "size": written,
                    "expected_sha256": expected_sha,
                    "expected_size": expected_size,
                }
            )
    return {"name": storage_name, "size": written, "sha256": sha256, "model": entry.model, "ids": entry.ids}


def _problem_line(problem: dict[str, Any]) -> str:
    if problem["problem"] == "missing":
        return _("%(who)s: the stored file %(name)s cannot be read (%(detail)s)") % problem
    return (
        _(
            "%(who)s: the stored file %(name)s has SHA-256 %(sha256)s and %(size)s bytes; the database says "
            "%(expected_sha256)s and %(expected_size)s bytes"
        )
        % problem
    )


def _publish(part: Path, final: Path) -> None:
    """Give the finished archive its name, never replacing an existing file."""
    try:
        os.link(part, final)
    except FileExistsError:
        raise BackupError(
            _("%(path)s already exists; a backup never replaces one.") % {"path": final}
        ) from None
    except OSError:  # no hard links on this file system
        if final.exists():
            raise BackupError(
                _("%(path)s already exists; a backup never replaces one.") % {"path": final}
            ) from None
        os.replace(part, final)
        return
    part.unlink()


def backup_create(
    *,
    output: Path | None = None,
    allow_mismatch: bool = False,
    alias: str = DEFAULT_DB_ALIAS,
    log: Log = _quiet,
) -> BackupResult:
    """Write one archive with the database, every stored file and the manifest (see the module docstring)."""
    started = time.monotonic()
    settings_dict = connections[alias].settings_dict
    engine = engine_of(settings_dict)
    if output is not None and Path(output).is_dir():
        output = default_output(Path(output))
    final = Path(output or default_output()).absolute()
    if final.exists():
        raise BackupError(_("%(path)s already exists; a backup never replaces one.") % {"path": final})
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    with tempfile.TemporaryDirectory(prefix=".kurator-backup-", dir=final.parent) as tmp:
        workdir = Path(tmp)
        snapshot_of = (
            _postgresql_snapshot(settings_dict, workdir)
            if engine == "postgresql"
            else _sqlite_snapshot(alias, workdir)
        )
        log(_("Reading the database (%(engine)s)…") % {"engine": engine})
        with snapshot_of as snapshot:
            rows = _count_rows(snapshot.cursor, engine)
            migrations = _migrations(snapshot.cursor)
            inventory = _file_inventory(snapshot.cursor, engine)
            database_file, database_meta = snapshot.database_file, snapshot.database

        part = workdir / (final.name + ".part")
        problems: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        with tarfile.open(part, "w:gz", compresslevel=COMPRESS_LEVEL, format=tarfile.PAX_FORMAT) as tar:
            member = DATABASE_MEMBERS[engine]
            with database_file.open("rb") as handle:
                db_size, db_sha = _add_stream(tar, member, database_file.stat().st_size, handle)
            database_file.unlink()
            count = len(inventory)
            log(
                ngettext("Archiving %(count)s stored file…", "Archiving %(count)s stored files…", count)
                % {"count": count}
            )
            for entry in inventory.values():
                archived = _archive_file(tar, entry, problems)
                if archived is not None:
                    files.append(archived)
            if problems and not allow_mismatch:
                raise BackupError(
                    ngettext(
                        "%(count)s stored file does not match the database; no backup was written:\n"
                        "%(lines)s\nInvestigate, or run the backup with --allow-mismatch to keep the "
                        "file as it is and record the disagreement in the manifest.",
                        "%(count)s stored files do not match the database; no backup was written:\n"
                        "%(lines)s\nInvestigate, or run the backup with --allow-mismatch to keep the "
                        "files as they are and record the disagreement in the manifest.",
                        len(problems),
                    )
                    % {"count": len(problems), "lines": "\n".join("- " + _problem_line(p) for p in problems)}
                )
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kurator_version": _kurator_version(),
                "git_commit": _git_commit(),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": {
                    "engine": engine,
                    "member": member,
                    "size": db_size,
                    "sha256": db_sha,
                    **database_meta,
                },
                "migrations": migrations,
                "rows": rows,
                "files": files,
                "storage": _storage_describe(),  # where the files were read from (a folder or a bucket)
                "problems": problems,
                "totals": {
                    "rows": sum(rows.values()),
                    "files": len(files),
                    "file_bytes": sum(item["size"] for item in files),
                },
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            tar.addfile(_tar_info(MANIFEST, len(data)), io.BytesIO(data))
        with part.open("rb") as handle:
            os.fsync(handle.fileno())
        part.chmod(0o600)  # the archive holds confidential documents and password hashes
        _publish(part, final)
    return BackupResult(path=final, manifest=manifest, seconds=time.monotonic() - started)


# --- restore ----------------------------------------------------------------------------------------------


@dataclass
class VerifiedArchive:
    path: Path
    manifest: dict[str, Any]
    database_file: Path

    @property
    def engine(self) -> str:
        return str(self.manifest["database"]["engine"])

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.manifest["files"])


def _member_name_problem(name: str) -> str | None:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        return _("unsafe member name %(name)r") % {"name": name}
    return None


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    if member.size > MANIFEST_MAX_BYTES:
        raise BackupError(_("manifest.json is implausibly large (%(size)s bytes)") % {"size": member.size})
    stream = tar.extractfile(member)
    assert stream is not None
    try:
        manifest = json.loads(stream.read().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(_("manifest.json is not valid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("This is not a Kurator backup: its manifest.json has another format."))
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            _(
                "The backup's format %(found)s is newer than this Kurator reads (%(known)s): upgrade "
                "Kurator first."
            )
            % {"found": version, "known": FORMAT_VERSION}
        )
    return manifest


def archive_verify(path: Path, workdir: Path) -> VerifiedArchive:
    """Read the whole archive once: every member checked against the manifest, the database extracted.

    Raises ``BackupError`` listing every problem; nothing outside ``workdir`` is written."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("No such archive: %(path)s") % {"path": path})
    seen: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    manifest: dict[str, Any] | None = None
    database_file: Path | None = None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name
                unsafe = _member_name_problem(name)
                if unsafe or not member.isfile():
                    problems.append(unsafe or _("%(name)s is not a regular file") % {"name": name})
                    continue
                if name in seen or (name == MANIFEST and manifest is not None):
                    problems.append(_("%(name)s appears twice") % {"name": name})
                    continue
                if name == MANIFEST:
                    manifest = _read_manifest(tar, member)
                    continue
                stream = tar.extractfile(member)
                assert stream is not None
                if name.startswith("database/"):
                    database_file = workdir / Path(name).name
                    reader = _Hashing(stream)
                    with database_file.open("wb") as out:
                        while chunk := reader.read(CHUNK):
                            out.write(chunk)
                    seen[name] = (reader.size, reader.hexdigest)
                elif name.startswith(FILES_PREFIX):
                    seen[name] = _hash_stream(stream)
                else:
                    problems.append(_("unexpected member %(name)s") % {"name": name})
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(
            _("The archive %(path)s is damaged or not a Kurator backup (%(error)s); nothing was restored.")
            % {"path": path, "error": exc}
        ) from exc
    if manifest is None:
        raise BackupError(
            _("The archive %(path)s has no manifest.json: not a Kurator backup.") % {"path": path}
        )

    database = manifest.get("database") or {}
    expected: dict[str, tuple[int, str]] = {}
    if database.get("member") != DATABASE_MEMBERS.get(database.get("engine", "")):
        problems.append(_("the manifest names no database of a known engine"))
    else:
        expected[database["member"]] = (int(database["size"]), str(database["sha256"]))
    for item in manifest.get("files", []):
        name = FILES_PREFIX + str(item["name"])
        unsafe = _member_name_problem(name)
        if unsafe:
            problems.append(unsafe)
        expected[name] = (int(item["size"]), str(item["sha256"]))
    for name, (size, sha256) in expected.items():
        if name not in seen:
            problems.append(
                _("%(name)s is listed in the manifest but missing from the archive") % {"name": name}
            )
        elif seen[name] != (size, sha256):
            problems.append(
                _(
                    "%(name)s has %(size)s bytes and SHA-256 %(sha)s; the manifest says %(msize)s bytes "
                    "and %(msha)s"
                )
                % {"name": name, "size": seen[name][0], "sha": seen[name][1], "msize": size, "msha": sha256}
            )
    problems += [
        _("%(name)s is not listed in the manifest") % {"name": name} for name in seen if name not in expected
    ]
    if problems:
        raise BackupError(
            _("The archive %(path)s failed verification; nothing was restored:\n%(lines)s")
            % {"path": path, "lines": "\n".join("- " + line for line in problems)}
        )
    assert database_file is not None
    return VerifiedArchive(path=path, manifest=manifest, database_file=database_file)


def _unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    """Migrations the backup's database has applied that this code does not have (a newer Kurator). An app no
    longer installed does not count: its tables come back unused."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    installed = {config.label for config in apps.get_app_configs()}
    return [
        f"{app}.{name}"
        for app, name in manifest.get("migrations", {}).items()
        if app in installed and (app, name) not in known
    ]


def _used_tables(cursor: Any, engine: str) -> list[str]:
    """The tables with rows, other than those ``migrate`` fills by itself."""
    reference = _reference_tables()
    used = []
    for table in sorted(_tables(cursor, engine) - reference):
        cursor.execute(f"SELECT 1 FROM {_quote(table)} LIMIT 1")  # noqa: S608 (a table name of the database)
        if cursor.fetchone() is not None:
            used.append(table)
    return used


def _not_empty(target: str, used: list[str]) -> BackupError:
    shown = ", ".join(used[:10]) + (" …" if len(used) > 10 else "")
    return BackupError(
        _(
            "The database %(target)s is in use (rows in %(tables)s); a restore only goes into an empty "
            "database. "
            "Create a new one (or drop this one) and restore into it; nothing was restored."
        )
        % {"target": target, "tables": shown}
    )


@dataclass
class TargetDatabase:
    engine: str
    describe: str
    had_tables: bool
    restore: Callable[[Path], None]
    open_cursor: Callable[[], contextlib.AbstractContextManager[Any]]


def _sqlite_target(settings_dict: dict[str, Any], archive: VerifiedArchive) -> TargetDatabase:
    name = str(settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupError(_("The target database is in memory; restore into a database file."))
    path = Path(name)
    had_tables = False
    leftovers = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    if not path.exists() and any(leftover.exists() for leftover in leftovers):
        # A write-ahead log left from a deleted database would be replayed into the new one.
        raise BackupError(
            _("%(path)s does not exist but its %(files)s do: remove them too, then restore.")
            % {"path": path, "files": ", ".join(p.name for p in leftovers if p.exists())}
        )
    if path.exists() and path.stat().st_size > 0:
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            cursor = db.cursor()
            had_tables = bool(_tables(cursor, "sqlite"))
            used = _used_tables(cursor, "sqlite")
        if used:
            raise _not_empty(str(path), used)

    def restore(database_file: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(database_file)) as source,
            contextlib.closing(sqlite3.connect(path, timeout=20)) as target,
        ):
            # Replaces the whole target in one transaction, its schema included.
            source.backup(target)

    @contextlib.contextmanager
    def open_cursor() -> Iterator[Any]:
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            yield db.cursor()

    return TargetDatabase("sqlite", str(path), had_tables, restore, open_cursor)


def _postgresql_target(settings_dict: dict[str, Any], archive: VerifiedArchive) -> TargetDatabase:
    target = PgTarget.from_settings(settings_dict)
    database = archive.manifest["database"]
    pg_restore, restore_major, _line = pg_tool("pg_restore")
    dump_major = int(database.get("pg_dump_major") or 0)
    if restore_major < dump_major:
        raise BackupError(
            _(
                "The dump was made by pg_dump %(dump)s; pg_restore %(restore)s cannot read it. Install a "
                "newer client."
            )
            % {"dump": dump_major, "restore": restore_major}
        )
    with target.connect(autocommit=True) as pg:
        server_major, _text = _server_major(pg)
        source_major = int(database.get("server_major") or 0)
        if server_major < source_major:
            raise BackupError(
                _(
                    "The backup comes from PostgreSQL %(source)s; the target server is PostgreSQL "
                    "%(target)s. "
                    "Restore into PostgreSQL %(source)s or newer."
                )
                % {"source": source_major, "target": server_major}
            )
        with pg.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_schema NOT IN "
                "('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\\_%%'"
            )
            schemas = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT current_schema()")
            current = cursor.fetchone()[0]
            if schemas - {current} or current != "public":
                raise BackupError(
                    _(
                        "The target database has tables outside the schema public; restore into a new "
                        "database."
                    )
                )
            had_tables = bool(_tables(cursor, "postgresql"))
            used = _used_tables(cursor, "postgresql")
        if used:
            raise _not_empty(target.describe(), used)

    def restore(database_file: Path) -> None:
        if had_tables:
            # A migrated but unused database: its schema goes, the backup brings its own (the same tables,
            # the append-only trigger, the sequences where they were). Any table a newer migration made would
            # otherwise linger beside a django_migrations that does not know it.
            with target.connect(autocommit=True) as pg:
                pg.execute("DROP SCHEMA public CASCADE")
                pg.execute("CREATE SCHEMA public")
        # --no-comments: Kurator sets none; the one in every dump is pg_trgm's own, which only the extension's
        # owner may set, so it would stop a restore into a database where someone else created the extension.
        args = [pg_restore, "--no-owner", "--no-privileges", "--no-comments", "--exit-on-error"]
        args += ["--single-transaction"]
        args += ["--dbname", target.dbname, str(database_file)]
        _run(args, target.environment(), "pg_restore")

    @contextlib.contextmanager
    def open_cursor() -> Iterator[Any]:
        with target.connect(autocommit=True) as pg, pg.cursor() as cur:
            yield cur

    return TargetDatabase("postgresql", target.describe(), had_tables, restore, open_cursor)


def _storage_describe() -> str:
    location = getattr(default_storage, "location", None) or getattr(default_storage, "bucket_name", None)
    kind = type(getattr(default_storage, "_wrapped", default_storage)).__name__  # behind Django's lazy proxy
    return f"{kind} {location}" if location else kind


@dataclass
class RestorePlan:
    archive: VerifiedArchive
    database: TargetDatabase
    storage: str

    def describe(self) -> str:
        manifest = self.archive.manifest
        totals = manifest.get("totals", {})
        return _(
            "Restore %(archive)s (made %(created)s by Kurator %(version)s: %(rows)s rows, %(files)s files, "
            "%(bytes)s)\ninto the %(engine)s database %(database)s and the storage %(storage)s."
        ) % {
            "archive": self.archive.path,
            "created": manifest.get("created_at"),
            "version": manifest.get("kurator_version") or "?",
            "rows": totals.get("rows"),
            "files": totals.get("files"),
            "bytes": _human_bytes(int(totals.get("file_bytes", 0))),
            "engine": self.database.engine,
            "database": self.database.describe,
            "storage": self.storage,
        }


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    seconds: float
    pending_migrations: list[str]
    warnings: list[str]


def _restore_files(tar_path: Path, files: list[dict[str, Any]], saved: list[str], log: Log) -> None:
    wanted = {FILES_PREFIX + item["name"]: item for item in files}
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar:
            item = wanted.get(member.name)
            if item is None:
                continue
            stream = tar.extractfile(member)
            assert stream is not None
            content = File(stream, name=Path(item["name"]).name)
            content.size = member.size
            name = default_storage.save(item["name"], content)
            saved.append(name)
            if name != item["name"]:
                raise BackupError(
                    _("The storage saved %(wanted)s as %(name)s; the database would not find it.")
                    % {"wanted": item["name"], "name": name}
                )
            with default_storage.open(name, "rb") as handle:
                size, sha256 = _hash_stream(handle)
            if (size, sha256) != (item["size"], item["sha256"]):
                raise BackupError(
                    _(
                        "%(name)s reads back from the storage with SHA-256 %(sha)s; it was written with "
                        "%(expected)s."
                    )
                    % {"name": name, "sha": sha256, "expected": item["sha256"]}
                )
    log(_("%(count)s files restored and verified in the storage.") % {"count": len(saved)})


def restore_archive(
    *,
    archive: Path,
    confirm: Callable[[RestorePlan], bool] | None = None,
    verify_only: bool = False,
    alias: str = DEFAULT_DB_ALIAS,
    log: Log = _quiet,
) -> RestoreResult:
    """Restore an archive into an empty database and storage (see the module docstring).

    ``confirm`` sees the plan once everything is checked and may still say no; ``verify_only`` stops there."""
    from kurator.access.audit import audit_record
    from kurator.access.models import AuditAction

    started = time.monotonic()
    settings_dict = connections[alias].settings_dict
    with tempfile.TemporaryDirectory(prefix="kurator-restore-") as tmp:
        log(_("Verifying %(path)s…") % {"path": archive})
        verified = archive_verify(Path(archive), Path(tmp))
        manifest = verified.manifest
        warnings = [_problem_line(problem) for problem in manifest.get("problems", [])]
        if verify_only:
            return RestoreResult(manifest, time.monotonic() - started, [], warnings)

        engine = engine_of(settings_dict)
        if verified.engine != engine:
            raise BackupError(
                _(
                    "The archive holds a %(source)s database and the target is %(target)s: restoring "
                    "across engines is not supported. Restore into %(source)s (set DATABASE_URL accordingly)."
                )
                % {"source": verified.engine, "target": engine}
            )
        unknown = _unknown_migrations(manifest)
        if unknown:
            raise BackupError(
                _(
                    "The backup was made by a newer Kurator: this code does not know the migrations "
                    "%(names)s. Install the Kurator version that made it (%(version)s, commit %(commit)s) "
                    "and restore again."
                )
                % {
                    "names": ", ".join(unknown),
                    "version": manifest.get("kurator_version"),
                    "commit": manifest.get("git_commit"),
                }
            )
        connections.close_all()
        target = (_postgresql_target if engine == "postgresql" else _sqlite_target)(settings_dict, verified)
        present = [item["name"] for item in verified.files if default_storage.exists(item["name"])]
        if present:
            raise BackupError(
                _(
                    "The storage already holds %(count)s of the backup's files (%(names)s); restore into an "
                    "empty storage."
                )
                % {
                    "count": len(present),
                    "names": ", ".join(present[:5]) + (" …" if len(present) > 5 else ""),
                }
            )
        plan = RestorePlan(archive=verified, database=target, storage=_storage_describe())
        if confirm is not None and not confirm(plan):
            raise BackupError(_("Restore cancelled; nothing was restored."))

        saved: list[str] = []
        try:
            log(_("Restoring %(count)s files…") % {"count": len(verified.files)})
            _restore_files(verified.path, verified.files, saved, log)
            log(_("Restoring the database…"))
            target.restore(verified.database_file)
        except BaseException:
            # The target goes back to as empty as it was: the database restore is one transaction, and the
            # files this run saved are removed again.
            for name in saved:
                with contextlib.suppress(Exception):
                    default_storage.delete(name)
            raise
        finally:
            connections.close_all()

        with target.open_cursor() as cursor:
            counts = _count_rows(cursor, engine)
        differ = [
            f"{label}: {counts.get(label)} ≠ {count}"
            for label, count in manifest.get("rows", {}).items()
            if label in _model_tables() and counts.get(label) != count
        ]
        if differ:
            raise BackupError(
                _("The restored database has other row counts than the backup:\n%(lines)s")
                % {"lines": "\n".join("- " + line for line in differ)}
            )

    pending = _pending_migrations(alias)
    try:
        audit_record(
            action=AuditAction.RESTORE_BACKUP,
            allowed=True,
            rule="command",
            detail=str(Path(archive).absolute()),
        )
    except DatabaseError as exc:
        warnings.append(_("The audit line was not written (%(error)s); run migrate.") % {"error": exc})
    return RestoreResult(manifest, time.monotonic() - started, pending, warnings)


def _pending_migrations(alias: str) -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def summary_lines(manifest: dict[str, Any]) -> Iterable[str]:
    totals = manifest.get("totals", {})
    yield _("  database: %(engine)s, %(rows)s rows in %(tables)s tables") % {
        "engine": manifest["database"]["engine"],
        "rows": totals.get("rows"),
        "tables": len(manifest.get("rows", {})),
    }
    yield _("  files: %(files)s (%(bytes)s)") % {
        "files": totals.get("files"),
        "bytes": _human_bytes(int(totals.get("file_bytes", 0))),
    }
