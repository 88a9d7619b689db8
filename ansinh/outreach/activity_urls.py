from django.urls import path

from ansinh.outreach import activity_views as views

urlpatterns = [
    path("activities/", views.activity_list_view, name="activity_list"),
    path("activities/new/", views.activity_new_view, name="activity_new"),
    path("activities/<str:code>/", views.activity_detail_view, name="activity_detail"),
    path("activities/<str:code>/attendees/", views.attendee_add_view, name="activity_attendee_add"),
    path("funnel/", views.funnel_view, name="funnel"),
]
