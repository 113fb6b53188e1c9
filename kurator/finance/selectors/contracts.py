"""Reads of contracts and obligations (D5). Every member of the department reads them (R3).

An obligation is overdue when it is not done and its due date is before today — ours as well as the
client's: both are flagged the same way. Each list runs a constant number of queries whatever its length.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.policy import can
from kurator.core.history import (
    ACTION_CODES,
    ACTIONS,
    SKIPPED_FIELDS,
    Change,
    HistoryEntry,
    display_value,
    foreign_key_labels,
)
from kurator.finance.models import SIGNED_STATUSES, Contract, Obligation

__all__ = [
    "contract_get",
    "contract_history",
    "contract_list",
    "deal_contracts",
    "deal_has_signed_contract",
    "obligation_list",
    "overdue",
    "record_history",
]

VIEW = "finance.view_contract"


def deal_has_signed_contract(*, deal: Any) -> bool:
    """The signed-contract stage standard (R1): a contract tied to the deal is signed (or further along)."""
    return Contract.objects.filter(deal=deal, status__in=SIGNED_STATUSES).exists()


def overdue(today: date | None = None, prefix: str = "") -> Q:
    """The overdue obligations (or, with ``prefix="obligations__"``, the rows joined to them)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}done_on__isnull": True, f"{prefix}due_on__lt": today})


def visible_contracts(actor: Any) -> QuerySet[Contract]:
    if can(actor, VIEW):
        return Contract.objects.all()
    return Contract.objects.none()


def visible_obligations(actor: Any) -> QuerySet[Obligation]:
    if can(actor, VIEW):
        return Obligation.objects.all()
    return Obligation.objects.none()


def with_overdue_count(qs: QuerySet[Contract], today: date | None = None) -> QuerySet[Contract]:
    """Each contract with ``overdue_obligations`` (ours and the client's) and ``open_obligations``."""
    return qs.annotate(
        overdue_obligations=Count("obligations", filter=overdue(today, "obligations__"), distinct=True),
        open_obligations=Count("obligations", filter=Q(obligations__done_on__isnull=True), distinct=True),
    )


def contract_list(
    *, actor: Any, filters: dict[str, Any] | None = None, today: date | None = None
) -> QuerySet[Contract]:
    """Contracts, newest signing first, with their overdue obligations counted (one query).
    Filters: ``company``, ``status``, ``deal``."""
    filters = filters or {}
    qs = visible_contracts(actor)
    if filters.get("company"):
        qs = qs.filter(company_id=getattr(filters["company"], "pk", filters["company"]))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("deal"):
        qs = qs.filter(deal_id=getattr(filters["deal"], "pk", filters["deal"]))
    return with_overdue_count(qs, today).order_by("-signed_on", "-id")


def company_contracts(*, actor: Any, company: Any, today: date | None = None) -> list[Contract]:
    """The dossier's Contracts tab: the client's contracts with their deals and overdue counts (one query)."""
    return list(
        contract_list(actor=actor, filters={"company": company.pk}, today=today).select_related("deal")
    )


def deal_contracts(*, actor: Any, deal: Any) -> list[Contract]:
    """The contracts tied to a deal, for the deal page's card (one query)."""
    return list(contract_list(actor=actor, filters={"deal": deal.pk}))


def contract_get(*, actor: Any, contract_id: Any, today: date | None = None) -> Contract:
    """One contract with its client, deal and overdue count; 404 for what the actor may not read."""
    try:
        return (
            with_overdue_count(visible_contracts(actor), today)
            .select_related("company__curator", "deal", "created_by")
            .get(pk=int(contract_id))
        )
    except (Contract.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def contract_obligations(*, contract: Contract) -> list[Obligation]:
    """The contract's obligations by due date, with who answers for each (one query)."""
    return list(contract.obligations.select_related("responsible").order_by("due_on", "id"))


def contract_links(*, contract: Contract) -> dict[str, int]:
    """How many orders and invoices refer to the contract (one query)."""
    counts = Contract.objects.filter(pk=contract.pk).aggregate(
        orders=Count("orders", distinct=True), invoices=Count("invoices", distinct=True)
    )
    return {"orders": counts["orders"] or 0, "invoices": counts["invoices"] or 0}


def obligation_list(
    *, actor: Any, filters: dict[str, Any] | None = None, today: date | None = None
) -> QuerySet[Obligation]:
    """Obligations by due date. Filters: ``contract``, ``company``, ``overdue`` (True: only overdue ones,
    False: only the others)."""
    filters = filters or {}
    qs = visible_obligations(actor)
    if filters.get("contract"):
        qs = qs.filter(contract_id=getattr(filters["contract"], "pk", filters["contract"]))
    if filters.get("company"):
        qs = qs.filter(contract__company_id=getattr(filters["company"], "pk", filters["company"]))
    if filters.get("overdue") is True:
        qs = qs.filter(overdue(today))
    elif filters.get("overdue") is False:
        qs = qs.exclude(overdue(today))
    return qs.order_by("due_on", "id")


def obligation_get(*, actor: Any, obligation_id: Any) -> Obligation:
    try:
        return (
            visible_obligations(actor)
            .select_related("contract__company", "contract__deal")
            .get(pk=int(obligation_id))
        )
    except (Obligation.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


# History --------------------------------------------------------------------------------------------------


def record_history(
    sources: list[tuple[type[Model], QuerySet[Any], str, Any]],
    *,
    skipped: frozenset[str] = frozenset(),
    m2m: dict[str, tuple[str, str, Any]] | None = None,
) -> list[HistoryEntry]:
    """Who changed what, old → new, newest first, for the historical rows of ``sources`` — each a (model,
    its history queryset, the object type code, the type's words). Foreign keys read as names with a fixed
    number of queries whatever the history length. ``m2m`` maps a field name to (the history's related
    manager name, the through row's field, its label) for many-to-many fields kept by simple-history
    (prefetch them in the queryset)."""
    records: list[tuple[type[Model], Any, str, Any]] = []
    for model, qs, object_type, type_label in sources:
        records += [
            (model, r, object_type, type_label)
            for r in qs.select_related("history_user").order_by("history_date", "history_id")
        ]
    records.sort(key=lambda item: (item[1].history_date, item[1].history_id))
    skip = SKIPPED_FIELDS | skipped
    wanted: dict[type[Model], set[Any]] = {}
    loaded: dict[tuple[type[Model], Any], Any] = {}
    for model, record, _type, _label in records:
        loaded[(model, record.id)] = record
        for model_field in model._meta.concrete_fields:
            if model_field.is_relation and model_field.name not in skip and model_field.related_model:
                value = getattr(record, model_field.attname, None)
                if value is not None:
                    wanted.setdefault(model_field.related_model, set()).add(value)  # type: ignore[arg-type]
    labels = foreign_key_labels(wanted, loaded)

    entries: list[HistoryEntry] = []
    previous: dict[tuple[type[Model], int], Any] = {}
    for model, record, object_type, type_label in records:
        key = (model, record.id)
        before = previous.get(key)
        changes: list[Change] = []
        tracked = {f.name for f in record.__class__._meta.fields}
        for model_field in model._meta.concrete_fields:
            if model_field.name in skip or model_field.name not in tracked:
                continue
            new = getattr(record, model_field.attname)
            old = getattr(before, model_field.attname) if before is not None else None
            if before is not None and old == new:
                continue
            if before is None and new in (None, "", [], False):
                continue
            changes.append(
                Change(
                    model_field.name,
                    str(model_field.verbose_name),
                    display_value(model, model_field.name, old, labels),
                    display_value(model, model_field.name, new, labels),
                )
            )
        for name, (manager, through_field, label) in (m2m or {}).items():
            if not hasattr(record, manager):
                continue
            new_names = _m2m_names(record, manager, through_field)
            old_names = _m2m_names(before, manager, through_field) if before is not None else []
            if new_names != old_names:
                changes.append(Change(name, str(label), ", ".join(old_names), ", ".join(new_names)))
        previous[key] = record
        # The first record is the creation, even when written as a change (a conflict is saved once its
        # people are set, so that the first record holds them).
        action = (
            "created" if before is None and record.history_type != "-" else ACTION_CODES[record.history_type]
        )
        if action == "changed" and not changes:
            continue
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                object_type=object_type,
                object_type_label=str(type_label),
                object_label=str(
                    getattr(record, "number", None)
                    or getattr(record, "title", None)
                    or getattr(record, "description", "")
                ),
                object_id=record.id,
                action=action,
                action_label=str(ACTIONS[action]),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    entries.reverse()
    return entries


def _m2m_names(record: Any, manager: str, through_field: str) -> list[str]:
    return sorted(str(getattr(row, through_field)) for row in getattr(record, manager).all())


def contract_history(*, contract: Contract) -> list[HistoryEntry]:
    """The contract's changes and those of its obligations, newest first (D5): three or four queries."""
    return record_history(
        [
            (Contract, Contract.history.filter(id=contract.pk), "contract", _("Contract")),
            (
                Obligation,
                Obligation.history.filter(contract_id=contract.pk),
                "obligation",
                _("Obligation"),
            ),
        ],
        skipped=frozenset({"contract", "created_by"}),
    )
