"""The product catalogue, the client's orders (D8) and credit control."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kurator.core.models import TimeStamped
from kurator.finance.models.common import money_field


class Product(TimeStamped):
    """A catalogue entry, kept by the head of sales; categories are the purchase profile's dictionary."""

    name = models.CharField(pgettext_lazy("product", "name"), max_length=300)
    code = models.CharField(_("article"), max_length=64, blank=True)
    category = models.ForeignKey(
        "companies.ProductCategory",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=16, default="шт")
    base_price = money_field(_("base price"))
    is_active = models.BooleanField(pgettext_lazy("product", "active"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="product_unique_name",
                violation_error_message=_("A product with this name is already in the catalogue."),
            ),
            models.CheckConstraint(condition=Q(base_price__gt=0), name="product_base_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("order", "Draft")
    CONFIRMED = "confirmed", pgettext_lazy("order", "Confirmed")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", pgettext_lazy("order", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order", "Cancelled")


# Drafts and cancelled orders are not purchases (D8).
PURCHASE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


class Order(TimeStamped):
    company = models.ForeignKey(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="orders"
    )
    contract = models.ForeignKey(
        "finance.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    number = models.CharField(pgettext_lazy("order", "number"), max_length=64, blank=True)
    ordered_on = models.DateField(_("order date"))
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    # The sum of the lines, kept by the services: purchase statistics read it without touching the lines.
    total = money_field(_("total"), default=0, editable=False)
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
        verbose_name = pgettext_lazy("sales order", "order")
        verbose_name_plural = pgettext_lazy("sales order", "orders")
        ordering = ["-ordered_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in OrderStatus]), name="order_status_valid"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            # Purchase statistics of one client: its orders by status and date.
            models.Index(fields=["company", "status", "ordered_on"], name="order_company_status_idx"),
            models.Index(fields=["-ordered_on", "-id"], name="order_date_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order,
        verbose_name=pgettext_lazy("sales order", "order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    price = money_field(_("price"))
    discount_percent = models.DecimalField(_("discount, %"), max_digits=5, decimal_places=2, default=0)
    # quantity × price × (1 − discount), rounded to kopecks by the services.
    amount = money_field(_("amount"), editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="order_line_discount_range",
            ),
        ]
        indexes = [models.Index(fields=["product"], name="order_line_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class CreditLimit(TimeStamped):
    """How much the client may owe us (receivables plus open orders) before new orders need the head of
    sales' approval. Set by finance or the head of sales."""

    company = models.OneToOneField(
        "companies.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="credit_limit"
    )
    amount = money_field(_("credit limit"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("credit limit")
        verbose_name_plural = _("credit limits")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="credit_limit_not_negative")]

    def __str__(self) -> str:
        return str(self.amount)


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class CreditApproval(TimeStamped):
    """A request to confirm an order that breaks credit control, and the head of sales' decision."""

    order = models.ForeignKey(
        Order,
        verbose_name=pgettext_lazy("sales order", "order"),
        on_delete=models.PROTECT,
        related_name="credit_approvals",
    )
    # What broke credit control: [{"code": "over_limit"|"overdue", "message": "..."}].
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
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
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("credit approval")
        verbose_name_plural = _("credit approvals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in ApprovalStatus]), name="credit_approval_status_valid"
            ),
            # One open request per order.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="pending"), name="credit_approval_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.status}"
