from django.urls import path

from kurator.sales import views

app_name = "sales"

urlpatterns = [
    path("company/<int:pk>/", views.company_deals, name="company_deals"),
]
