"""API of the product catalogue, the client's orders and purchase statistics (D8, D9), credit control (D6).

- ``/api/v1/product-categories/``: the purchase profile's category dictionary (D9); members read it, the head
  of sales writes it through :func:`kurator.companies.services.dictionary_item_save`.
- ``/api/v1/products/``: the catalogue; members read it, the head of sales writes it. No delete: a product is
  deactivated (``is_active: false``).
- ``/api/v1/orders/``: list (``?company=``, ``?status=``), retrieve, create (always a draft), update (a
  draft's ``lines`` are replaced; ``version`` guards against a colleague's edit, 409). The status changes
  only through ``POST /api/v1/orders/{id}/status/`` ``{"status", "version", "comment"}``; a ``status`` in a
  PUT/PATCH that differs from the current one is refused with 400 naming that endpoint. A confirmation that
  breaks credit control answers
  ``400 {"status": [messages…], "approval": <id>, "reasons": [{"code", "message", …}]}``: the request for the
  head of sales' approval is saved and the order stays a draft.
- ``GET /api/v1/companies/{id}/purchase-stats/``: the statistics computed from the orders (see
  :func:`kurator.finance.selectors.orders.purchase_stats`); money as decimal strings.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kurator.access.scoping import access_company_by_id, visible_companies
from kurator.accounts.models import User
from kurator.companies import services as company_services
from kurator.companies.api import MAX_ID, RelatedIdField, _id_filter
from kurator.companies.models import ProductCategory
from kurator.core.api import ActorMixin, money_field, versioned_fields
from kurator.core.viewsets import RecordViewSet
from kurator.finance.models import Order, OrderLine, OrderStatus, Product
from kurator.finance.selectors import orders as selectors
from kurator.finance.services import orders as services

VIEW = "finance.view_order"
MANAGE = "finance.manage_catalogue"


def _invalid(field: str, message: Any, code: str = "invalid_choice") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


# Product categories ---------------------------------------------------------------------------------------


class ProductCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class ProductCategoryViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Product categories, the purchase profile's dictionary (D9) shared with the catalogue. No delete: a
    category in use is deactivated."""

    serializer_class = ProductCategorySerializer
    filterset_fields: list[str] = []
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
    }

    def get_queryset(self) -> QuerySet[ProductCategory]:
        return ProductCategory.objects.order_by("position", "name", "id")

    def get_object(self) -> ProductCategory:
        try:
            item = ProductCategory.objects.get(pk=int(self.kwargs["pk"]))
        except (ProductCategory.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None
        self.check_object_permissions(self.request, item)
        return item

    def _save(self, serializer: serializers.BaseSerializer[Any], item: ProductCategory | None) -> Any:
        data = dict(serializer.validated_data)
        return company_services.dictionary_item_save(
            actor=self.actor,
            kind="categories",
            item=item,
            name=data.get("name", item.name if item else ""),
            position=data.get("position"),
            is_active=data.get("is_active", item.is_active if item else True),
        )

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = self._save(serializer, None)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = self._save(serializer, cast(ProductCategory, serializer.instance))


# Products -------------------------------------------------------------------------------------------------


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=300)
    code = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text=_("Article."))
    category = RelatedIdField(help_text=_("Product category id (the purchase profile's dictionary)."))
    unit = serializers.CharField(max_length=16, required=False)
    base_price = money_field(help_text=_("Base price in roubles, above zero."))
    is_active = serializers.BooleanField(required=False)


class ProductFilter(django_filters.FilterSet):
    category = _id_filter("category_id", _("Product category id."))
    search = django_filters.CharFilter(max_length=200, help_text=_("Fragment of the name or the article."))
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Product]) -> QuerySet[Product]:
        data = self.form.cleaned_data
        return selectors.product_list(
            actor=self.request.user,
            q=data.get("search") or "",
            category=data.get("category"),
            active=data.get("is_active"),
        )


class ProductViewSet(RecordViewSet):
    """The product catalogue (D8): members read it; the head of sales adds and changes products. No delete:
    a product is deactivated."""

    model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    # The right to manage the catalogue is the whole policy of a write: there is no check per product.
    permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
    }

    def select_list(self) -> QuerySet[Product]:
        return selectors.product_list(actor=self.actor)

    def select_one(self, pk: Any) -> Product:
        try:
            return self.select_list().get(pk=int(pk))
        except (Product.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.product_create(actor=self.actor, **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.product_update(
            actor=self.actor, product=cast(Product, serializer.instance), **serializer.validated_data
        )


# Orders ---------------------------------------------------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    product = RelatedIdField(help_text=_("Product id."))
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, coerce_to_string=True, help_text=_("Above zero, at most 3 decimals.")
    )
    price = money_field(
        required=False, allow_null=True, help_text=_("Price in roubles; empty: the product's base price.")
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, required=False, help_text=_("0–100, %.")
    )
    amount = money_field(read_only=True, help_text=_("quantity × price × (1 − discount/100), to kopecks."))


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    company = RelatedIdField(help_text=_("Id of the client company; it cannot change."))
    contract = RelatedIdField(required=False, allow_null=True, help_text=_("A contract of the same client."))
    deal = RelatedIdField(required=False, allow_null=True, help_text=_("A deal with the same client."))
    number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    ordered_on = serializers.DateField()
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        read_only=True,
        help_text=_("Changed through POST /api/v1/orders/{id}/status/."),
    )
    lines = OrderLineSerializer(many=True, help_text=_("At least one line; replaced as a whole on edit."))
    total = money_field(read_only=True, help_text=_("The sum of the lines' amounts."))
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("On edit: the version you read; a stale one is refused (409)."),
    )
    created_at = serializers.DateTimeField(read_only=True)


class OrderUpdateSerializer(OrderSerializer):
    company = RelatedIdField(read_only=True)
    ordered_on = serializers.DateField(required=False)
    lines = OrderLineSerializer(many=True, required=False)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=_("The version you read (409 if stale).")
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CreditReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("over_limit or overdue."))
    message = serializers.CharField()


class CreditBlockedSerializer(serializers.Serializer):
    status = serializers.ListField(child=serializers.CharField())
    approval = serializers.IntegerField(help_text=_("Id of the pending request for approval."))
    reasons = CreditReasonSerializer(many=True)


class OrderFilter(django_filters.FilterSet):
    company = _id_filter("company_id", _("Client company id."))
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)

    class Meta:
        model = Order
        fields: list[str] = []


def _lines_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=OrderLine.objects.order_by("position", "id"))


class OrderViewSet(RecordViewSet):
    """The client's orders (D8). Every member reads them; the client's curator (or whoever works its deal)
    and the head of sales enter and change them. New orders are drafts; see ``status`` for the rest."""

    model = Order
    serializer_class = OrderSerializer
    update_serializer_class = OrderUpdateSerializer
    view_permission = VIEW
    change_permission = "finance.change_order"
    change_actions = ("set_status",)
    filterset_class = OrderFilter

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "set_status":
            return StatusSerializer
        return super().get_serializer_class()

    def select_list(self) -> QuerySet[Order]:
        return selectors.order_list(actor=self.actor).prefetch_related(_lines_prefetch())

    def select_one(self, pk: Any) -> Order:
        try:
            return selectors.order_list(actor=self.actor).get(pk=int(pk))
        except (Order.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None

    def fresh(self, order: Order) -> Order:
        return Order.objects.prefetch_related(_lines_prefetch()).get(pk=order.pk)

    @staticmethod
    def _lines(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "product": item["product"],
                "quantity": item["quantity"],
                "price": item.get("price"),
                "discount_percent": item.get("discount_percent"),
            }
            for item in data
        ]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if isinstance(request.data, dict) and request.data.get("status") not in (None, "", OrderStatus.DRAFT):
            raise _invalid(
                "status",
                _("A new order is a draft; confirm it through POST /api/v1/orders/{id}/status/."),
                "read_only",
            )
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _version = versioned_fields(serializer)
        company = visible_companies(self.actor).filter(pk=data.pop("company")).first()
        if company is None:
            raise _invalid("company", _("The company was not found."))
        data["lines"] = self._lines(data["lines"])
        order = services.order_create(actor=self.actor, company=company, **data)
        return self.answer(order, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        order = self.get_object()
        given = request.data if isinstance(request.data, dict) else {}
        if "status" in given and given.get("status") != order.status:
            raise _invalid(
                "status", _("The status changes through POST /api/v1/orders/{id}/status/."), "read_only"
            )
        if "company" in given and str(given.get("company")) != str(order.company_id):
            raise _invalid("company", _("The client of an order cannot change."), "read_only")
        serializer = OrderUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data, version = versioned_fields(serializer)
        if "lines" in data:
            data["lines"] = self._lines(data["lines"])
        order = services.order_update(actor=self.actor, order=order, expected_version=version, **data)
        return self.answer(order)

    @extend_schema(
        request=StatusSerializer,
        responses={
            200: OrderSerializer,
            400: OpenApiResponse(
                CreditBlockedSerializer,
                description=_(
                    "A bad transition names ``status``; a confirmation over credit control also gives the "
                    "pending approval's id and the reasons."
                ),
            ),
            409: OpenApiResponse(description=_("The order changed since you read it.")),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="status", filter_backends=[])
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        """Move the order along draft → confirmed → shipped → completed, cancel it (not once completed), or
        return a confirmed order without an invoice to a draft. Confirming checks credit control (D6): over
        the client's limit or with an invoice overdue too long, a seller's confirmation becomes a request for
        the head of sales' approval (400 with ``approval``); the head's own confirmation goes through and is
        recorded as approved by them."""
        order = self.get_object()
        serializer = StatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            order = services.order_set_status(
                actor=self.actor,
                order=order,
                status=data["status"],
                expected_version=data.get("version"),
                comment=data.get("comment", ""),
            )
        except services.CreditApprovalRequired as exc:
            return Response(
                {
                    "status": exc.messages(),
                    "approval": exc.approval.pk,
                    "reasons": exc.approval.reasons,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return self.answer(order)


# Purchase statistics --------------------------------------------------------------------------------------


class PurchaseStatsSerializer(serializers.Serializer):
    orders_count = serializers.IntegerField(help_text=_("Purchase orders: confirmed, shipped or completed."))
    total = money_field(help_text=_("Sum of the purchase orders' totals."))
    average = money_field(
        allow_null=True, help_text=_("total / orders_count, to kopecks; null without purchases.")
    )
    purchases_per_month = serializers.FloatField(
        help_text=_("orders_count / max(1, days since the first purchase / 30.4375), 2 decimals."),
    )
    average_interval_days = serializers.FloatField(
        allow_null=True,
        help_text=_("(last − first purchase date) / (orders_count − 1), days; null under two purchases."),
    )
    last_purchase_on = serializers.DateField(allow_null=True)
    categories_count = serializers.IntegerField(help_text=_("Distinct product categories bought."))


class PurchaseStatsView(APIView):
    """D8/D9: a client's purchase statistics, computed from its orders (drafts and cancelled orders are not
    purchases)."""

    permissions = {"get": VIEW}

    @extend_schema(responses=PurchaseStatsSerializer)
    def get(self, request: Request, pk: int) -> Response:
        actor = cast(User, request.user)
        company = access_company_by_id(actor, pk)
        return Response(PurchaseStatsSerializer(selectors.purchase_stats(company=company)).data)


# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = [
    ("product-categories", ProductCategoryViewSet, "product-category"),
    ("products", ProductViewSet, "product"),
    ("orders", OrderViewSet, "order"),
]
PATHS: list[URLPattern] = [
    path("companies/<int:pk>/purchase-stats/", PurchaseStatsView.as_view(), name="company-purchase-stats"),
]
