"""Template helpers shared by every page: vendored asset URLs, icons and Bootstrap form fields."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import forms, template
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.utils.html import format_html

from kurator.core.money import format_rub
from kurator.ui import vendor

register = template.Library()

_PACKAGES = {package.name: package for package in vendor.PACKAGES}
_ICONS = frozenset(vendor.ICONS)


@register.simple_tag
def vendor_static(package: str, path: str) -> str:
    """URL of a vendored file: ``{% vendor_static "@tabler/core" "css/tabler.min.css" %}``."""
    return static(vendor.static_path(_PACKAGES[package], path))


@lru_cache(maxsize=1)
def _sprite_url() -> str:
    # static() asks the storage every time (a manifest look-up in production); a page with hundreds of
    # icons paid for it hundreds of times.
    return static(vendor.static_path(vendor.TABLER_ICONS, vendor.SPRITE_NAME))


def _forget_sprite_url(**kwargs: Any) -> None:
    _sprite_url.cache_clear()


setting_changed.connect(_forget_sprite_url)


@register.simple_tag
def icon(name: str, css: str = "") -> str:
    """An outline icon from the vendored sprite. Unknown names fail loudly so that tests catch typos."""
    if name not in _ICONS:
        # Icon names are literals in templates, so the page tests catch a typo before users do.
        raise template.TemplateSyntaxError(f"icon {name!r} is not vendored (kurator/ui/vendor.py ICONS)")
    sprite = _sprite_url()
    return format_html(
        '<svg class="icon {}" aria-hidden="true" width="24" height="24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        '<use href="{}#tabler-{}"></use></svg>',
        css,
        sprite,
        name,
    )


def _widget_kind(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(widget, forms.Select):
        return "select"
    return "input"


@register.inclusion_tag("ui/_field.html")
def field(bound: forms.BoundField, label: Any = None, css: str = "mb-3", hint: Any = None) -> dict[str, Any]:
    """One form field in Tabler/Bootstrap markup with its errors inline (``is-invalid`` + feedback)."""
    kind = _widget_kind(bound)
    classes = {
        "checkbox": "form-check-input",
        "checkboxes": "form-check-input",
        "select": "form-select",
        "input": "form-control",
        "hidden": "",
    }[kind]
    if bound.errors:
        classes += " is-invalid"
    attrs: dict[str, Any] = {"class": classes.strip()} if classes.strip() else {}
    if bound.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{bound.auto_id}_errors"
    if kind == "checkboxes":
        # Each checkbox takes its attributes from the widget (the form instance owns its widget copy).
        bound.field.widget.attrs.update(attrs)
        options = [{"tag": option.tag(), "label": option.choice_label} for option in bound.subwidgets]
        widget = ""
    else:
        options = []
        widget = bound.as_widget(attrs=attrs)
    return {
        "field": bound,
        "kind": kind,
        "widget": widget,
        "options": options,
        "label": label if label is not None else bound.label,
        "css": css,
        "help": hint if hint is not None else bound.help_text,
    }


@register.inclusion_tag("ui/_form_errors.html")
def form_errors(form: forms.BaseForm) -> dict[str, Any]:
    return {
        "errors": form.non_field_errors(),
        "hidden_errors": [(f.label, f.errors) for f in form.hidden_fields() if f.errors],
        # Field errors sit next to their fields, which may be below the fold: say so at the top.
        "has_field_errors": bool(form.errors),
    }


@register.filter
def rub(value: Any, sign: bool = True) -> str:
    """``1234567.89`` → ``1 234 567,89 ₽``; ``—`` for nothing (``kurator.core.money.format_rub``)."""
    return format_rub(value, sign)
