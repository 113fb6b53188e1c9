"""Contact history, tasks, "My day" and the calendar feed (D3, D10)."""

from django.urls import path

from kurator.activities import work_views as views

app_name = "activities"

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("activities/company/<int:pk>/", views.company_timeline, name="company_timeline"),
]
