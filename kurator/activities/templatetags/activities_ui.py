"""Template helpers of the contact history and tasks: kind icons and colours, who may edit, task states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone

from kurator.access.policy import can

register = template.Library()

# Every kind has an icon vendored in kurator/ui/vendor.py ICONS and a Tabler colour.
KIND_ICONS = {
    "call": ("phone-call", "azure"),
    "meeting": ("users", "green"),
    "negotiation": ("message", "purple"),
    "letter": ("mail-forward", "orange"),
    "email": ("mail", "blue"),
    "note": ("notes", "secondary"),
}


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, ("notes", "secondary"))[0]


@register.filter
def kind_color(kind: str) -> str:
    return KIND_ICONS.get(kind, ("notes", "secondary"))[1]


@register.filter
def editable_by(activity: Any, user: Any) -> bool:
    """Whether ``user`` may edit the entry (its author or the head of sales); no query."""
    return can(user, "activities.change_activity", activity)


@register.filter
def task_changeable_by(task: Any, user: Any) -> bool:
    return can(user, "activities.change_task", task)


@register.simple_tag
def task_state(task: Any, now: datetime | None = None) -> str:
    """``done``, ``overdue`` (due before now), ``today`` (later today) or ``later``."""
    if task.done:
        return "done"
    now = now or timezone.now()
    if task.due_at < now:
        return "overdue"
    if timezone.localdate(task.due_at) == timezone.localdate(now):
        return "today"
    return "later"


# Long task lists and timelines link every row to a few pages: ``reverse`` once per page name and script
# prefix, then put each id in (a page of 150 rows otherwise spends most of its time in the URL resolver).
_PATTERNS: dict[tuple[str, str], str | None] = {}
_PLACEHOLDER = 2**31 - 1


@receiver(setting_changed)
def _forget_patterns(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _PATTERNS.clear()


def _pattern(name: str) -> str | None:
    key = (get_script_prefix(), name)
    if key not in _PATTERNS:
        try:
            _PATTERNS[key] = reverse(name, args=[_PLACEHOLDER])
        except NoReverseMatch:
            _PATTERNS[key] = None
    return _PATTERNS[key]


@register.filter
def url_for(pk: Any, name: str) -> str:
    """``{{ task.pk|url_for:"activities:task_edit" }}``: the page of that name for the id ("" if none)."""
    pattern = _pattern(name)
    if not pk or pattern is None:
        return ""
    return pattern.replace(f"/{_PLACEHOLDER}/", f"/{int(pk)}/", 1)


@register.filter
def deal_page(deal_id: int | None) -> str:
    """The deal's page, or "" while the pipeline pages do not answer that name."""
    return url_for(deal_id, "sales:detail")
