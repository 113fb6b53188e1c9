"""API of the area.

The product catalogue, a client's orders and purchase statistics (D8), credit control."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[URLPattern] = []
