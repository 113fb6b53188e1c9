"""``python manage.py adduser USERNAME --role ROLE``: add a member of the department (R4)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from kurator.accounts.models import Role, User
from kurator.accounts.services import clean_password, clean_username
from kurator.core.errors import FieldErrors


class Command(BaseCommand):
    help = "Create a Kurator user with a role. The password comes from --password-stdin or is prompted twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        # Not argparse choices: our own message lists the roles with what each one means.
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (for scripts).",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        role: str = options["role"].strip()
        if role not in Role.values:
            valid = ", ".join(f"{choice.value} ({choice.label})" for choice in Role)
            raise CommandError(
                _("Unknown role “%(role)s”. Valid roles: %(valid)s.") % {"role": role, "valid": valid}
            )
        if not username:
            raise CommandError(_("The username cannot be empty."))
        # The same checks as the «Users» pages (kurator.accounts.services).
        errors = FieldErrors()
        clean_username(errors, username)
        if errors.errors:
            raise CommandError(" ".join(ValidationError(errors.errors["username"]).messages))

        user = User(
            username=username,
            role=role,
            first_name=options["first_name"].strip(),
            last_name=options["last_name"].strip(),
            email=options["email"].strip(),
        )
        password = self._read_password(user, from_stdin=options["password_stdin"])
        user.set_password(password)
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with transaction.atomic():
            user.save()
        self.stdout.write(
            self.style.SUCCESS(
                _("Created user “%(username)s” with role %(role)s.")
                % {"username": user.username, "role": role}
            )
        )

    def _read_password(self, user: User, *, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            self._validate(password, user)
            return password
        if not sys.stdin.isatty():
            raise CommandError(_("No terminal to ask for the password: pass it with --password-stdin."))
        while True:
            password = getpass.getpass(_("Password: "))
            if password != getpass.getpass(_("Password (again): ")):
                self.stderr.write(_("The two passwords differ. Try again."))
                continue
            try:
                self._validate(password, user)
            except CommandError as exc:
                self.stderr.write(str(exc))
                continue
            return password

    def _validate(self, password: str, user: User) -> None:
        if not password:
            raise CommandError(_("The password cannot be empty."))
        errors = FieldErrors()
        clean_password(errors, password, user)
        if errors.errors:
            raise CommandError(" ".join(ValidationError(errors.errors["password"]).messages))
