"""Reads of the import pipeline: who may import and which units, the batches and import
jobs an actor may see (the history of SPEC section 10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ansinh.accounts.access import Actor, can_import, may
from ansinh.accounts.selectors import job_get
from ansinh.core.models import ImportBatch, Job
from ansinh.imports.progress import live_progress


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
    live = live_progress(job.pk) if job.status == Job.Status.RUNNING else None
    if live is not None:
        job.progress, job.total = live
    return job


# ---------------------------------------------------------------------------------------------
# preview (SPEC section 10)


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
