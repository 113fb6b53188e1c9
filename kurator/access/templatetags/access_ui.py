"""Template helpers of restricted access (R4): the navbar's count of requests waiting for a decision."""

from __future__ import annotations

from typing import Any

from django import template

from kurator.access.selectors import pending_request_count

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_access_requests(context: dict[str, Any]) -> int:
    """Requests waiting for a decision, for the head of sales and the administrator: one COUNT query over the
    (status, created_at) index, run once per page; 0 (and no query) for everyone else."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    cache = getattr(request, "_kurator_pending_access", None) if request is not None else None
    if cache is not None:
        return int(cache)
    count = pending_request_count(actor=user)
    if request is not None:
        request._kurator_pending_access = count
    return count
