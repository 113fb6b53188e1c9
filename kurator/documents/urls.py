"""Document pages, mounted at /documents/ (the dossier's Documents tab lives here too)."""

from django.urls import URLPattern

app_name = "documents"

urlpatterns: list[URLPattern] = []
