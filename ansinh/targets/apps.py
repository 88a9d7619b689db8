from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "ansinh.targets"
    label = "targets"
    default_auto_field = "django.db.models.BigAutoField"
