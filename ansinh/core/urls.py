from django.urls import path

from ansinh.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
