"""Restricted access pages, mounted at /access/: asking for access, requests, grants, the audit log (R4,
D12)."""

from django.urls import path

from kurator.access import views

app_name = "access"

urlpatterns = [
    path("request/", views.request_access, name="request"),
    path("requests/", views.requests_page, name="requests"),
    path("requests/<int:pk>/approve/", views.request_approve, name="request_approve"),
    path("requests/<int:pk>/refuse/", views.request_refuse, name="request_refuse"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("mine/", views.my_requests, name="my_requests"),
    path("grants/", views.grants_page, name="grants"),
    path("grants/new/", views.grant_create, name="grant_create"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export/", views.audit_export, name="audit_export"),
]
