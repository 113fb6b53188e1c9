from django.urls import path

from kurator.inquiries import import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("<int:pk>/", import_views.preview, name="preview"),
    path("<int:pk>/apply/", import_views.apply, name="apply"),
    path("<int:pk>/download/", import_views.download, name="download"),
]
