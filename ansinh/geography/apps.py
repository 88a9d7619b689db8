from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "ansinh.geography"
    label = "geography"
    default_auto_field = "django.db.models.BigAutoField"
