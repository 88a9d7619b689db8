"""The import page: upload a file of SPEC section 2, follow its job, see the summary or errors."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ansinh.core.importing import KINDS, errors_csv, importer_class
from ansinh.monitoring.importing import (
    can_import,
    errors_path,
    import_batches,
    import_job_get,
    import_job_retryable,
    import_job_start,
)
from ansinh.monitoring.importing import import_job_retry as import_job_retry_start

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
SHOWN_ERRORS = 100


def _allowed(request: HttpRequest) -> Any:
    user = request.user
    if not can_import(user) or getattr(user, "role", None) is None:
        raise Http404
    return user


def _kinds() -> list[dict[str, Any]]:
    out = []
    for kind in KINDS:
        cls = importer_class(kind)
        out.append({"code": kind, "required": cls.required, "optional": cls.optional})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    user = _allowed(request)
    error = ""
    kind = request.POST.get("kind", "") if request.method == "POST" else ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if kind not in KINDS:
            error = _("Hãy chọn loại dữ liệu.")
        elif upload is None:
            error = _("Hãy chọn tệp CSV hoặc XLSX.")
        else:
            name = Path(upload.name or "upload.csv").name
            if Path(name).suffix.lower() not in {".csv", ".xlsx"}:
                error = _("Chỉ nhận tệp CSV hoặc XLSX.")
            else:
                folder = Path(settings.UPLOAD_DIR)
                folder.mkdir(parents=True, exist_ok=True)
                dest = folder / f"{uuid.uuid4().hex}_{_SAFE.sub('_', name)[-100:]}"
                with dest.open("wb") as fh:
                    for chunk in upload.chunks():
                        fh.write(chunk)
                job = import_job_start(kind=kind, uploaded_path=dest, display_name=name, actor=user)
                return redirect("import_job", job_id=job.pk)
    return render(
        request,
        "monitoring/imports.html",
        {
            "kinds": _kinds(),
            "kind": kind,
            "error": error,
            "batches": import_batches(actor=user),
        },
        status=400 if error else 200,
    )


def _job_context(request: HttpRequest, job_id: int) -> dict[str, Any]:
    user = _allowed(request)
    job = import_job_get(actor=user, job_id=job_id)
    if job is None:
        raise Http404
    result = job.result if isinstance(job.result, dict) else {}
    errors = result.get("errors") or []
    return {
        "job": job,
        "result": result,
        "running": job.status in {"queued", "running"},
        "errors": errors[:SHOWN_ERRORS],
        "errors_total": result.get("errors_total", len(errors)),
        "params": job.params or {},
        "retryable": import_job_retryable(job),
    }


@login_required
def import_job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "monitoring/import_job.html", _job_context(request, job_id))


@login_required
def import_job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "monitoring/import_status.html", _job_context(request, job_id))


@login_required
@require_POST
def import_job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Run a failed import again on the file it kept (the worker died under it)."""
    user = _allowed(request)
    job = import_job_retry_start(actor=user, job_id=job_id)
    if job is None:
        raise Http404
    return redirect("import_job", job_id=job.pk)


@login_required
def import_errors_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    user = _allowed(request)
    job = import_job_get(actor=user, job_id=job_id)
    if job is None:
        raise Http404
    path = errors_path(job.pk)
    if path.is_file():
        body = path.read_text(encoding="utf-8")
    else:
        result = job.result if isinstance(job.result, dict) else {}
        body = errors_csv(result.get("errors") or [])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import_{job.pk}_errors.csv"'
    return response
