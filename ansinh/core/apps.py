from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ansinh.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import datetime as dt

        from ansinh.core.backup import backup_nightly
        from ansinh.core.jobs import job_daily_register, job_kind_register

        job_kind_register(kind="backup", fn=lambda job: backup_nightly())
        job_daily_register(kind="backup", at=dt.time(1, 0))
