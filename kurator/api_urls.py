"""The public API (/api/v1/), its OpenAPI schema and its docs. Every route names its permission."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from kurator.access import api_routes as access_routes
from kurator.access.api import PolicyPermission
from kurator.access.policy import AUTHENTICATED
from kurator.accounts.api import ApiTokenViewSet, TokenView, UserViewSet
from kurator.activities.api import ActivityViewSet, NotificationViewSet, TaskViewSet
from kurator.companies.api import (
    BankAccountViewSet,
    CompanyViewSet,
    ContactViewSet,
    OverlapReportView,
    SourcesReportView,
)
from kurator.documents import api_routes as documents_routes
from kurator.finance import api_routes as finance_routes
from kurator.inquiries.api import InquiryViewSet, SourceViewSet
from kurator.inquiries.import_api import ImportViewSet
from kurator.sales.api import DealViewSet, PipelineViewSet
from kurator.sales.report_api import FunnelReportView


@extend_schema(exclude=True)
class ApiRootView(routers.APIRootView):
    permissions = {"*": AUTHENTICATED}


class Router(routers.DefaultRouter):
    APIRootView = ApiRootView
    # JSON only: format-suffixed twins of every route would just double the surface to secure and test.
    include_format_suffixes = False


router = Router()
router.register("companies", CompanyViewSet, basename="company")
router.register("bank-accounts", BankAccountViewSet, basename="bank-account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("users", UserViewSet, basename="user")
router.register("auth/tokens", ApiTokenViewSet, basename="auth-token")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
router.register("imports", ImportViewSet, basename="import")
router.register("inquiries", InquiryViewSet, basename="inquiry")
router.register("sources", SourceViewSet, basename="source")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("deals", DealViewSet, basename="deal")
for prefix, viewset, basename in [*finance_routes.ROUTES, *documents_routes.ROUTES, *access_routes.ROUTES]:
    router.register(prefix, viewset, basename=basename)


# drf-spectacular's views default to AllowAny; put them back under the policy like every other view.
class SchemaView(SpectacularAPIView):
    permission_classes = [PolicyPermission]
    permissions = {"*": AUTHENTICATED}


class DocsView(SpectacularSwaggerSplitView):
    """The browsable docs: a page for people, so a browser that is not signed in goes to the login page
    (and comes back) instead of reading a bare 401; other clients still get the 401. The split view serves
    Swagger UI's start-up script as a file of its own (``?script``), so the page runs under the Content
    Security Policy without an inline script."""

    permission_classes = [PolicyPermission]
    permissions = {"*": AUTHENTICATED}

    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]  # a redirect too
        wants_page = "text/html" in self.request.META.get("HTTP_ACCEPT", "")
        if isinstance(exc, NotAuthenticated | AuthenticationFailed) and wants_page:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("v1/reports/sources/", SourcesReportView.as_view(), name="report-sources"),
    path("v1/reports/overlap/", OverlapReportView.as_view(), name="report-overlap"),
    path("v1/reports/funnel/", FunnelReportView.as_view(), name="report-funnel"),
    path("v1/", include(finance_routes.PATHS)),
    path("v1/", include(documents_routes.PATHS)),
    path("v1/", include(access_routes.PATHS)),
    path("v1/", include(router.urls)),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
