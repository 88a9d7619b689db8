"""The door every import goes through (CLI, page, API): validate and write one file, then
refresh the KPI snapshot for what it touched and run the ``after_import`` hooks of the apps
above (``core.hooks``). Large files run as a background job."""

from __future__ import annotations

import datetime as dt
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
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_user, can_import, import_scope, may
from ansinh.core import hooks
from ansinh.core.formats import fmt_int
from ansinh.core.importing import (
    IMPORT_LOCK,
    ImportResult,
    TableCapture,
    error_count,
    errors_csv,
    import_file,
    summary_line,
    undo_apply,
    undo_conflicts,
    undo_drop,
    undo_missing,
    undo_rows,
)
from ansinh.core.jobs import job_enqueue
from ansinh.core.models import ImportBatch, Job
from ansinh.core.selectors import job_get
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.geography.services import unit_paths_rebuild
from ansinh.monitoring.selectors import data_as_of, participants_totals
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh
from config import env

SNAPSHOT_KINDS = frozenset({"participations", "counts"})
SCHEME_CODES = ("si_compulsory", "si_voluntary", "ui", "hi")

RESULT_ERRORS = 1000  # errors kept in a job's result; all of them go to its errors CSV


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
    actor: Actor,
    dry_run: bool = False,
    display_name: str | None = None,
    job: Job | None = None,
    preview: bool = False,
    confirm_above: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportResult:
    """Import one file (all or nothing) and correct the snapshot by what it changed (in the
    same transaction: ``SnapshotDelta``; else refreshed after it by the units and dates it
    touched). Roles other than admin/province/office are refused (PermissionDenied);
    an office may only import rows of its own units (other rows are row errors).

    ``preview``: validate, write, read the province's figures before and after, roll back
    (``result.preview``, SPEC section 10). ``confirm_above`` (a share, the web import): the
    same figures, and the import is rolled back, asking for confirmation, where a scheme
    would change by more than that share (``result.preview["confirm"]``)."""
    if not can_import(actor):
        raise PermissionDenied
    delta = SnapshotDelta()
    inspector = None
    if (preview or confirm_above is not None) and not dry_run:
        inspector = FigurePreview(kind=kind, delta=delta, guard=None if preview else confirm_above)
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
            inspect=inspector,
        )
        written = not result.refused and not result.dry_run
        refreshed = inspector is not None and inspector.refreshed
        if written and result.touched_units and not delta.applied and not refreshed:
            if kind in SNAPSHOT_KINDS:
                snapshot_refresh(units=result.touched_units, since=result.touched_since)
        if written and (result.created or result.updated):
            # the apps above react in the same transaction (arrears: close the follow-ups it
            # resolves); what they change is added to the batch's undo
            _after_import(kind=kind, actor=actor, batch_id=result.batch_id)
    return result


def _after_import(*, kind: str, actor: Actor, batch_id: int | None) -> None:
    batch = ImportBatch.objects.filter(pk=batch_id).first() if batch_id else None
    if batch is None or batch.undo is None:
        hooks.after_import_run(kind=kind, actor=actor)
        return
    capture = TableCapture(batch.pk, hooks.after_import_tables())
    with transaction.atomic():
        capture.begin()
        hooks.after_import_run(kind=kind, actor=actor)
        batch.undo = capture.end(batch.undo)
        batch.save(update_fields=["undo"])


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


def import_batches(*, actor: Actor, limit: int = 20) -> list[Any]:
    """Recent import batches the actor may see: all for admin/province, their own otherwise."""
    qs = ImportBatch.objects.select_related("user").order_by("-id")
    if not may(actor, "see_all_imports"):
        pk = getattr(actor, "pk", None)
        if pk is None:
            return []
        qs = qs.filter(user_id=pk)
    return list(qs[:limit])


def import_job_get(*, actor: Actor, job_id: int) -> Job | None:
    """An import job the actor may see (its creator, admins and province users), else None."""
    if not can_import(actor):
        return None
    job = job_get(actor=actor, job_id=job_id)
    if job is None or job.kind != "import":
        return None
    live = _live_progress(job.pk) if job.status == Job.Status.RUNNING else None
    if live is not None:
        job.progress, job.total = live
    return job


# ---------------------------------------------------------------------------------------------
# preview (SPEC section 10)

CONFIRM_SHARE = 0.10  # a scheme changing by more than this asks for confirmation


def _province() -> Unit | None:
    return Unit.objects.filter(parent__isnull=True).order_by("code").first()


class FigurePreview:
    """The province's participants per scheme at the latest data date, just before the
    write and just after it, in the import's transaction (``core.importing.Inspector``).
    ``guard`` None: a preview (always rolled back); a share: the import goes on unless a
    scheme changes by more than it (the web import asks for confirmation then)."""

    def __init__(self, *, kind: str, delta: SnapshotDelta, guard: float | None) -> None:
        self.kind = kind
        self.delta = delta
        self.guard = guard
        self.unit: Unit | None = None
        self.as_of: dt.date | None = None
        self.before_figures: dict[str, int] = {}
        self.refreshed = False

    def before(self, imp: Any) -> None:
        self.unit = _province()
        self.as_of = data_as_of()
        if self.unit is not None and self.as_of is not None:
            self.before_figures = participants_totals(unit=self.unit, as_of=self.as_of)

    def after(self, imp: Any, result: ImportResult) -> bool:
        if (
            not self.delta.applied
            and self.kind in SNAPSHOT_KINDS
            and result.touched_units
            and (result.created or result.updated)
        ):
            snapshot_refresh(units=result.touched_units, since=result.touched_since)
            self.refreshed = True
        as_of = self.as_of or data_as_of()
        after: dict[str, int] = {}
        if self.unit is not None and as_of is not None:
            after = participants_totals(unit=self.unit, as_of=as_of)
        schemes = {
            code: {
                "before": int(self.before_figures.get(code, 0)),
                "after": int(after.get(code, 0)),
            }
            for code in SCHEME_CODES
        }
        confirm = any(
            v["before"] > 0 and abs(v["after"] - v["before"]) > CONFIRM_SHARE * v["before"]
            for v in schemes.values()
        )
        result.preview = {
            "kind": self.kind,
            "rows": result.rows,
            "as_of": as_of.isoformat() if as_of else None,
            "unit": self.unit.code if self.unit else None,
            "schemes": schemes,
            "confirm": confirm,
        }
        if self.guard is None:
            return True
        return confirm


def preview_lines(preview: dict[str, Any]) -> list[str]:
    """``hi: 1.762.678 → 1.790.012 (+27.334)`` per scheme (numbers in the user's language)."""
    out = []
    for code, v in preview["schemes"].items():
        change = v["after"] - v["before"]
        sign = "+" if change >= 0 else "−"
        out.append(
            f"{code}: {fmt_int(v['before'])} → {fmt_int(v['after'])} ({sign}{fmt_int(abs(change))})"
        )
    return out


# ---------------------------------------------------------------------------------------------
# the history and undo (SPEC section 10)


class UndoRefused(Exception):
    """An undo that cannot be done: nothing changed; the message says why."""


def _local_iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def import_list(*, actor: Actor, limit: int | None = None) -> list[dict[str, Any]]:
    """The import batches the actor may see, newest first, as ``ansinh import list --format
    json`` prints them: id, kind, file, rows, user, at, state."""
    qs = ImportBatch.objects.select_related("user").order_by("-id")
    if not may(actor, "see_all_imports"):
        qs = qs.filter(user_id=int(getattr(actor, "pk", 0) or 0))
    rows = qs if limit is None else qs[:limit]
    return [
        {
            "id": b.pk,
            "kind": b.kind,
            "file": b.file_name,
            "rows": b.rows,
            "user": b.user.username if b.user else None,
            "at": _local_iso(b.at),
            "state": b.state,
        }
        for b in rows
    ]


def batch_get(*, actor: Actor, batch_id: int) -> ImportBatch | None:
    """A batch the actor may see (CLI, admin, province: all; an office: its own), else None."""
    if not can_import(actor):
        return None
    batch = ImportBatch.objects.select_related("user", "undone_by").filter(pk=batch_id).first()
    if batch is None:
        return None
    if not may(actor, "see_all_imports"):
        if batch.user_id != getattr(actor, "pk", None):
            return None
    return batch


def undo_blockers(batch: ImportBatch) -> str | None:
    """Why the batch cannot be undone (in the user's words), or None."""
    if batch.state == ImportBatch.State.UNDONE:
        return _("Lần nhập số %(n)s đã được hoàn tác rồi.") % {"n": batch.pk}
    if batch.state == ImportBatch.State.REFUSED:
        return _("Lần nhập số %(n)s bị từ chối nên không ghi gì: không có gì để hoàn tác.") % {
            "n": batch.pk
        }
    if (batch.created or batch.updated) and undo_missing(batch):
        return _(
            "Lần nhập số %(n)s không còn dữ liệu để hoàn tác (được nhập trước khi có chức năng "
            "hoàn tác, hoặc cơ sở dữ liệu đã được khôi phục từ bản sao lưu)."
        ) % {"n": batch.pk}
    later = undo_conflicts(batch)
    if later:
        return _(
            "Không hoàn tác được: lần nhập sau (số %(later)s) đã sửa chính các dòng này. Hãy "
            "hoàn tác lần đó trước."
        ) % {"later": ", ".join(str(n) for n in later)}
    return None


class _UndonePairs:
    """The (person, scheme) pairs an undone participations batch changes, for
    ``SnapshotDelta`` (which asks an importer for them)."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch

    def changed_pairs_sql(self) -> str:
        rows = undo_rows(self.batch, "registry_spell", "person_id, scheme")
        if not rows:
            return "SELECT person_id, scheme FROM registry_spell WHERE 1 = 0"
        return f"SELECT DISTINCT person_id, scheme FROM ({rows}) z"


def import_undo(*, batch_id: int, actor: Actor) -> dict[str, Any]:
    """Reverse one import batch (SPEC section 10): the rows it created deleted, those it
    updated given back their values, then the snapshot and the worklists brought to the same
    state, in one transaction, audited. Raises ``UndoRefused`` (nothing changed) where it
    cannot be done; ``PermissionDenied`` for a role that may not import."""
    if not can_import(actor):
        raise PermissionDenied
    batch = batch_get(actor=actor, batch_id=batch_id)
    if batch is None:
        raise UndoRefused(_("Không có lần nhập số %(n)s.") % {"n": batch_id})
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            reason = undo_blockers(batch)
            if reason:
                raise UndoRefused(reason)
            delta = SnapshotDelta()
            pairs = _UndonePairs(batch)
            if batch.kind == "participations" and batch.undo:
                delta.before_write(pairs)
            counts = undo_apply(batch) if batch.undo else {"deleted": 0, "restored": 0}
            try:
                connection.check_constraints()
            except IntegrityError:
                raise UndoRefused(
                    _(
                        "Không hoàn tác được: dữ liệu nhập hoặc nhập tay sau đó còn dùng các "
                        "dòng mà lần nhập này đã tạo."
                    )
                ) from None
            if batch.kind == "units" and batch.undo:
                unit_paths_rebuild(actor=actor)
            if delta.active:
                delta.after_write(pairs)
            touched = batch.touched or {}
            if (
                batch.kind in SNAPSHOT_KINDS
                and not delta.applied
                and batch.undo
                and touched.get("units")
            ):
                since = touched.get("since")
                snapshot_refresh(
                    units=set(touched["units"]),
                    since=dt.date.fromisoformat(since) if since else None,
                )
            undo_drop(batch)
            batch.state = ImportBatch.State.UNDONE
            batch.undone_at = timezone.now()
            batch.undone_by = actor_user(actor)
            batch.save(update_fields=["state", "undone_at", "undone_by"])
            audit_record(
                actor=actor,
                action=f"import.undo.{batch.kind}",
                object_type="import_batch",
                object_id=str(batch.pk),
                before={"state": "done", "created": batch.created, "updated": batch.updated},
                after={"state": "undone", **counts},
            )
    except IntegrityError:
        raise UndoRefused(
            _(
                "Không hoàn tác được: dữ liệu nhập hoặc nhập tay sau đó còn dùng các dòng mà "
                "lần nhập này đã tạo."
            )
        ) from None
    return {"id": batch.pk, "kind": batch.kind, "state": batch.state, **counts}


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
