"""Restricted access pages, mounted at /access/: requests, grants, the audit log."""

from django.urls import URLPattern

app_name = "access"

urlpatterns: list[URLPattern] = []
