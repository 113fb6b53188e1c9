"""The dossier's documents and files (D12: nothing is lost).

A document lives in a section of a client's dossier and may be tied to one of its contracts, deals or
conflicts. Every upload of the same document is a new ``DocumentVersion``; versions are never overwritten or
deleted. "Deleting" a document moves it to the trash (``trashed_at``), from which the head of sales restores;
only the administrator purges, after the retention period. Files are kept through Django's storage API under
names the application chooses (never the uploader's), and are served only through an authorised view.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.core.models import TimeStamped


class DocumentSection(models.TextChoices):
    REQUISITES = "requisites", pgettext_lazy("document section", "Requisites")
    CONTRACTS = "contracts", pgettext_lazy("document section", "Contracts")
    SOLVENCY = "solvency", pgettext_lazy("document section", "Solvency")
    CORRESPONDENCE = "correspondence", pgettext_lazy("document section", "Correspondence")
    OTHER = "other", pgettext_lazy("document section", "Other")


class Document(TimeStamped):
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="documents"
    )
    section = models.CharField(_("section"), max_length=16, choices=DocumentSection.choices)
    name = models.CharField(_("name"), max_length=255)
    contract = models.ForeignKey(
        "finance.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    conflict = models.ForeignKey(
        "finance.Conflict",
        verbose_name=_("conflict"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    # The number of the latest version (1 after the first upload); kept here so lists need no aggregate.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    trashed_at = models.DateTimeField(_("moved to the trash at"), null=True, blank=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved to the trash by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    trash_reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["company", "section"], name="document_company_section"),
            models.Index(
                fields=["trashed_at"], name="document_trashed", condition=Q(trashed_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(section__in=[choice.value for choice in DocumentSection]),
                name="document_section_valid",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="document_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name


def version_upload_to(instance: DocumentVersion, filename: str) -> str:
    """Where a version's bytes live: by company and document, under a random name, so that no uploaded name
    (``../../etc/passwd``, ``con.pdf``) ever reaches the storage; the display name is kept in the row."""
    document = instance.document
    return f"documents/{document.company_id}/{document.pk}/{uuid.uuid4().hex}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=version_upload_to, max_length=500)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=127)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="document_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.number})"
