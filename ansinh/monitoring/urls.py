from django.urls import path

from ansinh.monitoring import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/<str:code>/", views.unit_page, name="unit_page"),
]
