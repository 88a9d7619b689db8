from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "ansinh.imports"
    label = "imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import datetime as dt

        from ansinh.core.jobs import job_daily_register, job_kind_register

        # by path: the import pipeline is loaded by the job that needs it (`ansinh --help`)
        job_kind_register(kind="import", fn="ansinh.imports.jobs.import_job_run")
        job_kind_register(kind="uploads_prune", fn="ansinh.imports.jobs.uploads_prune")
        job_daily_register(kind="uploads_prune", at=dt.time(3, 0))
