"""Reads of the core app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ansinh.core.models import AuditEvent, Job


def job_get(*, actor: Any, job_id: int) -> Job | None:
    """A job is visible to its creator and to admins/province users."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if getattr(actor, "role", "") in {"admin", "province"} or job.created_by_id == actor.pk:
        return job
    return None


def audit_list(
    *, action: str = "", actor_name: str = "", object_type: str = "", object_id: str = ""
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs
