from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "ansinh.monitoring"
    label = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ansinh.core.jobs import job_kind_register
        from ansinh.monitoring.importing import import_job_run

        job_kind_register(kind="import", fn=import_job_run)
