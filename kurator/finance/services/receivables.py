"""Every write to invoices, payments, their allocations and the collection log (D6).

Invoices and payments are entered by finance and the head of sales (``finance.change_invoice``,
``finance.change_payment``); the collection log by them and the seller working with the client
(``finance.add_collection_action``). ``Invoice.paid/paid_on/status/year`` and ``Payment.allocated`` are kept
here and nowhere else: every change of an allocation locks the payment and the invoices it touches
(``select_for_update``, in id order) and recomputes their sums from the allocations. A payment's unallocated
rest is the client's credit (an overpayment), which may be allocated later.

Services validate the whole input first and raise one ValidationError naming each bad field (nothing is
written), AccessDenied when the policy refuses, EditConflict on a stale ``expected_version``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.cleaning import clean_date, clean_money, one_line, record_by_id, reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.core.money import format_rub
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    PURCHASE_STATUSES,
    Allocation,
    CollectionAction,
    CollectionKind,
    Contract,
    Invoice,
    InvoiceStatus,
    Order,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.models.common import ZERO
from kurator.finance.models.receivables import invoice_number_key

__all__ = [
    "AllocationError",
    "allocation_remove",
    "collection_action_create",
    "collection_action_update",
    "invoice_cancel",
    "invoice_create",
    "invoice_update",
    "payment_allocate",
    "payment_allocate_oldest",
    "payment_create",
    "payment_update",
]

INVOICE_UPDATE_FIELDS = ("number", "issued_on", "due_on", "amount", "contract", "order", "notes")
PAYMENT_UPDATE_FIELDS = ("paid_on", "amount", "reference", "purpose")
COLLECTION_UPDATE_FIELDS = (
    "kind",
    "happened_on",
    "outcome",
    "invoice",
    "promised_on",
    "promised_amount",
)
# Kinds that carry a promised date and amount.
PROMISE_KINDS = (CollectionKind.PROMISE, CollectionKind.SCHEDULE)
# simple-history's change-reason column.
HISTORY_REASON_LENGTH = 100
# A payment without a client is allowed only while the bank import's review queue holds it.
NO_COMPANY_REVIEW_STATUSES = (ReviewStatus.PENDING, ReviewStatus.DISMISSED)


def _save(record: Any, actor: User | None, reason: str = "", **kwargs: Any) -> None:
    record._history_user = actor
    record._change_reason = (reason or "")[:HISTORY_REASON_LENGTH] or None
    record.save(**kwargs)


def _company(errors: FieldErrors, value: Any, *, required: bool = True) -> Company | None:
    company = record_by_id(Company, value)
    if company is None:
        if required or value not in (None, ""):
            errors.add("company", _("Choose the client."), code="required")
        return None
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), code="company_merged")
    return company


def _required_date(errors: FieldErrors, field: str, value: Any) -> date | None:
    before = len(errors.errors.get(field, []))
    cleaned = clean_date(errors, field, value)
    if cleaned is None and len(errors.errors.get(field, [])) == before:
        errors.add(field, _("Enter the date."), code="required")
    return cleaned


def _required_money(errors: FieldErrors, field: str, value: Any) -> Decimal | None:
    before = len(errors.errors.get(field, []))
    cleaned = clean_money(errors, field, value)
    if cleaned is None and len(errors.errors.get(field, [])) == before:
        errors.add(field, _("Enter the amount."), code="required")
    return cleaned


def _same_client(
    errors: FieldErrors, model: Any, field: str, value: Any, company: Company | None, message: Any
) -> Any:
    record = record_by_id(model, value)
    if value not in (None, "") and record is None:
        errors.add(field, message, code="invalid_choice")
        return None
    if record is not None and company is not None and record.company_id != company.pk:
        errors.add(field, message, code="other_client")
        return None
    return record


def _number_taken(number: str, year: int, exclude_pk: int | None = None) -> bool:
    """Whether the year has this number already, whatever its case (Cyrillic too) and spaces."""
    taken = Invoice.objects.filter(year=year, number_key=invoice_number_key(number))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _duplicate_number_error(number: str, year: int) -> ValidationError:
    return ValidationError(
        {
            "number": [
                ValidationError(
                    _("Invoice number %(number)s was already issued in %(year)s.")
                    % {"number": number, "year": year},
                    code="duplicate",
                )
            ]
        }
    )


def _invoiceable_order(errors: FieldErrors, order: Order | None) -> Order | None:
    """An invoice is issued for a purchase: a confirmed, shipped or completed order, not a draft or a
    cancelled one."""
    if order is None:
        return None
    # The status as stored (an instance passed in may predate its confirmation).
    order.status = Order.objects.filter(pk=order.pk).values_list("status", flat=True).get()
    if order.status not in PURCHASE_STATUSES:
        errors.add(
            "order",
            _("Order %(number)s is %(status)s: only a confirmed, shipped or completed order is invoiced.")
            % {"number": order, "status": order.get_status_display().lower()},
            code="order_not_purchase",
        )
        return None
    return order


def _save_invoice(invoice: Invoice, actor: User | None, reason: str = "") -> None:
    """Save; a number taken by a concurrent writer between the check and the insert is still a field error."""
    try:
        with transaction.atomic():
            _save(invoice, actor, reason)
    except IntegrityError:
        if _number_taken(invoice.number, invoice.year, invoice.pk):
            raise _duplicate_number_error(invoice.number, invoice.year) from None
        raise


# Invoices -------------------------------------------------------------------------------------------------


@transaction.atomic
def invoice_create(
    *,
    actor: User,
    company: Any,
    number: Any,
    issued_on: Any,
    amount: Any,
    due_on: Any = None,
    contract: Any = None,
    order: Any = None,
    notes: str = "",
) -> Invoice:
    """D6: issue an invoice. The number is unique within the year of the invoice date; the due date defaults
    to the invoice date plus the contract's payment term (or the invoice date without a contract); the
    contract and the order must be the client's."""
    ensure(actor, "finance.change_invoice", company if isinstance(company, Company) else None)
    errors = FieldErrors()
    client = _company(errors, company)
    cleaned_number = one_line(number, 50)
    if not cleaned_number:
        errors.add("number", _("Enter the invoice number."), code="required")
    issued = _required_date(errors, "issued_on", issued_on)
    cleaned_amount = _required_money(errors, "amount", amount)
    linked_contract = _same_client(
        errors, Contract, "contract", contract, client, _("Choose a contract of this client.")
    )
    linked_order = _invoiceable_order(
        errors, _same_client(errors, Order, "order", order, client, _("Choose an order of this client."))
    )
    due = clean_date(errors, "due_on", due_on)
    if due is None and issued is not None and "due_on" not in errors.errors:
        term = linked_contract.payment_term_days if linked_contract is not None else 0
        due = issued + timedelta(days=term or 0)
    if due is not None and issued is not None and due < issued:
        errors.add("due_on", _("The due date cannot be before the invoice date."), code="due_before_issue")
    if cleaned_number and issued is not None and _number_taken(cleaned_number, issued.year):
        errors.add(
            "number",
            _("Invoice number %(number)s was already issued in %(year)s.")
            % {"number": cleaned_number, "year": issued.year},
            code="duplicate",
        )
    errors.raise_if_any()
    assert client is not None and issued is not None and due is not None and cleaned_amount is not None
    ensure(actor, "finance.change_invoice", client)

    invoice = Invoice(
        company=client,
        contract=linked_contract,
        order=linked_order,
        number=cleaned_number,
        year=issued.year,
        issued_on=issued,
        due_on=due,
        amount=cleaned_amount,
        notes=str(notes or "").strip(),
        created_by=actor,
    )
    _save_invoice(invoice, actor)
    return invoice


def _locked_invoice(invoice: Any) -> Invoice:
    pk = getattr(invoice, "pk", invoice)
    return Invoice.objects.select_for_update(of=("self",)).select_related("company").get(pk=pk)


@transaction.atomic
def invoice_update(
    *, actor: User, invoice: Invoice, expected_version: int | None = None, **fields: Any
) -> Invoice:
    """D6: correct an invoice. The amount may not go below what is already paid (the status follows it); a
    cancelled invoice is not edited."""
    reject_unknown(fields, INVOICE_UPDATE_FIELDS)
    ensure(actor, "finance.change_invoice", invoice)
    invoice = _locked_invoice(invoice)
    if expected_version is not None and invoice.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    if invoice.status == InvoiceStatus.CANCELLED:
        errors.add("status", _("A cancelled invoice cannot be changed."), code="cancelled")
        errors.raise_if_any()
    cleaned: dict[str, Any] = {}
    if "number" in fields:
        cleaned["number"] = one_line(fields["number"], 50)
        if not cleaned["number"]:
            errors.add("number", _("Enter the invoice number."), code="required")
    if "issued_on" in fields:
        cleaned["issued_on"] = _required_date(errors, "issued_on", fields["issued_on"])
    if "due_on" in fields:
        cleaned["due_on"] = _required_date(errors, "due_on", fields["due_on"])
    if "amount" in fields:
        cleaned["amount"] = _required_money(errors, "amount", fields["amount"])
        if cleaned["amount"] is not None and cleaned["amount"] < invoice.paid:
            errors.add(
                "amount",
                _("The amount cannot be less than what is already paid (%(paid)s).")
                % {"paid": format_rub(invoice.paid)},
                code="below_paid",
            )
    if "contract" in fields:
        cleaned["contract"] = _same_client(
            errors,
            Contract,
            "contract",
            fields["contract"],
            invoice.company,
            _("Choose a contract of this client."),
        )
    if "order" in fields:
        cleaned["order"] = _same_client(
            errors, Order, "order", fields["order"], invoice.company, _("Choose an order of this client.")
        )
        if cleaned["order"] is not None and cleaned["order"].pk != invoice.order_id:
            # The order the invoice already names stays (it may have been cancelled since).
            _invoiceable_order(errors, cleaned["order"])
    if "notes" in fields:
        cleaned["notes"] = str(fields["notes"] or "").strip()
    issued = cleaned.get("issued_on") or invoice.issued_on
    due = cleaned.get("due_on") or invoice.due_on
    if due < issued:
        errors.add("due_on", _("The due date cannot be before the invoice date."), code="due_before_issue")
    number = cleaned.get("number") or invoice.number
    if ("number" in cleaned or "issued_on" in cleaned) and _number_taken(number, issued.year, invoice.pk):
        errors.add(
            "number",
            _("Invoice number %(number)s was already issued in %(year)s.")
            % {"number": number, "year": issued.year},
            code="duplicate",
        )
    errors.raise_if_any()

    changed = [f for f, v in cleaned.items() if getattr(invoice, f) != v]
    if not changed:
        return invoice
    for field in changed:
        setattr(invoice, field, cleaned[field])
    invoice.year = invoice.issued_on.year
    if "amount" in changed:
        _set_invoice_status(invoice, invoice.paid, _last_payment_date(invoice))
    invoice.version += 1
    _save_invoice(invoice, actor)
    return invoice


@transaction.atomic
def invoice_cancel(
    *, actor: User, invoice: Invoice, reason: str, expected_version: int | None = None
) -> Invoice:
    """D6: cancel an invoice issued by mistake: only while nothing is allocated to it; the reason is kept in
    its history (and its notes)."""
    ensure(actor, "finance.change_invoice", invoice)
    invoice = _locked_invoice(invoice)
    if expected_version is not None and invoice.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    text = " ".join(str(reason or "").split())
    if not text:
        errors.add("reason", _("Say why the invoice is cancelled."), code="required")
    if invoice.status == InvoiceStatus.CANCELLED:
        errors.add("status", _("The invoice is already cancelled."), code="cancelled")
    elif invoice.paid > 0 or Allocation.objects.filter(invoice=invoice).exists():
        errors.add(
            "status",
            _("Payments are allocated to this invoice: remove the allocations before cancelling it."),
            code="has_allocations",
        )
    errors.raise_if_any()
    invoice.status = InvoiceStatus.CANCELLED
    note = str(_("Cancelled: %(reason)s") % {"reason": text})
    invoice.notes = f"{invoice.notes}\n{note}".strip()
    invoice.version += 1
    _save(invoice, actor, note)
    return invoice


def _set_invoice_status(invoice: Invoice, paid: Decimal, last_paid_on: date | None) -> None:
    invoice.paid = paid
    if paid >= invoice.amount:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_on = last_paid_on
    else:
        invoice.status = InvoiceStatus.PARTLY_PAID if paid > 0 else InvoiceStatus.ISSUED
        invoice.paid_on = None


def _last_payment_date(invoice: Invoice) -> date | None:
    return Allocation.objects.filter(invoice=invoice).aggregate(last=Max("payment__paid_on"))["last"]


def _refresh_invoice(invoice: Invoice, actor: User | None, reason: str = "") -> None:
    """Recompute paid, paid_on (the date of the payment that brought the last kopeck) and the status of a
    locked invoice from its allocations."""
    sums = Allocation.objects.filter(invoice=invoice).aggregate(
        paid=Sum("amount"), last=Max("payment__paid_on")
    )
    before = (invoice.paid, invoice.paid_on, invoice.status)
    _set_invoice_status(invoice, sums["paid"] or ZERO, sums["last"])
    if (invoice.paid, invoice.paid_on, invoice.status) != before:
        invoice.version += 1
        _save(invoice, actor, reason)


def _refresh_payment(payment: Payment, actor: User | None, reason: str = "") -> None:
    allocated = Allocation.objects.filter(payment=payment).aggregate(total=Sum("amount"))["total"] or ZERO
    if allocated != payment.allocated:
        payment.allocated = allocated
        payment.version += 1
        _save(payment, actor, reason)


# Payments -------------------------------------------------------------------------------------------------


def _lock_invoices(ids: Iterable[int]) -> dict[int, Invoice]:
    """Lock the invoices in id order (two writers never wait on each other crosswise)."""
    return {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    }


class AllocationError(ValidationError):
    """«Invoice N: …» of ``allocations``; also says which invoice (``invoice_id``) and the problem alone
    (``text``), so that a form shows it on the invoice's row."""

    def __init__(self, message: Any, *, code: str, invoice_id: int, text: Any) -> None:
        super().__init__(message, code=code)
        self.invoice_id = invoice_id
        self.text = text


def _allocation_error(errors: FieldErrors, invoice: Invoice, problem: Any, code: str) -> None:
    errors.add(
        "allocations",
        AllocationError(
            _("Invoice %(number)s: %(problem)s") % {"number": invoice.number, "problem": problem},
            code=code,
            invoice_id=invoice.pk,
            text=problem,
        ),
    )


def _clean_allocations(
    errors: FieldErrors, company: Company | None, allocations: Iterable[Any], rest: Decimal | None
) -> list[tuple[Invoice, Decimal]]:
    """(locked invoice, amount) pairs: each invoice the client's and open, each amount within its balance,
    the whole within ``rest`` (what the payment has left); problems are recorded under ``allocations``."""
    pairs: list[tuple[Any, Any]] = []
    for item in allocations or ():
        if isinstance(item, dict):
            pairs.append((item.get("invoice"), item.get("amount")))
        else:
            invoice, amount = item
            pairs.append((invoice, amount))
    if not pairs:
        return []
    ids: list[int] = []
    for invoice, _amount in pairs:
        try:
            ids.append(int(getattr(invoice, "pk", invoice)))
        except (TypeError, ValueError):
            errors.add("allocations", _("Choose an invoice of this client."), code="invalid_choice")
            return []
    if len(set(ids)) != len(ids):
        errors.add("allocations", _("Each invoice may appear once in the allocation."), code="duplicate")
        return []
    if company is None:
        errors.add(
            "allocations",
            _("Choose the client before allocating the payment to invoices."),
            code="no_company",
        )
        return []
    locked = _lock_invoices(ids)
    cleaned: list[tuple[Invoice, Decimal]] = []
    for pk, (_invoice, value) in zip(ids, pairs, strict=True):
        invoice = locked.get(pk)
        if invoice is None or invoice.company_id != company.pk:
            errors.add("allocations", _("Choose an invoice of this client."), code="invalid_choice")
            continue
        if invoice.status not in OPEN_INVOICE_STATUSES:
            _allocation_error(errors, invoice, _("The invoice is not awaiting payment."), "invoice_closed")
            continue
        inner = FieldErrors()
        amount = clean_money(inner, "amount", value)
        if amount is None:
            message = inner.errors["amount"][0].messages[0] if inner.errors else _("Enter the amount.")
            _allocation_error(errors, invoice, message, "invalid_amount")
            continue
        balance = invoice.amount - invoice.paid
        if amount > balance:
            _allocation_error(
                errors,
                invoice,
                _("%(amount)s is more than its balance of %(balance)s.")
                % {"amount": format_rub(amount), "balance": format_rub(balance)},
                "beyond_balance",
            )
            continue
        cleaned.append((invoice, amount))
    total = sum((amount for _i, amount in cleaned), ZERO)
    if rest is not None and total > rest:
        errors.add(
            "allocations",
            _("The allocations (%(total)s) exceed what the payment has left to allocate (%(rest)s).")
            % {"total": format_rub(total), "rest": format_rub(rest)},
            code="beyond_payment",
        )
    return cleaned


def _add_allocation(payment: Payment, invoice: Invoice, amount: Decimal, actor: User | None) -> Allocation:
    existing = Allocation.objects.filter(payment=payment, invoice=invoice).first()
    if existing is not None:
        existing.amount += amount
        existing.save(update_fields=["amount"])
        return existing
    return Allocation.objects.create(payment=payment, invoice=invoice, amount=amount, created_by=actor)


def _allocation_reason(payment: Payment, invoice: Invoice, amount: Decimal) -> str:
    return str(
        _("Payment %(payment)s allocated %(amount)s to invoice %(invoice)s")
        % {"payment": payment, "amount": format_rub(amount), "invoice": invoice.number}
    )


def _apply(payment: Payment, pairs: list[tuple[Invoice, Decimal]], actor: User | None) -> list[Allocation]:
    """Write allocations of a locked payment to locked invoices and bring every sum up to date."""
    made = [_add_allocation(payment, invoice, amount, actor) for invoice, amount in pairs]
    for invoice, amount in pairs:
        _refresh_invoice(invoice, actor, _allocation_reason(payment, invoice, amount))
    if pairs:
        _refresh_payment(payment, actor, str(_("Allocated to invoices")))
        _keep_promises(payment, [invoice for invoice, _a in pairs])
    return made


@transaction.atomic
def payment_create(
    *,
    actor: User,
    company: Any,
    paid_on: Any,
    amount: Any,
    reference: str = "",
    purpose: str = "",
    allocations: Iterable[Any] = (),
    source: str = PaymentSource.MANUAL,
    statement: Any = None,
    bank_key: str | None = None,
    payer_name: str = "",
    payer_inn: str = "",
    payer_kpp: str = "",
    payer_account: str = "",
    review_status: str = "",
    review_reason: str = "",
) -> Payment:
    """D6: record money received, allocated at once to one or several open invoices of the client (each
    within its balance, all within the payment); the rest is the client's credit. A bank payment whose payer
    is not recognised (``review_status`` pending) may have no client until it is resolved."""
    from kurator.finance.models import BankStatement

    ensure(actor, "finance.change_payment", company if isinstance(company, Company) else None)
    errors = FieldErrors()
    if review_status not in ReviewStatus.values:
        errors.add("review_status", _("Choose a valid review status."), code="invalid_choice")
    if source not in PaymentSource.values:
        errors.add("source", _("Choose a valid source."), code="invalid_choice")
    client = _company(errors, company, required=review_status not in NO_COMPANY_REVIEW_STATUSES)
    day = _required_date(errors, "paid_on", paid_on)
    cleaned_amount = _required_money(errors, "amount", amount)
    linked_statement = record_by_id(BankStatement, statement)
    if statement not in (None, "") and linked_statement is None:
        errors.add("statement", _("The bank statement was not found."), code="invalid_choice")
    key = (bank_key or "").strip()[:64] or None
    if key is not None and Payment.objects.filter(bank_key=key).exists():
        errors.add("bank_key", _("This bank document has already been imported."), code="duplicate")
    if review_status == ReviewStatus.PENDING and allocations:
        errors.add(
            "allocations",
            _("A payment awaiting review is allocated when it is resolved."),
            code="in_review",
        )
        pairs: list[tuple[Invoice, Decimal]] = []
    else:
        pairs = _clean_allocations(errors, client, allocations, cleaned_amount)
    errors.raise_if_any()
    assert day is not None and cleaned_amount is not None
    if client is not None:
        ensure(actor, "finance.change_payment", client)

    payment = Payment(
        company=client,
        paid_on=day,
        amount=cleaned_amount,
        reference=one_line(reference, 100),
        purpose=str(purpose or "").strip(),
        source=source,
        statement=linked_statement,
        bank_key=key,
        payer_name=one_line(payer_name, 500),
        payer_inn=one_line(payer_inn, 12),
        payer_kpp=one_line(payer_kpp, 9),
        payer_account=one_line(payer_account, 20),
        review_status=review_status,
        review_reason=one_line(review_reason, 500),
        created_by=actor,
    )
    _save(payment, actor)
    _apply(payment, pairs, actor)
    return payment


def _locked_payment(payment: Any) -> Payment:
    pk = getattr(payment, "pk", payment)
    return Payment.objects.select_for_update(of=("self",)).select_related("company").get(pk=pk)


@transaction.atomic
def payment_update(
    *, actor: User, payment: Payment, expected_version: int | None = None, **fields: Any
) -> Payment:
    """D6: correct a payment's date, amount (not below what is allocated), reference or purpose."""
    reject_unknown(fields, PAYMENT_UPDATE_FIELDS)
    ensure(actor, "finance.change_payment", payment.company)
    payment = _locked_payment(payment)
    if expected_version is not None and payment.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if "paid_on" in fields:
        cleaned["paid_on"] = _required_date(errors, "paid_on", fields["paid_on"])
    if "amount" in fields:
        cleaned["amount"] = _required_money(errors, "amount", fields["amount"])
        if cleaned["amount"] is not None and cleaned["amount"] < payment.allocated:
            errors.add(
                "amount",
                _("The amount cannot be less than what is allocated to invoices (%(allocated)s).")
                % {"allocated": format_rub(payment.allocated)},
                code="below_allocated",
            )
    if "reference" in fields:
        cleaned["reference"] = one_line(fields["reference"], 100)
    if "purpose" in fields:
        cleaned["purpose"] = str(fields["purpose"] or "").strip()
    errors.raise_if_any()
    changed = [f for f, v in cleaned.items() if getattr(payment, f) != v]
    if not changed:
        return payment
    for field in changed:
        setattr(payment, field, cleaned[field])
    payment.version += 1
    _save(payment, actor)
    if "paid_on" in changed:
        # paid_on of the invoices it settled follows the payment's date.
        invoice_ids = list(Allocation.objects.filter(payment=payment).values_list("invoice_id", flat=True))
        for invoice in _lock_invoices(invoice_ids).values():
            _refresh_invoice(invoice, actor, str(_("Payment date corrected")))
    return payment


def _allocatable(errors: FieldErrors, payment: Payment) -> None:
    if payment.company_id is None or payment.review_status == ReviewStatus.PENDING:
        errors.add(
            "payment",
            _("The payment awaits review: resolve whose it is before allocating it."),
            code="in_review",
        )
    elif payment.review_status == ReviewStatus.DISMISSED:
        errors.add("payment", _("The payment was dismissed as not a client payment."), code="dismissed")


@transaction.atomic
def payment_allocate(*, actor: User, payment: Payment, invoice: Invoice, amount: Any) -> Allocation:
    """D6: allocate part of a payment's credit to an open invoice of the same client (within the invoice's
    balance and the payment's unallocated rest). Allocating again to the same invoice adds to its
    allocation."""
    ensure(actor, "finance.change_payment", payment.company)
    payment = _locked_payment(payment)
    errors = FieldErrors()
    _allocatable(errors, payment)
    errors.raise_if_any()
    pairs = _clean_allocations(
        errors, payment.company, [(invoice, amount)], payment.amount - payment.allocated
    )
    if errors.errors:
        # One invoice: the allocation problem is the amount's or the invoice's.
        field = (
            "amount"
            if any(
                e.code in ("invalid_amount", "beyond_balance", "beyond_payment")
                for e in errors.errors["allocations"]
            )
            else "invoice"
        )
        raise ValidationError({field: errors.errors["allocations"]})
    return _apply(payment, pairs, actor)[0]


@transaction.atomic
def payment_allocate_oldest(*, actor: User, payment: Payment) -> list[Allocation]:
    """D6: allocate what is left of a payment to the client's open invoices, the oldest due first; what
    still remains is the client's credit."""
    ensure(actor, "finance.change_payment", payment.company)
    payment = _locked_payment(payment)
    errors = FieldErrors()
    _allocatable(errors, payment)
    errors.raise_if_any()
    rest = payment.amount - payment.allocated
    if rest <= 0:
        return []
    assert payment.company_id is not None
    open_invoices = (
        Invoice.objects.select_for_update()
        .filter(company_id=payment.company_id, status__in=OPEN_INVOICE_STATUSES)
        .order_by("due_on", "issued_on", "pk")
    )
    pairs: list[tuple[Invoice, Decimal]] = []
    for invoice in open_invoices:
        if rest <= 0:
            break
        share = min(rest, invoice.amount - invoice.paid)
        if share > 0:
            pairs.append((invoice, share))
            rest -= share
    return _apply(payment, pairs, actor)


@transaction.atomic
def allocation_remove(*, actor: User, allocation: Allocation, reason: str = "") -> None:
    """D6: take back an allocation made in error: the invoice's balance and the payment's credit grow by its
    amount; the removal is recorded in the history of both."""
    ensure(actor, "finance.change_payment", allocation.payment.company)
    payment = _locked_payment(allocation.payment_id)
    invoice = _locked_invoice(allocation.invoice_id)
    current = Allocation.objects.filter(pk=allocation.pk).first()
    if current is None:
        raise ValidationError(
            {"allocation": [ValidationError(_("The allocation was already removed."), code="gone")]}
        )
    if invoice.status == InvoiceStatus.CANCELLED:  # pragma: no cover - cancel refuses allocated invoices
        raise ValidationError(
            {"allocation": [ValidationError(_("The invoice is cancelled."), code="cancelled")]}
        )
    note = str(
        _("Allocation of %(amount)s from payment %(payment)s to invoice %(invoice)s removed")
        % {"amount": format_rub(current.amount), "payment": payment, "invoice": invoice.number}
    )
    text = " ".join(str(reason or "").split())
    if text:
        note = f"{note}: {text}"
    current.delete()
    _refresh_invoice(invoice, actor, note)
    _refresh_payment(payment, actor, note)
    # The promises on this invoice that were kept by it are open again.
    CollectionAction.objects.filter(invoice=invoice, promise_kept=True).exclude(
        invoice__status=InvoiceStatus.PAID
    ).update(promise_kept=None)


# Promises ---------------------------------------------------------------------------------------------------


def _keep_promises(payment: Payment, invoices: list[Invoice]) -> None:
    """A promise is kept when the invoice it names is paid by the promised date; a promise about the
    client's overdue receivables when nothing due before the promised date is still open."""
    assert payment.company_id is not None
    settled = [invoice.pk for invoice in invoices if invoice.status == InvoiceStatus.PAID]
    if settled:
        CollectionAction.objects.filter(
            invoice_id__in=settled,
            promised_on__gte=payment.paid_on,
            promise_kept__isnull=True,
        ).update(promise_kept=True)
    for action in CollectionAction.objects.filter(
        company_id=payment.company_id,
        invoice__isnull=True,
        promised_on__gte=payment.paid_on,
        promise_kept__isnull=True,
    ):
        assert action.promised_on is not None
        if not Invoice.objects.filter(
            company_id=payment.company_id, status__in=OPEN_INVOICE_STATUSES, due_on__lt=action.promised_on
        ).exists():
            CollectionAction.objects.filter(pk=action.pk).update(promise_kept=True)


# Collection log ---------------------------------------------------------------------------------------------


def _clean_collection(
    errors: FieldErrors, company: Company, values: dict[str, Any], current: CollectionAction | None
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "kind" in values:
        kind = values["kind"]
        if kind not in CollectionKind.values:
            errors.add("kind", _("Choose what was done."), code="invalid_choice")
        cleaned["kind"] = kind
    if "happened_on" in values:
        cleaned["happened_on"] = _required_date(errors, "happened_on", values["happened_on"])
        if cleaned["happened_on"] is not None and cleaned["happened_on"] > timezone.localdate():
            errors.add("happened_on", _("The date of the action cannot be in the future."), code="in_future")
    if "outcome" in values:
        cleaned["outcome"] = str(values["outcome"] or "").strip()
    if "invoice" in values:
        cleaned["invoice"] = _same_client(
            errors, Invoice, "invoice", values["invoice"], company, _("Choose an invoice of this client.")
        )
    if "promised_on" in values:
        cleaned["promised_on"] = clean_date(errors, "promised_on", values["promised_on"])
    if "promised_amount" in values:
        cleaned["promised_amount"] = clean_money(errors, "promised_amount", values["promised_amount"])

    def value(field: str) -> Any:
        return cleaned[field] if field in cleaned else getattr(current, field, None)

    kind = value("kind")
    if kind == CollectionKind.PROMISE and value("promised_on") is None and "promised_on" not in errors.errors:
        errors.add("promised_on", _("Enter the date the client promised to pay by."), code="required")
    if kind not in PROMISE_KINDS and kind in CollectionKind.values:
        # Only a promise or a schedule carries a promised date and amount.
        if value("promised_on") is not None:
            errors.add(
                "promised_on",
                _("Only a promise or a payment schedule has a promised date."),
                code="not_a_promise",
            )
        if value("promised_amount") is not None:
            errors.add(
                "promised_amount",
                _("Only a promise or a payment schedule has a promised amount."),
                code="not_a_promise",
            )
    happened, promised = value("happened_on"), value("promised_on")
    if happened is not None and promised is not None and promised < happened:
        errors.add(
            "promised_on",
            _("The promised date cannot be before the date of the action."),
            code="before_action",
        )
    return cleaned


@transaction.atomic
def collection_action_create(
    *,
    actor: User,
    company: Company,
    kind: str,
    happened_on: Any,
    outcome: str = "",
    invoice: Any = None,
    promised_on: Any = None,
    promised_amount: Any = None,
) -> CollectionAction:
    """D6: record a step of collecting the client's debt (a call, a letter, a claim, court, an agreed
    schedule, a promised payment date) — who (the actor), when, with what outcome."""
    company = Company.objects.get(pk=getattr(company, "pk", company))
    ensure(actor, "finance.add_collection_action", company)
    errors = FieldErrors()
    if company.merged_into_id is not None:
        errors.add("company", _("This company was merged into another one."), code="company_merged")
    cleaned = _clean_collection(
        errors,
        company,
        {
            "kind": kind,
            "happened_on": happened_on,
            "outcome": outcome,
            "invoice": invoice,
            "promised_on": promised_on,
            "promised_amount": promised_amount,
        },
        None,
    )
    errors.raise_if_any()
    action = CollectionAction(company=company, author=actor, **cleaned)
    _save(action, actor)
    return action


@transaction.atomic
def collection_action_update(*, actor: User, action: CollectionAction, **fields: Any) -> CollectionAction:
    """D6: correct a step of the collection log; a changed promised date is watched afresh."""
    reject_unknown(fields, COLLECTION_UPDATE_FIELDS)
    action = (
        CollectionAction.objects.select_for_update(of=("self",)).select_related("company").get(pk=action.pk)
    )
    ensure(actor, "finance.add_collection_action", action.company)
    errors = FieldErrors()
    cleaned = _clean_collection(errors, action.company, fields, action)
    errors.raise_if_any()
    changed = [f for f, v in cleaned.items() if getattr(action, f) != v]
    if not changed:
        return action
    for field in changed:
        setattr(action, field, cleaned[field])
    if {"promised_on", "invoice", "kind"} & set(changed):
        action.promise_kept = None
    if action.kind not in PROMISE_KINDS:
        action.promise_kept = None
    _save(action, actor)
    return action
