from django.urls import path

from ansinh.reports import views

urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
]
