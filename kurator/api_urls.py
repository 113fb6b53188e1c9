from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from kurator.access.policy import AUTHENTICATED

router = DefaultRouter()


class SchemaView(SpectacularAPIView):
    permissions = {"*": AUTHENTICATED}


class DocsView(SpectacularSwaggerView):
    permissions = {"*": AUTHENTICATED}


urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
