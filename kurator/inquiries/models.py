from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    EXHIBITION = "exhibition", _("Exhibition")
    RECOMMENDATION = "recommendation", _("Recommendation")
    OTHER = "other", _("Other")


class InquiryStatus(models.TextChoices):
    NEW = "new", _("New")
    TAKEN = "taken", _("Taken")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    REJECTED = "rejected", _("Rejected")


class MatchConfidence(models.TextChoices):
    CERTAIN = "certain", _("Certain")
    STRONG = "strong", _("Strong")
    POSSIBLE = "possible", _("Possible")
    NONE = "none", _("No match")


class Inquiry(TimeStamped):
    """An incoming request (обращение) from a client or prospect (R2, S2, R1)."""

    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    source = models.ForeignKey(
        "companies.ContactSource",
        verbose_name=_("contact source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    referred_by = models.ForeignKey(
        "companies.Company",
        verbose_name=_("recommended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_inquiries",
    )
    company_name = models.CharField(_("company name"), max_length=500, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, db_index=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    text = models.TextField(_("text"), blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=InquiryStatus.choices, default=InquiryStatus.NEW, db_index=True
    )
    reject_reason = models.TextField(_("reason for rejection"), blank=True)
    company = models.ForeignKey(
        "companies.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_inquiries",
    )
    # The matcher's verdict and the reasons it shows to people (one service explains every decision).
    match_confidence = models.CharField(
        _("match"), max_length=16, choices=MatchConfidence.choices, default=MatchConfidence.NONE
    )
    match_reasons = models.JSONField(_("match reasons"), default=list, blank=True)
    match_candidates = models.JSONField(_("possible matches"), default=list, blank=True)
    needs_review = models.BooleanField(_("waits for the head of sales"), default=False, db_index=True)
    routing_explanation = models.TextField(_("why this curator"), blank=True)

    received_at = models.DateTimeField(_("received at"), db_index=True)
    respond_by = models.DateTimeField(_("to be taken by"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="taken_inquiries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    client_ip = models.GenericIPAddressField(_("sender's IP address"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["curator", "status", "-received_at"], name="inquiry_curator_idx"),
            models.Index(fields=["status", "respond_by"], name="inquiry_due_idx"),
            models.Index(fields=["source", "received_at"], name="inquiry_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in InquiryStatus]), name="inquiry_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in Channel]), name="inquiry_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.company_name or self.contact_name or self.phone or self.email or f"#{self.pk}"


class ResponseStandard(TimeStamped):
    """R1: how fast a new inquiry of a channel must be taken."""

    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices, unique=True)
    minutes = models.PositiveIntegerField(_("minutes to take"))

    class Meta:
        verbose_name = _("response standard")
        verbose_name_plural = _("response standards")
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.minutes}"


class PublicMailDomain(models.Model):
    """Mail services whose domain says nothing about the company (never a match reason)."""

    domain = models.CharField(_("domain"), max_length=255, unique=True)

    class Meta:
        verbose_name = _("public mail domain")
        verbose_name_plural = _("public mail domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class RuleKind(models.TextChoices):
    CITY = "city", _("Region / city")
    SPHERE = "sphere", _("Industry (application sphere)")
    TECHNOLOGY = "technology", _("Sales technology")
    ROUND_ROBIN = "round_robin", _("Round-robin within the team")


class DistributionRule(TimeStamped):
    """How the head of sales distributes new clients among curators (R2). The first matching rule wins;
    within a rule the member who got a new client longest ago gets the next one."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    value = models.CharField(
        _("value"), max_length=200, blank=True, help_text=_("City for a region rule; empty for round-robin.")
    )
    sphere = models.ForeignKey(
        "companies.ApplicationSphere",
        verbose_name=_("application sphere"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    sales_technology = models.ForeignKey(
        "companies.SalesTechnology",
        verbose_name=_("sales technology"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("team"), related_name="+")
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("distribution rule")
        verbose_name_plural = _("distribution rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """When a curator last got a new client by a rule: the round-robin's memory."""

    rule = models.ForeignKey(DistributionRule, null=True, blank=True, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "user"], name="assignment_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.assigned_at:%Y-%m-%d %H:%M}"


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


class ImportBatch(TimeStamped):
    """One upload of a client list (S1): the file, the column mapping, the dry-run and the applied result."""

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    checksum = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    totals = models.JSONField(_("totals"), default=dict)
    report = models.JSONField(_("rows"), default=list)
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curator of new companies"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.ForeignKey(
        "companies.ContactSource",
        verbose_name=_("contact source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("client list import")
        verbose_name_plural = _("client list imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
