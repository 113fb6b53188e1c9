"""``python manage.py unlock_user USERNAME`` (or ``--ip ADDRESS``): lift a sign-in lock-out early (R4).

For the administrator on the server; the head of sales and the administrator can also call
``kurator.accounts.throttle.login_unlock`` from the users pages. The unlock is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kurator.accounts.throttle import login_unlock, login_unlock_ip


class Command(BaseCommand):
    help = "Lift the sign-in lock-out of a username (any letter case) or an IP address; reset its counter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--ip", default="", help="Unlock this IP address instead of a username.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        ip: str = options["ip"].strip()
        if bool(username) == bool(ip):
            raise CommandError(_("Give a username or --ip ADDRESS (one of them)."))
        if ip:
            lifted = login_unlock_ip(ip)
            what = _("address %(ip)s") % {"ip": ip}
        else:
            lifted = login_unlock(username)
            what = _("user “%(username)s”") % {"username": username}
        if lifted:
            self.stdout.write(self.style.SUCCESS(_("Sign-in for %(what)s is unlocked.") % {"what": what}))
        else:
            self.stdout.write(
                _("Sign-in for %(what)s was not locked; its failure counter is reset.") % {"what": what}
            )
