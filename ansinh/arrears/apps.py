from django.apps import AppConfig


class ArrearsConfig(AppConfig):
    name = "ansinh.arrears"
    label = "arrears"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ansinh.arrears.selectors import followup_funnel_rows
        from ansinh.arrears.services import followup_after_import
        from ansinh.core import hooks

        hooks.after_import_register(
            kinds={"participations", "contributions", "employers"},
            fn=followup_after_import,
            tables={"arrears_followup": ["id"]},
        )
        hooks.funnel_rows_register(followup_funnel_rows)
