from django.urls import path

from ansinh.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("audit/", views.audit_page, name="audit"),
]
