from django.apps import AppConfig


class ArrearsConfig(AppConfig):
    name = "ansinh.arrears"
    label = "arrears"
    default_auto_field = "django.db.models.BigAutoField"
