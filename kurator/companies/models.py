from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import DictionaryItem, TimeStamped


class ContactSource(DictionaryItem):
    """Where a client or an inquiry came from (S2); sub-sources hang under a parent."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_recommendation = models.BooleanField(
        _("recommendation of a client"),
        default=False,
        help_text=_("Companies from this source name the client who recommended them."),
    )

    class Meta(DictionaryItem.Meta):
        verbose_name = _("contact source")
        verbose_name_plural = _("contact sources")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="contact_source_unique_name")]


class ApplicationSphere(DictionaryItem):
    class Meta(DictionaryItem.Meta):
        verbose_name = _("application sphere")
        verbose_name_plural = _("application spheres")
        constraints = [models.UniqueConstraint(fields=["name"], name="application_sphere_unique_name")]


class ProductCategory(DictionaryItem):
    class Meta(DictionaryItem.Meta):
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        constraints = [models.UniqueConstraint(fields=["name"], name="product_category_unique_name")]


class DeliveryMethod(DictionaryItem):
    class Meta(DictionaryItem.Meta):
        verbose_name = _("delivery method")
        verbose_name_plural = _("delivery methods")
        constraints = [models.UniqueConstraint(fields=["name"], name="delivery_method_unique_name")]


class SalesTechnology(DictionaryItem):
    class Meta(DictionaryItem.Meta):
        verbose_name = _("sales technology")
        verbose_name_plural = _("sales technologies")
        constraints = [models.UniqueConstraint(fields=["name"], name="sales_technology_unique_name")]


class LegalForm(models.TextChoices):
    OOO = "ООО", _("LLC (ООО)")
    AO = "АО", _("JSC (АО)")
    PAO = "ПАО", _("Public JSC (ПАО)")
    ZAO = "ЗАО", _("Closed JSC (ЗАО)")
    OAO = "ОАО", _("Open JSC (ОАО)")
    NAO = "НАО", _("Non-public JSC (НАО)")
    IP = "ИП", _("Sole trader (ИП)")
    GUP = "ГУП", _("State unitary enterprise (ГУП)")
    MUP = "МУП", _("Municipal unitary enterprise (МУП)")
    NKO = "НКО", _("Non-profit organisation (НКО)")
    OTHER = "other", _("Other")


class CompanyStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CLIENT = "client", _("Client")
    FORMER = "former", _("Former client")


class Company(TimeStamped):
    """The client dossier's core (D1, D9, D10): one legal entity with one curator (R2)."""

    full_name = models.CharField(pgettext_lazy("company", "full name"), max_length=500)
    short_name = models.CharField(_("short name"), max_length=255)
    legal_form = models.CharField(_("legal form"), max_length=16, choices=LegalForm.choices, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN/OGRNIP"), max_length=15, blank=True)
    legal_address = models.TextField(_("legal address"), blank=True)
    actual_address = models.TextField(_("actual address"), blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True, db_index=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    fax = models.CharField(_("fax"), max_length=32, blank=True)
    emails = models.JSONField(_("e-mails"), default=list, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    founded_on = models.DateField(_("founding date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CompanyStatus.choices, default=CompanyStatus.PROSPECT
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curator"),
        on_delete=models.PROTECT,
        related_name="curated_companies",
    )
    source = models.ForeignKey(
        ContactSource,
        verbose_name=_("contact source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("recommended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    application_sphere = models.ForeignKey(
        ApplicationSphere,
        verbose_name=_("application sphere"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    delivery_method = models.ForeignKey(
        DeliveryMethod,
        verbose_name=_("delivery method"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    sales_technology = models.ForeignKey(
        SalesTechnology,
        verbose_name=_("sales technology"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    product_categories = models.ManyToManyField(
        ProductCategory, verbose_name=_("product categories"), blank=True, related_name="companies"
    )
    notes = models.TextField(_("notes"), blank=True)
    # A merged duplicate keeps its row (nothing is lost); its id resolves to the survivor.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
    )

    # Derived columns, written only by services: they keep list pages and search to one cheap query.
    completeness = models.PositiveSmallIntegerField(_("completeness, %"), default=0, db_index=True)
    search_text = models.TextField(editable=False, default="")
    # The name without legal form and quotes, folded: lists sort «ООО „Ромашка“» under Р, not under О.
    sort_name = models.CharField(max_length=255, editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    general_updated_at = models.DateTimeField(_("general section updated"), null=True, editable=False)
    requisites_updated_at = models.DateTimeField(_("requisites updated"), null=True, editable=False)
    people_updated_at = models.DateTimeField(_("people updated"), null=True, editable=False)
    profile_updated_at = models.DateTimeField(_("profile updated"), null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(
        m2m_fields=[product_categories],
        excluded_fields=[
            "search_text",
            "sort_name",
            "completeness",
            "version",
            "general_updated_at",
            "requisites_updated_at",
            "people_updated_at",
            "profile_updated_at",
            "updated_at",
        ],
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["sort_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inn", "kpp"],
                condition=~Q(inn=""),
                name="company_unique_inn_kpp",
                violation_error_message=_("A company with this INN and KPP is already in the base."),
            ),
            models.CheckConstraint(condition=Q(completeness__lte=100), name="company_completeness_range"),
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in CompanyStatus]), name="company_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["sort_name", "id"], name="company_sort_name_idx"),
            models.Index(fields=["curator", "sort_name"], name="company_curator_name_idx"),
            models.Index(fields=["status", "sort_name"], name="company_status_name_idx"),
            models.Index(fields=["inn"], name="company_inn_idx"),
            models.Index(fields=["-completeness", "id"], name="company_completeness_idx"),
            models.Index(fields=["-updated_at", "id"], name="company_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.full_name


class BankAccount(TimeStamped):
    """Payment requisites (D1): several per company, at most one primary."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="bank_accounts"
    )
    bank_name = models.CharField(_("bank"), max_length=255, blank=True)
    bik = models.CharField(_("BIK"), max_length=9)
    settlement_account = models.CharField(_("settlement account"), max_length=20)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company"], condition=Q(is_primary=True), name="bank_account_one_primary"
            ),
            models.UniqueConstraint(
                fields=["company", "bik", "settlement_account"],
                name="bank_account_unique_account",
                violation_error_message=_("This account is already in the dossier."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_account} ({self.bank_name or self.bik})"


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    OTHER = "other", _("Other")


class Contact(TimeStamped):
    """A person of the client company and their part in the buying decision (D2)."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="contacts"
    )
    full_name = models.CharField(_("full name"), max_length=255)
    position = models.CharField(_("position"), max_length=255, blank=True)
    department = models.CharField(_("department"), max_length=255, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinates",
    )
    decision_role = models.CharField(
        _("decision role"), max_length=32, choices=DecisionRole.choices, default=DecisionRole.OTHER
    )
    phones = models.JSONField(_("phones"), default=list, blank=True)
    emails = models.JSONField(_("e-mails"), default=list, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_leader = models.BooleanField(_("leader"), default=False)
    is_active = models.BooleanField(_("works at the company"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["full_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_role__in=[c.value for c in DecisionRole]), name="contact_role_valid"
            ),
            models.CheckConstraint(condition=~Q(reports_to=models.F("id")), name="contact_not_own_manager"),
        ]

    def __str__(self) -> str:
        return self.full_name
