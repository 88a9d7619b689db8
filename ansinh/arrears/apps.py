from django.apps import AppConfig


class ArrearsConfig(AppConfig):
    name = "ansinh.arrears"
    label = "arrears"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import datetime as dt

        from ansinh.arrears.selectors import followup_funnel_rows
        from ansinh.core import hooks
        from ansinh.core.jobs import job_daily_register, job_kind_register

        hooks.funnel_rows_register(followup_funnel_rows)
        job_kind_register(kind="followup_sync", fn="ansinh.arrears.services.followup_sync_job_run")
        # the worklists follow the data every night even when no import came that day
        job_daily_register(kind="followup_sync", at=dt.time(2, 0))
        job_kind_register(kind="outbox_send", fn="ansinh.arrears.reminders.outbox_send_job_run")
