"""Bank statements imported from the 1C exchange format (1CClientBankExchange)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kurator.core.models import TimeStamped


class BankStatement(TimeStamped):
    """One imported file: what it held and what became of it. Its payments are ``Payment`` rows."""

    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64, editable=False)
    account = models.CharField(_("our account"), max_length=20, blank=True)
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    documents_count = models.PositiveIntegerField(_("documents in the file"), default=0)
    incoming_count = models.PositiveIntegerField(_("incoming payments"), default=0)
    matched_count = models.PositiveIntegerField(_("matched"), default=0)
    queued_count = models.PositiveIntegerField(_("sent to review"), default=0)
    duplicate_count = models.PositiveIntegerField(_("already imported"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name
