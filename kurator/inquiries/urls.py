from django.urls import path

from kurator.inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("", views.inquiry_list, name="list"),
    path("new/", views.inquiry_create, name="create"),
    path("review/", views.review_queue, name="review"),
    path("report/", views.response_report, name="report"),
    path("settings/", views.settings_standards, name="settings_standards"),
    path("settings/rules/", views.settings_rules, name="settings_rules"),
    path("settings/rules/new/", views.settings_rule_edit, name="settings_rule_create"),
    path("settings/rules/<int:pk>/", views.settings_rule_edit, name="settings_rule_edit"),
    path("settings/rules/<int:pk>/delete/", views.settings_rule_delete, name="settings_rule_delete"),
    path("settings/domains/", views.settings_domains, name="settings_domains"),
    path("settings/embed/", views.settings_embed, name="settings_embed"),
    path("<int:pk>/", views.inquiry_detail, name="detail"),
    path("<int:pk>/take/", views.inquiry_take, name="take"),
    path("<int:pk>/qualify/", views.inquiry_qualify, name="qualify"),
    path("<int:pk>/reject/", views.inquiry_reject, name="reject"),
    path("<int:pk>/convert/", views.inquiry_convert, name="convert"),
    path("<int:pk>/confirm-match/", views.inquiry_confirm_match, name="confirm_match"),
]
