"""Form widgets shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """Attributes as django/forms/widgets/attrs.html writes them: in order, False left out, True bare."""
    return mark_safe(  # noqa: S308 (every part is built by format_html)
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


def date_widget() -> forms.DateInput:
    """A date field as the browser's date picker (ISO value, shown in the user's locale)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FastSelect(forms.Select):
    """A ``<select>`` with the markup of Django's own, built in Python: Django renders each option through a
    template include (about 0.1 ms an option), and the people lists of a department — owners, curators,
    assignees — run to hundreds of options on the pages read most often (the deal list, the company list)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html('<optgroup label="{}">', group))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    _attrs(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every part is built by format_html)


class UserChoiceField(forms.ModelChoiceField):
    """A choice of one of Kurator's people, by full name (``User.__str__``), rendered by FastSelect."""

    widget = FastSelect
