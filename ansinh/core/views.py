from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from ansinh.core.selectors import health_report


def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` while the database answers (503 otherwise), without login (SPEC section 5).
    ``?full=1``: JSON with the database, the job worker and the jobs waiting; 503 when the
    database or the worker is down."""
    report = health_report()
    if request.GET.get("full"):
        ok = report["database"] == "ok" and report["worker"] == "ok"
        return JsonResponse(report, status=200 if ok else 503)
    if report["database"] != "ok":
        return HttpResponse("database: error", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")
