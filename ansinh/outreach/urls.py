from django.urls import path

from ansinh.outreach import views

urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/calendar/", views.plan_calendar, name="plan_calendar"),
    path("plans/<int:plan_id>/export.<str:fmt>", views.plan_export, name="plan_export"),
    path("plans/<int:plan_id>/items/add/", views.plan_item_add, name="plan_item_add"),
    path("plans/<int:plan_id>/items/<int:item_id>/", views.plan_item_edit, name="plan_item_edit"),
    path(
        "plans/<int:plan_id>/items/<int:item_id>/delete/",
        views.plan_item_delete,
        name="plan_item_delete",
    ),
    path(
        "plans/<int:plan_id>/<slug:action>/",
        views.plan_action,
        name="plan_action",
    ),
    path("campaigns/", views.campaign_list, name="campaign_list"),
]
