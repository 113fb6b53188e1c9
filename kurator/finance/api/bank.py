"""API of the area.

Bank statements in the 1C exchange format and the review queue of unplaced payments (D6)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[URLPattern] = []
