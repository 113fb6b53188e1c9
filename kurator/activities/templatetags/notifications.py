"""The navbar's unread-notification count: one query per request, and none on pages that do not show it."""

from __future__ import annotations

from typing import Any

from django import template

from kurator.activities.selectors import unread_count

register = template.Library()

# Kept on the request so that the bell, its dropdown and the page body share one query.
_CACHE_ATTR = "_kurator_unread_notifications"


def unread_notifications_of(request: Any) -> int:
    if request is None:
        return 0
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = unread_count(actor=user) if user is not None and user.is_authenticated else 0
        setattr(request, _CACHE_ATTR, cached)
    return int(cached)


def forget_unread_notifications(request: Any) -> None:
    """After marking notifications read within a request, the next count must be fresh."""
    if hasattr(request, _CACHE_ATTR):
        delattr(request, _CACHE_ATTR)


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """``{% unread_notifications as count %}``: the signed-in user's unread notifications."""
    return unread_notifications_of(context.get("request"))
