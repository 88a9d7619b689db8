"""Reads of yearly targets (SPEC section 3, "target")."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ansinh.core.codes import INDICATORS, SCHEME_CODES
from ansinh.geography.models import Unit
from ansinh.geography.selectors import legacy_under, unit_subtree
from ansinh.targets.models import Target


def target_tree(*, unit: Unit, year: int) -> dict[str, dict[str, Decimal | None]]:
    """Targets of ``year`` for ``unit`` and every unit below it: ``{code: {indicator: value}}``.

    A scheme's target is the unit's own row, else the sum of its children's targets
    (recursively; None when nothing below has one). ``hi_coverage`` (a percent) is never
    summed: a unit's own row or None. Two queries whatever the size of the tree.
    """
    units = list(unit_subtree(unit=unit).values_list("code", "parent_id"))
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in units:
        if parent is not None:
            children[parent].append(code)
    own: dict[str, dict[str, Decimal]] = defaultdict(dict)
    rows = Target.objects.filter(year=year, unit__path__startswith=unit.path).values_list(
        "unit_id", "indicator", "target"
    )
    for code, indicator, value in rows:
        own[code][indicator] = value
    leg = legacy_under(unit=unit)
    if leg is not None:
        # a former commune's targets (numbers of participants, never a percent) count in
        # each successor times its share (SPEC section 9)
        for legacy, indicator, value in Target.objects.filter(
            year=year, unit_id__in=leg.relevant, indicator__in=SCHEME_CODES
        ).values_list("unit_id", "indicator", "target"):
            for code, _path, part in leg.split(legacy, value):
                own[code][indicator] = own[code].get(indicator, Decimal(0)) + part

    result: dict[str, dict[str, Decimal | None]] = {}

    def resolve(code: str) -> dict[str, Decimal | None]:
        # iterative post-order would avoid recursion limits; trees here are a few levels deep
        if code in result:
            return result[code]
        mine = own.get(code, {})
        kids = [resolve(c) for c in children.get(code, [])]
        out: dict[str, Decimal | None] = {}
        for ind in SCHEME_CODES:
            if ind in mine:
                out[ind] = mine[ind]
            else:
                vals = [v for k in kids if (v := k.get(ind)) is not None]
                out[ind] = sum(vals, Decimal(0)) if vals else None
        out["hi_coverage"] = mine.get("hi_coverage")
        result[code] = out
        return out

    for code, _parent in units:
        resolve(code)
    if unit.code not in result:
        result[unit.code] = {ind: None for ind in INDICATORS}
    return result


def targets_of(*, unit: Unit, year: int) -> dict[str, Decimal | None]:
    """Targets of one unit for ``year``: ``{indicator: value or None}``."""
    return target_tree(unit=unit, year=year)[unit.code]
