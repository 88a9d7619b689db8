from django.urls import path

from ansinh.monitoring import import_views

urlpatterns = [
    path("imports/", import_views.import_page, name="imports"),
    path("imports/<int:job_id>/", import_views.import_job_page, name="import_job"),
    path("imports/<int:job_id>/status/", import_views.import_job_status, name="import_job_status"),
    path("imports/<int:job_id>/retry/", import_views.import_job_retry, name="import_job_retry"),
    path("imports/<int:job_id>/errors.csv", import_views.import_errors_csv, name="import_errors"),
    path(
        "imports/<int:job_id>/confirm/",
        import_views.import_job_confirm_view,
        name="import_job_confirm",
    ),
    path("imports/batches/<int:batch_id>/", import_views.batch_page, name="import_batch"),
    path("imports/batches/<int:batch_id>/undo/", import_views.batch_undo, name="import_batch_undo"),
    path(
        "imports/template/<str:kind>.xlsx",
        import_views.template_download,
        name="import_template",
    ),
]
