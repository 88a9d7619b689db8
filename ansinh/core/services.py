"""Writes of the core app: audit rows and jobs."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone, translation

from ansinh.core.models import AuditEvent, Job
from config import env


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: str = "",
    before: Any = None,
    after: Any = None,
    ip: str | None = None,
) -> AuditEvent:
    """Write one audit row. ``actor`` is a user or None (the command line without a login)."""
    user = actor if getattr(actor, "pk", None) else None
    name = getattr(actor, "username", "") or ("cli" if actor is None else str(actor))
    return AuditEvent.objects.create(
        actor=user,
        actor_name=name,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:128],
        before=before,
        after=after,
        ip=ip,
    )


JobFn = Callable[[Job], dict[str, Any]]


def job_create(*, kind: str, params: dict[str, Any], actor: Any = None) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, params=params, created_by=actor if getattr(actor, "pk", None) else None
        )
        audit_record(
            actor=actor,
            action="job.create",
            object_type="job",
            object_id=str(job.pk),
            after={"kind": kind},
        )
    return job


def job_progress(*, job: Job, progress: int, total: int | None = None, message: str = "") -> None:
    fields: dict[str, Any] = {"progress": progress}
    if total is not None:
        fields["total"] = total
    if message:
        fields["message"] = message
    if fields.get("total", job.total) and progress > fields.get("total", job.total):
        fields["progress"] = fields.get("total", job.total)
    Job.objects.filter(pk=job.pk).update(**fields)
    for k, v in fields.items():
        setattr(job, k, v)


def _run(job_id: int, fn: JobFn, *, inline: bool = False) -> None:
    """Run a job and record its outcome. In a worker thread the connection is the thread's own
    and is closed around the work; inline (tests, the CLI) it is the caller's, possibly inside a
    transaction (pytest's on PostgreSQL), so it is left alone."""
    if not inline:
        close_old_connections()
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        result = fn(job)
        status = (
            result.pop("_status", Job.Status.DONE) if isinstance(result, dict) else Job.Status.DONE
        )
        Job.objects.filter(pk=job_id).update(
            status=status, result=result, finished_at=timezone.now()
        )
    except Exception as exc:  # the job records the failure; the page shows it
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED,
            message=f"{type(exc).__name__}: {exc}",
            result={"traceback": traceback.format_exc(limit=5)},
            finished_at=timezone.now(),
        )
    finally:
        if not inline:
            close_old_connections()


def job_start(*, job: Job, fn: JobFn) -> Job:
    """Run ``fn(job)`` outside the request, in a worker thread of the serving process
    (inline where ANSINH_JOBS_INLINE is set, as in tests). ``fn`` returns the result dict;
    a ``_status`` key may set the final status (``refused``)."""
    if env.jobs_inline():
        _run(job.pk, fn, inline=True)
    else:
        # the worker thread speaks the language of the request that started the job (its
        # error messages and documents are read in that language)
        lang = translation.get_language()

        def target() -> None:
            with translation.override(lang):
                _run(job.pk, fn)

        transaction.on_commit(lambda: threading.Thread(target=target, daemon=True).start())
    return job
