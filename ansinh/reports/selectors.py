"""Reads for the reports: which units an actor may report on (through the one access door)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from ansinh.accounts.access import Actor, actor_root_unit, allowed_units, may, unit_visible
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors, units_in_force


def can_report(actor: Actor) -> bool:
    """Every role except ``partner`` may download progress reports (``see_reports``)."""
    return may(actor, "see_reports")


def report_units(*, actor: Actor) -> QuerySet[Unit]:
    """The units the actor may pick for a report, in tree order."""
    if not can_report(actor):
        return Unit.objects.none()
    return units_in_force(allowed_units(actor)).order_by("path")


def report_unit_get(*, actor: Actor, code: str | None) -> Unit:
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


def can_issue(actor: Actor) -> bool:
    """Issuing a document (taking a number from a register) is a write: admin, province and
    office users; viewers take drafts only."""
    return may(actor, "issue_documents")


def can_open_registers(actor: Actor) -> bool:
    return may(actor, "open_registers")


def register_unit_codes(actor: Actor) -> list[str] | None:
    """The issuing units whose registers the actor sees: all (None) for admin and province;
    an office user its own office; nobody else any ([])."""
    if may(actor, "open_registers"):
        return None
    if may(actor, "issue_documents"):
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
