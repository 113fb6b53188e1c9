"""The fast <select> writes exactly what Django's template-rendered Select writes (the people lists of the
filter forms use it), escaping every label and value."""

from __future__ import annotations

import re

import pytest
from django import forms

from kurator.core.widgets import FastSelect

CHOICES = [
    ("", "—"),
    (1, "Петров <Иван> & Co"),
    (2, 'ООО «Ромашка» "О\'Хара"'),
    ("Группа", [(3, "в группе"), (4, "ещё")]),
]


def _markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip()).replace("\n", "")


@pytest.mark.parametrize("value", [None, "", "2", "3", "99"])
@pytest.mark.parametrize(
    "attrs",
    [
        {"class": "form-select"},
        {"class": "form-select is-invalid", "aria-invalid": "true", "aria-describedby": "id_owner_errors"},
        {"class": "form-select", "required": True, "disabled": False, "data-note": 'a"b<c>'},
    ],
)
def test_the_markup_is_djangos_own(value, attrs) -> None:
    attrs = {**attrs, "id": "id_owner"}
    expected = forms.Select(choices=CHOICES).render("owner", value, attrs=attrs)
    assert _markup(str(FastSelect(choices=CHOICES).render("owner", value, attrs=attrs))) == _markup(expected)


def test_labels_and_values_are_escaped() -> None:
    html = str(FastSelect(choices=[('"><script>', "<b>x</b>")]).render("owner", None))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
