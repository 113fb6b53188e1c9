"""``python manage.py import_clients FILE --curator USERNAME [--dry-run] [--source NAME] [--actor USERNAME]``:
import a client list (S1) from the command line, with the same checks and report as the UI and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kurator.accounts.models import User
from kurator.core.errors import AccessDenied
from kurator.inquiries import importing


class Command(BaseCommand):
    help = (
        "Import a client list (CSV in UTF-8 or Windows-1251 with ; , or tab, or XLSX). Prints the totals and "
        "every refused row; --dry-run writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument("--curator", required=True, help="Username of the curator of the new companies.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--source", default="", help="Contact source for rows that name none (its name).")
        parser.add_argument(
            "--actor",
            default="",
            help="Username of who imports (head of sales or administrator); the curator by default.",
        )
        parser.add_argument(
            "--mapping",
            default="",
            help='Corrections of the column mapping as JSON, e.g. \'{"2": "inn", "Комментарий": "ignore"}\'.',
        )
        parser.add_argument(
            "--report", default="", help="Write the result (status of every row) to this XLSX."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        curator = self._user(options["curator"])
        actor = self._user(options["actor"]) if options["actor"] else curator
        mapping = self._mapping(options["mapping"])
        try:
            importing.check_size(path.stat().st_size)
            data = path.read_bytes()
            if options["dry_run"]:
                analysis = importing.import_dry_run(
                    actor=actor,
                    data=data,
                    filename=path.name,
                    mapping=mapping,
                    curator=curator,
                    source=options["source"] or None,
                )
                table, report, totals = analysis.table, analysis.report(), analysis.totals
                self._describe(table, analysis.mapping)
                if analysis.problems:
                    raise CommandError(" ".join(analysis.problems))
            else:
                batch = importing.import_prepare(
                    actor=actor,
                    data=data,
                    filename=path.name,
                    curator=curator,
                    source=options["source"] or None,
                    mapping=mapping,
                    strict=True,
                )
                batch = importing.import_apply(actor=actor, batch=batch)
                table = importing.read_table(data, path.name)
                report, totals = batch.report, batch.totals
                self._describe(table, importing.mapping_from_json(batch.mapping))
        except importing.ImportFileError as exc:
            raise CommandError(exc.text) from None
        except ValidationError as exc:
            raise CommandError(" ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        except AccessDenied:
            raise CommandError(
                _(
                    "%(user)s may not import client lists: name the head of sales or an administrator with "
                    "--actor."
                )
                % {"user": actor.username}
            ) from None

        self._totals(report, totals)
        if options["report"]:
            with open(options["report"], "wb") as out:
                importing.write_xlsx(table, report, out)
            self.stdout.write(_("Result written to %(path)s") % {"path": options["report"]})
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Imported %(count)s new companies (import #%(id)s).")
                    % {"count": totals["new"], "id": batch.pk}
                )
            )

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username.strip()).first()
        if user is None:
            raise CommandError(_("No user named “%(username)s”.") % {"username": username})
        return user

    def _mapping(self, text: str) -> dict[str, Any] | None:
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise CommandError(_("The column mapping is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise CommandError(_("The column mapping must map columns to fields."))
        return value

    def _describe(self, table: importing.Table, mapping: dict[int, str]) -> None:
        how = table.encoding_label + (f", {table.delimiter_label}" if table.delimiter else "")
        self.stdout.write(
            _("File: %(kind)s (%(how)s), %(rows)s rows")
            % {
                "kind": table.kind.upper(),
                "how": how,
                "rows": len(table.rows),
            }
        )
        columns = []
        for index, heading in enumerate(table.headers):
            code = mapping.get(index, importing.IGNORE)
            target = (
                importing.FIELDS_BY_CODE[code].label if code in importing.FIELDS_BY_CODE else _("ignored")
            )
            columns.append(f"«{heading}» → {target}")
        self.stdout.write(_("Columns: %(columns)s") % {"columns": "; ".join(columns)})

    def _totals(self, report: list[dict[str, Any]], totals: dict[str, int]) -> None:
        self.stdout.write(
            _("New: %(new)s, duplicates: %(duplicate)s, refused: %(refused)s")
            % {"new": totals["new"], "duplicate": totals["duplicate"], "refused": totals["refused"]}
        )
        refused = [entry for entry in report if entry["status"] == importing.REFUSED]
        if refused:
            self.stdout.write(_("Refused rows:"))
            for entry in refused:
                reasons = "; ".join(
                    f"{r['column']}: {importing.reason_text(r)}"
                    if r.get("column")
                    else importing.reason_text(r)
                    for r in entry["reasons"]
                    if r.get("field") is not None and r.get("key") is None
                )
                self.stdout.write(
                    f"  {_('row %(row)s') % {'row': entry['row']}}: {entry['name']} — {reasons}"
                )
        if self.verbosity >= 2:
            for entry in report:
                if entry["status"] == importing.DUPLICATE:
                    reasons = "; ".join(importing.reason_text(r) for r in entry["reasons"])
                    target = (
                        f"#{entry['company']}"
                        if entry.get("company")
                        else _("row %(row)s") % {"row": entry.get("duplicate_of_row")}
                    )
                    row = _("row %(row)s") % {"row": entry["row"]}
                    self.stdout.write(f"  {row}: {entry['name']} = {target} — {reasons}")
