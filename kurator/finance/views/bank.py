"""Bank statements in the 1C exchange format and the review queue of unplaced payments (D6).

A stub until the area is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from kurator.access.decorators import require


@require("finance.import_bank_statement")
def bank(request: HttpRequest) -> HttpResponse:
    return render(request, "finance/_stub_page.html", {"finance_tab": "bank"})


urlpatterns = [
    path("bank/", bank, name="bank"),
]
