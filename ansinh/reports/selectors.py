"""Reads for the reports: which units an actor may report on (through the one access door)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from ansinh.accounts.selectors import actor_root_unit, allowed_units, unit_visible
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors, units_in_force

REPORT_ROLES = frozenset({"admin", "province", "office", "viewer"})
ISSUE_ROLES = frozenset({"admin", "province", "office"})  # may give a document its number
REGISTER_ROLES = frozenset({"admin", "province"})  # may open a register


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


def can_issue(actor: Any) -> bool:
    """Issuing a document (taking a number from a register) is a write: admin, province and
    office users; viewers take drafts only."""
    return actor is None or getattr(actor, "role", None) in ISSUE_ROLES


def can_open_registers(actor: Any) -> bool:
    return getattr(actor, "role", None) in REGISTER_ROLES


def register_unit_codes(actor: Any) -> list[str] | None:
    """The issuing units whose registers the actor sees: all (None) for admin and province;
    an office user its own office; nobody else any ([])."""
    role = getattr(actor, "role", None)
    if role in REGISTER_ROLES:
        return None
    if role == "office":
        root = actor_root_unit(actor)
        if root is None:
            return []
        return [u.code for u in unit_ancestors(unit=root) if u.level in ("province", "office")][-1:]
    return []


def issuing_units() -> QuerySet[Unit]:
    """Units that may hold a register: the province and the offices in force."""
    return Unit.objects.filter(level__in=["province", "office"], valid_to__isnull=True).order_by(
        "path"
    )
