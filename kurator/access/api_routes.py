"""The restricted-access API routes for kurator/api_urls.py: access requests, grants, the audit log."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from kurator.access import api_views

ROUTES: list[tuple[str, Any, str]] = list(api_views.ROUTES)
PATHS: list[URLPattern] = list(api_views.PATHS)
