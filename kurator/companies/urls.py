from django.urls import path

from kurator.companies import views

app_name = "companies"

urlpatterns = [
    path("", views.company_list, name="list"),
    path("new/", views.company_create, name="create"),
    path("referrers/", views.referrer_options, name="referrers"),
    path("dictionaries/", views.dictionaries, name="dictionaries"),
    path("reports/overlap/", views.report_overlap, name="report_overlap"),
    path("reports/sources/", views.report_sources, name="report_sources"),
    path("dictionaries/<str:kind>/", views.dictionary, name="dictionary"),
    path("dictionaries/<str:kind>/<int:item_pk>/", views.dictionary_item, name="dictionary_item"),
    path("<int:pk>/", views.company_detail, name="detail"),
    path("<int:pk>/people/", views.company_people, name="people"),
    path("<int:pk>/profile/", views.company_profile, name="profile"),
    path("<int:pk>/history/", views.company_history, name="history"),
    path("<int:pk>/edit/", views.company_edit, name="edit"),
    path("<int:pk>/curator/", views.company_curator, name="curator"),
    path("<int:pk>/merge/", views.company_merge, name="merge"),
    path("<int:pk>/merge/<int:duplicate_pk>/", views.company_merge_confirm, name="merge_confirm"),
    path("<int:pk>/people/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/people/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/people/<int:contact_pk>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/bank-accounts/new/", views.bank_account_create, name="bank_account_create"),
    path("<int:pk>/bank-accounts/<int:account_pk>/edit/", views.bank_account_edit, name="bank_account_edit"),
    path(
        "<int:pk>/bank-accounts/<int:account_pk>/delete/",
        views.bank_account_delete,
        name="bank_account_delete",
    ),
]
