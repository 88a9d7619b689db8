from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "ansinh.imports"
    label = "imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import datetime as dt

        from ansinh.core.jobs import job_daily_register, job_kind_register
        from ansinh.imports.jobs import import_job_run, uploads_prune

        job_kind_register(kind="import", fn=import_job_run)
        job_kind_register(kind="uploads_prune", fn=uploads_prune)
        job_daily_register(kind="uploads_prune", at=dt.time(3, 0))
