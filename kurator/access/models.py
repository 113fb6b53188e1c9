"""Restricted access to the confidential parts of the dossier (R4, D12): requests, grants and the audit log.

Confidential by default: a client's documents and files, its solvency section, its financial statements and
its contract documents. The curator, the head of sales, finance and the administrator see them by their
office; anyone else only through an ``AccessGrant`` — to the client's whole confidential section or to one
document — that the head of sales gives by approving an ``AccessRequest``, with an expiry date, and may
revoke.

``AuditEvent`` records every view of a confidential section, every document download and every refusal, and is
append-only: the application never changes or deletes a row, and on PostgreSQL a trigger refuses UPDATE and
DELETE (migration 0003).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.core.models import TimeStamped


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("access request", "Waiting for a decision")
    APPROVED = "approved", pgettext_lazy("access request", "Approved")
    REFUSED = "refused", pgettext_lazy("access request", "Refused")
    WITHDRAWN = "withdrawn", pgettext_lazy("access request", "Withdrawn")


class AccessRequest(TimeStamped):
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    # Empty: the client's whole confidential section; set: one document.
    document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment on the decision"), blank=True)
    # The expiry the head of sales set when approving (the grant carries it too).
    expires_on = models.DateField(_("access until"), null=True, blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="access_request_status"),
            models.Index(fields=["requester", "company"], name="access_request_requester"),
            # The lists' orders: the decided requests, latest decision first; all requests, newest first.
            models.Index(fields=["-decided_at", "-id"], name="access_request_decided"),
            models.Index(fields=["-created_at", "-id"], name="access_request_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in AccessRequestStatus]),
                name="access_request_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(expires_on__isnull=False),
                name="access_request_approved_has_expiry",
            ),
            # One open request per person and object: asking twice adds nothing.
            models.UniqueConstraint(
                fields=["requester", "company"],
                condition=Q(status="pending", document__isnull=True),
                name="access_request_one_pending_company",
            ),
            models.UniqueConstraint(
                fields=["requester", "document"],
                condition=Q(status="pending", document__isnull=False),
                name="access_request_one_pending_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.document or self.company}"


class AccessGrant(TimeStamped):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="access_grants",
    )
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="access_grants"
    )
    # Empty: the client's whole confidential section; set: this document only.
    document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_grants",
    )
    request = models.OneToOneField(
        AccessRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grant",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    # The last day the grant works (inclusive, Moscow time).
    expires_on = models.DateField(_("access until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["user", "company", "expires_on"],
                name="access_grant_live",
                condition=Q(revoked_at__isnull=True),
            ),
            models.Index(fields=["-created_at", "-id"], name="access_grant_created"),  # the list's order
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.document or self.company} ({self.expires_on})"


class AuditAction(models.TextChoices):
    VIEW_SOLVENCY = "view_solvency", _("Viewed the solvency section")
    VIEW_STATEMENTS = "view_statements", _("Viewed financial statements")
    VIEW_DOCUMENTS = "view_documents", _("Viewed the documents section")
    DOWNLOAD = "download", _("Downloaded a document")
    UPLOAD = "upload", _("Uploaded a document")
    TRASH = "trash", _("Moved a document to the trash")
    RESTORE = "restore", _("Restored a document from the trash")
    PURGE = "purge", _("Purged a document for good")
    REQUEST_ACCESS = "request_access", _("Requested access")
    APPROVE_ACCESS = "approve_access", _("Approved access")
    REFUSE_ACCESS = "refuse_access", _("Refused access")
    REVOKE_ACCESS = "revoke_access", _("Revoked access")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOCKOUT = "lockout", _("Sign-in locked after repeated failures")
    UNLOCK = "unlock", _("Unlocked sign-in early")
    TOKEN_CREATED = "token_created", _("Created an API token")
    TOKEN_REVOKED = "token_revoked", _("Revoked an API token")
    USER_CREATED = "user_created", _("Added a user")
    USER_CHANGED = "user_changed", _("Changed a user's role or name")
    USER_DEACTIVATED = "user_deactivated", _("Deactivated a user")
    USER_REACTIVATED = "user_reactivated", _("Reactivated a user")
    EXPORT_AUDIT = "export_audit", _("Exported the audit log")
    BACKUP = "backup", _("Took a backup")
    RESTORE_BACKUP = "restore_backup", _("Restored a backup")


class AuditEvent(models.Model):
    """One line of the audit log; append-only (see the module docstring)."""

    at = models.DateTimeField(_("time"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The name typed at a failed sign-in, or the user's name at the time.
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=32, blank=True)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    # The client the object belongs to, for filtering. No database constraint and hidden from the company:
    # a merge must not rewrite the log (the trigger would refuse it), the log keeps the id it saw.
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    allowed = models.BooleanField(_("allowed"))
    # Which rule or grant allowed it ("curator", "head_of_sales", "finance", "admin", "grant:12"), or why it
    # was refused ("no_grant", "bad_password", "locked_out", …).
    rule = models.CharField(_("rule"), max_length=64, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at"], name="audit_at"),
            models.Index(fields=["user", "-at"], name="audit_user_at"),
            models.Index(fields=["company", "-at"], name="audit_company_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"
