"""The sales technology (S3, R1): pipelines of stages with their standards, and deals moving through them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import DictionaryItem, TimeStamped
from kurator.core.text import fold


class LostReason(DictionaryItem):
    """Why a deal was lost (price, competitor, no budget, …): a dictionary the head of sales keeps."""

    class Meta(DictionaryItem.Meta):
        verbose_name = _("reason for losing a deal")
        verbose_name_plural = _("reasons for losing deals")


class Pipeline(TimeStamped):
    """An ordered set of stages; the default one serves every deal whose pipeline is not chosen.

    The head of sales may add pipelines, for example one per sales technology (S3)."""

    name = models.CharField(pgettext_lazy("pipeline", "name"), max_length=200)
    sales_technology = models.ForeignKey(
        "companies.SalesTechnology",
        verbose_name=_("sales technology"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pipelines",
    )
    is_default = models.BooleanField(_("default pipeline"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(pgettext_lazy("order in lists", "position"), default=0)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipeline_single_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("In progress")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class DealField(models.TextChoices):
    """Deal fields a stage standard may require (R1)."""

    AMOUNT = "amount", _("Amount")
    EXPECTED_CLOSE = "expected_close", _("Expected close date")
    CONTACTS = "contacts", _("People involved")
    PROBABILITY = "probability", _("Probability")


class Stage(TimeStamped):
    """A stage of a pipeline and the standard a deal must meet to enter it (R1).

    Standards are entry conditions: moving a deal forward into this stage is refused until they are met (the
    head of sales may override with a reason). ``max_days`` is how long a deal may stay here before the owner
    is reminded that it is stuck."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="stages"
    )
    name = models.CharField(pgettext_lazy("stage", "name"), max_length=200)
    # Stable machine name, used by the API and by the shipped standards (acquaintance, negotiations, …).
    code = models.SlugField(_("code"), max_length=64)
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), default=0, validators=[MaxValueValidator(100)]
    )
    max_days = models.PositiveIntegerField(_("longest stay, days"), null=True, blank=True)
    # Entry standard (R1).
    required_fields = models.JSONField(_("required deal fields"), default=list, blank=True)
    required_activity_kinds = models.JSONField(
        _("required activity (any of these kinds)"), default=list, blank=True
    )
    activity_with_decision_maker = models.BooleanField(
        _("the activity must involve a decision maker"), default=False
    )
    requires_signed_contract = models.BooleanField(_("a signed contract is required"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "code"], name="stage_code_unique_in_pipeline"),
            models.CheckConstraint(
                condition=Q(kind__in=[c.value for c in StageKind]), name="stage_kind_valid"
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class ChecklistItem(TimeStamped):
    """An item of a stage's checklist: the deal's owner ticks it before the deal may enter the stage."""

    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="checklist"
    )
    text = models.CharField(_("text"), max_length=300)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["stage", "order", "id"]

    def __str__(self) -> str:
        return self.text


def deal_search_text(title: str, company: Any) -> str:
    """What the deal list's search looks in: the folded title, the client's short name and INN."""
    return fold(f"{title} {company.short_name} {company.inn}")


class Deal(TimeStamped):
    """A sale in progress with one client (S3). The owner is the client's curator (R2)."""

    title = models.CharField(_("title"), max_length=300)
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="deals"
    )
    contacts = models.ManyToManyField(
        "companies.Contact", verbose_name=_("people involved"), blank=True, related_name="deals"
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_deals",
    )
    co_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("co-owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="co_owned_deals",
    )
    amount = models.DecimalField(
        _("amount, ₽"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), default=0, validators=[MaxValueValidator(100)]
    )
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("reason for losing"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    lost_note = models.TextField(_("comment on the loss"), blank=True)
    source = models.ForeignKey(
        "companies.ContactSource",
        verbose_name=_("contact source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    inquiry = models.OneToOneField(
        "inquiries.Inquiry",
        verbose_name=_("inquiry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deal",
    )
    description = models.TextField(_("description"), blank=True)
    # Folded (kurator.core.text.fold) title, client's short name and INN, written by the services when the
    # deal is created or its title changes, for the list's search (a trigram index serves it on PostgreSQL).
    # A later rename of the client is not carried over.
    search_text = models.TextField(editable=False, default="")
    stage_entered_at = models.DateTimeField(_("in the stage since"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Optimistic lock: every change bumps it; a write with an older version is an edit conflict (409).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(
        m2m_fields=[contacts], excluded_fields=["updated_at", "version", "search_text"]
    )

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="deal_amount_positive"
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deal_probability_range"),
            models.CheckConstraint(condition=~Q(co_owner=models.F("owner")), name="deal_co_owner_not_owner"),
        ]
        indexes = [
            # The board: one pipeline's deals by stage, newest in the stage first; the counts and sums read
            # the amount (and owner) from the index alone on PostgreSQL (INCLUDE is ignored on SQLite).
            models.Index(
                fields=["pipeline", "stage", "-stage_entered_at"],
                include=["amount", "owner"],
                name="deal_board_cover_idx",
            ),
            models.Index(fields=["company", "-created_at"], name="deal_company_idx"),
            # The board of one's own deals; also a manager's deals by stage (reminders, My day).
            models.Index(
                fields=["owner", "pipeline", "stage", "-stage_entered_at"],
                include=["amount"],
                name="deal_owner_board_idx",
            ),
            models.Index(fields=["-created_at", "-id"], name="deal_created_idx"),
            # The funnel's win rates: the deals closed in a period, read from the index alone on PostgreSQL.
            models.Index(
                fields=["pipeline", "closed_at"],
                include=["stage", "owner", "source"],
                name="deal_closed_cover_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class StageVisit(models.Model):
    """One stay of a deal in a stage: the stage history, time per stage and the funnel are read from here.

    A move that skipped an unmet standard by the head of sales' decision records the reason and what was
    missing (R1)."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="visits")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="visits")
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    override_reason = models.TextField(_("reason for overriding the standard"), blank=True)
    unmet = models.JSONField(_("unmet standards"), default=list, blank=True)
    # Whether the deal later (at or after this entry) entered a further open or won stage of its pipeline:
    # the funnel's "passed". Set by deal_move when the deal enters a stage placed after this one.
    passed = models.BooleanField(_("passed on"), default=False, editable=False)

    class Meta:
        verbose_name = _("stage visit")
        verbose_name_plural = _("stage history")
        ordering = ["entered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deal"], condition=Q(left_at__isnull=True), name="stage_visit_one_open_per_deal"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("entered_at")),
                name="stage_visit_dates_ordered",
            ),
        ]
        indexes = [
            # The funnel: the stays begun in a period, read from the index alone on PostgreSQL.
            models.Index(
                fields=["entered_at"],
                include=["stage", "deal", "left_at", "passed"],
                name="stage_visit_funnel_cover_idx",
            ),
            models.Index(fields=["deal", "entered_at"], name="stage_visit_deal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} → {self.stage_id}"


class ChecklistMark(models.Model):
    """A ticked checklist item of a deal."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="checklist_marks"
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("checklist item"), on_delete=models.CASCADE, related_name="marks"
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ticked by"), on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(_("ticked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticked checklist item")
        verbose_name_plural = _("ticked checklist items")
        constraints = [models.UniqueConstraint(fields=["deal", "item"], name="checklist_mark_unique")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.item_id}"
