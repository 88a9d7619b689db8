from django.urls import path

from ansinh.registry import views

urlpatterns = [
    path("people/<str:person_id>/", views.person_detail, name="person_detail"),
]
