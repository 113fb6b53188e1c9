"""The calendar feed (D10): the user's page with the private URL, and the feed (the token is the key)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kurator.access.decorators import require
from kurator.access.policy import PUBLIC
from kurator.accounts.models import User
from kurator.activities import calendar
from kurator.activities.models import CalendarFeed
from kurator.activities.services import recipient_language


@require("activities.view_task")
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The user's own feed URL: copy it into a calendar app; create it, or revoke it and get a new one."""
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            calendar.calendar_feed_create(actor=user)
            messages.success(request, _("Your calendar feed URL is ready: add it to your calendar app."))
        elif action == "revoke" and calendar.calendar_feed_revoke(actor=user):
            messages.success(request, _("The feed URL is revoked: calendars subscribed to it stop updating."))
        return redirect("activities:calendar")
    feed = CalendarFeed.objects.filter(user=user).first()
    url = request.build_absolute_uri(reverse("activities:calendar_feed", args=[feed.token])) if feed else ""
    return render(request, "activities/calendar.html", {"feed": feed, "feed_url": url})


@require(PUBLIC)
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCal feed: no login (calendar apps cannot log in); the secret token in the URL is the key."""
    feed = calendar.feed_by_token(token)
    if feed is None:
        raise Http404
    with translation.override(recipient_language(feed.user)):
        body = calendar.build_calendar(feed.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kurator.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
