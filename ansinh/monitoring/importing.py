"""The door every import goes through (CLI, page, API): validate and write one file, then
refresh the KPI snapshot for what it touched and run the ``after_import`` hooks of the apps
above (``core.hooks``). Large files run as a background job."""

from __future__ import annotations

import pathlib
import threading
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import translation

from ansinh.accounts.selectors import allowed_unit_ids
from ansinh.core import hooks
from ansinh.core.importing import (
    ImportResult,
    error_count,
    errors_csv,
    import_file,
    summary_line,
)
from ansinh.core.models import Job
from ansinh.core.services import job_create, job_start
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh
from config import env

IMPORT_ROLES = frozenset({"admin", "province", "office"})
RESULT_ERRORS = 1000  # errors kept in a job's result; all of them go to its errors CSV

# job id -> (progress, total) of imports running in this process: the import's own
# transaction hides its progress writes from other connections until it commits
LIVE: dict[int, tuple[int, int]] = {}


def can_import(actor: Any) -> bool:
    return actor is None or getattr(actor, "role", None) in IMPORT_ROLES


def import_scope(actor: Any) -> set[str] | None:
    """The units whose rows the actor may import: None = all (CLI, admin, province)."""
    if actor is None or getattr(actor, "role", None) in {"admin", "province"}:
        return None
    return allowed_unit_ids(actor)


def _progress_for(job: Job) -> Any:
    state = {"last": 0.0, "busy": False}
    # a second connection only where the import runs in its own thread (not inline in tests)
    pg = connection.vendor == "postgresql" and not env.jobs_inline()

    def write(done: int, total: int) -> None:
        try:
            Job.objects.filter(pk=job.pk).update(progress=min(done, total), total=total)
        finally:
            connection.close()
            state["busy"] = False

    def progress(done: int, total: int) -> None:
        LIVE[job.pk] = (done, total)
        now = time.monotonic()
        if pg and not state["busy"] and now - state["last"] >= 1.0:
            # another connection, so that the page sees it while the import runs
            state["busy"], state["last"] = True, now
            threading.Thread(target=write, args=(done, total), daemon=True).start()

    return progress


def import_run(
    *,
    kind: str,
    path: pathlib.Path,
    actor: Any = None,
    dry_run: bool = False,
    display_name: str | None = None,
    job: Job | None = None,
) -> ImportResult:
    """Import one file (all or nothing) and correct the snapshot by what it changed (in the
    same transaction: ``SnapshotDelta``; else refreshed after it by the units and dates it
    touched). Roles other than admin/province/office are refused (PermissionDenied);
    an office may only import rows of its own units (other rows are row errors)."""
    if not can_import(actor):
        raise PermissionDenied
    delta = SnapshotDelta()
    result = import_file(
        kind=kind,
        path=pathlib.Path(path),
        actor=actor,
        dry_run=dry_run,
        display_name=display_name,
        progress=_progress_for(job) if job is not None else None,
        allowed_units=import_scope(actor),
        write_hook=delta,
    )
    if not result.refused and not dry_run and result.touched_units and not delta.applied:
        if kind in {"participations", "counts"}:
            snapshot_refresh(units=result.touched_units, since=result.touched_since)
    if not result.refused and not dry_run and (result.created or result.updated):
        # the apps above react in the same job (arrears: close the follow-ups it resolves)
        hooks.after_import_run(kind=kind, actor=actor)
    return result


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
    }


def import_job_start(
    *, kind: str, uploaded_path: pathlib.Path, display_name: str, actor: Any
) -> Job:
    """Run ``import_run`` on an uploaded file as a background job. The job takes the file
    over (deleted when done); its result has summary, rows, created, updated, unchanged,
    errors (the first 1000 as dicts row/column/value/message; all in ``errors_path``),
    errors_total, warnings, refused."""
    if not can_import(actor):
        raise PermissionDenied
    uploaded_path = pathlib.Path(uploaded_path)
    job = job_create(kind="import", params={"kind": kind, "file": display_name}, actor=actor)
    lang = translation.get_language() or settings.LANGUAGE_CODE

    def run(job: Job) -> dict[str, Any]:
        try:
            with translation.override(lang):
                result = import_run(
                    kind=kind,
                    path=uploaded_path,
                    actor=actor,
                    display_name=display_name,
                    job=job,
                )
                out = result_dict(result)
            if result.errors:
                dest = errors_path(job.pk)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(errors_csv(result.errors, error_count(result)), encoding="utf-8")
            if result.rows:
                Job.objects.filter(pk=job.pk).update(progress=result.rows, total=result.rows)
            if result.refused:
                out["_status"] = Job.Status.REFUSED
            return out
        finally:
            LIVE.pop(job.pk, None)
            try:
                uploaded_path.unlink()
            except OSError:
                pass

    job_start(job=job, fn=run)
    return job


def import_batches(*, actor: Any, limit: int = 20) -> list[Any]:
    """Recent import batches the actor may see: all for admin/province, their own otherwise."""
    from ansinh.core.models import ImportBatch

    qs = ImportBatch.objects.select_related("user").order_by("-id")
    if getattr(actor, "role", None) not in {"admin", "province"}:
        pk = getattr(actor, "pk", None)
        if pk is None:
            return []
        qs = qs.filter(user_id=pk)
    return list(qs[:limit])


def import_job_get(*, actor: Any, job_id: int) -> Job | None:
    """An import job the actor may see (its creator, admins and province users), else None."""
    from ansinh.core.selectors import job_get

    if not can_import(actor) or actor is None:
        return None
    job = job_get(actor=actor, job_id=job_id)
    if job is None or job.kind != "import":
        return None
    live = LIVE.get(job.pk)
    if live is not None and job.status in {Job.Status.QUEUED, Job.Status.RUNNING}:
        job.progress, job.total = live
    return job
