"""Every write to the register of conflicts with a client (D7).

A conflict is registered and worked by the head of sales, finance and whoever works with the client
(``finance.change_conflict``; the object is the company on registration, the conflict afterwards). The people
involved are our active users and the client's own people; the linked deal, contract and invoice are the
client's. Resolving needs the resolution and its date (not before the conflict). Services validate the whole
input first (one ValidationError naming each bad field, nothing written), raise AccessDenied when the policy
refuses and EditConflict on a stale ``expected_version``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.accounts.models import User
from kurator.companies.models import Company, Contact
from kurator.core.cleaning import clean_date, one_line, record_by_id, reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.finance.models import Conflict, ConflictSeverity, ConflictStatus, Contract, Invoice

__all__ = [
    "CONFLICT_FIELDS",
    "conflict_create",
    "conflict_reopen",
    "conflict_resolve",
    "conflict_update",
]

PERMISSION = "finance.change_conflict"
CONFLICT_FIELDS = (
    "occurred_on",
    "title",
    "description",
    "severity",
    "status",
    "our_people",
    "client_people",
    "deal",
    "contract",
    "invoice",
    "resolution",
    "resolved_on",
)
SCALAR_FIELDS = tuple(f for f in CONFLICT_FIELDS if f not in ("our_people", "client_people"))
HISTORY_REASON_LENGTH = 100


def _ids(errors: FieldErrors, field: str, values: Iterable[Any] | None, message: Any) -> list[int] | None:
    ids: list[int] = []
    for value in values or ():
        try:
            ids.append(int(getattr(value, "pk", value)))
        except (TypeError, ValueError):
            errors.add(field, message, "invalid_choice")
            return None
    return list(dict.fromkeys(ids))


def _clean_our_people(
    errors: FieldErrors, values: Iterable[Any] | None, current: set[int] | None = None
) -> list[User]:
    """Active users; someone who has left stays among the people of a conflict they were already in."""
    message = _("Choose our people among the active users.")
    ids = _ids(errors, "our_people", values, message)
    if ids is None:
        return []
    found = {u.pk: u for u in User.objects.filter(pk__in=ids) if u.is_active or u.pk in (current or set())}
    if len(found) != len(ids):
        errors.add("our_people", message, "invalid_choice")
    return [found[pk] for pk in ids if pk in found]


def _clean_client_people(
    errors: FieldErrors, company: Company, values: Iterable[Any] | None
) -> list[Contact]:
    ids = _ids(errors, "client_people", values, _("Choose people of this client."))
    if ids is None:
        return []
    found = {c.pk: c for c in Contact.objects.filter(pk__in=ids, company=company)}
    if len(found) != len(ids):
        errors.add(
            "client_people",
            _("Only people of this client can be involved on the client's side; another company's are not."),
            "other_client",
        )
    return [found[pk] for pk in ids if pk in found]


def _clean_link(errors: FieldErrors, company: Company, field: str, model: Any, value: Any) -> Any:
    if value in (None, ""):
        return None
    record = record_by_id(model, value)
    if record is None:
        errors.add(field, _("The record was not found."), "invalid_choice")
        return None
    if record.company_id != company.pk:
        errors.add(field, _("It belongs to another client; link a record of this client."), "other_client")
        return None
    return record


def _clean(
    errors: FieldErrors, company: Company, fields: dict[str, Any], current_people: set[int] | None = None
) -> dict[str, Any]:
    from kurator.sales.models import Deal

    cleaned: dict[str, Any] = {}
    today = timezone.localdate()
    if "occurred_on" in fields:
        day = clean_date(errors, "occurred_on", fields["occurred_on"])
        if day is None and "occurred_on" not in errors.errors:
            errors.add("occurred_on", _("Enter the date of the conflict."), "required")
        elif day is not None and day > today:
            errors.add("occurred_on", _("A conflict cannot be registered ahead of its date."), "future")
            day = None
        cleaned["occurred_on"] = day
    if "title" in fields:
        cleaned["title"] = one_line(fields["title"], 300)
        if not cleaned["title"]:
            errors.add("title", _("Say in short what happened."), "required")
    if "description" in fields:
        cleaned["description"] = str(fields["description"] or "").strip()
        if not cleaned["description"]:
            errors.add("description", _("Describe the conflict."), "required")
    if "severity" in fields:
        if fields["severity"] not in ConflictSeverity.values:
            errors.add("severity", _("Choose a severity of the list."), "invalid_choice")
        else:
            cleaned["severity"] = str(fields["severity"])
    if "status" in fields:
        if fields["status"] not in ConflictStatus.values:
            errors.add("status", _("Choose a status of the list."), "invalid_choice")
        else:
            cleaned["status"] = str(fields["status"])
    if "our_people" in fields:
        cleaned["our_people"] = _clean_our_people(errors, fields["our_people"], current_people)
    if "client_people" in fields:
        cleaned["client_people"] = _clean_client_people(errors, company, fields["client_people"])
    if "deal" in fields:
        cleaned["deal"] = _clean_link(errors, company, "deal", Deal, fields["deal"])
    if "contract" in fields:
        cleaned["contract"] = _clean_link(errors, company, "contract", Contract, fields["contract"])
    if "invoice" in fields:
        cleaned["invoice"] = _clean_link(errors, company, "invoice", Invoice, fields["invoice"])
    if "resolution" in fields:
        cleaned["resolution"] = str(fields["resolution"] or "").strip()
    if "resolved_on" in fields:
        resolved = clean_date(errors, "resolved_on", fields["resolved_on"])
        if resolved is not None and resolved > today:
            errors.add("resolved_on", _("A conflict cannot be resolved in the future."), "future")
            resolved = None
        cleaned["resolved_on"] = resolved
    return cleaned


def _check_resolution(errors: FieldErrors, state: dict[str, Any], explicit: set[str]) -> None:
    if "status" in errors.errors:
        return
    if state.get("status") == ConflictStatus.RESOLVED:
        if not state.get("resolution") and "resolution" not in errors.errors:
            errors.add("resolution", _("Say how the conflict was resolved."), "required")
        if not state.get("resolved_on") and "resolved_on" not in errors.errors:
            errors.add("resolved_on", _("Enter the date the conflict was resolved."), "required")
        occurred, resolved = state.get("occurred_on"), state.get("resolved_on")
        if occurred and resolved and resolved < occurred and "resolved_on" not in errors.errors:
            errors.add(
                "resolved_on",
                _("A conflict cannot be resolved before the day it occurred."),
                "before_conflict",
            )
    elif state.get("resolved_on") and "resolved_on" in explicit:
        errors.add(
            "resolved_on",
            _("Only a resolved conflict has a resolution date; set the status to resolved."),
            "not_resolved",
        )


def _save(conflict: Conflict, actor: User, reason: str = "") -> None:
    conflict._history_user = actor  # type: ignore[attr-defined]
    conflict._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None  # type: ignore[attr-defined]
    conflict.save()


def _set_people_quietly(conflict: Conflict, cleaned: dict[str, Any]) -> None:
    """Set the people without simple-history's per-signal records; the next save's record carries them."""
    conflict.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        if "our_people" in cleaned:
            conflict.our_people.set(cleaned["our_people"])
        if "client_people" in cleaned:
            conflict.client_people.set(cleaned["client_people"])
    finally:
        del conflict.skip_history_when_saving  # type: ignore[attr-defined]


@transaction.atomic
def conflict_create(*, actor: User, company: Company, **fields: Any) -> Conflict:
    """Register a conflict with a client (D7): date, what happened, severity, the people of both sides,
    the linked deal/contract/invoice. Open unless said otherwise."""
    reject_unknown(fields, CONFLICT_FIELDS)
    ensure(actor, PERMISSION, company)
    errors = FieldErrors()
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), "company_merged")
    for name in ("occurred_on", "title", "description"):
        fields.setdefault(name, "")
    cleaned = _clean(errors, company, fields)
    state = {"status": ConflictStatus.OPEN, **cleaned}
    _check_resolution(errors, state, set(fields))
    errors.raise_if_any()
    scalars = {k: v for k, v in cleaned.items() if k in SCALAR_FIELDS}
    conflict = Conflict(company=company, author=actor, **scalars)
    conflict.save_without_historical_record()  # type: ignore[attr-defined]
    _set_people_quietly(conflict, cleaned)
    _save(conflict, actor)
    return conflict


def _locked(conflict: Conflict) -> Conflict:
    return (
        Conflict.objects.select_for_update(of=("self",)).select_related("company", "deal").get(pk=conflict.pk)
    )


@transaction.atomic
def conflict_update(
    *, actor: User, conflict: Conflict, expected_version: int | None = None, **fields: Any
) -> Conflict:
    """Edit a conflict (D7); a stale ``expected_version`` is an EditConflict. Leaving the resolved status
    clears the resolution date (the history keeps it)."""
    reject_unknown(fields, CONFLICT_FIELDS)
    conflict = _locked(conflict)
    ensure(actor, PERMISSION, conflict)
    if expected_version is not None and conflict.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    current_people = set(conflict.our_people.values_list("pk", flat=True))
    cleaned = _clean(errors, conflict.company, fields, current_people)
    if (
        cleaned.get("status") not in (None, ConflictStatus.RESOLVED)
        and conflict.status == ConflictStatus.RESOLVED
        and "resolved_on" not in fields
    ):
        cleaned["resolved_on"] = None
    state: dict[str, Any] = {name: getattr(conflict, name) for name in SCALAR_FIELDS}
    state.update({k: v for k, v in cleaned.items() if k in SCALAR_FIELDS and k not in errors.errors})
    _check_resolution(errors, state, set(fields))
    errors.raise_if_any()
    changed = [k for k, v in cleaned.items() if k in SCALAR_FIELDS and getattr(conflict, k) != v]
    people: dict[str, Any] = {}
    if "our_people" in cleaned and {u.pk for u in cleaned["our_people"]} != set(
        conflict.our_people.values_list("pk", flat=True)
    ):
        people["our_people"] = cleaned["our_people"]
    if "client_people" in cleaned and {c.pk for c in cleaned["client_people"]} != set(
        conflict.client_people.values_list("pk", flat=True)
    ):
        people["client_people"] = cleaned["client_people"]
    if not changed and not people:
        return conflict
    for name in changed:
        setattr(conflict, name, cleaned[name])
    conflict.version += 1
    _set_people_quietly(conflict, people)
    _save(conflict, actor)
    return conflict


def conflict_resolve(
    *,
    actor: User,
    conflict: Conflict,
    resolution: Any,
    resolved_on: Any = None,
    expected_version: int | None = None,
) -> Conflict:
    """Close a conflict with how it was resolved and when (today unless given; not before it occurred)."""
    return conflict_update(
        actor=actor,
        conflict=conflict,
        expected_version=expected_version,
        status=ConflictStatus.RESOLVED,
        resolution=resolution,
        resolved_on=resolved_on if resolved_on not in (None, "") else timezone.localdate(),
    )


def conflict_reopen(*, actor: User, conflict: Conflict, expected_version: int | None = None) -> Conflict:
    """Open a resolved conflict again; its resolution date is cleared (the history keeps it)."""
    if conflict.status != ConflictStatus.RESOLVED:
        errors = FieldErrors()
        errors.add("status", _("The conflict is not resolved."), "not_resolved")
        errors.raise_if_any()
    return conflict_update(
        actor=actor, conflict=conflict, expected_version=expected_version, status=ConflictStatus.OPEN
    )
