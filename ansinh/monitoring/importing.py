"""The door every import goes through (CLI, page, API): validate and write one file, then
refresh the KPI snapshot for what it touched and run the ``after_import`` hooks of the apps
above (``core.hooks``). Large files run as a background job."""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils.translation import gettext as _

from ansinh.accounts.selectors import allowed_unit_ids
from ansinh.core import hooks
from ansinh.core.importing import ImportResult, errors_csv, import_file, summary_line
from ansinh.core.jobs import job_enqueue
from ansinh.core.models import ImportBatch, Job
from ansinh.core.selectors import job_get
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh
from config import env

IMPORT_ROLES = frozenset({"admin", "province", "office"})
RESULT_ERRORS = 1000  # errors kept in a job's result; all of them go to its errors CSV


def can_import(actor: Any) -> bool:
    return actor is None or getattr(actor, "role", None) in IMPORT_ROLES


def import_scope(actor: Any) -> set[str] | None:
    """The units whose rows the actor may import: None = all (CLI, admin, province)."""
    if actor is None or getattr(actor, "role", None) in {"admin", "province"}:
        return None
    return allowed_unit_ids(actor)


def progress_path(job_id: int) -> pathlib.Path:
    """Where a running import writes how far it has come: its own transaction hides its
    progress from other connections (and on SQLite holds the only write lock), so the worker
    writes it to a small file that the page reads."""
    return pathlib.Path(settings.UPLOAD_DIR) / "progress" / f"job_{int(job_id)}.json"


def _progress_for(job: Job) -> Any:
    state = {"last": 0.0}
    path = progress_path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - state["last"] >= 0.5 or done >= total:
            state["last"] = now
            part = path.with_suffix(".part")
            part.write_text(json.dumps([done, total]))
            os.replace(part, path)

    return progress


def _live_progress(job_id: int) -> tuple[int, int] | None:
    try:
        done, total = json.loads(progress_path(job_id).read_text())
    except (OSError, ValueError, TypeError):
        return None
    return int(done), int(total)


def import_run(
    *,
    kind: str,
    path: pathlib.Path,
    actor: Any = None,
    dry_run: bool = False,
    display_name: str | None = None,
    job: Job | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportResult:
    """Import one file (all or nothing) and correct the snapshot by what it changed (in the
    same transaction: ``SnapshotDelta``; else refreshed after it by the units and dates it
    touched). Roles other than admin/province/office are refused (PermissionDenied);
    an office may only import rows of its own units (other rows are row errors)."""
    if not can_import(actor):
        raise PermissionDenied
    delta = SnapshotDelta()
    # one transaction for the file, the snapshot it changes and the follow-ups it resolves:
    # a crash at any point leaves either all of them or none (never fresh data beside stale
    # figures)
    with _import_turn(wait=not dry_run, on_wait=on_wait), transaction.atomic():
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
        written = not result.refused and not dry_run
        if written and result.touched_units and not delta.applied:
            if kind in {"participations", "counts"}:
                snapshot_refresh(units=result.touched_units, since=result.touched_since)
        if written and (result.created or result.updated):
            # the apps above react in the same transaction (arrears: close the follow-ups
            # it resolves)
            hooks.after_import_run(kind=kind, actor=actor)
    return result


@contextmanager
def _import_turn(*, wait: bool, on_wait: Callable[[], None] | None) -> Iterator[None]:
    """One import at a time on SQLite, the others waiting their turn however long it takes
    (SQLite's busy timeout would give up after 30 s): a lock file beside the database, let go
    by the system when its process ends, even killed. PostgreSQL's imports queue on an
    advisory lock inside the transaction (``core.importing``)."""
    if not wait or connection.vendor != "sqlite":
        yield
        return
    path = env.home() / "import.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
        "errors_total": len(result.errors),
        "warnings": result.warnings,
        "refused": result.refused,
        "dry_run": result.dry_run,
        "batch_id": result.batch_id,
    }


def import_job_start(
    *, kind: str, uploaded_path: pathlib.Path, display_name: str, actor: Any
) -> Job:
    """Run ``import_run`` on an uploaded file as a background job (``core.jobs``, kind
    ``import``). The job takes the file over: deleted when the import is done or refused,
    kept when it failed (the retry button runs it again). Its result has summary, rows,
    created, updated, unchanged, errors (the first 1000 as dicts row/column/value/message; all
    in ``errors_path``), errors_total, warnings, refused."""
    if not can_import(actor):
        raise PermissionDenied
    return job_enqueue(
        kind="import",
        params={"kind": kind, "file": display_name, "path": str(uploaded_path)},
        actor=actor,
    )


def import_job_run(job: Job) -> dict[str, Any]:
    """The ``import`` job kind: import the job's uploaded file as its creator."""
    params = job.params or {}
    path = pathlib.Path(params["path"])
    actor = job.created_by
    if actor is None or not actor.is_active:
        raise PermissionDenied
    if not path.is_file():
        raise FileNotFoundError(_("Tệp tải lên không còn trên máy chủ; hãy tải lên lại."))
    try:
        result = import_run(
            kind=params["kind"], path=path, actor=actor, display_name=params.get("file"), job=job
        )
    finally:
        progress_path(job.pk).unlink(missing_ok=True)
    out = result_dict(result)
    if result.errors:
        dest = errors_path(job.pk)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(errors_csv(result.errors), encoding="utf-8")
    if result.rows:
        Job.objects.filter(pk=job.pk).update(progress=result.rows, total=result.rows)
    if result.refused:
        out["_status"] = Job.Status.REFUSED
    path.unlink(missing_ok=True)
    return out


def import_job_retry(*, actor: Any, job_id: int) -> Job | None:
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


def import_batches(*, actor: Any, limit: int = 20) -> list[Any]:
    """Recent import batches the actor may see: all for admin/province, their own otherwise."""
    qs = ImportBatch.objects.select_related("user").order_by("-id")
    if getattr(actor, "role", None) not in {"admin", "province"}:
        pk = getattr(actor, "pk", None)
        if pk is None:
            return []
        qs = qs.filter(user_id=pk)
    return list(qs[:limit])


def import_job_get(*, actor: Any, job_id: int) -> Job | None:
    """An import job the actor may see (its creator, admins and province users), else None."""
    if not can_import(actor) or actor is None:
        return None
    job = job_get(actor=actor, job_id=job_id)
    if job is None or job.kind != "import":
        return None
    live = _live_progress(job.pk) if job.status == Job.Status.RUNNING else None
    if live is not None:
        job.progress, job.total = live
    return job
