"""Pages of the sales pipeline (S3): the board, the list, a deal, the pipeline settings and the funnel."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kurator.access.decorators import require
from kurator.companies.views import follows_merged, render_dossier


@require("sales.view_deal")
@follows_merged
def company_deals(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier's Deals tab: the client's deals, open first."""
    return render_dossier(request, pk, "deals", "sales/company_deals.html")


@require("sales.view_deal")
def deal_board(request: HttpRequest) -> HttpResponse:
    """The board: a column per stage of the chosen pipeline."""
    return render(request, "sales/board.html", {})


@require("sales.view_funnel")
def funnel(request: HttpRequest) -> HttpResponse:
    """The funnel for a period: entries per stage, conversion, days per stage, win rates."""
    return render(request, "sales/funnel.html", {})
