"""The audit log's codes in words (D12): the rule that allowed or refused an action, the kind of object, and
the detail of the lines whose detail is written for machines.

The log stores stable codes (``head_of_sales``, ``grant:12``, ``no_grant``; ``document``, ``accessgrant``);
the page, the export and the API's ``rule_label`` show them in the reader's language. A code written by a
later part of the application and not listed here is shown as it is.

The ``detail`` column is free text, kept as written (the API gives it raw). Some services write it in a fixed
machine form (``request:1 user:3 until:2026-12-04``, ``until:2026-12-04T15:30:00+00:00``); the page and the
CSV export show those for people («Петрова А. В., до 04.12.2026», «до 04.12.2026 18:30» with the time
in the server's zone and the reader's format) — :func:`detail_texts` — and anything else as it is (the CSV
keeps the stored text in its own column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

RULE_LABELS: dict[str, Any] = {
    "admin": pgettext_lazy("audit rule", "administrator"),
    "head_of_sales": pgettext_lazy("audit rule", "head of sales"),
    "finance": pgettext_lazy("audit rule", "finance"),
    "curator": pgettext_lazy("audit rule", "curator"),
    "manager": pgettext_lazy("audit rule", "manager"),
    "senior_manager": pgettext_lazy("audit rule", "senior manager"),
    "scoped": pgettext_lazy("audit rule", "own and granted clients"),
    "no_grant": pgettext_lazy("audit rule", "no grant"),
    "not_member": pgettext_lazy("audit rule", "not a member of the department"),
    "bad_password": pgettext_lazy("audit rule", "wrong password"),
    "locked_out": pgettext_lazy("audit rule", "locked out"),
    "ip_locked_out": pgettext_lazy("audit rule", "address locked out"),
    "unlocked": pgettext_lazy("audit rule", "lock lifted"),
    "accounts.manage_users": pgettext_lazy("audit rule", "user management"),
    # Written by manage.py commands run on the server (backup, restore), not by a signed-in user.
    "command": pgettext_lazy("audit rule", "server command (manage.py)"),
    "not_found": pgettext_lazy("audit rule", "not found"),
}

OBJECT_TYPE_LABELS: dict[str, Any] = {
    "company": _("Client"),
    "document": _("Document"),
    "documentversion": _("Document version"),
    "financialstatement": _("Financial statement"),
    "accessrequest": _("Access request"),
    "accessgrant": _("Access grant"),
    "user": _("User"),
    "token": _("API token"),
}


def grant_id_of(rule: str) -> int | None:
    """``grant:12`` → 12; None for any other rule."""
    prefix, _sep, rest = (rule or "").partition(":")
    if prefix == "grant" and rest.isdigit():
        return int(rest)
    return None


def rule_label(rule: str) -> str:
    """``grant:12`` → «grant #12»; a known code → its words; anything else as it is."""
    grant = grant_id_of(rule)
    if grant is not None:
        return gettext("grant #%(id)s") % {"id": grant}
    label = RULE_LABELS.get(rule or "")
    return str(label) if label is not None else (rule or "")


def object_type_label(object_type: str) -> str:
    label = OBJECT_TYPE_LABELS.get(object_type or "")
    return str(label) if label is not None else (object_type or "")


def object_type_choices() -> list[tuple[str, Any]]:
    return list(OBJECT_TYPE_LABELS.items())


def label_lookup() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The actions', object types' and known rules' words in the current language, looked up once (an export
    of many rows then translates nothing per row); a rule not in the third dict goes through
    :func:`rule_label`."""
    from kurator.access.models import AuditAction

    actions = {value: str(label) for value, label in AuditAction.choices}
    objects = {code: str(label) for code, label in OBJECT_TYPE_LABELS.items()}
    rules = {code: str(label) for code, label in RULE_LABELS.items()}
    return actions, objects, rules


# The machine forms of ``detail`` (kurator/access/services.py, kurator/accounts/services.py). approve_access:
# "request:<id> user:<id> until:<YYYY-MM-DD>" or "direct user:<id> until:<YYYY-MM-DD> <reason>"
_GRANTED = re.compile(r"^(?:request:\d+ |direct )?user:(\d+) until:(\d{4}-\d{2}-\d{2})(?: (.*))?$", re.S)
# refuse_access: "user:<id>"; revoke_access: "user:<id> <reason>"; user_created: "user:<id> role:<role>";
# user_changed: "user:<id> [role:<old>><new>] [names]"; user_reactivated: "user:<id>"
_USER = re.compile(r"^user:(\d+)(?: (.*))?$", re.S)
_ROLE = re.compile(r"^role:(\w+)(?:>(\w+))?$")
_USER_ACTIONS = ("refuse_access", "revoke_access", "user_created", "user_changed", "user_reactivated")
_FILE_ACTIONS = ("backup", "restore_backup")
# lockout (kurator/accounts/throttle.py): "until:<ISO 8601 time, UTC>"; older rows have
# "until <ISO 8601 time>". unlock: "<scope>: <username or address>".
_LOCKED_UNTIL = re.compile(r"^until[: ](\S+)$")
_UNLOCKED = re.compile(r"^(username|ip): (.*)$", re.S)
# purge (kurator/documents/services.py): "<name>; versions:<n>; trashed:<YYYY-MM-DD>: <reason>"; older
# rows have "<name>; <n> version(s); trashed <YYYY-MM-DD>: <reason>".
_PURGED = re.compile(
    r"^(.*); (?:versions:(\d+)|(\d+) version\(s\)); trashed[: ](\d{4}-\d{2}-\d{2}):(?: (.*))?$", re.S
)


def _user_of(action: str, detail: str) -> int | None:
    if action == "approve_access":
        match = _GRANTED.match(detail)
    elif action in _USER_ACTIONS:
        match = _USER.match(detail)
    else:
        return None
    return int(match.group(1)) if match else None


def detail_user_ids(rows: Iterable[tuple[str, str]]) -> set[int]:
    """The users named in the details of (action, detail) pairs — to read their names in one query."""
    ids = {_user_of(action, detail or "") for action, detail in rows}
    return {i for i in ids if i is not None}


def detail_text(action: str, detail: str, names: dict[int, str]) -> str:
    """A line's detail for people: ``user:3`` → the colleague's short name (``#3`` if unknown), an ISO day
    → the local date, an ISO time → the local date and time, a backup's path → its file name; any other
    detail as it is."""
    detail = detail or ""
    if action in _FILE_ACTIONS:
        return re.split(r"[\\/]", detail.rstrip("\\/"))[-1] if detail else ""
    if action == "lockout":
        return _locked_until(detail)
    if action == "unlock":
        return _unlocked(detail)
    if action == "purge":
        return _purged(detail)
    user = _user_of(action, detail)
    if user is None:
        return detail
    who = names.get(user) or f"#{user}"
    if action == "approve_access":
        match = _GRANTED.match(detail)
        assert match is not None
        try:
            day = date_format(date.fromisoformat(match.group(2)), "SHORT_DATE_FORMAT")
        except ValueError:
            return detail
        text = gettext("%(who)s, until %(date)s") % {"who": who, "date": day}
        rest = (match.group(3) or "").strip()
    else:
        match = _USER.match(detail)
        assert match is not None
        text, rest = who, (match.group(2) or "").strip()
        if action.startswith("user_"):
            rest = _user_change(rest)
    return f"{text}: {rest}" if rest else text


def _locked_until(detail: str) -> str:
    """``until:2026-12-04T15:30:00+00:00`` → «до 04.12.2026 18:30» (the server's time zone, the reader's
    format), under the action «Вход заблокирован после …»."""
    match = _LOCKED_UNTIL.match(detail)
    if match is None:
        return detail
    try:
        until = datetime.fromisoformat(match.group(1))
    except ValueError:
        return detail
    if timezone.is_naive(until):
        until = until.replace(tzinfo=UTC)
    when = date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")
    return gettext("until %(time)s") % {"time": when}


def _unlocked(detail: str) -> str:
    """``username: ivanov`` → «имя пользователя: ivanov»; ``ip: 10.0.0.1`` → «IP-адрес: 10.0.0.1»."""
    from kurator.accounts.models import SignInLockScope

    match = _UNLOCKED.match(detail)
    if match is None:
        return detail
    return f"{SignInLockScope(match.group(1)).label}: {match.group(2)}"


def _purged(detail: str) -> str:
    """``Договор.pdf; versions:3; trashed:2026-12-04: причина`` → «Договор.pdf; 3 версии; в корзине с
    04.12.2026: причина»."""
    match = _PURGED.match(detail)
    if match is None:
        return detail
    name, versions, old_versions, day, reason = match.groups()
    count = int(versions or old_versions)
    try:
        trashed = date_format(date.fromisoformat(day), "SHORT_DATE_FORMAT")
    except ValueError:
        return detail
    text = gettext("%(name)s; %(versions)s; in the trash since %(date)s") % {
        "name": name,
        "versions": ngettext("%(count)s version", "%(count)s versions", count) % {"count": count},
        "date": trashed,
    }
    return f"{text}: {reason}" if reason else text


def _role(code: str) -> str:
    from kurator.accounts.models import Role

    return str(Role(code).label) if code in Role.values else code


def _user_change(rest: str) -> str:
    """``role:manager>senior_manager names`` → «role: Manager → Senior manager, names»."""
    parts = []
    for word in rest.split():
        role = _ROLE.match(word)
        if role and role.group(2):
            old, new = _role(role.group(1)), _role(role.group(2))
            parts.append(gettext("role: %(old)s → %(new)s") % {"old": old, "new": new})
        elif role:
            parts.append(gettext("role: %(role)s") % {"role": _role(role.group(1))})
        elif word == "names":
            parts.append(gettext("name changed"))
        else:
            parts.append(word)
    return ", ".join(parts)


def detail_texts(rows: list[tuple[str, str]]) -> list[str]:
    """:func:`detail_text` of each (action, detail), with the names read in one query (none if no line names
    a colleague)."""
    from kurator.accounts.models import User

    ids = detail_user_ids(rows)
    names: dict[int, str] = {}
    if ids:
        users = User.objects.filter(pk__in=ids).only("username", "first_name", "last_name", "patronymic")
        names = {u.pk: u.short_name for u in users}
    return [detail_text(action, detail, names) for action, detail in rows]
