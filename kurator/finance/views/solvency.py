"""The confidential solvency section: statements, ratios, payment discipline, rating (D4).

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("finance.view_solvency")
@follows_merged
def company_solvency(request: HttpRequest, pk: int) -> HttpResponse:
    return render_dossier(request, pk, "solvency", "finance/_stub_tab.html")


urlpatterns = [
    path("company/<int:pk>/solvency/", company_solvency, name="company_solvency"),
]
