"""The register of conflicts with a client (D7).

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("finance.view_conflict")
@follows_merged
def company_conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    return render_dossier(request, pk, "conflicts", "finance/_stub_tab.html")


urlpatterns = [
    path("company/<int:pk>/conflicts/", company_conflicts, name="company_conflicts"),
]
