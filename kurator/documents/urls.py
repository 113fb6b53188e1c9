"""Document pages, mounted at /documents/ (the dossier's Documents tab lives here too)."""

from kurator.documents import views

app_name = "documents"

urlpatterns = views.urlpatterns
