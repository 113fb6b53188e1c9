"""The history of records, old → new (D11): the pieces every history page shares — the entry and change
shapes, the stable action codes, how a stored value reads, and the names of related records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, Model
from django.utils.translation import gettext_lazy as _

from kurator.core.requisites import format_phone


@dataclass
class Change:
    field: str
    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    """One record of the dossier's history. ``object_type`` and ``action`` are stable codes (the API's
    contract); their ``*_label`` twins are the translated words people read."""

    when: datetime
    user: Any  # the user who made the change, or None
    object_type: str
    object_type_label: str
    object_label: str
    object_id: int
    action: str
    action_label: str
    reason: str
    changes: list[Change]


# simple-history's type marks -> the stable action codes, and the codes' words.
ACTION_CODES = {"+": "created", "~": "changed", "-": "deleted"}
ACTIONS = {"created": _("created"), "changed": _("changed"), "deleted": _("deleted")}
# Fields holding normalised phone numbers (E.164): shown as people write them, like everywhere else.
PHONE_FIELDS = {"phones"}
SKIPPED_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "company",
    "history_id",
    "history_date",
    "history_user",
    "history_type",
    "history_change_reason",
}


def display_value(
    model: type[Model], name: str, value: Any, fk_labels: dict[tuple[type[Model], Any], str]
) -> Any:
    if value in (None, "", []):
        return ""
    model_field: Any = model._meta.get_field(name)
    if model_field.is_relation and model_field.related_model is not None:
        return fk_labels.get((model_field.related_model, value), f"#{value}")
    if getattr(model_field, "choices", None):
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, list):
        if name in PHONE_FIELDS:
            return ", ".join(format_phone(str(v)) for v in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def historical_label(model: type[Model], record: Any) -> str:
    """How a record was called when this historical row was written. Built from the row's own columns:
    simple-history's ``record.instance`` would read the fields it does not keep from the live table, one
    query per record, and the record is gone from there anyway."""
    fields = [f.attname for f in model._meta.concrete_fields if hasattr(record, f.attname)]
    values = {name: getattr(record, name) for name in fields}
    return str(model(**values))


def foreign_key_labels(
    wanted: dict[type[Model], set[Any]], loaded: dict[tuple[type[Model], Any], Any]
) -> dict[tuple[type[Model], Any], str]:
    """The names of the related records, at most two queries per related model whatever the history length.

    Live rows give today's name. A record deleted since (a person who left the dossier) keeps the name of
    its last historical row: first from the rows already loaded for this history, then from its model's
    history table, so that "reports to" never turns into a bare id."""
    labels: dict[tuple[type[Model], Any], str] = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            labels[(related, obj.pk)] = str(obj)
        missing = {pk for pk in ids if (related, pk) not in labels}
        for pk in list(missing):
            record = loaded.get((related, pk))
            if record is not None:
                labels[(related, pk)] = historical_label(related, record)
                missing.discard(pk)
        history = getattr(related, "history", None)
        if not missing or history is None:
            continue
        latest = history.filter(id__in=missing).values("id").annotate(last=Max("history_id")).values("last")
        for record in history.filter(history_id__in=latest):
            labels[(related, record.id)] = historical_label(related, record)
    return labels
