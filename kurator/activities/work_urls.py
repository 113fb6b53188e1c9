"""Contact history, tasks, "My day" and the calendar feed (D3, D10)."""

from django.urls import path

from kurator.activities import calendar_views
from kurator.activities import work_views as views

app_name = "activities"

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/<str:token>.ics", calendar_views.calendar_feed, name="calendar_feed"),
    path("activities/company/<int:pk>/", views.company_timeline, name="company_timeline"),
    path("activities/new/", views.activity_create, name="create"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="edit"),
    path("activities/<int:pk>/history/", views.activity_history, name="history"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/done/", views.task_complete, name="task_complete"),
]
