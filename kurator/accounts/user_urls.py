"""User management pages, mounted at /users/: the department's people, deactivation with handover."""

from django.urls import URLPattern

app_name = "users"

urlpatterns: list[URLPattern] = []
