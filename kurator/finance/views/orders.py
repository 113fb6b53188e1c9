"""The product catalogue, a client's orders and purchase statistics (D8), credit control.

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("finance.view_order")
@follows_merged
def company_purchases(request: HttpRequest, pk: int) -> HttpResponse:
    return render_dossier(request, pk, "purchases", "finance/_stub_tab.html")


@require("finance.view_order")
def products(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "catalogue"})


@require("finance.view_order")
def credit_approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "approvals"})


urlpatterns = [
    path("company/<int:pk>/purchases/", company_purchases, name="company_purchases"),
    path("products/", products, name="products"),
    path("approvals/", credit_approvals, name="credit_approvals"),
]
