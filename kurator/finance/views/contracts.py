"""Contracts and obligations of a client (D5).

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("finance.view_contract")
@follows_merged
def company_contracts(request: HttpRequest, pk: int) -> HttpResponse:
    return render_dossier(request, pk, "contracts", "finance/_stub_tab.html")


urlpatterns = [
    path("company/<int:pk>/contracts/", company_contracts, name="company_contracts"),
]
