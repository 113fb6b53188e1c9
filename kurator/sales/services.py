"""Every write to deals and pipelines (S3 sales technology, R1 standards, R2 one curator per client).

A deal's owner is its client's curator (R2) and follows the curator when the client is handed over; the head
of sales may add a co-owner. Moving a deal forward checks the entry standards of every stage it passes
(:mod:`kurator.sales.standards`); the head of sales may override with a reason, which is kept in the stage
history and the deal's history. Moves are serialised on the deal's row and guarded by ``version``: of two
people moving the same deal at once one succeeds and the other gets an edit conflict (409).

Services validate the whole input first and raise one ValidationError naming each bad field (nothing is
written), AccessDenied when the policy refuses, EditConflict on a stale ``expected_version``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.policy import can, may_curate
from kurator.accounts.models import User
from kurator.activities.models import ActivityKind
from kurator.activities.services import notify
from kurator.companies.models import Company, Contact, ContactSource, SalesTechnology
from kurator.core.cleaning import clean_date, clean_money, one_line, record_by_id
from kurator.core.errors import EditConflict, FieldErrors
from kurator.sales.models import (
    ChecklistItem,
    ChecklistMark,
    Deal,
    DealField,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
    StageVisit,
    deal_search_text,
)
from kurator.sales.standards import StandardsNotMet, Unmet, stages_passed, unmet_standards

__all__ = [
    "checklist_item_deactivate",
    "checklist_item_save",
    "deal_change_owners",
    "deal_check_item",
    "deal_create",
    "deal_move",
    "deal_update",
    "deals_follow_curator",
    "pipeline_save",
    "stage_move_order",
    "stage_save",
]

DEAL_UPDATE_FIELDS = (
    "title",
    "contacts",
    "amount",
    "expected_close",
    "probability",
    "co_owner",
    "source",
    "description",
)
# simple-history's change-reason column.
HISTORY_REASON_LENGTH = 100
# Who may name a co-owner of a deal: whoever may decide who works with a client (the head of sales).
CO_OWNER_PERMISSION = "companies.change_curator"


def _deal_url(deal: Deal) -> str:
    try:
        return reverse("sales:detail", args=[deal.pk])
    except NoReverseMatch:  # the pages are optional for the service
        return f"/deals/{deal.pk}/"


# Cleaning -------------------------------------------------------------------------------------------------


def _clean_amount(errors: FieldErrors, value: Any) -> Decimal | None:
    return clean_money(errors, "amount", value)


def _clean_probability(errors: FieldErrors, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        probability = int(value)
    except (TypeError, ValueError):
        errors.add("probability", _("Enter the probability as a whole number of per cent."), code="invalid")
        return None
    if not 0 <= probability <= 100:
        errors.add("probability", _("The probability is between 0 and 100%."), code="out_of_range")
        return None
    return probability


def _clean_future_close(errors: FieldErrors, value: date | None) -> date | None:
    if value is not None and value < timezone.localdate():
        errors.add(
            "expected_close",
            _("The expected close date cannot be in the past; move the deal to won or lost when it closes."),
            code="past_date",
        )
    return value


def _clean_contacts(errors: FieldErrors, company: Company, values: Iterable[Any] | None) -> list[Contact]:
    ids: list[int] = []
    for value in values or ():
        pk = getattr(value, "pk", value)
        try:
            ids.append(int(pk))
        except (TypeError, ValueError):
            errors.add("contacts", _("Choose people of the deal's client."), code="invalid_choice")
            return []
    found = {c.pk: c for c in Contact.objects.filter(pk__in=ids, company=company)}
    if len(found) != len(set(ids)):
        errors.add("contacts", _("Choose people of the deal's client."), code="invalid_choice")
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


def _clean_co_owner(
    errors: FieldErrors, actor: User, value: Any, owner_id: int, current_id: int | None
) -> Any:
    co_owner = record_by_id(User, value)
    if value not in (None, "") and co_owner is None:
        errors.add("co_owner", _("The user was not found."), code="invalid_choice")
        return None
    new_id = co_owner.pk if co_owner is not None else None
    if new_id == current_id:
        return co_owner
    if not can(actor, CO_OWNER_PERMISSION):
        errors.add("co_owner", _("Only the head of sales may name a co-owner."), code="co_owner_forbidden")
        return None
    if co_owner is not None:
        if co_owner.pk == owner_id:
            errors.add(
                "co_owner", _("The co-owner must be someone other than the owner."), code="same_as_owner"
            )
        elif not may_curate(co_owner):
            errors.add(
                "co_owner", _("The co-owner must be an active sales employee."), code="invalid_co_owner"
            )
    return co_owner


def _clean_source(errors: FieldErrors, value: Any) -> ContactSource | None:
    source = record_by_id(ContactSource, value)
    if value not in (None, "") and source is None:
        errors.add("source", _("The contact source was not found."), code="invalid_choice")
    return source


def _save(deal: Deal, actor: User, reason: str = "") -> None:
    deal._history_user = actor  # type: ignore[attr-defined]
    deal._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None  # type: ignore[attr-defined]
    deal.save()


def _set_contacts_quietly(deal: Deal, contacts: list[Contact]) -> None:
    """Set the people without simple-history's per-signal records; the next save's record carries them."""
    deal.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        deal.contacts.set(contacts)
    finally:
        del deal.skip_history_when_saving  # type: ignore[attr-defined]


# Deals ----------------------------------------------------------------------------------------------------


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first()


def pipeline_for(company: Company) -> Pipeline | None:
    """The pipeline of the company's sales technology if there is an active one, else the default."""
    if company.sales_technology_id is not None:
        pipeline = (
            Pipeline.objects.filter(sales_technology_id=company.sales_technology_id, is_active=True)
            .order_by("position", "id")
            .first()
        )
        if pipeline is not None:
            return pipeline
    return default_pipeline()


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.filter(pipeline=pipeline, is_active=True, kind=StageKind.OPEN)
        .order_by("order", "id")
        .first()
    )


@transaction.atomic
def deal_create(
    *,
    actor: User,
    company: Company,
    title: str = "",
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    contacts: Iterable[Any] = (),
    amount: Any = None,
    expected_close: Any = None,
    probability: Any = None,
    co_owner: Any = None,
    source: Any = None,
    description: str = "",
    inquiry: Any = None,
) -> Deal:
    """Open a deal with a client (S3). The owner is the client's curator (R2); the pipeline defaults to the
    one of the client's sales technology, else the default one; the stage to its first stage. A deal opened
    straight in a later stage must meet the standards of the stages before it (R1)."""
    from kurator.inquiries.models import Inquiry

    company = Company.objects.select_related("curator").get(pk=company.pk)
    ensure(actor, "sales.add_deal", company)
    errors = FieldErrors()
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), code="company_merged")
    owner = company.curator
    if not may_curate(owner):
        errors.add(
            "company",
            _("The curator of %(company)s no longer works with clients: reassign the client first.")
            % {"company": company.short_name},
            code="curator_inactive",
        )
    pipeline = record_by_id(Pipeline, pipeline) if pipeline is not None else pipeline_for(company)
    if pipeline is None or not pipeline.is_active:
        errors.add("pipeline", _("Choose an active pipeline."), code="invalid_choice")
    first = first_open_stage(pipeline) if pipeline is not None else None
    if pipeline is not None and first is None:
        errors.add("pipeline", _("The pipeline has no open stage."), code="no_stages")
    target = first
    if stage is not None:
        target = record_by_id(Stage, stage)
        if target is None or pipeline is None or target.pipeline_id != pipeline.pk or not target.is_active:
            errors.add("stage", _("Choose a stage of the deal's pipeline."), code="invalid_choice")
            target = first
        elif target.kind != StageKind.OPEN:
            errors.add("stage", _("A new deal starts in an open stage."), code="closed_stage")
            target = first
    people = _clean_contacts(errors, company, contacts)
    cleaned_amount = _clean_amount(errors, amount)
    cleaned_close = _clean_future_close(errors, clean_date(errors, "expected_close", expected_close))
    cleaned_probability = _clean_probability(errors, probability)
    cleaned_co_owner = _clean_co_owner(errors, actor, co_owner, owner.pk, None)
    cleaned_source = _clean_source(errors, source)
    linked = record_by_id(Inquiry, inquiry)
    if inquiry is not None and linked is None:
        errors.add("inquiry", _("The inquiry was not found."), code="invalid_choice")
    elif linked is not None and Deal.objects.filter(inquiry=linked).exists():
        errors.add("inquiry", _("This inquiry has already become a deal."), code="already_converted")
    title = one_line(title, 300) or gettext("Deal with %(company)s") % {"company": company.short_name}
    errors.raise_if_any()
    assert pipeline is not None and target is not None and first is not None

    now = timezone.now()
    deal = Deal(
        title=title,
        company=company,
        pipeline=pipeline,
        stage=target,
        owner=owner,
        co_owner=cleaned_co_owner,
        amount=cleaned_amount,
        expected_close=cleaned_close,
        probability=target.probability if cleaned_probability is None else cleaned_probability,
        source=cleaned_source,
        inquiry=linked,
        description=str(description or "").strip(),
        search_text=deal_search_text(title, company),
        stage_entered_at=now,
        created_by=actor,
    )
    _save(deal, actor)
    if people:
        deal.contacts.set(people)
    if target.pk != first.pk:
        # Checked with the deal as if in the first stage, after its people are set (rolled back if refused).
        deal.stage = first
        unmet = [u for s in stages_passed(deal, target) for u in _unmet_of(deal, s)]
        deal.stage = target
        if unmet:
            raise StandardsNotMet(unmet)
    StageVisit.objects.create(deal=deal, stage=target, entered_at=now, entered_by=actor)
    return deal


def _unmet_of(deal: Deal, stage: Stage) -> list[Unmet]:
    from kurator.sales.standards import _stage_unmet

    return _stage_unmet(deal, stage)


def _locked(deal: Deal) -> Deal:
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk", flat=True).get()
    return Deal.objects.select_related("stage", "pipeline", "company", "owner", "co_owner").get(pk=deal.pk)


@transaction.atomic
def deal_update(*, actor: User, deal: Deal, expected_version: int | None = None, **fields: Any) -> Deal:
    """Edit a deal's details (not its stage: see :func:`deal_move`). Only the head of sales names a
    co-owner. ``expected_version`` guards against overwriting a colleague's edit (409)."""
    unknown = set(fields) - set(DEAL_UPDATE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    ensure(actor, "sales.change_deal", deal)
    deal = _locked(deal)
    ensure(actor, "sales.change_deal", deal)
    if expected_version is not None and deal.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if "title" in fields:
        cleaned["title"] = one_line(fields["title"], 300)
        if not cleaned["title"]:
            errors.add("title", _("Enter a title."), code="required")
    if "amount" in fields:
        cleaned["amount"] = _clean_amount(errors, fields["amount"])
    if "expected_close" in fields:
        close = clean_date(errors, "expected_close", fields["expected_close"])
        # An old date already on the deal may stay (it is the record); a new one must be ahead.
        cleaned["expected_close"] = (
            close if close == deal.expected_close else _clean_future_close(errors, close)
        )
    if "probability" in fields:
        probability = _clean_probability(errors, fields["probability"])
        cleaned["probability"] = 0 if probability is None else probability
    if "co_owner" in fields:
        cleaned["co_owner"] = _clean_co_owner(
            errors, actor, fields["co_owner"], deal.owner_id, deal.co_owner_id
        )
    if "source" in fields:
        cleaned["source"] = _clean_source(errors, fields["source"])
    if "description" in fields:
        cleaned["description"] = str(fields["description"] or "").strip()
    people = _clean_contacts(errors, deal.company, fields["contacts"]) if "contacts" in fields else None
    errors.raise_if_any()

    changed = [f for f, v in cleaned.items() if getattr(deal, f) != v]
    contacts_changed = people is not None and {c.pk for c in people} != set(
        deal.contacts.values_list("pk", flat=True)
    )
    if not changed and not contacts_changed:
        return deal
    for field in changed:
        setattr(deal, field, cleaned[field])
    if "title" in changed:
        deal.search_text = deal_search_text(deal.title, deal.company)
    deal.version += 1
    if contacts_changed:
        _set_contacts_quietly(deal, people or [])
    _save(deal, actor)
    return deal


def _lost_reason_error(message: Any, code: str) -> ValidationError:
    return ValidationError({"lost_reason": [ValidationError(message, code=code)]})


@transaction.atomic
def deal_move(
    *,
    actor: User,
    deal: Deal,
    stage: Stage,
    expected_version: int | None = None,
    override_reason: str = "",
    lost_reason: Any = None,
    lost_note: str = "",
) -> Deal:
    """Move a deal to another stage of its pipeline (S3, R1).

    Forward moves must meet the entry standards of every stage passed; otherwise StandardsNotMet lists what
    is missing, unless the head of sales overrides with a reason (recorded with the list). Backward moves
    need nothing. A lost stage needs a reason for losing; reopening a closed deal is the head of sales'
    decision. Of two moves of the same version, the second gets EditConflict."""
    ensure(actor, "sales.change_deal", deal)
    deal = _locked(deal)
    ensure(actor, "sales.change_deal", deal)
    if expected_version is not None and deal.version != expected_version:
        raise EditConflict
    target = record_by_id(Stage, stage)
    if target is None or target.pipeline_id != deal.pipeline_id or not target.is_active:
        raise ValidationError(
            {"stage": [ValidationError(_("Choose a stage of the deal's pipeline."), code="invalid_choice")]}
        )
    if target.pk == deal.stage_id:
        raise ValidationError(
            {"stage": [ValidationError(_("The deal is already in this stage."), code="same_stage")]}
        )
    may_override = can(actor, "sales.override_standard")
    if deal.stage.is_closed and not may_override:
        raise ValidationError(
            {
                "stage": [
                    ValidationError(
                        _("The deal is closed: only the head of sales may reopen it."),
                        code="reopen_forbidden",
                    )
                ]
            }
        )
    reason_obj: LostReason | None = None
    note = str(lost_note or "").strip()
    if target.kind == StageKind.LOST:
        reason_obj = record_by_id(LostReason, lost_reason)
        if reason_obj is None:
            if lost_reason in (None, ""):
                raise _lost_reason_error(_("Say why the deal was lost."), "required")
            raise _lost_reason_error(_("Choose a reason from the list."), "invalid_choice")
        if not reason_obj.is_active and reason_obj.pk != deal.lost_reason_id:
            raise _lost_reason_error(_("Choose a reason from the list."), "invalid_choice")
    override_reason = str(override_reason or "").strip()
    unmet = unmet_standards(deal, target)
    if unmet and not (may_override and override_reason):
        raise StandardsNotMet(unmet)

    now = timezone.now()
    previous = deal.stage
    StageVisit.objects.filter(deal=deal, left_at__isnull=True).update(left_at=now)
    if target.kind != StageKind.LOST:
        # The funnel's "passed": every earlier stay in a stage placed before the one entered now.
        StageVisit.objects.filter(deal=deal, passed=False, stage__order__lt=target.order).update(passed=True)
    StageVisit.objects.create(
        deal=deal,
        stage=target,
        entered_at=now,
        entered_by=actor,
        override_reason=override_reason if unmet else "",
        unmet=[u.as_dict() for u in unmet],
    )
    deal.stage = target
    deal.stage_entered_at = now
    deal.probability = target.probability
    if target.kind == StageKind.OPEN:
        deal.closed_at = None
        deal.lost_reason = None
        deal.lost_note = ""
    else:
        deal.closed_at = now
        if target.kind == StageKind.LOST:
            deal.lost_reason, deal.lost_note = reason_obj, note
        else:
            deal.lost_reason, deal.lost_note = None, ""
    deal.version += 1
    history_reason = ""
    if unmet:
        history_reason = gettext("Standard overridden: %(reason)s") % {"reason": override_reason}
    _save(deal, actor, history_reason)

    text = gettext("%(actor)s moved the deal “%(deal)s” from “%(old)s” to “%(new)s”.") % {
        "actor": actor.full_name,
        "deal": deal.title,
        "old": previous.name,
        "new": target.name,
    }
    if unmet:
        text += " " + gettext("The standard was overridden: %(reason)s") % {"reason": override_reason}
    recipients = {u.pk: u for u in (deal.owner, deal.co_owner) if u is not None and u.pk != actor.pk}
    for recipient in recipients.values():
        notify(recipient=recipient, kind="deal_moved", text=text, url=_deal_url(deal))
    return deal


@transaction.atomic
def deal_check_item(*, actor: User, deal: Deal, item: ChecklistItem, done: bool) -> None:
    """Tick (or untick) an item of a stage's checklist on a deal (R1)."""
    ensure(actor, "sales.change_deal", deal)
    item = ChecklistItem.objects.select_related("stage").get(pk=item.pk)
    if item.stage.pipeline_id != deal.pipeline_id:
        raise ValidationError(
            {"item": [ValidationError(_("The item belongs to another pipeline."), code="invalid_choice")]}
        )
    if done:
        if not item.is_active:
            raise ValidationError(
                {"item": [ValidationError(_("The item is no longer in the checklist."), code="inactive")]}
            )
        ChecklistMark.objects.get_or_create(deal=deal, item=item, defaults={"done_by": actor})
    else:
        ChecklistMark.objects.filter(deal=deal, item=item).delete()


def deals_follow_curator(*, company: Company, new_owner: User, actor: User) -> int:
    """The open deals of a client follow its curator (R2); a co-owner who becomes the owner stops being the
    co-owner. Called by the companies services when the curator changes (and after a merge). Returns how
    many deals changed hands."""
    moved = 0
    reason = gettext("The client's curator changed")
    for deal in (
        Deal.objects.select_for_update()
        .filter(company=company, stage__kind=StageKind.OPEN)
        .exclude(owner=new_owner)
        .order_by("pk")
    ):
        deal.owner = new_owner
        if deal.co_owner_id == new_owner.pk:
            deal.co_owner = None
        deal.version += 1
        _save(deal, actor, reason)
        moved += 1
    return moved


@transaction.atomic
def deal_change_owners(*, actor: User, deal: Deal, owner: User, co_owner: User | None, reason: str) -> Deal:
    """Give an open deal to another owner and/or co-owner (head of sales), with the reason kept in the deal's
    history (D11); the new people are notified. Used when someone leaves (``kurator.accounts.services.
    user_handover``). R2: a deal's owner is its client's curator, so callers pass the curator as ``owner``
    unless the curator no longer works with clients."""
    ensure(actor, CO_OWNER_PERMISSION)
    errors = FieldErrors()
    reason = one_line(reason, 500)
    if not reason:
        errors.add("reason", _("Give the reason: it is kept in the history."), code="required")
    elif len(reason) > HISTORY_REASON_LENGTH:
        errors.add(
            "reason",
            ValidationError(
                _("Keep the reason within %(limit)d characters."),
                code="max_length",
                params={"limit": HISTORY_REASON_LENGTH},
            ),
        )
    if not may_curate(owner):
        errors.add("owner", _("The owner must be an active sales employee."), code="invalid_owner")
    if co_owner is not None:
        if co_owner.pk == owner.pk:
            errors.add(
                "co_owner", _("The co-owner must be someone other than the owner."), code="same_as_owner"
            )
        elif not may_curate(co_owner):
            errors.add(
                "co_owner", _("The co-owner must be an active sales employee."), code="invalid_co_owner"
            )
    deal = _locked(deal)
    if deal.stage.kind != StageKind.OPEN:
        errors.add("deal", _("The deal is closed: its owners stay as they were."), code="deal_closed")
    errors.raise_if_any()
    new_owner = owner.pk != deal.owner_id
    new_co_owner = co_owner is not None and co_owner.pk != deal.co_owner_id
    if not new_owner and (co_owner.pk if co_owner else None) == deal.co_owner_id:
        return deal
    deal.owner = owner
    deal.co_owner = co_owner
    deal.version += 1
    _save(deal, actor, reason)
    names = {"actor": actor.full_name, "deal": deal.title, "reason": reason}
    for person, wanted in ((owner, new_owner), (co_owner, new_co_owner)):
        if wanted and person is not None and person.pk != actor.pk:
            notify(
                recipient=person,
                kind="deal_handed_over",
                text=_("%(actor)s handed you the deal %(deal)s. Reason: %(reason)s") % names,
                url=_deal_url(deal),
            )
    return deal


# Pipelines (head of sales) -------------------------------------------------------------------------------

PIPELINE_FIELDS = ("name", "sales_technology", "is_default", "is_active", "position")
STAGE_FIELDS = (
    "name",
    "code",
    "kind",
    "probability",
    "max_days",
    "required_fields",
    "required_activity_kinds",
    "activity_with_decision_maker",
    "requires_signed_contract",
    "is_active",
)


@transaction.atomic
def pipeline_save(*, actor: User, pipeline: Pipeline | None = None, **fields: Any) -> Pipeline:
    """Add or change a pipeline (head of sales). One pipeline is the default; making another the default
    takes the mark from the old one. A new pipeline starts with the closing stages Won and Lost."""
    ensure(actor, "sales.manage_pipelines")
    unknown = set(fields) - set(PIPELINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if "name" in fields or pipeline is None:
        cleaned["name"] = one_line(fields.get("name"), 200)
        if not cleaned["name"]:
            errors.add("name", _("Enter a name."), code="required")
    if "sales_technology" in fields:
        technology = record_by_id(SalesTechnology, fields["sales_technology"])
        if fields["sales_technology"] not in (None, "") and technology is None:
            errors.add("sales_technology", _("The sales technology was not found."), code="invalid_choice")
        cleaned["sales_technology"] = technology
    for flag in ("is_default", "is_active"):
        if flag in fields:
            cleaned[flag] = bool(fields[flag])
    if "position" in fields:
        try:
            cleaned["position"] = max(0, int(fields["position"] or 0))
        except (TypeError, ValueError):
            errors.add("position", _("Enter a whole number."), code="invalid")
    was_default = pipeline is not None and pipeline.is_default
    is_default = cleaned.get("is_default", was_default)
    if was_default and not is_default:
        errors.add("is_default", _("Make another pipeline the default instead."), code="default_required")
    if is_default and cleaned.get("is_active", True) is False:
        errors.add("is_active", _("The default pipeline cannot be deactivated."), code="default_inactive")
    errors.raise_if_any()
    if is_default and not was_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    created = pipeline is None
    pipeline = pipeline or Pipeline()
    for field, value in cleaned.items():
        setattr(pipeline, field, value)
    if created and "position" not in cleaned:
        last = Pipeline.objects.aggregate(last=Max("position"))["last"]
        pipeline.position = 0 if last is None else last + 1
    pipeline.save()
    if created:
        Stage.objects.bulk_create(
            [
                Stage(
                    pipeline=pipeline,
                    code="won",
                    name=gettext("Won"),
                    kind=StageKind.WON,
                    order=1,
                    probability=100,
                ),
                Stage(pipeline=pipeline, code="lost", name=gettext("Lost"), kind=StageKind.LOST, order=2),
            ]
        )
    return pipeline


def _clean_choices(
    errors: FieldErrors, field: str, value: Any, allowed: list[str], message: Any
) -> list[str]:
    if value in (None, ""):
        return []
    items = [value] if isinstance(value, str) else list(value)
    result: list[str] = []
    for item in items:
        if item not in allowed:
            errors.add(field, ValidationError(message, code="invalid_choice", params={"value": item}))
        elif item not in result:
            result.append(item)
    return result


def _renumber(pipeline: Pipeline, stages: list[Stage]) -> None:
    for number, item in enumerate(stages, start=1):
        if item.order != number:
            item.order = number
            Stage.objects.filter(pk=item.pk).update(order=number)


@transaction.atomic
def stage_save(*, actor: User, pipeline: Pipeline, stage: Stage | None = None, **fields: Any) -> Stage:
    """Add or change a stage and its entry standard (head of sales; S3, R1). A new open stage goes before
    the closing stages."""
    ensure(actor, "sales.manage_pipelines")
    unknown = set(fields) - set(STAGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if stage is not None and stage.pipeline_id != pipeline.pk:
        raise ValidationError(
            {"stage": [ValidationError(_("The stage is of another pipeline."), code="invalid")]}
        )
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if "name" in fields or stage is None:
        cleaned["name"] = one_line(fields.get("name"), 200)
        if not cleaned["name"]:
            errors.add("name", _("Enter a name."), code="required")
    if "code" in fields or stage is None:
        code = slugify(str(fields.get("code") or "")).replace("-", "_")[:64]
        if not code:
            code = slugify(str(fields.get("name") or "")).replace("-", "_")[:64]
        if not code:
            errors.add("code", _("Enter a code: Latin letters, digits and underscores."), code="required")
        elif Stage.objects.filter(pipeline=pipeline, code=code).exclude(pk=stage.pk if stage else 0).exists():
            errors.add("code", _("Another stage of this pipeline has this code."), code="duplicate")
        cleaned["code"] = code
    if "kind" in fields:
        if fields["kind"] not in StageKind.values:
            errors.add("kind", _("Choose a kind from the list."), code="invalid_choice")
        else:
            cleaned["kind"] = fields["kind"]
    if "probability" in fields:
        probability = _clean_probability(errors, fields["probability"])
        cleaned["probability"] = probability or 0
    if "max_days" in fields:
        value = fields["max_days"]
        if value in (None, ""):
            cleaned["max_days"] = None
        else:
            try:
                days = int(value)
            except (TypeError, ValueError):
                days = 0
            if days < 1:
                errors.add("max_days", _("The longest stay is at least one day."), code="min_value")
            cleaned["max_days"] = days
    if "required_fields" in fields:
        cleaned["required_fields"] = _clean_choices(
            errors,
            "required_fields",
            fields["required_fields"],
            list(DealField.values),
            _("“%(value)s” is not a deal field a standard may require."),
        )
    if "required_activity_kinds" in fields:
        cleaned["required_activity_kinds"] = _clean_choices(
            errors,
            "required_activity_kinds",
            fields["required_activity_kinds"],
            list(ActivityKind.values),
            _("“%(value)s” is not a kind of activity."),
        )
    for flag in ("activity_with_decision_maker", "requires_signed_contract", "is_active"):
        if flag in fields:
            cleaned[flag] = bool(fields[flag])
    errors.raise_if_any()
    created = stage is None
    kind_changed = stage is not None and cleaned.get("kind", stage.kind) != stage.kind
    stage = stage or Stage(pipeline=pipeline)
    for field, value in cleaned.items():
        setattr(stage, field, value)
    if created:
        ordered = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
        closing = [s for s in ordered if s.kind != StageKind.OPEN]
        stage.order = (ordered[-1].order + 1) if ordered else 1
        stage._history_user = actor  # type: ignore[attr-defined]
        stage.save()
        if stage.kind == StageKind.OPEN and closing:
            opened = [s for s in ordered if s.kind == StageKind.OPEN]
            _renumber(pipeline, [*opened, stage, *closing])
    else:
        stage._history_user = actor  # type: ignore[attr-defined]
        stage.save()
        if kind_changed:
            _recount_passed(pipeline.pk)
    return stage


def _recount_passed(pipeline_id: int) -> None:
    """Which stays count as passed in the funnel depends on the stages' order and kinds: recount them after
    the commit (a background job: seconds on a large base)."""
    from kurator.sales.tasks import recompute_pipeline_passed

    transaction.on_commit(lambda: recompute_pipeline_passed.delay(pipeline_id))


@transaction.atomic
def stage_move_order(*, actor: User, stage: Stage, order: int) -> Stage:
    """Put a stage at position ``order`` (1-based) of its pipeline; the others keep their relative order."""
    ensure(actor, "sales.manage_pipelines")
    stages = list(
        Stage.objects.select_for_update().filter(pipeline_id=stage.pipeline_id).order_by("order", "id")
    )
    current = next(s for s in stages if s.pk == stage.pk)
    stages.remove(current)
    index = min(max(int(order), 1), len(stages) + 1) - 1
    stages.insert(index, current)
    _renumber(current.pipeline, stages)
    _recount_passed(current.pipeline_id)
    current.refresh_from_db()
    return current


@transaction.atomic
def checklist_item_save(
    *, actor: User, stage: Stage, item: ChecklistItem | None = None, text: str
) -> ChecklistItem:
    """Add or reword an item of a stage's checklist (head of sales; R1)."""
    ensure(actor, "sales.manage_pipelines")
    text = one_line(text, 300)
    if not text:
        raise ValidationError({"text": [ValidationError(_("Enter the item's text."), code="required")]})
    if item is not None and item.stage_id != stage.pk:
        raise ValidationError({"item": [ValidationError(_("The item is of another stage."), code="invalid")]})
    if item is None:
        last = ChecklistItem.objects.filter(stage=stage).aggregate(last=Max("order"))["last"]
        item = ChecklistItem(stage=stage, order=0 if last is None else last + 1)
    item.text = text
    item.is_active = True
    item.save()
    return item


@transaction.atomic
def checklist_item_deactivate(*, actor: User, item: ChecklistItem) -> ChecklistItem:
    """Take an item out of the checklist; the ticks already given are kept."""
    ensure(actor, "sales.manage_pipelines")
    item.is_active = False
    item.save(update_fields=["is_active", "updated_at"])
    return item


def stuck_since(deal: Deal, now: datetime | None = None) -> timedelta | None:
    """How long a deal has overstayed its stage's longest stay, or None."""
    if not deal.stage.max_days or deal.stage.is_closed:
        return None
    over = (now or timezone.now()) - deal.stage_entered_at - timedelta(days=deal.stage.max_days)
    return over if over > timedelta(0) else None
