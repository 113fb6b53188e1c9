"""Notification pages (R2: a curator learns of an inquiry given to them). Each user sees only their own."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kurator.access.decorators import require
from kurator.access.policy import AUTHENTICATED
from kurator.accounts.models import User
from kurator.activities import selectors, services
from kurator.activities.templatetags.notifications import forget_unread_notifications
from kurator.core.pagination import FewRowsPaginator

PER_PAGE = 30


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _safe_target(request: HttpRequest, url: str) -> str | None:
    """Only links inside Kurator are followed: a stored or posted URL must never send a user elsewhere."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@require(AUTHENTICATED)
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; unread ones stand out and can be marked read."""
    unread_only = request.GET.get("unread") == "1"
    notifications = selectors.notification_list(actor=_actor(request), unread_only=unread_only)
    page = FewRowsPaginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/notification_list.html",
        {
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "unread_only": unread_only,
        },
    )


@require(AUTHENTICATED)
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification: it is read once opened. Marking one's own notice read is idempotent and
    harmless, so a plain link (GET) does it and middle-click still opens it in a new tab."""
    notification = selectors.notification_list(actor=_actor(request)).filter(pk=pk).first()
    if notification is None:
        raise Http404
    if notification.read_at is None:
        services.notification_mark_read(actor=_actor(request), notification_ids=[notification.pk])
    return redirect(_safe_target(request, notification.url) or "notifications:list")


@require(AUTHENTICATED)
@require_POST
def notification_mark_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of the user's unread notifications read."""
    raw_id = request.POST.get("id")
    if raw_id:
        try:
            ids: list[int] | None = [int(raw_id)]
        except ValueError:
            raise Http404 from None
    else:
        ids = None
    marked = services.notification_mark_read(actor=_actor(request), notification_ids=ids)
    forget_unread_notifications(request)
    if ids is None and marked:
        messages.success(request, _("All notifications are marked read."))
    return redirect(_safe_target(request, request.POST.get("next", "")) or "notifications:list")
