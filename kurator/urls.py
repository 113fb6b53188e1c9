from django.urls import include, path
from django.views.i18n import set_language

from kurator.access.decorators import require
from kurator.access.policy import PUBLIC
from kurator.ui import views as ui_views

urlpatterns = [
    path("", ui_views.home, name="home"),
    path("healthz", ui_views.healthz, name="healthz"),
    path("i18n/setlang/", require(PUBLIC)(set_language), name="set_language"),
    path("accounts/", include("kurator.accounts.urls")),
    path("companies/", include("kurator.companies.urls")),
    path("notifications/", include("kurator.activities.urls")),
    path("api/", include("kurator.api_urls")),
]
