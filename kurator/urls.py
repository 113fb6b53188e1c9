from django.urls import include, path
from django.views.i18n import set_language

from kurator.access.decorators import require
from kurator.access.policy import PUBLIC
from kurator.inquiries import public as public_inquiries
from kurator.ui import views as ui_views

urlpatterns = [
    path("", ui_views.home, name="home"),
    path("healthz", ui_views.healthz, name="healthz"),
    path("i18n/setlang/", require(PUBLIC)(set_language), name="set_language"),
    path("accounts/", include("kurator.accounts.urls")),
    path("companies/", include("kurator.companies.urls")),
    path("inquiries/", include("kurator.inquiries.urls")),
    path("notifications/", include("kurator.activities.urls")),
    path("imports/", include("kurator.inquiries.import_urls")),
    path("deals/", include("kurator.sales.urls")),
    path("finance/", include("kurator.finance.urls")),
    path("documents/", include("kurator.documents.urls")),
    path("access/", include("kurator.access.urls")),
    path("users/", include("kurator.accounts.user_urls")),
    path("", include("kurator.activities.work_urls")),
    # The embeddable web form: no login (see kurator/inquiries/public.py).
    path("forms/inquiry/", public_inquiries.public_inquiry, name="public_inquiry"),
    path("forms/inquiry/thanks/", public_inquiries.public_inquiry_thanks, name="public_inquiry_thanks"),
    path("api/", include("kurator.api_urls")),
]

handler404 = ui_views.not_found
