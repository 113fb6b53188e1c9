"""``python manage.py demo_data``: a believable Russian sales department to click through.

``make run`` calls it with ``--if-empty`` on every start: the first start fills the base, later starts create
nothing and only print the demo logins again.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.test.utils import override_settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kurator.accounts.models import User
from kurator.activities.reminders import run_reminders
from kurator.companies.demo import DEFAULT_SEED, DemoUser, existing_demo_users, load_demo_data
from kurator.companies.models import Company


class Command(BaseCommand):
    help = "Create demo users of every role and companies with valid requisites, people and bank accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=300, help="How many companies to create (300).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Create nothing if any company exists; print the demo logins either way.",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same data)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Company.objects.exists():
            self.stdout.write(_("Demo data: the base already has companies; nothing was created."))
            self._print_logins(existing_demo_users(), note=_("(demo passwords, unless changed since)"))
            return
        count = options["companies"]
        if count < 0:
            self.stderr.write(_("--companies must be zero or more."))
            return
        self.stdout.write(_("Demo data: creating %(count)s companies…") % {"count": count})
        started = time.monotonic()
        step = max(1, count // 10)

        def progress(done: int) -> None:
            if done % step == 0 and done != count:
                self.stdout.write(f"  {done}/{count}")

        result = load_demo_data(companies=count, seed=options["seed"], progress=progress)
        # The first reminders (birthdays ahead, tasks due, stuck deals) so the bell is not empty on the first
        # start; the demo users' addresses are made up, so nothing is e-mailed.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            run_reminders()
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Created %(companies)s companies, %(people)s people, %(accounts)s bank accounts, "
                    "%(deals)s deals, %(activities)s contacts in the history, %(tasks)s tasks, "
                    "%(contracts)s contracts, %(orders)s orders, %(invoices)s invoices and %(payments)s "
                    "payments in %(sec).1f s."
                )
                % {
                    "companies": result.companies,
                    "people": result.people,
                    "accounts": result.bank_accounts,
                    "deals": result.deals,
                    "activities": result.activities,
                    "tasks": result.tasks,
                    "contracts": result.contracts,
                    "orders": result.orders,
                    "invoices": result.invoices,
                    "payments": result.payments,
                    "sec": time.monotonic() - started,
                }
            )
        )
        self._print_logins(result.users, note="")

    def _print_logins(self, users: list[tuple[User, DemoUser]], *, note: str) -> None:
        if not users:
            self.stdout.write(_("No demo users in the base; create users with `manage.py adduser`."))
            return
        rows = [(_("username"), _("role"), _("password"), pgettext("person", "name"))]
        rows += [(u.username, str(u.get_role_display()), demo.password, u.full_name) for u, demo in users]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write(_("Demo logins %(note)s") % {"note": note} if note else _("Demo logins"))
        for number, row in enumerate(rows):
            self.stdout.write(
                "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
