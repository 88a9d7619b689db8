"""Reads of the core app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from ansinh.core.jobs import worker_seen
from ansinh.core.models import AuditEvent, DocumentNumber, DocumentRegister, Job


def audit_list(
    *,
    action: str = "",
    actor_name: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit rows, newest first, filtered: ``action`` by prefix (``person`` matches
    ``person.unmask``), the others exactly; dates inclusive, in the server's time zone."""
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from is not None:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to is not None:
        qs = qs.filter(at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_choices() -> dict[str, list[str]]:
    """The distinct actions, actor names and object types of the log, for the filter lists."""
    return {
        "actions": list(
            AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        ),
        "actors": list(
            AuditEvent.objects.order_by("actor_name")
            .values_list("actor_name", flat=True)
            .distinct()
        ),
        "object_types": list(
            AuditEvent.objects.exclude(object_type="")
            .order_by("object_type")
            .values_list("object_type", flat=True)
            .distinct()
        ),
    }


def health_report() -> dict[str, Any]:
    """The database and the job worker, for ``/healthz?full=1`` and ``/metrics``."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        jobs = dict(
            Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
            .values_list("status")
            .annotate(n=Count("id"))
        )
    except DatabaseError:
        return {"status": "error", "database": "error", "worker": "unknown", "jobs": {}}
    worker = "ok" if worker_seen() else "down"
    return {
        "status": "ok" if worker == "ok" else "degraded",
        "database": "ok",
        "worker": worker,
        "jobs": {"queued": jobs.get("queued", 0), "running": jobs.get("running", 0)},
    }


def document_registers(*, unit_codes: list[str] | None = None) -> QuerySet[DocumentRegister]:
    """Registers of outgoing documents; ``unit_codes`` None means all."""
    qs = DocumentRegister.objects.all().order_by("unit_id", "kind")
    if unit_codes is not None:
        qs = qs.filter(unit_id__in=unit_codes)
    return qs


def document_numbers(
    *, unit_codes: list[str] | None = None, year: int | None = None, limit: int = 500
) -> list[DocumentNumber]:
    """Numbers given, newest first (at most ``limit``)."""
    qs = DocumentNumber.objects.select_related("register", "register__unit").order_by(
        "-issued_at", "-id"
    )
    if unit_codes is not None:
        qs = qs.filter(register__unit_id__in=unit_codes)
    if year is not None:
        qs = qs.filter(year=year)
    return list(qs[:limit])
