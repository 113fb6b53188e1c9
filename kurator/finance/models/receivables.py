"""Invoices, payments allocated to them, and the work done to collect what is owed (D6)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped
from kurator.core.text import fold
from kurator.finance.models.common import money_field


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", pgettext_lazy("invoice", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("invoice", "Cancelled")


def invoice_number_key(number: str | None) -> str:
    """What two invoice numbers are compared by: case (Cyrillic too) and spaces do not count."""
    return fold(number)[:50]


# Invoices that still make up receivables.
OPEN_INVOICE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)


class Invoice(TimeStamped):
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="invoices"
    )
    contract = models.ForeignKey(
        "finance.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    order = models.ForeignKey(
        "finance.Order",
        verbose_name=pgettext_lazy("sales order", "order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    number = models.CharField(pgettext_lazy("invoice", "number"), max_length=50)
    # The number folded (case, Cyrillic too, and spaces: ``kurator.core.text.fold``), set on every save:
    # «dup-1 » and «DUP-1» are the same number, which a unique constraint on ``number`` alone let through.
    number_key = models.CharField(max_length=50, editable=False, default="")
    # The year of ``issued_on``, stored: "unique per year" is then a plain unique constraint on both engines.
    year = models.PositiveSmallIntegerField(_("year"), editable=False)
    issued_on = models.DateField(_("invoice date"))
    due_on = models.DateField(_("due date"))
    amount = money_field(_("amount"))
    # The sum of allocations, kept by the services; the balance is amount − paid.
    paid = money_field(_("paid"), default=0, editable=False)
    # When the last kopeck arrived: payment discipline measures lateness from it (D4).
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.ISSUED,
        editable=False,
    )
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "number_key"],
                name="invoice_number_key_unique_per_year",
                violation_error_message=_("An invoice with this number was already issued this year."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in InvoiceStatus]), name="invoice_status_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid__gte=0, paid__lte=F("amount")), name="invoice_paid_range"
            ),
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="invoice_due_after_issue"),
        ]
        indexes = [
            # The ageing report: open invoices by due date; a client's receivables: its open invoices.
            # Covering: the ageing report sums the balances of open invoices without reading the table.
            models.Index(
                fields=["due_on"],
                include=["company", "amount", "paid"],
                condition=Q(status__in=["issued", "partly_paid"]),
                name="invoice_open_due_idx",
            ),
            models.Index(fields=["company", "status", "due_on"], name="invoice_company_status_idx"),
            models.Index(fields=["-issued_on", "-id"], name="invoice_date_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.number_key = invoice_number_key(self.number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "number_key"}
        super().save(*args, **kwargs)

    @property
    def balance(self) -> object:
        return self.amount - self.paid


class PaymentSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    BANK = "bank", _("Bank statement")


class ReviewStatus(models.TextChoices):
    """A bank payment Kurator could not place waits for a person (the review queue)."""

    NONE = "", _("Not needed")
    PENDING = "pending", _("Awaiting review")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Not a client payment")


class Payment(TimeStamped):
    """Money received. Allocations tie it to invoices; what is left unallocated is the client's credit
    (an overpayment), shown as such."""

    # Empty only for a bank payment whose payer is not recognised yet (it waits in the review queue).
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    paid_on = models.DateField(_("payment date"))
    amount = money_field(_("amount"))
    # The sum of allocations, kept by the services; amount − allocated is the client's credit.
    allocated = money_field(_("allocated"), default=0, editable=False)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    purpose = models.TextField(_("payment purpose"), blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=PaymentSource.choices, default=PaymentSource.MANUAL
    )
    # The payer as the bank statement names it.
    payer_name = models.CharField(_("payer"), max_length=500, blank=True)
    payer_inn = models.CharField(_("payer's INN"), max_length=12, blank=True)
    payer_kpp = models.CharField(_("payer's KPP"), max_length=9, blank=True)
    payer_account = models.CharField(_("payer's account"), max_length=20, blank=True)
    statement = models.ForeignKey(
        "finance.BankStatement",
        verbose_name=_("bank statement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    # Identifies a bank document across statements, so importing the same statement twice adds nothing.
    bank_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    review_status = models.CharField(
        _("review"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NONE, blank=True
    )
    # Why the import could not place it, shown in the queue.
    review_reason = models.CharField(_("reason for review"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0, allocated__lte=F("amount")), name="payment_allocated_range"
            ),
            models.CheckConstraint(
                condition=Q(source__in=[c.value for c in PaymentSource]), name="payment_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(review_status__in=[c.value for c in ReviewStatus]),
                name="payment_review_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(company__isnull=False) | ~Q(review_status__in=["", "resolved"]),
                name="payment_company_unless_in_review",
            ),
            models.UniqueConstraint(
                fields=["bank_key"], condition=Q(bank_key__isnull=False), name="payment_bank_key_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-paid_on"], name="payment_company_idx"),
            models.Index(
                fields=["-paid_on"], condition=Q(review_status="pending"), name="payment_review_queue_idx"
            ),
            # The clients' credit (unallocated money): a few rows among hundreds of thousands of payments.
            models.Index(
                fields=["company"],
                include=["amount", "allocated"],
                condition=Q(allocated__lt=F("amount"), review_status__in=["", "resolved"]),
                name="payment_credit_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    @property
    def credit(self) -> object:
        return self.amount - self.allocated


class Allocation(models.Model):
    """The part of a payment that settles an invoice."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="allocations"
    )
    amount = money_field(_("amount"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.UniqueConstraint(fields=["payment", "invoice"], name="allocation_unique_pair"),
        ]
        indexes = [models.Index(fields=["invoice"], name="allocation_invoice_idx")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class CollectionKind(models.TextChoices):
    CALL = "call", _("Call")
    LETTER = "letter", _("Letter")
    CLAIM = "claim", _("Claim (pretenziya)")
    COURT = "court", _("Court")
    SCHEDULE = "schedule", _("Payment schedule agreed")
    PROMISE = "promise", _("Payment promised")


class CollectionAction(TimeStamped):
    """One step of the work to collect a debt: who did what, when, and what came of it (D6)."""

    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="collection_actions",
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_actions",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CollectionKind.choices)
    happened_on = models.DateField(_("date"))
    outcome = models.TextField(_("outcome"), blank=True)
    # A promised payment date; passing it unpaid flags the curator.
    promised_on = models.DateField(_("promised payment date"), null=True, blank=True)
    promised_amount = money_field(_("promised amount"), null=True, blank=True)
    promise_kept = models.BooleanField(_("promise kept"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("collection action")
        verbose_name_plural = _("collection actions")
        ordering = ["-happened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[c.value for c in CollectionKind]), name="collection_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(promised_amount__isnull=True) | Q(promised_amount__gt=0),
                name="collection_promised_amount_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "-happened_on"], name="collection_company_idx"),
            models.Index(
                fields=["promised_on"],
                condition=Q(promised_on__isnull=False, promise_kept__isnull=True),
                name="collection_open_promise_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.happened_on}"
