"""Writes of the core app: audit rows (jobs: ``core.jobs``)."""

from __future__ import annotations

from typing import Any

from ansinh.core.actors import actor_required
from ansinh.core.models import AuditEvent


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
    """Write one audit row. ``actor`` is a user or the system actor (``core.actors.SYSTEM``:
    the command line, jobs nobody started), written as ``cli``."""
    actor_required(actor)
    user = actor if getattr(actor, "pk", None) else None
    name = getattr(actor, "username", "") or str(actor)
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
