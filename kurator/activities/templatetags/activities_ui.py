"""Template helpers of the contact history and tasks: kind icons and colours, who may edit, task states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
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


@register.filter
def deal_page(deal_id: int | None) -> str:
    """The deal's page, or "" while the pipeline pages do not answer that name."""
    if not deal_id:
        return ""
    from kurator.activities.work_views import deal_url

    return deal_url(deal_id) or ""
