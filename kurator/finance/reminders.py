"""Finance reminder jobs, registered in ``kurator.activities.reminders.JOBS``.

Each job is a function ``remind_<what>(*, now=None) -> int`` returning how many notifications it created, and
is idempotent (every notice has a ``dedup_key``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

# --- broken payment promises (D6; RECEIVABLES) ----------------------------------------------------------

KIND_PROMISE_BROKEN = "promise_broken"


def remind_broken_promises(*, now: datetime | None = None) -> int:
    """D6: a promised payment date that has passed while the invoice it names (or, without an invoice, the
    client's receivables due before that date) is still unpaid marks the promise broken and tells the
    client's curator — once (the promise is decided, and the notice has a dedup key). A promise whose debt
    was settled in time is marked kept."""
    from kurator.activities.services import deliver_notification, recipient_language
    from kurator.finance.models import OPEN_INVOICE_STATUSES, CollectionAction, Invoice, InvoiceStatus

    now = now or timezone.now()
    today = timezone.localdate(now)
    open_debt = Invoice.objects.filter(
        company_id=OuterRef("company_id"),
        status__in=OPEN_INVOICE_STATUSES,
        due_on__lt=OuterRef("promised_on"),
    )
    candidates = list(
        CollectionAction.objects.filter(promised_on__lt=today, promise_kept__isnull=True)
        .annotate(owes=Exists(open_debt))
        .select_related("company__curator", "invoice")
        .order_by("promised_on", "pk")
    )
    kept: list[int] = []
    broken: list[CollectionAction] = []
    for candidate in candidates:
        action: CollectionAction = candidate
        assert action.promised_on is not None
        invoice = action.invoice
        if invoice is not None:
            settled = invoice.status == InvoiceStatus.CANCELLED or (
                invoice.status == InvoiceStatus.PAID
                and invoice.paid_on is not None
                and invoice.paid_on <= action.promised_on
            )
        else:
            settled = not candidate.owes
        if settled:
            kept.append(action.pk)
        else:
            broken.append(action)
    if kept:
        CollectionAction.objects.filter(pk__in=kept).update(promise_kept=True)
    if broken:
        CollectionAction.objects.filter(pk__in=[a.pk for a in broken]).update(promise_kept=False)
    created = 0
    for action in broken:
        assert action.promised_on is not None
        curator = action.company.curator
        if curator is None or not curator.is_active:
            continue
        try:
            url = reverse("finance:company_receivables", args=[action.company_id])
        except NoReverseMatch:  # pragma: no cover - the page is part of the app
            url = ""
        with translation.override(recipient_language(curator)):
            names = {
                "company": str(action.company),
                "date": formats.date_format(action.promised_on, "SHORT_DATE_FORMAT"),
                "invoice": action.invoice.number if action.invoice is not None else "",
            }
            if action.invoice is not None:
                text = (
                    gettext(
                        "Broken promise: %(company)s promised to pay invoice %(invoice)s by %(date)s; "
                        "it is still unpaid."
                    )
                    % names
                )
            else:
                text = (
                    gettext(
                        "Broken promise: %(company)s promised to pay its overdue invoices by %(date)s; "
                        "they are still unpaid."
                    )
                    % names
                )
        notice = deliver_notification(
            recipient=curator,
            kind=KIND_PROMISE_BROKEN,
            text=text,
            url=url,
            dedup_key=f"promise-broken:{action.pk}",
            email=True,
        )
        created += notice is not None
    return created


# --- overdue contract obligations (D5; CONTRACTS) -------------------------------------------------------

KIND_OBLIGATION_OVERDUE = "obligation_overdue"


def remind_overdue_obligations(*, now: datetime | None = None) -> int:
    """D5: an obligation under a contract not done by its due date — ours as well as the client's — is
    told to the client's curator and to the person responsible for it (when someone else), once per
    obligation and due date (moving the due date and missing it again reminds again). Candidates already
    reminded are left out by the database (``NOT EXISTS`` on the notification's key)."""
    # Imported here: kurator.activities.reminders imports this module for its JOBS.
    from django.db.models import CharField, Q, Value
    from django.db.models.functions import Cast, Concat

    from kurator.activities.reminders import _keyed, _send
    from kurator.finance.models import Obligation, ObligationParty

    now = now or timezone.now()
    today = timezone.localdate(now)
    obligations = (
        Obligation.objects.filter(
            done_on__isnull=True, due_on__lt=today, contract__company__merged_into__isnull=True
        )
        .annotate(
            reminder_key=Concat(
                Value("obligation-overdue:"),
                Cast("pk", CharField()),
                Value(":"),
                Cast("due_on", CharField()),
                output_field=CharField(),
            )
        )
        .annotate(
            curator_reminded=Exists(
                _keyed.filter(
                    recipient_id=OuterRef("contract__company__curator_id"), dedup_key=OuterRef("reminder_key")
                )
            ),
            responsible_reminded=Exists(
                _keyed.filter(recipient_id=OuterRef("responsible_id"), dedup_key=OuterRef("reminder_key"))
            ),
        )
        .filter(Q(curator_reminded=False) | Q(responsible__isnull=False, responsible_reminded=False))
        .select_related("contract__company__curator", "responsible")
        .order_by("due_on", "pk")
    )
    created = 0
    # Read plainly (not through the JIT-off transaction of the activities jobs): the open overdue obligations
    # are few, and a repeat run of every job stays within its query budget.
    for obligation in obligations:
        key = str(getattr(obligation, "reminder_key"))  # noqa: B009  # annotated by the query
        contract = obligation.contract
        try:
            url = reverse("finance:contract_detail", args=[contract.pk])
        except NoReverseMatch:  # pragma: no cover - the page is part of the app
            url = ""

        def text(obligation: Obligation = obligation) -> str:
            names = {
                "what": obligation.description,
                "due": formats.date_format(obligation.due_on, "SHORT_DATE_FORMAT"),
                "contract": obligation.contract.number,
                "company": str(obligation.contract.company),
            }
            if obligation.party == ObligationParty.OURS:
                message = gettext(
                    "Our obligation is overdue: “%(what)s” under contract %(contract)s with %(company)s "
                    "was due %(due)s."
                )
            else:
                message = gettext(
                    "The client's obligation is overdue: “%(what)s” under contract %(contract)s with "
                    "%(company)s was due %(due)s."
                )
            return message % names

        recipients = [contract.company.curator]
        if obligation.responsible is not None and obligation.responsible_id != contract.company.curator_id:
            recipients.append(obligation.responsible)
        for user in recipients:
            if user is not None:
                created += _send(user, kind=KIND_OBLIGATION_OVERDUE, key=key, url=url, text=text)
    return created
