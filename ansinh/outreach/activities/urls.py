from django.urls import path

from ansinh.outreach.activities import views

urlpatterns = [
    path("activities/", views.activity_list_view, name="activity_list"),
    path("activities/new/", views.activity_new_view, name="activity_new"),
    path("activities/sync/", views.sync_view, name="activity_sync"),
    path("field/", views.field_view, name="field"),
    path("sw.js", views.service_worker_view, name="service_worker"),
    path("manifest.webmanifest", views.manifest_view, name="manifest"),
    path("activities/<str:code>/", views.activity_detail_view, name="activity_detail"),
    path("activities/<str:code>/edit/", views.activity_edit_view, name="activity_edit"),
    path("activities/<str:code>/delete/", views.activity_delete_view, name="activity_delete"),
    path("activities/<str:code>/attendees/", views.attendee_add_view, name="activity_attendee_add"),
    path(
        "activities/<str:code>/attendees/bulk/",
        views.attendee_bulk_view,
        name="activity_attendee_bulk",
    ),
    path(
        "activities/<str:code>/attendees/<int:pk>/edit/",
        views.attendee_edit_view,
        name="activity_attendee_edit",
    ),
    path(
        "activities/<str:code>/attendees/<int:pk>/delete/",
        views.attendee_delete_view,
        name="activity_attendee_delete",
    ),
    path("funnel/", views.funnel_view, name="funnel"),
]
