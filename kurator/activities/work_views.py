"""Pages of the contact history (D3), tasks, "My day" and the calendar feed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("activities.view_activity")
@follows_merged
def company_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's contact history: one timeline of every contact with the client (D3, R3)."""
    return render_dossier(request, pk, "timeline", "activities/company_timeline.html")


@require("activities.view_task")
def my_day(request: HttpRequest) -> HttpResponse:
    """The user's tasks: overdue, today and the next seven days."""
    return render(request, "activities/my_day.html", {})
