from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ansinh.core.selectors import audit_list, job_get


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(actor=request.user, job_id=job_id)
    if job is None:
        raise Http404
    template = "core/job_fragment.html" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job})


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "role", "") != "admin":
        raise Http404
    qs = audit_list(
        action=request.GET.get("action", ""),
        actor_name=request.GET.get("actor", ""),
        object_type=request.GET.get("object_type", ""),
        object_id=request.GET.get("object_id", ""),
    )
    return render(request, "core/audit.html", {"events": qs[:500], "q": request.GET})
