"""Forms of the catalogue, order and credit-control pages (D8, D6). They only parse input; the services
decide and their errors are shown next to the fields (``kurator.core.forms.apply_service_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kurator.companies.models import Company, ProductCategory
from kurator.core.forms import MoneyField
from kurator.finance.models import Contract, Order, OrderStatus, Product
from kurator.sales.models import Deal

# Blank rows an order form offers below the filled ones; "Add a line" (a plain submit) adds one more.
EXTRA_LINES = 1
MAX_FORM_LINES = 200


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ProductCategory.objects.none(), required=False
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", pgettext_lazy("products", "Active")),
            ("all", _("All")),
            ("inactive", pgettext_lazy("products", "Inactive")),
        ],
    )

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        self.fields["category"].queryset = ProductCategory.objects.order_by("position", "name")  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {"active": True}
        data = self.cleaned_data
        active = {"": True, "all": None, "inactive": False}[data.get("active") or ""]
        return {"q": data.get("q") or "", "category": data.get("category"), "active": active}


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    code = forms.CharField(label=_("Article"), max_length=64, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=ProductCategory.objects.none())
    unit = forms.CharField(label=_("Unit"), max_length=16, initial="шт")
    base_price = MoneyField(label=_("Base price, ₽"))
    is_active = forms.BooleanField(label=_("Active (offered in new orders)"), required=False, initial=True)

    def __init__(self, data: Any = None, *, product: Product | None = None) -> None:
        initial: dict[str, Any] = {}
        if product is not None:
            initial = {
                "name": product.name,
                "code": product.code,
                "category": product.category_id,
                "unit": product.unit,
                "base_price": product.base_price,
                "is_active": product.is_active,
            }
        super().__init__(data, initial=initial)
        categories = ProductCategory.objects.filter(is_active=True)
        if product is not None:
            categories = ProductCategory.objects.filter(Q(is_active=True) | Q(pk=product.category_id))
        self.fields["category"].queryset = categories.order_by("position", "name")  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def _number_input(placeholder: Any = "") -> forms.TextInput:
    attrs = {"class": "form-control text-end", "inputmode": "decimal", "autocomplete": "off"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.TextInput(attrs=attrs)


class OrderLineForm(forms.Form):
    """One row of the order's lines table: Tabler controls, numbers right-aligned, a field with an error
    (the form's or the service's «Line N: …») marked ``is-invalid``."""

    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=32, widget=_number_input())
    price = forms.CharField(
        label=_("Price, ₽"),
        required=False,
        max_length=32,
        help_text=_("Empty: the base price."),
        widget=_number_input(_("base price")),
    )
    discount_percent = forms.CharField(
        label=_("Discount, %"), required=False, max_length=16, widget=_number_input("0")
    )

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label  # the table's header names the column

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", "").split():
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(key) for key in ("product", "quantity", "price", "discount_percent"))

    def line(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data.get("product"),
            "quantity": data.get("quantity"),
            "price": data.get("price"),
            "discount_percent": data.get("discount_percent"),
        }


class OrderLineFormSet(forms.BaseFormSet):
    products: Any = None

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "products": self.products}

    def lines(self) -> list[dict[str, Any]]:
        return [form.line() for form in self.forms if not form.is_blank()]


LineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=OrderLineFormSet,
    extra=EXTRA_LINES,
    max_num=MAX_FORM_LINES,
    absolute_max=MAX_FORM_LINES,
)


def line_formset(data: Any = None, *, order: Order | None = None, lines: list[Any] | None = None) -> Any:
    """The lines of an order form: the order's lines and one blank row. With ``add_line`` in the posted data
    a blank row more (the "Add a line" button works without JavaScript)."""
    current = {line.product_id for line in lines or []}
    products = (
        Product.objects.filter(Q(is_active=True) | Q(pk__in=current))
        .select_related("category")
        .order_by("name", "id")
    )
    initial = [
        {
            "product": line.product_id,
            "quantity": line.quantity.normalize()
            if line.quantity == line.quantity.to_integral()
            else line.quantity,
            "price": line.price,
            "discount_percent": line.discount_percent.normalize() if line.discount_percent else "",
        }
        for line in lines or []
    ]
    if data is not None and "add_line" in data:
        data = data.copy()
        total = int(data.get("lines-TOTAL_FORMS") or 0)
        data["lines-TOTAL_FORMS"] = str(min(total + 1, MAX_FORM_LINES))
    formset: Any = LineFormSet(data, prefix="lines", initial=initial)
    formset.products = products
    return formset


class OrderForm(forms.Form):
    ordered_on = forms.DateField(label=_("Order date"), widget=_date_widget())
    number = forms.CharField(label=_("Client's order number"), max_length=64, required=False)
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none(), required=False)
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, company: Company, order: Order | None = None) -> None:
        initial: dict[str, Any] = {}
        if order is not None:
            initial = {
                "ordered_on": order.ordered_on,
                "number": order.number,
                "contract": order.contract_id,
                "deal": order.deal_id,
                "notes": order.notes,
                "version": order.version,
            }
        super().__init__(data, initial=initial)
        self.fields["contract"].queryset = Contract.objects.filter(company=company).order_by("-id")  # type: ignore[attr-defined]
        self.fields["deal"].queryset = Deal.objects.filter(company=company).order_by("-created_at", "-id")  # type: ignore[attr-defined]
        if order is None:
            del self.fields["version"]
        elif order.status != OrderStatus.DRAFT:
            # Fixed once confirmed (see kurator.finance.services.orders).
            self.fields["ordered_on"].disabled = True

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=OrderStatus.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to refuse: the requester reads it."),
    )


class CreditLimitForm(forms.Form):
    amount = MoneyField(
        label=_("Credit limit, ₽"), required=False, help_text=_("Empty and saved: the limit is removed.")
    )
