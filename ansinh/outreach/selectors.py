"""Reads of communication plans and campaigns, scoped through the one access door.

A plan is visible when its unit is within the actor's scope; a partner sees no plan. A plan
outside the scope is answered as a missing one (None → 404).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from ansinh.accounts.access import Actor, allowed_units, may, unit_filter
from ansinh.core import codes
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_subtree, units_in_force
from ansinh.outreach.items import PlannedItem
from ansinh.outreach.models import Campaign, Plan, PlanItem
from ansinh.outreach.planning import by_unit_rows, plan_months, warning_label, warning_text


def _sees_plans(actor: Actor) -> bool:
    return may(actor, "see_plans")


def plan_list(*, actor: Actor, year: int | None = None, status: str = "") -> QuerySet[Plan]:
    if not _sees_plans(actor):
        return Plan.objects.none()
    qs = Plan.objects.filter(unit_filter(actor)).select_related("unit", "created_by")
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        n_items=Count("items"),
        n_sessions=Sum("items__sessions"),
        n_expected=Sum("items__expected_registrations"),
        n_cost=Sum("items__cost"),
    ).order_by("-year", "unit__path", "-version")


def plan_get(*, actor: Actor, plan_id: int) -> Plan | None:
    if not _sees_plans(actor):
        return None
    return (
        Plan.objects.filter(unit_filter(actor), pk=plan_id)
        .select_related("unit", "created_by", "decided_by", "campaign")
        .first()
    )


def plan_item_get(*, plan: Plan, item_id: int) -> PlanItem | None:
    return PlanItem.objects.filter(plan=plan, pk=item_id).select_related("unit").first()


def plan_unit_choices(*, actor: Actor) -> list[Unit]:
    """Units a plan can be drafted for: the actor's province, offices and communes."""
    return list(
        units_in_force(allowed_units(actor))
        .filter(level__in=[Unit.Level.PROVINCE, Unit.Level.OFFICE, Unit.Level.COMMUNE])
        .order_by("path")
    )


def plan_item_units(*, plan: Plan) -> list[Unit]:
    """The communes an item of the plan may be placed in."""
    return list(unit_subtree(unit=plan.unit).filter(level=Unit.Level.COMMUNE).order_by("path"))


def _items(plan: Plan) -> list[PlanItem]:
    return list(PlanItem.objects.filter(plan=plan).order_by("unit_id", "month", "channel", "group"))


def plan_as_dict(*, plan: Plan, items: list[PlanItem] | None = None) -> dict[str, Any]:
    """A saved plan as the JSON object of SPEC section 6 (for exports and the API)."""
    items = items if items is not None else _items(plan)
    planned = [PlannedItem.from_model(it) for it in items]
    gaps: dict[str, dict[str, int | None]] = {c: dict(g) for c, g in (plan.gaps or {}).items()}
    for it in planned:
        gaps.setdefault(it.unit, {})
    return {
        "year": plan.year,
        "as_of": plan.as_of.isoformat(),
        "unit": plan.unit_id,
        "items": [it.as_json() for it in planned],
        "by_unit": by_unit_rows(gaps=gaps, items=planned),
        "warnings": [warning_text(w) for w in plan.warnings or []],
    }


@dataclass
class CommuneBlock:
    code: str
    name: str
    months: list[tuple[str, list[PlanItem], dict[str, int]]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def _sum(items: list[PlanItem]) -> dict[str, int]:
    return {
        "items": len(items),
        "sessions": sum(i.sessions for i in items),
        "reach": sum(i.planned_reach for i in items),
        "expected": sum(i.expected_registrations for i in items),
        "cost": sum(i.cost for i in items),
    }


def plan_summary(*, plan: Plan, commune: str = "") -> dict[str, Any]:
    """Everything the plan page shows: totals, the coverage check per commune and scheme,
    warnings, and the items grouped by commune and month (optionally one commune only)."""
    items = _items(plan)
    gaps: dict[str, dict[str, int]] = plan.gaps or {}
    codes_needed = set(gaps) | {i.unit_id for i in items}
    warned = {w.get("unit") for w in plan.warnings or []}
    warned_cells = {(w.get("unit"), w.get("scheme")) for w in plan.warnings or []}
    names = dict(Unit.objects.filter(code__in=codes_needed | warned).values_list("code", "name"))

    expected: dict[tuple[str, str], int] = defaultdict(int)
    for it in items:
        for s in it.schemes:
            expected[(it.unit_id, s)] += it.expected_registrations
    coverage: list[dict[str, Any]] = []
    scheme_totals = {s: {"gap": 0, "expected": 0, "short": 0} for s in codes.SCHEME_CODES}
    for c in sorted(codes_needed):
        cells = []
        for s in codes.SCHEME_CODES:
            g = gaps.get(c, {}).get(s)
            e = expected[(c, s)]
            if g is None:
                cells.append({"scheme": s, "gap": None, "expected": e, "ok": None})
                continue
            ok = e >= g
            cells.append(
                {"scheme": s, "gap": g, "expected": e, "ok": ok, "warned": (c, s) in warned_cells}
            )
            if g > 0:
                scheme_totals[s]["gap"] += g
                if not ok:
                    scheme_totals[s]["short"] += 1
            scheme_totals[s]["expected"] += e
        coverage.append({"code": c, "name": names.get(c, c), "cells": cells})

    shown = [i for i in items if not commune or i.unit_id == commune]
    blocks: list[CommuneBlock] = []
    by_commune: dict[str, dict[str, list[PlanItem]]] = defaultdict(lambda: defaultdict(list))
    for it in shown:
        by_commune[it.unit_id][it.month].append(it)
    for c in sorted(by_commune):
        block = CommuneBlock(code=c, name=names.get(c, c))
        for m in sorted(by_commune[c]):
            month_items = by_commune[c][m]
            block.months.append((m, month_items, _sum(month_items)))
        block.totals = _sum([i for ms in by_commune[c].values() for i in ms])
        blocks.append(block)

    by_month: dict[str, int] = defaultdict(int)
    for it in items:
        by_month[it.month] += it.cost
    return {
        "totals": _sum(items),
        "coverage": coverage,
        "scheme_totals": scheme_totals,
        # green only when every gap is covered and no warning stands (SPEC section 6)
        "gaps_covered": all(cell["ok"] is not False for row in coverage for cell in row["cells"]),
        "all_covered": not plan.warnings
        and all(cell["ok"] is not False for row in coverage for cell in row["cells"]),
        "blocks": blocks,
        "communes": [(c, names.get(c, c)) for c in sorted(codes_needed)],
        "warnings": [warning_label(w, names=names) for w in plan.warnings or []],
        "cost_by_month": sorted(by_month.items()),
    }


def plan_calendar(*, plan: Plan) -> dict[str, Any]:
    """Months × communes: the items of each commune in each month."""
    items = _items(plan)
    months = [f"{plan.year:04d}-{m:02d}" for m in plan_months(year=plan.year, as_of=plan.as_of)]
    for m in sorted({i.month for i in items}):
        if m not in months:
            months.append(m)
    months.sort()
    communes = sorted(set(plan.gaps or {}) | {i.unit_id for i in items})
    names = dict(Unit.objects.filter(code__in=communes).values_list("code", "name"))
    grid: dict[str, dict[str, list[PlanItem]]] = {c: {m: [] for m in months} for c in communes}
    for it in items:
        grid[it.unit_id][it.month].append(it)
    month_totals = {m: _sum([i for i in items if i.month == m]) for m in months}
    rows = [
        {"code": c, "name": names.get(c, c), "cells": [grid[c][m] for m in months]}
        for c in communes
    ]
    return {"months": months, "rows": rows, "month_totals": [month_totals[m] for m in months]}


def campaign_list(*, actor: Actor) -> QuerySet[Campaign]:
    """Campaigns of the whole province (no units) or touching a unit within scope."""
    if not _sees_plans(actor):
        return Campaign.objects.none()
    qs = Campaign.objects.all()
    flt = unit_filter(actor, "units")
    if flt:
        qs = qs.filter(Q(units__isnull=True) | flt).distinct()
    return qs.prefetch_related("units").order_by("-start", "code")
