"""The import page: upload a file of SPEC section 2, follow its job, see the summary or errors."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ansinh.accounts.access import can_import
from ansinh.core.codes import SCHEMES
from ansinh.core.formats import fmt_date
from ansinh.core.importer.columns import KIND_LABELS, header_label
from ansinh.imports.jobs import (
    errors_path,
    import_job_confirm,
    import_job_retryable,
    import_job_start,
)
from ansinh.imports.jobs import import_job_retry as import_job_retry_start
from ansinh.imports.kinds import KINDS, importer_class
from ansinh.imports.messages import errors_csv
from ansinh.imports.preview import CONFIRM_SHARE
from ansinh.imports.selectors import batch_get, import_batches, import_job_get
from ansinh.imports.template_files import template_xlsx
from ansinh.imports.undo import UndoRefused, import_undo, undo_blockers

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
SHOWN_ERRORS = 100
_T = TypeVar("_T")


def _allowed(request: HttpRequest) -> Any:
    user = request.user
    if not can_import(user):
        raise Http404
    return user


def _found(value: _T | None) -> _T:
    """The record a selector found for the user, or 404 (missing or not theirs alike)."""
    if value is None:
        raise Http404
    return value


def _kinds() -> list[dict[str, Any]]:
    lang = "en" if (translation.get_language() or "vi").startswith("en") else "vi"
    out = []
    for kind in KINDS:
        cls = importer_class(kind)
        out.append(
            {
                "code": kind,
                "label": KIND_LABELS[kind],
                "required": [header_label(kind, c, lang) for c in cls.required],
                "optional": [header_label(kind, c, lang) for c in cls.optional],
            }
        )
    return out


STATUS_LABELS = {
    "queued": gettext_lazy("Đang chờ"),
    "running": gettext_lazy("Đang nhập"),
    "done": gettext_lazy("Đã xong"),
    "failed": gettext_lazy("Lỗi hệ thống"),
    "refused": gettext_lazy("Bị từ chối"),
}
STATE_LABELS = {
    "done": gettext_lazy("Đã nhập"),
    "refused": gettext_lazy("Bị từ chối"),
    "undone": gettext_lazy("Đã hoàn tác"),
}


def _history(user: Any) -> list[dict[str, Any]]:
    rows = []
    for b in import_batches(actor=user):
        rows.append(
            {
                "batch": b,
                "kind_label": KIND_LABELS.get(b.kind, b.kind),
                "state_label": STATE_LABELS.get(b.state, b.state),
            }
        )
    return rows


def _day(value: Any) -> str:
    try:
        return fmt_date(dt.date.fromisoformat(str(value)))
    except ValueError:
        return ""


def _preview_rows(preview: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not preview:
        return []
    out = []
    for code, v in (preview.get("schemes") or {}).items():
        before, after = int(v["before"]), int(v["after"])
        share = None if before == 0 else (after - before) * 100 / before
        out.append(
            {
                "code": code,
                "label": SCHEMES.get(code, code),
                "before": before,
                "after": after,
                "change": after - before,
                "share": share,
                "big": share is not None and abs(share) > CONFIRM_SHARE * 100,
            }
        )
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
                job = import_job_start(
                    kind=kind,
                    uploaded_path=dest,
                    display_name=name,
                    actor=user,
                    confirm_above=CONFIRM_SHARE,
                )
                return redirect("import_job", job_id=job.pk)
    return render(
        request,
        "imports/imports.html",
        {
            "kinds": _kinds(),
            "kind": kind,
            "error": error,
            "history": _history(user),
        },
        status=400 if error else 200,
    )


def _job_context(request: HttpRequest, job_id: int) -> dict[str, Any]:
    user = _allowed(request)
    job = _found(import_job_get(actor=user, job_id=job_id))
    result = job.result if isinstance(job.result, dict) else {}
    errors = result.get("errors") or []
    params = job.params or {}
    return {
        "job": job,
        "status_label": STATUS_LABELS.get(job.status, job.status),
        "kind_label": KIND_LABELS.get(str(params.get("kind")), params.get("kind")),
        "preview_rows": _preview_rows(result.get("preview")),
        "preview_day": _day((result.get("preview") or {}).get("as_of")),
        "needs_confirmation": bool(result.get("needs_confirmation")) and bool(params.get("upload")),
        "result": result,
        "running": job.status in {"queued", "running"},
        "errors": errors[:SHOWN_ERRORS],
        "errors_total": result.get("errors_total", len(errors)),
        "params": params,
        "retryable": import_job_retryable(job),
    }


@login_required
def import_job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "imports/import_job.html", _job_context(request, job_id))


@login_required
def import_job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "imports/import_status.html", _job_context(request, job_id))


@login_required
@require_POST
def import_job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Run a failed import again on the file it kept (the worker died under it)."""
    user = _allowed(request)
    job = _found(import_job_retry_start(actor=user, job_id=job_id))
    return redirect("import_job", job_id=job.pk)


@login_required
def import_errors_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    user = _allowed(request)
    job = _found(import_job_get(actor=user, job_id=job_id))
    path = errors_path(job.pk)
    if path.is_file():
        body = path.read_text(encoding="utf-8")
    else:
        result = job.result if isinstance(job.result, dict) else {}
        body = errors_csv(result.get("errors") or [])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import_{job.pk}_errors.csv"'
    return response


@login_required
@require_POST
def import_job_confirm_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """The user confirms an import held back for a large change: it runs now."""
    user = _allowed(request)
    job = _found(import_job_get(actor=user, job_id=job_id))
    if request.POST.get("confirm") != "yes":
        return redirect("import_job", job_id=job.pk)
    new = _found(import_job_confirm(actor=user, job=job))
    return redirect("import_job", job_id=new.pk)


def _batch_page(
    request: HttpRequest,
    batch: Any,
    *,
    blocker: Any = None,
    message: bool = False,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The batch page: what the batch did, and whether (or why not) it can be undone."""
    return render(
        request,
        "imports/import_batch.html",
        {
            "batch": batch,
            "kind_label": KIND_LABELS.get(batch.kind, batch.kind),
            "state_label": STATE_LABELS.get(batch.state, batch.state),
            "blocker": blocker,
            "message": message,
            "error": error,
        },
        status=status,
    )


@login_required
def batch_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _allowed(request)
    batch = _found(batch_get(actor=user, batch_id=batch_id))
    return _batch_page(
        request,
        batch,
        blocker=undo_blockers(batch) if batch.state == "done" else None,
        message=request.GET.get("undone") == "1",
    )


@login_required
@require_POST
def batch_undo(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _allowed(request)
    batch = _found(batch_get(actor=user, batch_id=batch_id))
    try:
        import_undo(batch_id=batch.pk, actor=user)
    except UndoRefused as exc:
        batch.refresh_from_db()
        return _batch_page(request, batch, error=str(exc), status=409)
    return redirect(f"{reverse('import_batch', args=[batch.pk])}?undone=1")


@login_required
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    _allowed(request)
    if kind not in KINDS:
        raise Http404
    lang = request.GET.get("lang") or (
        "en" if (translation.get_language() or "vi").startswith("en") else "vi"
    )
    if lang not in {"vi", "en"}:
        raise Http404
    body = template_xlsx(kind, lang=lang)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="ansinh_{kind}_{lang}.xlsx"'
    return response
