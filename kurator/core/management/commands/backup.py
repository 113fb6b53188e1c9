"""``python manage.py backup [--output PATH]``: one archive with the database and every stored file (D12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kurator.core.backup import BackupError, backup_create, summary_lines


class Command(BaseCommand):
    help = (
        "Write one .tar.gz archive with the database (pg_dump or the SQLite backup API), every stored file "
        "and a manifest of checksums. Default: KURATOR_BACKUP_DIR/kurator-YYYYmmdd-HHMMSS.tar.gz."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="The archive to write (never replaces a file), or a folder to write it in.",
        )
        parser.add_argument(
            "--allow-mismatch",
            action="store_true",
            help=(
                "Take the backup even when a stored file is missing or does not match the checksum the "
                "database keeps; the disagreement is recorded in the manifest."
            ),
        )

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def handle(self, *args: Any, **options: Any) -> None:
        from kurator.access.audit import audit_record
        from kurator.access.models import AuditAction

        self.verbosity = options["verbosity"]
        try:
            result = backup_create(
                output=options["output"], allow_mismatch=options["allow_mismatch"], log=self._progress
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        # The audit line is written after the dump, so it is not in this archive (it is in the next one).
        audit_record(action=AuditAction.BACKUP, allowed=True, rule="command", detail=str(result.path))
        for problem in result.manifest["problems"]:
            self.stderr.write(_("Recorded in the manifest: %(problem)s") % {"problem": problem["who"]})
        self.stdout.write(self.style.SUCCESS(_("Backup written: %(path)s") % {"path": result.path}))
        for line in summary_lines(result.manifest):
            self.stdout.write(line)
        self.stdout.write(
            _("  archive: %(size)s bytes in %(seconds).1f s")
            % {"size": result.size, "seconds": result.seconds}
        )
