"""The restricted-access API routes for kurator/api_urls.py: access requests, grants, the audit log."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

ROUTES: list[tuple[str, Any, str]] = []
PATHS: list[URLPattern] = []
