"""Reads for the reports: which units an actor may report on (through the one access door)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from ansinh.accounts.selectors import actor_root_unit, allowed_units, unit_visible
from ansinh.geography.models import Unit
from ansinh.geography.selectors import units_in_force

REPORT_ROLES = frozenset({"admin", "province", "office", "viewer"})


def can_report(actor: Any) -> bool:
    """Every role except ``partner`` may download progress reports; ``None`` is the CLI."""
    return actor is None or getattr(actor, "role", None) in REPORT_ROLES


def report_units(*, actor: Any) -> QuerySet[Unit]:
    """The units the actor may pick for a report, in tree order."""
    if not can_report(actor):
        return Unit.objects.none()
    return units_in_force(allowed_units(actor)).order_by("path")


def report_unit_get(*, actor: Any, code: str | None) -> Unit:
    """The unit named by ``code`` (default: the actor's own top unit); a unit outside the
    actor's scope is answered exactly like a missing one (Http404)."""
    if not can_report(actor):
        raise Http404
    if not code:
        unit = actor_root_unit(actor)
        if unit is None:
            raise Http404
        return unit
    unit = unit_visible(actor=actor, code=code)
    if unit is None:
        raise Http404
    return unit
