"""Bank statement import in the 1C exchange format and the review queue of unplaced payments (D6).

:func:`bank_statement_import` reads a ``1CClientBankExchange`` file (:mod:`kurator.finance.onec`) and, in one
transaction, records every incoming payment of it:

* Each gets a ``bank_key`` — sha256 of its date, number, amount, payer's account and INN and our account — so
  the same document imported again (the same statement twice, or overlapping periods) adds nothing and is
  counted as already imported.
* The payer is the live client with the payer's INN (and KPP when several clients share the INN, as
  branches do); a merged duplicate's INN leads to the company it was merged into.
* The invoice: a number the purpose names («по счету № 123 от 01.11.2026», «сч. 45/2026», «по сч.№ А-17»)
  among the client's open invoices; else the one open invoice whose balance equals the amount. What a
  matched payment has left over is the client's credit.
* A payment whose payer is not recognised (no INN, unknown INN, several clients with it) waits in the review
  queue (``review_status`` pending, no client, ``review_reason`` saying why). So does a payment whose client
  is known but whose invoice is not: the purpose names an invoice already paid (a likely double payment), or
  no open invoice matches the number or the amount — it waits with the client set. The reviewer calls
  :func:`bank_payment_resolve` (the client and the invoices) or :func:`bank_payment_dismiss` (not a client
  payment: a refund, our own transfer — kept, never deleted).

A malformed file raises :class:`kurator.finance.onec.StatementError` (with the line) before anything is
written; so does a file identical to one imported before (the same sha256: code ``already_imported``), and
no statement is recorded for it. Allocations go through the receivables services, which keep
``Invoice.paid`` and ``Payment.allocated``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.scoping import merged_survivor_id, visible_companies
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.core.cleaning import clean_money, one_line
from kurator.core.errors import EditConflict, FieldErrors
from kurator.finance import onec
from kurator.finance.models import (
    OPEN_INVOICE_STATUSES,
    BankStatement,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentSource,
    ReviewStatus,
)
from kurator.finance.services import receivables

__all__ = [
    "ImportResult",
    "bank_key",
    "bank_payment_dismiss",
    "bank_payment_resolve",
    "bank_statement_import",
    "invoice_numbers_in",
]

PERMISSION = "finance.import_bank_statement"
HISTORY_REASON_LENGTH = 100

# How an imported payment found its invoices (the import's answer says it per payment).
BY_NUMBER = "invoice_number"
BY_AMOUNT = "amount"


# Invoice numbers in a payment purpose --------------------------------------------------------------------

# «счет», «счёт», «счету», «счетам», «сч.», «сч» as a word — not «расчет», not «счет-фактура».
_INVOICE_WORD = re.compile(
    r"\b(?:сч[её]т(?:а|у|ом|е|ам|ов|ами)?|сч)\b\.?(?!\s*-\s*фактур)(?:\s*на\s+оплату)?\s*"
    r"(?:№|N[o°]?\.?|#)?\s*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё\-/_.]*")
_SEPARATOR = re.compile(r"\s*(?:,|;|\s+и\s+)\s*(?:№\s*)?")
_DATED = re.compile(r"\s*от\s*(\d{2})\.(\d{2})\.(\d{4})")
# Latin letters that look Cyrillic: «A-17» typed in a purpose means the invoice «А-17».
_LOOKALIKES = str.maketrans("abcehkmoptxy", "авсенкмортху")


def _normal(number: str) -> str:
    return "".join(number.split()).casefold().translate(_LOOKALIKES).replace("ё", "е")


@dataclass(frozen=True)
class InvoiceRef:
    number: str
    issued_on: Any = None  # a date when the purpose says «от dd.mm.yyyy»


def invoice_numbers_in(purpose: str) -> list[InvoiceRef]:
    """The invoice numbers a payment purpose names, in its order: «Оплата по счету № 123 от 01.11.2026» →
    123 (of 01.11.2026); «по счетам № 12, 13 и 14» → 12, 13, 14. A number must hold a digit."""
    refs: list[InvoiceRef] = []
    for word in _INVOICE_WORD.finditer(purpose or ""):
        position = word.end()
        while True:
            found = _NUMBER.match(purpose, position)
            if found is None:
                break
            number = found.group().rstrip(".-/_")
            if not any(ch.isdigit() for ch in number):
                break
            position = found.end()
            issued_on = None
            dated = _DATED.match(purpose, position)
            if dated is not None:
                try:
                    issued_on = date(int(dated.group(3)), int(dated.group(2)), int(dated.group(1)))
                except ValueError:
                    issued_on = None
                position = dated.end()
            refs.append(InvoiceRef(number, issued_on))
            separator = _SEPARATOR.match(purpose, position)
            if separator is None:
                break
            position = separator.end()
    return refs


def _invoices_named(refs: list[InvoiceRef], invoices: list[Invoice]) -> list[Invoice]:
    """The invoices among ``invoices`` the references name (each once, in the purpose's order)."""
    named: list[Invoice] = []
    for ref in refs:
        wanted = _normal(ref.number)
        candidates = [invoice for invoice in invoices if _normal(invoice.number) == wanted]
        if not candidates and "/" in wanted:
            # «сч. 45/2026»: invoice 45 of 2026 (numbers are unique per year).
            number, _slash, year = wanted.rpartition("/")
            if year.isdigit():
                candidates = [
                    invoice
                    for invoice in invoices
                    if _normal(invoice.number) == number and invoice.year == int(year)
                ]
        if len(candidates) > 1 and ref.issued_on is not None:
            candidates = [invoice for invoice in candidates if invoice.issued_on == ref.issued_on]
        if len(candidates) == 1 and candidates[0] not in named:
            named.append(candidates[0])
    return named


# The import -----------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    statement: BankStatement
    matched: list[Payment] = field(default_factory=list)
    queued: list[Payment] = field(default_factory=list)
    duplicates: list[onec.BankDocument] = field(default_factory=list)
    # payment id → BY_NUMBER or BY_AMOUNT (matched payments only)
    matched_by: dict[int, str] = field(default_factory=dict)


def bank_key(document: onec.BankDocument, our_account: str) -> str:
    """The identity of a bank document across statements."""
    parts = (
        document.date.isoformat(),
        document.number,
        f"{document.amount:.2f}",
        document.payer_account,
        document.payer_inn,
        document.receiver_account or our_account,
    )
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@dataclass
class _Payer:
    company: Company | None
    reason: str = ""


def _payers(actor: User, documents: list[onec.BankDocument]) -> dict[tuple[str, str], _Payer]:
    """(INN, KPP) of each payer → its live client, or why there is none."""
    inns = {d.payer_inn for d in documents if d.payer_inn}
    rows = list(
        visible_companies(actor, include_merged=True)
        .filter(inn__in=inns)
        .values_list("pk", "inn", "kpp", "merged_into_id")
    )
    survivors: dict[int, int | None] = {}
    for pk, _inn, _kpp, merged_into in rows:
        survivors[pk] = pk if merged_into is None else merged_survivor_id(actor, pk)
    companies = visible_companies(actor).in_bulk([s for s in survivors.values() if s is not None])
    found: dict[tuple[str, str], _Payer] = {}
    for document in documents:
        key = (document.payer_inn, document.payer_kpp)
        if key in found:
            continue
        if not document.payer_inn:
            found[key] = _Payer(None, gettext("The statement names no INN of the payer."))
            continue
        with_inn = [(pk, kpp) for pk, inn, kpp, _m in rows if inn == document.payer_inn]
        ids = {survivors[pk] for pk, _kpp in with_inn} - {None}
        if len(ids) > 1 and document.payer_kpp:
            ids = {survivors[pk] for pk, kpp in with_inn if kpp == document.payer_kpp} - {None}
        live = [companies[pk] for pk in ids if pk in companies]
        if not live:
            found[key] = _Payer(None, gettext("No client has INN %(inn)s.") % {"inn": document.payer_inn})
        elif len(live) > 1:
            found[key] = _Payer(
                None,
                gettext("Several clients have INN %(inn)s (KPP %(kpp)s): choose which one paid.")
                % {"inn": document.payer_inn, "kpp": document.payer_kpp or "—"},
            )
        else:
            found[key] = _Payer(live[0])
    return found


def _invoices(company: Company) -> list[Invoice]:
    """All the client's invoices (a purpose may name a paid one), oldest due first."""
    return list(Invoice.objects.filter(company=company).order_by("due_on", "issued_on", "pk"))


@dataclass
class _Placement:
    """How a payment of a known client is placed: ``how`` (BY_NUMBER, BY_AMOUNT) and its ``shares``, or
    ``reason`` why it waits for review."""

    how: str = ""
    shares: list[tuple[Invoice, Decimal]] = field(default_factory=list)
    reason: str = ""


def _placement(company: Company, amount: Decimal, purpose: str) -> _Placement:
    """D6: a payment is matched by an invoice number its purpose names or by the one open invoice of its
    amount; a named invoice already paid (a likely double payment) or no match sends it to review."""
    invoices = _invoices(company)
    open_invoices = [invoice for invoice in invoices if invoice.status in OPEN_INVOICE_STATUSES]
    closed_invoices = [invoice for invoice in invoices if invoice.status not in OPEN_INVOICE_STATUSES]
    named: list[Invoice] = []
    for ref in invoice_numbers_in(purpose):
        found = _invoices_named([ref], open_invoices)
        if not found:
            # A number only a paid (or cancelled) invoice has: a likely double payment, for a person.
            closed = _invoices_named([ref], closed_invoices)
            if closed:
                invoice = closed[0]
                if invoice.status == InvoiceStatus.PAID:
                    text = gettext("The invoice № %(number)s named in the purpose is already paid.")
                else:
                    text = gettext("The invoice № %(number)s named in the purpose is cancelled.")
                return _Placement(reason=text % {"number": invoice.number})
        named.extend(invoice for invoice in found if invoice not in named)
    if named:
        rest = amount
        shares: list[tuple[Invoice, Decimal]] = []
        for invoice in named:
            share = min(rest, invoice.amount - invoice.paid)
            if share > 0:
                shares.append((invoice, share))
                rest -= share
        return _Placement(how=BY_NUMBER, shares=shares)
    same = [invoice for invoice in open_invoices if invoice.amount - invoice.paid == amount]
    if len(same) == 1:
        return _Placement(how=BY_AMOUNT, shares=[(same[0], amount)])
    if not open_invoices:
        return _Placement(reason=gettext("The client has no open invoice to match the payment to."))
    return _Placement(reason=gettext("No open invoice of the client matches the number or the amount."))


def _read(file: Any) -> tuple[bytes, str]:
    if isinstance(file, bytes | bytearray):
        return bytes(file), "statement.txt"
    size = getattr(file, "size", None)
    if size is not None:
        onec.check_size(int(size))
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read()
    return data, str(getattr(file, "name", "") or "statement.txt").rsplit("/", 1)[-1][:255]


@transaction.atomic
def bank_statement_import(*, actor: User, file: Any) -> ImportResult:
    """D6: import the incoming payments of a 1C statement (an uploaded file or bytes); see the module."""
    ensure(actor, PERMISSION)
    data, file_name = _read(file)
    parsed = onec.parse_statement(data)  # StatementError before any write
    digest = hashlib.sha256(data).hexdigest()
    earlier = BankStatement.objects.filter(sha256=digest).order_by("created_at", "pk").first()
    if earlier is not None:
        raise onec.StatementError(
            _("This statement was already imported on %(date)s (%(file)s); nothing was added."),
            code="already_imported",
            params={
                "date": timezone.localtime(earlier.created_at).strftime("%d.%m.%Y"),
                "file": earlier.file_name,
            },
        )

    incoming = parsed.incoming
    keys = [bank_key(document, parsed.account) for document in incoming]
    known = set(Payment.objects.filter(bank_key__in=keys).values_list("bank_key", flat=True))
    statement = BankStatement.objects.create(
        file_name=file_name,
        sha256=digest,
        account=parsed.account,
        date_from=parsed.date_from,
        date_to=parsed.date_to,
        documents_count=len(parsed.documents),
        incoming_count=len(incoming),
        uploaded_by=actor,
    )
    result = ImportResult(statement=statement)
    fresh: list[tuple[onec.BankDocument, str]] = []
    for document, key in zip(incoming, keys, strict=True):
        if key in known:
            result.duplicates.append(document)
        else:
            known.add(key)
            fresh.append((document, key))
    payers = _payers(actor, [document for document, _key in fresh])
    for document, key in fresh:
        payer = payers[(document.payer_inn, document.payer_kpp)]
        placement = (
            _placement(payer.company, document.amount, document.purpose)
            if payer.company is not None
            else _Placement(reason=payer.reason)
        )
        payment = receivables.payment_create(
            actor=actor,
            company=payer.company,
            paid_on=document.paid_on,
            amount=document.amount,
            reference=document.number,
            purpose=document.purpose,
            source=PaymentSource.BANK,
            statement=statement,
            bank_key=key,
            payer_name=document.payer_name,
            payer_inn=document.payer_inn,
            payer_kpp=document.payer_kpp,
            payer_account=document.payer_account,
            review_status=ReviewStatus.NONE if placement.how else ReviewStatus.PENDING,
            review_reason=placement.reason,
        )
        if not placement.how:
            result.queued.append(payment)
            continue
        for invoice, share in placement.shares:
            receivables.payment_allocate(actor=actor, payment=payment, invoice=invoice, amount=share)
        result.matched_by[payment.pk] = placement.how
        payment.refresh_from_db()
        result.matched.append(payment)
    statement.matched_count = len(result.matched)
    statement.queued_count = len(result.queued)
    statement.duplicate_count = len(result.duplicates)
    statement.save(update_fields=["matched_count", "queued_count", "duplicate_count", "updated_at"])
    return result


# The review queue -----------------------------------------------------------------------------------------


def _save(payment: Payment, actor: User, reason: str) -> None:
    payment._history_user = actor  # type: ignore[attr-defined]
    payment._change_reason = reason[:HISTORY_REASON_LENGTH] or None  # type: ignore[attr-defined]
    payment.version += 1
    payment.save()


def _pending(payment: Any, expected_version: int | None, errors: FieldErrors) -> Payment:
    locked = Payment.objects.select_for_update().get(pk=getattr(payment, "pk", payment))
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict
    if locked.review_status != ReviewStatus.PENDING:
        errors.add("payment", _("This payment is not awaiting review any more."), code="not_pending")
    return locked


def _clean_choices(
    errors: FieldErrors, company: Company | None, allocations: Iterable[Any], total: Decimal
) -> list[tuple[Invoice, Decimal]]:
    """(invoice, amount) for each chosen invoice; an invoice given alone (or with no amount) takes what
    fits of its balance from what the payment has left, in the given order."""
    items: list[tuple[Any, Any]] = []
    for item in allocations or ():
        if isinstance(item, dict):
            items.append((item.get("invoice"), item.get("amount")))
        elif isinstance(item, tuple | list):
            items.append((item[0], item[1] if len(item) > 1 else None))
        else:
            items.append((item, None))
    if not items or company is None:
        return []
    ids = []
    for invoice, _amount in items:
        try:
            ids.append(int(getattr(invoice, "pk", invoice)))
        except (TypeError, ValueError):
            ids.append(0)
    found = Invoice.objects.filter(pk__in=ids, company=company).in_bulk()
    rest = total
    pairs: list[tuple[Invoice, Decimal]] = []
    for pk, (_invoice, value) in zip(ids, items, strict=True):
        invoice = found.get(pk)
        if invoice is None:
            errors.add("allocations", _("Choose invoices of the chosen client."), code="invalid_choice")
            continue
        if invoice.status not in OPEN_INVOICE_STATUSES:
            errors.add(
                "allocations",
                _("Invoice %(number)s is not awaiting payment.") % {"number": invoice.number},
                code="invoice_closed",
            )
            continue
        balance = invoice.amount - invoice.paid
        if value in (None, ""):
            amount: Decimal | None = min(balance, rest)
        else:
            amount = clean_money(errors, "allocations", value)
        if amount is None or amount <= 0:
            continue
        if amount > balance:
            errors.add(
                "allocations",
                _("Invoice %(number)s: %(amount)s is more than its balance of %(balance)s.")
                % {"number": invoice.number, "amount": amount, "balance": balance},
                code="beyond_balance",
            )
            continue
        if amount > rest:
            errors.add(
                "allocations",
                _("The allocations exceed the payment's amount (%(total)s).") % {"total": total},
                code="beyond_payment",
            )
            continue
        rest -= amount
        pairs.append((invoice, amount))
    return pairs


@transaction.atomic
def bank_payment_resolve(
    *,
    actor: User,
    payment: Payment,
    company: Any,
    allocations: Iterable[Any] = (),
    expected_version: int | None = None,
) -> Payment:
    """D6: say whose a queued payment is. It is allocated to the chosen invoices (each with an amount, or
    alone: what fits of its balance), or with none chosen to the client's open invoices oldest due first;
    what is left is the client's credit."""
    ensure(actor, PERMISSION)
    errors = FieldErrors()
    locked = _pending(payment, expected_version, errors)
    client = None
    if company not in (None, ""):
        try:
            client = visible_companies(actor).filter(pk=int(getattr(company, "pk", company))).first()
        except (TypeError, ValueError):
            client = None
    if client is None:
        errors.add("company", _("Choose the client who made the payment."), code="required")
    pairs = _clean_choices(errors, client, allocations, locked.amount)
    errors.raise_if_any()
    assert client is not None
    ensure(actor, "finance.change_payment", client)
    locked.company = client
    locked.review_status = ReviewStatus.RESOLVED
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    _save(locked, actor, gettext("Review: the payer is %(company)s") % {"company": client})
    if pairs:
        for invoice, amount in pairs:
            receivables.payment_allocate(actor=actor, payment=locked, invoice=invoice, amount=amount)
    else:
        receivables.payment_allocate_oldest(actor=actor, payment=locked)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def bank_payment_dismiss(
    *, actor: User, payment: Payment, reason: str, expected_version: int | None = None
) -> Payment:
    """D6: a queued payment is not a client's (a refund, our own transfer): it leaves the queue with the
    reason, and is kept."""
    ensure(actor, PERMISSION)
    errors = FieldErrors()
    locked = _pending(payment, expected_version, errors)
    text = one_line(reason, 500)
    if not text:
        errors.add("reason", _("Say why this is not a client payment."), code="required")
    errors.raise_if_any()
    locked.review_status = ReviewStatus.DISMISSED
    locked.review_reason = text
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    _save(locked, actor, gettext("Review: not a client payment"))
    return locked
