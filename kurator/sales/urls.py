from django.urls import path

from kurator.sales import views

app_name = "sales"

urlpatterns = [
    path("", views.deal_board, name="board"),
    path("funnel/", views.funnel, name="funnel"),
    path("company/<int:pk>/", views.company_deals, name="company_deals"),
]
