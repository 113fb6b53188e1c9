"""The documents API routes for kurator/api_urls.py: router registrations and extra paths."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from kurator.documents import api

ROUTES: list[tuple[str, Any, str]] = api.ROUTES
PATHS: list[URLPattern] = api.PATHS
