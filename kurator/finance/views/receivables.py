"""Invoices, payments, receivables ageing and the collection log (D6).

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("finance.view_invoice")
@follows_merged
def company_receivables(request: HttpRequest, pk: int) -> HttpResponse:
    return render_dossier(request, pk, "receivables", "finance/_stub_tab.html")


@require("finance.view_receivables_report")
def receivables(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "receivables"})


@require("finance.view_invoice")
def invoices(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "invoices"})


@require("finance.view_invoice")
def payments(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "payments"})


urlpatterns = [
    path("company/<int:pk>/receivables/", company_receivables, name="company_receivables"),
    path("", receivables, name="receivables"),
    path("invoices/", invoices, name="invoices"),
    path("payments/", payments, name="payments"),
]
