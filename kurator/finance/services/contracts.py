"""Every write to contracts and their obligations (D5).

A contract is kept by the client's curator, the owners of the client's deals and the head of sales
(``finance.change_contract``; the object is the company on creation, the contract afterwards). Services
validate the whole input first and raise one ValidationError naming each bad field (nothing is written),
AccessDenied when the policy refuses, EditConflict on a stale ``expected_version`` (409).

Dates must be in order: a contract is not executed or terminated before it is signed, and is not valid until
a day before it is valid from. The status needs its date: signed and in execution need the signing date,
executed the execution date, terminated the termination date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.cleaning import clean_date, clean_money, one_line, record_by_id, reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.finance.models import Contract, ContractStatus, Obligation, ObligationParty

__all__ = [
    "CONTRACT_FIELDS",
    "OBLIGATION_FIELDS",
    "contract_create",
    "contract_set_status",
    "contract_update",
    "obligation_create",
    "obligation_mark_done",
    "obligation_reopen",
    "obligation_update",
]

PERMISSION = "finance.change_contract"
CONTRACT_FIELDS = (
    "deal",
    "number",
    "subject",
    "status",
    "amount",
    "signed_on",
    "valid_from",
    "valid_until",
    "execution_planned_on",
    "executed_on",
    "terminated_on",
    "payment_term_days",
    "prepayment_percent",
    "delivery_terms",
    "notes",
)
DATE_FIELDS = (
    "signed_on",
    "valid_from",
    "valid_until",
    "execution_planned_on",
    "executed_on",
    "terminated_on",
)
OBLIGATION_FIELDS = ("party", "description", "due_on", "done_on", "responsible")
MAX_PAYMENT_TERM_DAYS = 365
# simple-history's change-reason column.
HISTORY_REASON_LENGTH = 100


def _save(record: Any, actor: User, reason: str = "") -> None:
    record._history_user = actor
    record._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None
    record.save()


# Cleaning -------------------------------------------------------------------------------------------------


def _clean_payment_term(errors: FieldErrors, value: Any) -> int | None:
    if value in (None, ""):
        return 0
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add("payment_term_days", _("Enter the payment term as a whole number of days."), "invalid")
        return None
    if not 0 <= days <= MAX_PAYMENT_TERM_DAYS:
        errors.add(
            "payment_term_days",
            _("The payment term is between 0 and %(max)s days.") % {"max": MAX_PAYMENT_TERM_DAYS},
            "out_of_range",
        )
        return None
    return days


def _clean_percent(errors: FieldErrors, value: Any) -> Decimal | None:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        percent = Decimal(str(value).strip().replace(",", ".").removesuffix("%").strip())
    except (InvalidOperation, ValueError):
        percent = None
    if percent is None or not percent.is_finite():
        errors.add("prepayment_percent", _("Enter the prepayment as a number of per cent."), "invalid")
        return None
    if not Decimal(0) <= percent <= Decimal(100):
        errors.add("prepayment_percent", _("The prepayment is between 0 and 100%."), "out_of_range")
        return None
    if percent != percent.quantize(Decimal("0.01")):
        errors.add("prepayment_percent", _("Enter the prepayment with at most two decimals."), "invalid")
        return None
    return percent.quantize(Decimal("0.01"))


def _clean_status(errors: FieldErrors, value: Any) -> str | None:
    if value in (None, ""):
        return ContractStatus.DRAFT
    if value not in ContractStatus.values:
        errors.add("status", _("Choose a status of the list."), "invalid_choice")
        return None
    return str(value)


def _clean_deal(errors: FieldErrors, company: Company, value: Any) -> Any:
    from kurator.sales.models import Deal

    if value in (None, ""):
        return None
    deal = record_by_id(Deal, value)
    if deal is None:
        errors.add("deal", _("The deal was not found."), "invalid_choice")
        return None
    if deal.company_id != company.pk:
        errors.add(
            "deal", _("The deal belongs to another client; choose a deal of this client."), "other_client"
        )
        return None
    return deal


def _clean_contract_fields(errors: FieldErrors, company: Company, fields: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "number" in fields:
        cleaned["number"] = one_line(fields["number"], 100)
        if not cleaned["number"]:
            errors.add("number", _("Enter the number of the contract."), "required")
    if "subject" in fields:
        cleaned["subject"] = one_line(fields["subject"], 500)
    if "status" in fields:
        cleaned["status"] = _clean_status(errors, fields["status"])
    if "amount" in fields:
        cleaned["amount"] = clean_money(errors, "amount", fields["amount"])
    for name in DATE_FIELDS:
        if name in fields:
            cleaned[name] = clean_date(errors, name, fields[name])
    if "payment_term_days" in fields:
        cleaned["payment_term_days"] = _clean_payment_term(errors, fields["payment_term_days"])
    if "prepayment_percent" in fields:
        cleaned["prepayment_percent"] = _clean_percent(errors, fields["prepayment_percent"])
    if "deal" in fields:
        cleaned["deal"] = _clean_deal(errors, company, fields["deal"])
    for name in ("delivery_terms", "notes"):
        if name in fields:
            cleaned[name] = str(fields[name] or "").strip()
    return cleaned


def _check_consistency(
    errors: FieldErrors, company: Company, state: dict[str, Any], pk: int | None, changed: set[str]
) -> None:
    """The rules between fields, on the contract as it would be saved (D5). A field already refused is not
    checked again."""
    number = state.get("number")
    if number and "number" not in errors.errors and "number" in changed:
        taken = Contract.objects.filter(company=company, number__iexact=number)
        if pk is not None:
            taken = taken.exclude(pk=pk)
        if taken.exists():
            errors.add(
                "number",
                _("This client already has a contract number %(number)s.") % {"number": number},
                "duplicate",
            )
    signed, executed = state.get("signed_on"), state.get("executed_on")
    terminated = state.get("terminated_on")
    valid_from, valid_until = state.get("valid_from"), state.get("valid_until")
    if signed and executed and executed < signed and "executed_on" not in errors.errors:
        errors.add("executed_on", _("A contract cannot be executed before it is signed."), "before_signing")
    if signed and terminated and terminated < signed and "terminated_on" not in errors.errors:
        errors.add(
            "terminated_on", _("A contract cannot be terminated before it is signed."), "before_signing"
        )
    if valid_from and valid_until and valid_until < valid_from and "valid_until" not in errors.errors:
        errors.add(
            "valid_until", _("The contract cannot be valid until a day before it is valid from."), "order"
        )
    status = state.get("status")
    if "status" in errors.errors or status is None:
        return
    needs_signing = status in (ContractStatus.SIGNED, ContractStatus.IN_EXECUTION, ContractStatus.EXECUTED)
    if needs_signing and not signed and "signed_on" not in errors.errors:
        errors.add("signed_on", _("A signed contract needs its signing date."), "required")
    if status == ContractStatus.EXECUTED and not executed and "executed_on" not in errors.errors:
        errors.add("executed_on", _("An executed contract needs its execution date."), "required")
    if status == ContractStatus.TERMINATED and not terminated and "terminated_on" not in errors.errors:
        errors.add("terminated_on", _("A terminated contract needs its termination date."), "required")


def _company_open(errors: FieldErrors, company: Company) -> None:
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), "company_merged")


# Contracts ------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_create(*, actor: User, company: Company, **fields: Any) -> Contract:
    """Register a contract with a client (D5). ``number`` is required and unique per client; the deal, if
    any, is one of this client's."""
    reject_unknown(fields, CONTRACT_FIELDS)
    ensure(actor, PERMISSION, company)
    errors = FieldErrors()
    _company_open(errors, company)
    fields.setdefault("number", "")
    cleaned = _clean_contract_fields(errors, company, fields)
    state = {"status": ContractStatus.DRAFT, **cleaned}
    _check_consistency(errors, company, state, None, set(cleaned))
    errors.raise_if_any()
    contract = Contract(company=company, created_by=actor, **cleaned)
    _save(contract, actor)
    return contract


def _locked_contract(contract: Contract) -> Contract:
    return (
        Contract.objects.select_for_update(of=("self",)).select_related("company", "deal").get(pk=contract.pk)
    )


@transaction.atomic
def contract_update(
    *, actor: User, contract: Contract, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Contract:
    """Edit a contract's terms, dates or status (D5). ``expected_version`` guards against overwriting a
    colleague's edit (EditConflict, 409). Every change is kept in the contract's history."""
    reject_unknown(fields, CONTRACT_FIELDS)
    contract = _locked_contract(contract)
    ensure(actor, PERMISSION, contract)
    if expected_version is not None and contract.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned = _clean_contract_fields(errors, contract.company, fields)
    state = {name: getattr(contract, name) for name in CONTRACT_FIELDS}
    state.update({k: v for k, v in cleaned.items() if v is not None or k not in errors.errors})
    changed = {name for name, value in cleaned.items() if getattr(contract, name) != value}
    _check_consistency(errors, contract.company, state, contract.pk, changed)
    errors.raise_if_any()
    if not changed:
        return contract
    for name in changed:
        setattr(contract, name, cleaned[name])
    contract.version += 1
    _save(contract, actor, reason)
    return contract


@transaction.atomic
def contract_set_status(
    *,
    actor: User,
    contract: Contract,
    status: Any,
    on: Any = None,
    expected_version: int | None = None,
) -> Contract:
    """Move a contract to ``status``; ``on`` is the date of the step (signing, execution, termination),
    today when not given. The date already recorded for the step is kept."""
    errors = FieldErrors()
    cleaned_status = _clean_status(errors, status)
    day = clean_date(errors, "on", on) or timezone.localdate()
    errors.raise_if_any()
    fields: dict[str, Any] = {"status": cleaned_status}
    date_field = {
        ContractStatus.SIGNED: "signed_on",
        ContractStatus.IN_EXECUTION: "signed_on",
        ContractStatus.EXECUTED: "executed_on",
        ContractStatus.TERMINATED: "terminated_on",
    }.get(ContractStatus(cleaned_status or ContractStatus.DRAFT))
    if date_field is not None and getattr(contract, date_field) is None:
        fields[date_field] = day
    return contract_update(actor=actor, contract=contract, expected_version=expected_version, **fields)


# Obligations ----------------------------------------------------------------------------------------------


def _clean_obligation_fields(
    errors: FieldErrors, fields: dict[str, Any], current_responsible_id: int | None = None
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "party" in fields:
        if fields["party"] not in ObligationParty.values:
            errors.add("party", _("Say whose obligation it is: ours or the client's."), "invalid_choice")
        else:
            cleaned["party"] = str(fields["party"])
    if "description" in fields:
        cleaned["description"] = one_line(fields["description"], 500)
        if not cleaned["description"]:
            errors.add("description", _("Say what is to be done."), "required")
    if "due_on" in fields:
        cleaned["due_on"] = clean_date(errors, "due_on", fields["due_on"])
        if cleaned["due_on"] is None and "due_on" not in errors.errors:
            errors.add("due_on", _("Enter the due date."), "required")
    if "done_on" in fields:
        cleaned["done_on"] = _clean_done_on(errors, fields["done_on"])
    if "responsible" in fields:
        value = fields["responsible"]
        person = record_by_id(User, value)
        # Someone who has left may stay responsible for what they already answered for, not be named anew.
        kept = person is not None and person.pk == current_responsible_id
        if value not in (None, "") and (person is None or not (person.is_active or kept)):
            errors.add("responsible", _("Choose an active user."), "invalid_choice")
            person = None
        cleaned["responsible"] = person
    return cleaned


def _clean_done_on(errors: FieldErrors, value: Any) -> date | None:
    done = clean_date(errors, "done_on", value)
    if done is not None and done > timezone.localdate():
        errors.add("done_on", _("An obligation cannot be done in the future."), "future")
        return None
    return done


@transaction.atomic
def obligation_create(
    *,
    actor: User,
    contract: Contract,
    party: Any,
    description: Any,
    due_on: Any,
    done_on: Any = None,
    responsible: Any = None,
) -> Obligation:
    """Add an obligation of one side under a contract (D5): what, whose, by when, who answers for it."""
    contract = Contract.objects.select_related("company", "deal").get(pk=contract.pk)
    ensure(actor, PERMISSION, contract)
    errors = FieldErrors()
    cleaned = _clean_obligation_fields(
        errors,
        {
            "party": party,
            "description": description,
            "due_on": due_on,
            "done_on": done_on,
            "responsible": responsible,
        },
    )
    errors.raise_if_any()
    obligation = Obligation(contract=contract, **cleaned)
    _save(obligation, actor)
    return obligation


def _locked_obligation(obligation: Obligation) -> Obligation:
    return (
        Obligation.objects.select_for_update(of=("self",))
        .select_related("contract__company", "contract__deal")
        .get(pk=obligation.pk)
    )


@transaction.atomic
def obligation_update(
    *, actor: User, obligation: Obligation, expected_version: int | None = None, **fields: Any
) -> Obligation:
    """Edit an obligation; a stale ``expected_version`` is an EditConflict."""
    reject_unknown(fields, OBLIGATION_FIELDS)
    obligation = _locked_obligation(obligation)
    ensure(actor, PERMISSION, obligation.contract)
    if expected_version is not None and obligation.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned = _clean_obligation_fields(errors, fields, obligation.responsible_id)
    errors.raise_if_any()
    changed = [name for name, value in cleaned.items() if getattr(obligation, name) != value]
    if not changed:
        return obligation
    for name in changed:
        setattr(obligation, name, cleaned[name])
    obligation.version += 1
    _save(obligation, actor)
    return obligation


@transaction.atomic
def obligation_mark_done(
    *, actor: User, obligation: Obligation, done_on: Any = None, expected_version: int | None = None
) -> Obligation:
    """Mark an obligation done on ``done_on`` (today when not given; never in the future)."""
    obligation = _locked_obligation(obligation)
    ensure(actor, PERMISSION, obligation.contract)
    if expected_version is not None and obligation.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    day = _clean_done_on(errors, done_on) if done_on not in (None, "") else timezone.localdate()
    if obligation.done_on is not None:
        errors.add("done_on", _("This obligation is already marked done."), "already_done")
    errors.raise_if_any()
    obligation.done_on = day
    obligation.version += 1
    _save(obligation, actor)
    return obligation


@transaction.atomic
def obligation_reopen(
    *, actor: User, obligation: Obligation, expected_version: int | None = None
) -> Obligation:
    """Take back a "done" mark: the obligation is open again (and overdue if its due date has passed)."""
    obligation = _locked_obligation(obligation)
    ensure(actor, PERMISSION, obligation.contract)
    if expected_version is not None and obligation.version != expected_version:
        raise EditConflict
    if obligation.done_on is None:
        errors = FieldErrors()
        errors.add("done_on", _("This obligation is not marked done."), "not_done")
        errors.raise_if_any()
    obligation.done_on = None
    obligation.version += 1
    _save(obligation, actor)
    return obligation
