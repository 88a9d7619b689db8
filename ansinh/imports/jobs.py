"""The ``import`` job kind: an uploaded file imported outside the request (``core.jobs``),
its errors file, its confirmation, its retry, and the daily ``uploads_prune``."""

from __future__ import annotations

import pathlib
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_user, can_import
from ansinh.core.jobs import job_enqueue
from ansinh.core.models import ImportBatch, Job
from ansinh.core.services import audit_record
from ansinh.imports.messages import error_count, errors_csv, summary_line
from ansinh.imports.pipeline import ImportResult
from ansinh.imports.progress import progress_path
from ansinh.imports.run import import_run
from ansinh.imports.selectors import import_job_get

RESULT_ERRORS = 1000  # errors kept in a job's result; all of them go to its errors CSV


def errors_path(job_id: int) -> pathlib.Path:
    return pathlib.Path(settings.UPLOAD_DIR) / "errors" / f"job_{int(job_id)}.csv"


def result_dict(result: ImportResult) -> dict[str, Any]:
    return {
        "summary": summary_line(result),
        "kind": result.kind,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": [e.as_dict() for e in result.errors[:RESULT_ERRORS]],
        "errors_total": error_count(result),
        "warnings": result.warnings,
        "refused": result.refused,
        "dry_run": result.dry_run,
        "batch_id": result.batch_id,
        "preview": result.preview,
    }


def import_job_start(
    *,
    kind: str,
    uploaded_path: pathlib.Path,
    display_name: str,
    actor: Actor,
    confirm_above: float | None = None,
) -> Job:
    """Run ``import_run`` on an uploaded file as a background job (``core.jobs``, kind
    ``import``). The job takes the file over: deleted when the import is done or refused, kept
    when it failed (the retry button runs it again) or is held for a confirmation. Its result
    has summary, rows, created, updated, unchanged, errors (the first 1000 as dicts
    row/column/value/message; all in ``errors_path``), errors_total, warnings, refused,
    preview. A refused file stays in the history (an ``ImportBatch`` in state ``refused``).

    ``confirm_above`` (the import page): where a scheme of the province would change by more
    than that share, nothing is written and the result asks for confirmation
    (``needs_confirmation``); the file is kept for ``import_job_confirm``."""
    if not can_import(actor):
        raise PermissionDenied
    uploaded_path = pathlib.Path(uploaded_path)
    _sweep_held_uploads(keep=uploaded_path)
    params: dict[str, Any] = {"kind": kind, "file": display_name, "path": str(uploaded_path)}
    if confirm_above is not None:
        params["confirm_above"] = confirm_above
    return job_enqueue(kind="import", params=params, actor=actor)


def import_job_run(job: Job) -> dict[str, Any]:
    """The ``import`` job kind: import the job's uploaded file as its creator."""
    params = job.params or {}
    path = pathlib.Path(params["path"])
    kind, display_name = str(params["kind"]), str(params.get("file") or path.name)
    actor = job.created_by  # an import job is always started by a user
    if actor is None or not actor.is_active:
        raise PermissionDenied
    if not path.is_file():
        raise FileNotFoundError(_("Tệp tải lên không còn trên máy chủ; hãy tải lên lại."))
    try:
        result = import_run(
            kind=kind,
            path=path,
            actor=actor,
            display_name=display_name,
            job=job,
            confirm_above=params.get("confirm_above"),
        )
    finally:
        progress_path(job.pk).unlink(missing_ok=True)
    out = result_dict(result)
    if result.refused:
        record_refused(job=job, kind=kind, display_name=display_name, result=result, actor=actor)
    if result.errors:
        dest = errors_path(job.pk)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(errors_csv(result.errors, error_count(result)), encoding="utf-8")
    if result.rows:
        Job.objects.filter(pk=job.pk).update(progress=result.rows, total=result.rows)
    if result.refused:
        out["_status"] = Job.Status.REFUSED
    elif result.dry_run and result.preview and result.preview.get("confirm"):
        out["needs_confirmation"] = True
        Job.objects.filter(pk=job.pk).update(params={**params, "upload": path.name})
        return out  # the file is kept for the confirmation
    path.unlink(missing_ok=True)
    return out


HELD_FOR = 24 * 3600  # seconds an upload held back for confirmation is kept


def _sweep_held_uploads(*, keep: pathlib.Path) -> None:
    """Uploads held back for a confirmation nobody gave are deleted after a day."""
    folder = pathlib.Path(settings.UPLOAD_DIR)
    if not folder.is_dir():
        return
    limit = time.time() - HELD_FOR
    for path in folder.iterdir():
        try:
            if path.is_file() and path != keep and path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def import_job_confirm(*, actor: Actor, job: Job) -> Job | None:
    """Import, as confirmed, the file a job held back for confirmation (a change above the
    threshold): a new job on the kept file, without the threshold. None when there is none."""
    params = job.params or {}
    result = job.result if isinstance(job.result, dict) else {}
    name = str(params.get("upload") or "")
    if not result.get("needs_confirmation") or not name or "/" in name or "\\" in name:
        return None
    path = pathlib.Path(settings.UPLOAD_DIR) / name
    if not path.is_file():
        return None
    Job.objects.filter(pk=job.pk).update(params={k: v for k, v in params.items() if k != "upload"})
    audit_record(
        actor=actor,
        action="import.confirm",
        object_type="job",
        object_id=str(job.pk),
        after={"preview": result.get("preview")},
    )
    return import_job_start(
        kind=str(params.get("kind")),
        uploaded_path=path,
        display_name=str(params.get("file") or name),
        actor=actor,
    )


def import_job_retry(*, actor: Actor, job_id: int) -> Job | None:
    """Start again an import job that failed (its worker died, or an error) on the same
    uploaded file; None where the actor may not, the job did not fail or the file is gone."""
    old = import_job_get(actor=actor, job_id=job_id)
    if old is None or old.status != Job.Status.FAILED:
        return None
    path = pathlib.Path((old.params or {}).get("path", ""))
    if not path.is_file():
        return None
    with transaction.atomic():
        if Job.objects.filter(pk=old.pk, params__retried_by__isnull=False).exists():
            return None
        job = import_job_start(
            kind=old.params["kind"],
            uploaded_path=path,
            display_name=old.params.get("file", path.name),
            actor=actor,
        )
        Job.objects.filter(pk=old.pk).update(params={**old.params, "retried_by": job.pk})
    return job


def import_job_retryable(job: Job) -> bool:
    params = job.params or {}
    return (
        job.status == Job.Status.FAILED
        and not params.get("retried_by")
        and bool(params.get("path"))
        and pathlib.Path(params["path"]).is_file()
    )


UPLOAD_KEEP_DAYS = 7


def uploads_prune(job: Job | None = None, *, now: float | None = None) -> dict[str, Any]:
    """The daily ``uploads_prune`` job: delete the uploads kept by failed imports (for their
    retry) once they are UPLOAD_KEEP_DAYS old, never a file a queued or running job needs."""
    folder = pathlib.Path(settings.UPLOAD_DIR)
    busy = {
        str((p or {}).get("path", ""))
        for p in Job.objects.filter(
            kind="import", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).values_list("params", flat=True)
    }
    limit = (now or time.time()) - UPLOAD_KEEP_DAYS * 86400
    removed = []
    for path in folder.glob("*") if folder.is_dir() else []:
        if path.is_file() and str(path) not in busy and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return {"removed": len(removed)}


def record_refused(
    *, job: Job, kind: str, display_name: str, result: ImportResult, actor: Actor
) -> None:
    """A refused upload of the page or the API stays in the history (state ``refused``) with
    its errors file (``errors_path(job)``); nothing of it was written."""
    ImportBatch.objects.create(
        kind=kind,
        file_name=display_name[:300],
        sha256="",
        rows=result.rows,
        errors=error_count(result),
        user=actor_user(actor),
        state=ImportBatch.State.REFUSED,
        job=job,
    )
