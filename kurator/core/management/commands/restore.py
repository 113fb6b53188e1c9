"""``python manage.py restore ARCHIVE [--yes]``: restore a backup into an empty database and storage (D12)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kurator.core.backup import BackupError, RestorePlan, restore_archive, summary_lines


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup` into an empty database and an empty storage. The whole "
        "archive is verified against its manifest before anything is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--verify-only", action="store_true", help="Only verify the archive's checksums; restore nothing."
        )

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        try:
            result = restore_archive(
                archive=options["archive"],
                confirm=None if options["yes"] else self._confirm,
                verify_only=options["verify_only"],
                log=self._progress,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(_("Recorded in the backup's manifest: %(warning)s") % {"warning": warning})
        if options["verify_only"]:
            self.stdout.write(
                self.style.SUCCESS(_("The archive is intact: %(path)s") % {"path": options["archive"]})
            )
        else:
            self.stdout.write(self.style.SUCCESS(_("Restored %(path)s") % {"path": options["archive"]}))
        for line in summary_lines(result.manifest):
            self.stdout.write(line)
        self.stdout.write(_("  in %(seconds).1f s") % {"seconds": result.seconds})
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    _("The backup predates this code: run `python manage.py migrate` (%(count)s migrations).")
                    % {"count": len(result.pending_migrations)}
                )
            )

    def _confirm(self, plan: RestorePlan) -> bool:
        self.stdout.write(plan.describe())
        if not sys.stdin.isatty():
            raise CommandError(_("Not confirmed: run with --yes to restore without a question."))
        answer = input(_("Restore? Type yes to continue: "))
        return answer.strip().lower() in {"yes", "y", "да"}
