"""The audit log's codes in words (D12): the rule that allowed or refused an action, and the kind of object.

The log stores stable codes (``head_of_sales``, ``grant:12``, ``no_grant``; ``document``, ``accessgrant``);
the page, the export and the API's ``rule_label`` show them in the reader's language. A code written by a
later part of the application and not listed here is shown as it is.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, pgettext_lazy
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
