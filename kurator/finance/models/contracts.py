"""Contracts with their terms and the obligations of both sides (D5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped
from kurator.finance.models.common import money_field


class ContractStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("contract", "Draft")
    SIGNED = "signed", pgettext_lazy("contract", "Signed")
    IN_EXECUTION = "in_execution", _("In execution")
    EXECUTED = "executed", _("Executed")
    TERMINATED = "terminated", _("Terminated")


# A contract in these statuses binds both sides (the signed-contract stage standard counts them).
SIGNED_STATUSES = (ContractStatus.SIGNED, ContractStatus.IN_EXECUTION, ContractStatus.EXECUTED)


class Contract(TimeStamped):
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="contracts"
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    number = models.CharField(pgettext_lazy("contract", "number"), max_length=100)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    amount = money_field(_("amount"), null=True, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    execution_planned_on = models.DateField(_("execution planned on"), null=True, blank=True)
    executed_on = models.DateField(_("executed on"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    # Terms: the due date of an invoice under this contract is its date plus the payment term.
    payment_term_days = models.PositiveIntegerField(_("payment term, days"), default=0)
    prepayment_percent = models.DecimalField(_("prepayment, %"), max_digits=5, decimal_places=2, default=0)
    delivery_terms = models.TextField(_("delivery terms"), blank=True)
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
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"],
                name="contract_number_unique_per_company",
                violation_error_message=_("This client already has a contract with this number."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in ContractStatus]), name="contract_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="contract_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(prepayment_percent__gte=0, prepayment_percent__lte=100),
                name="contract_prepayment_range",
            ),
            models.CheckConstraint(
                condition=Q(executed_on__isnull=True)
                | Q(signed_on__isnull=True)
                | Q(executed_on__gte=F("signed_on")),
                name="contract_executed_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="contract_validity_ordered",
            ),
        ]
        indexes = [models.Index(fields=["company", "-signed_on"], name="contract_company_idx")]

    def __str__(self) -> str:
        return self.number


class ObligationParty(models.TextChoices):
    OURS = "ours", pgettext_lazy("obligation", "Ours")
    CLIENT = "client", pgettext_lazy("obligation", "The client's")


class Obligation(TimeStamped):
    """What one side owes the other under a contract, by when, and when it was done. Our own overdue
    obligations are flagged as loudly as the client's."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="obligations"
    )
    party = models.CharField(_("whose"), max_length=8, choices=ObligationParty.choices)
    description = models.CharField(_("what"), max_length=500)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(party__in=[c.value for c in ObligationParty]), name="obligation_party_valid"
            ),
        ]
        indexes = [
            # The overdue flag: open obligations by due date.
            models.Index(fields=["due_on"], condition=Q(done_on__isnull=True), name="obligation_open_idx"),
        ]

    def __str__(self) -> str:
        return self.description
