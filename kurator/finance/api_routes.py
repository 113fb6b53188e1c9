"""The finance API routes, gathered from each area's module for kurator/api_urls.py."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from kurator.finance.api import bank, conflicts, contracts, orders, receivables, solvency

_AREAS = (contracts, orders, receivables, bank, solvency, conflicts)

ROUTES: list[tuple[str, Any, str]] = [route for area in _AREAS for route in area.ROUTES]
PATHS: list[URLPattern] = [pattern for area in _AREAS for pattern in area.PATHS]
