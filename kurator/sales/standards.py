"""Stage standards (R1): what a deal must have before it may enter a stage.

A standard is an entry condition of a stage. Moving a deal forward checks the standard of every stage it
passes on the way (skipping stages never dodges one); moving backward needs nothing; moving to a lost stage
needs only the reason for losing (checked by the move itself). The head of sales may override with a reason
(:func:`kurator.sales.services.deal_move`), which is recorded with the list of what was missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kurator.sales.models import ChecklistItem, ChecklistMark, Deal, DealField, Stage, StageKind, StageVisit

__all__ = [
    "StandardsNotMet",
    "Unmet",
    "stage_standard_summary",
    "stages_passed",
    "unmet_standards",
]


@dataclass(frozen=True)
class Unmet:
    """One unmet item of a standard: a stable ``code`` for machines and a ``message`` for people."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class StandardsNotMet(ValidationError):
    """A forward move refused because standards are not met; ``unmet`` lists each missing item.

    Its message dict is ``{"unmet": [messages]}``, so a generic handler still answers 400 naming ``unmet``."""

    def __init__(self, unmet: list[Unmet]) -> None:
        self.unmet = list(unmet)
        super().__init__({"unmet": [ValidationError(u.message, code=u.code) for u in self.unmet]})


def _kind_labels(kinds: list[str]) -> str:
    from kurator.activities.models import ActivityKind

    labels = [str(ActivityKind(k).label).lower() if k in ActivityKind.values else k for k in kinds]
    return _(" or ").join(labels)


def _field_label(name: str) -> str:
    return str(DealField(name).label) if name in DealField.values else name


def _reference_order(deal: Deal) -> int:
    """Where the deal stands for the purpose of standards: its stage, or for a lost deal the last stage it
    was in before it was lost (a reopened deal does not pass again the stages it had already passed)."""
    stage = deal.stage
    if stage.kind != StageKind.LOST:
        return stage.order
    before = (
        StageVisit.objects.filter(deal=deal)
        .exclude(stage__kind=StageKind.LOST)
        .order_by("-entered_at", "-id")
        .values_list("stage__order", flat=True)
        .first()
    )
    return before if before is not None else 0


def stages_passed(deal: Deal, target: Stage) -> list[Stage]:
    """The stages whose entry standards a move of ``deal`` to ``target`` must meet, in order: every active
    stage after the deal's position up to and including the target. Empty for a move backward, to the same
    position, or to a lost stage."""
    if target.kind == StageKind.LOST or target.pipeline_id != deal.pipeline_id:
        return []
    start = _reference_order(deal)
    if target.order <= start:
        return []
    stages = (
        Stage.objects.filter(
            pipeline_id=deal.pipeline_id, is_active=True, order__gt=start, order__lte=target.order
        )
        .exclude(kind=StageKind.LOST)
        .order_by("order", "id")
    )
    result = list(stages)
    if target not in result:
        result.append(target)
    return result


def _has_field(deal: Deal, name: str) -> bool:
    if name == DealField.CONTACTS:
        return deal.pk is not None and deal.contacts.exists()
    if name == DealField.PROBABILITY:
        return bool(deal.probability)
    return getattr(deal, name, None) not in (None, "")


def _has_activity(deal: Deal, kinds: list[str], with_decision_maker: bool) -> bool:
    from kurator.activities.models import Activity
    from kurator.companies.models import DecisionRole

    if deal.pk is None:
        return False
    activities = Activity.objects.filter(deal=deal)
    if kinds:
        activities = activities.filter(kind__in=kinds)
    if with_decision_maker:
        activities = activities.filter(contacts__decision_role=DecisionRole.DECISION_MAKER)
    return activities.exists()


def _has_signed_contract(deal: Deal) -> bool:
    # Imported here: the finance models refer to deals, so finance imports sales, not the other way round.
    from kurator.finance.selectors.contracts import deal_has_signed_contract

    return deal_has_signed_contract(deal=deal)


def _stage_unmet(deal: Deal, stage: Stage) -> list[Unmet]:
    unmet: list[Unmet] = []
    names = {"stage": stage.name}
    for name in stage.required_fields or []:
        if not _has_field(deal, name):
            unmet.append(
                Unmet(
                    f"required_field:{name}",
                    _("%(stage)s: fill in “%(field)s”.") % {**names, "field": _field_label(name)},
                )
            )
    kinds = list(stage.required_activity_kinds or [])
    if (kinds or stage.activity_with_decision_maker) and not _has_activity(
        deal, kinds, stage.activity_with_decision_maker
    ):
        if kinds and stage.activity_with_decision_maker:
            message = _("%(stage)s: log a %(kinds)s on this deal with a person whose role is decision maker.")
        elif kinds:
            message = _("%(stage)s: log a %(kinds)s on this deal.")
        else:
            message = _("%(stage)s: log a contact on this deal with a person whose role is decision maker.")
        unmet.append(Unmet("required_activity", message % {**names, "kinds": _kind_labels(kinds)}))
    if stage.requires_signed_contract and not _has_signed_contract(deal):
        unmet.append(Unmet("signed_contract", _("%(stage)s: the contract must be signed.") % names))
    items = list(ChecklistItem.objects.filter(stage=stage, is_active=True).order_by("order", "id"))
    if items:
        ticked = set(
            ChecklistMark.objects.filter(deal=deal, item__in=items).values_list("item_id", flat=True)
            if deal.pk is not None
            else []
        )
        for item in items:
            if item.pk not in ticked:
                unmet.append(
                    Unmet(
                        f"checklist_item:{item.pk}",
                        _("%(stage)s: tick “%(item)s”.") % {**names, "item": item.text},
                    )
                )
    return unmet


def unmet_standards(deal: Deal, target_stage: Stage) -> list[Unmet]:
    """What ``deal`` lacks to move to ``target_stage``: the entry standards of every stage passed on the way
    forward. Empty when the move is backward, to a lost stage, or when everything is met."""
    unmet: list[Unmet] = []
    for stage in stages_passed(deal, target_stage):
        unmet.extend(_stage_unmet(deal, stage))
    return unmet


def stage_standard_summary(stage: Stage) -> list[str]:
    """The stage's entry standard in words, a line per rule (the settings page, the board's tooltip).

    Reads ``stage.checklist`` (prefetch it for many stages)."""
    lines: list[str] = []
    fields = [_field_label(name) for name in stage.required_fields or []]
    if fields:
        lines.append(
            ngettext("Required field: %(fields)s.", "Required fields: %(fields)s.", len(fields))
            % {"fields": ", ".join(fields)}
        )
    kinds = list(stage.required_activity_kinds or [])
    if kinds and stage.activity_with_decision_maker:
        lines.append(_("A logged %(kinds)s with a decision maker.") % {"kinds": _kind_labels(kinds)})
    elif kinds:
        lines.append(_("A logged %(kinds)s.") % {"kinds": _kind_labels(kinds)})
    elif stage.activity_with_decision_maker:
        lines.append(_("A logged contact with a decision maker."))
    if stage.requires_signed_contract:
        lines.append(_("A signed contract."))
    items = [item for item in stage.checklist.all() if item.is_active]
    if items:
        lines.append(
            _("Checklist: %(items)s.")
            % {"items": "; ".join(item.text for item in sorted(items, key=_item_key))}
        )
    if stage.max_days:
        lines.append(
            ngettext(
                "At most %(days)d day in the stage.", "At most %(days)d days in the stage.", stage.max_days
            )
            % {"days": stage.max_days}
        )
    return lines


def _item_key(item: ChecklistItem) -> tuple[int, int]:
    return (item.order, item.pk or 0)
