"""Template helpers of the inquiry pages: short durations ("15 мин", "1 ч", "1 д"), the respond-by countdown,
match badges and reason sentences in the reader's language."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from kurator.access.policy import can
from kurator.inquiries import matching, selectors
from kurator.inquiries.models import InquiryStatus

register = template.Library()

MINUTES_IN = {"d": 24 * 60, "h": 60, "min": 1}


def minutes_human(minutes: Any, *, parts: int = 2) -> str:
    """Minutes in the largest units, at most ``parts`` of them: 15 → "15 min", 1500 → "1 d 1 h"."""
    if minutes is None or minutes == "":
        return ""
    try:
        # A fraction of a minute counts as a whole one: "0 min" would read as no time at all.
        total = math.ceil(float(minutes))
    except (TypeError, ValueError, OverflowError):
        return ""
    if total <= 0:
        return _("%(n)s min") % {"n": 0}
    units = (("d", _("%(n)s d")), ("h", _("%(n)s h")), ("min", _("%(n)s min")))
    shown: list[str] = []
    for unit, label in units:
        value, total = divmod(total, MINUTES_IN[unit])
        if value:
            shown.append(label % {"n": value})
        if len(shown) == parts:
            break
    return " ".join(shown)


def duration_minutes(delta: timedelta) -> int:
    """Whole minutes, rounding up: 30 s late is "1 min" late, not "0 min"."""
    seconds = int(delta.total_seconds())
    return max(0, -(-seconds // 60))


@register.filter(name="minutes_human")
def minutes_human_filter(minutes: Any) -> str:
    return minutes_human(minutes)


@register.filter
def duration_human(delta: Any) -> str:
    """A timedelta (or seconds) as "1 h 5 min"."""
    if delta is None or delta == "":
        return ""
    if not isinstance(delta, timedelta):
        try:
            delta = timedelta(seconds=float(delta))
        except (TypeError, ValueError):
            return ""
    return minutes_human(duration_minutes(delta))


@register.simple_tag
def respond_by_state(inquiry: Any, now: datetime | None = None) -> dict[str, Any]:
    """Where an inquiry stands against its response standard (R1).

    ``{"state": "late"|"due"|"met"|"missed"|"none", "text": …, "minutes": …}``: late — still new after its
    deadline; due — still new, time left; met / missed — taken in time or after it."""
    now = now or timezone.now()
    deadline = getattr(inquiry, "respond_by", None)
    if deadline is None:
        return {"state": "none", "text": "", "minutes": None}
    taken_at = getattr(inquiry, "taken_at", None)
    if taken_at is not None:
        if taken_at <= deadline:
            return {"state": "met", "text": _("taken in time"), "minutes": None}
        late = duration_minutes(taken_at - deadline)
        return {
            "state": "missed",
            "text": _("taken %(late)s late") % {"late": minutes_human(late)},
            "minutes": late,
        }
    if getattr(inquiry, "status", "new") != "new":
        return {"state": "none", "text": "", "minutes": None}
    if now > deadline:
        late = duration_minutes(now - deadline)
        return {"state": "late", "text": _("%(late)s late") % {"late": minutes_human(late)}, "minutes": late}
    left = duration_minutes(deadline - now)
    return {"state": "due", "text": _("%(left)s left") % {"left": minutes_human(left)}, "minutes": left}


CONFIDENCE_CLASSES = {
    matching.CERTAIN: "bg-green text-green-fg",
    matching.STRONG: "bg-teal text-teal-fg",
    matching.POSSIBLE: "bg-yellow text-yellow-fg",
    matching.NONE: "bg-secondary-lt",
}

STATUS_CLASSES = {
    "new": "bg-blue text-blue-fg",
    "taken": "bg-azure-lt",
    "qualified": "bg-green-lt",
    "converted": "bg-green text-green-fg",
    "rejected": "bg-secondary-lt",
}


@register.filter
def confidence_class(confidence: str) -> str:
    return CONFIDENCE_CLASSES.get(confidence, "bg-secondary-lt")


@register.filter
def inquiry_status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "bg-secondary-lt")


@register.filter
def reason_text(reason: Any) -> str:
    """A stored match reason's sentence in the active language."""
    if not isinstance(reason, dict):
        return str(reason)
    return matching.reason_text(reason)


_BADGE_ATTR = "_kurator_new_inquiries"


@register.simple_tag(takes_context=True)
def new_inquiries(context: template.Context) -> int:
    """``{% new_inquiries as count %}``: new inquiries waiting for the signed-in user — theirs and the
    unassigned ones (the list's "mine" view). One query per request, none for those who see no inquiries."""
    request = context.get("request")
    if request is None:
        return 0
    cached = getattr(request, _BADGE_ATTR, None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = 0
        if user is not None and user.is_authenticated and can(user, "inquiries.view_inquiry"):
            cached = selectors.inquiry_list(actor=user, status=InquiryStatus.NEW, mine=True).count()
        setattr(request, _BADGE_ATTR, cached)
    return int(cached)
