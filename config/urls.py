from django.urls import include, path

from ansinh.api.metrics import metrics

urlpatterns = [
    path("", include("ansinh.core.urls")),
    path("", include("ansinh.accounts.urls")),
    path("", include("ansinh.monitoring.urls")),
    path("", include("ansinh.imports.urls")),
    path("", include("ansinh.outreach.urls")),
    path("", include("ansinh.outreach.activities.urls")),
    path("", include("ansinh.arrears.urls")),
    path("", include("ansinh.reports.urls")),
    path("", include("ansinh.registry.urls")),
    path("api/", include("ansinh.api.urls")),
    path("metrics", metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
]
