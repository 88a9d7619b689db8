from django.urls import path

from ansinh.imports import views

urlpatterns = [
    path("imports/", views.import_page, name="imports"),
    path("imports/<int:job_id>/", views.import_job_page, name="import_job"),
    path("imports/<int:job_id>/status/", views.import_job_status, name="import_job_status"),
    path("imports/<int:job_id>/retry/", views.import_job_retry, name="import_job_retry"),
    path("imports/<int:job_id>/errors.csv", views.import_errors_csv, name="import_errors"),
    path(
        "imports/<int:job_id>/confirm/",
        views.import_job_confirm_view,
        name="import_job_confirm",
    ),
    path("imports/batches/<int:batch_id>/", views.batch_page, name="import_batch"),
    path("imports/batches/<int:batch_id>/undo/", views.batch_undo, name="import_batch_undo"),
    path(
        "imports/template/<str:kind>.xlsx",
        views.template_download,
        name="import_template",
    ),
]
