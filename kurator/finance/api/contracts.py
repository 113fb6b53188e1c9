"""API of the area.

Contracts and obligations of a client (D5)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

# (prefix, viewset, basename) for the /api/v1/ router, and extra paths under /api/v1/.
ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[URLPattern] = []
