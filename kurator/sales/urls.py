from django.urls import path

from kurator.sales import views

app_name = "sales"

urlpatterns = [
    path("", views.deal_board, name="board"),
    path("list/", views.deal_list, name="list"),
    path("new/", views.deal_create, name="create"),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/move/", views.deal_move, name="move"),
    path("<int:pk>/checklist/", views.deal_check_item, name="check_item"),
    path("funnel/", views.funnel, name="funnel"),
    path("company/<int:pk>/", views.company_deals, name="company_deals"),
    path("pipelines/", views.pipelines, name="pipelines"),
    path("pipelines/new/", views.pipeline_edit, name="pipeline_create"),
    path("pipelines/<int:pk>/", views.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pipeline_pk>/stages/new/", views.stage_edit, name="stage_create"),
    path("pipelines/<int:pipeline_pk>/stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/order/", views.stage_order, name="stage_order"),
    path("stages/<int:pk>/checklist/", views.checklist_add, name="checklist_add"),
    path("checklist/<int:pk>/deactivate/", views.checklist_deactivate, name="checklist_deactivate"),
]
