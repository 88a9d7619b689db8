"""Reads of units and population."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ansinh.core.formats import fmt_date
from ansinh.geography.models import (
    LEGACY_SUFFIX,
    LEGACY_VALID_TO,
    Population,
    Successor,
    Unit,
    is_legacy_key,
    official_code,
)


def unit_get(*, code: str) -> Unit | None:
    return Unit.objects.filter(code=code).first()


def unit_root() -> Unit | None:
    """The province (first root unit in force), the default scope of the command line. The
    former provinces that ``units official --legacy`` loads are roots too, never the default."""
    roots = Unit.objects.filter(parent__isnull=True).order_by("code")
    return roots.filter(valid_to__isnull=True).first() or roots.first()


def units_in_force(qs: QuerySet[Unit]) -> QuerySet[Unit]:
    """``qs`` without the former units (``units official --legacy``): what a picker offers for
    new records, which are never keyed by a unit abolished on 1 July 2025."""
    return qs.exclude(code__endswith=LEGACY_SUFFIX)


def unit_code_label(code: str) -> str:
    """A unit code as users read it: a former unit's key ``22411@2025`` is shown as
    ``22411 (đến 30/06/2025)``; today's codes as they are."""
    if not is_legacy_key(code):
        return code
    return _("%(code)s (đến %(date)s)") % {
        "code": official_code(code),
        "date": fmt_date(LEGACY_VALID_TO),
    }


def unit_successors(*, unit: Unit) -> list[Successor]:
    """The communes of today that took a former commune, largest share first."""
    return list(
        Successor.objects.filter(legacy=unit)
        .select_related("successor")
        .order_by("-share", "-main", "successor_id")
    )


def unit_predecessors(*, unit: Unit) -> list[Successor]:
    """The former communes a commune of today was made of (where it has a share of them)."""
    return list(
        Successor.objects.filter(successor=unit, share__gt=0)
        .select_related("legacy")
        .order_by("legacy_id")
    )


def unit_subtree(*, unit: Unit) -> QuerySet[Unit]:
    """The unit and every unit below it, at any depth: one indexed prefix query."""
    return Unit.objects.filter(path__startswith=unit.path)


def unit_children(*, unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(parent=unit).order_by("code")


def unit_ancestors(*, unit: Unit) -> list[Unit]:
    """The units from the root down to ``unit`` (itself included; no query for a root)."""
    codes = [c for c in unit.path.split("/") if c]
    if codes == [unit.code]:
        return [unit]
    by_code = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def population_of(*, unit: Unit, year: int, group: str = "") -> int | None:
    """Population of the unit for the year: its own row, else the sum of the rows below it
    (one level of loading, as for counts). None when nothing is known."""
    own = (
        Population.objects.filter(year=year, unit=unit, group=group)
        .values_list("population", flat=True)
        .first()
    )
    if own is not None:
        return int(own)
    rows = list(
        Population.objects.filter(
            year=year, group=group, unit__path__startswith=unit.path
        ).values_list("unit__path", "population")
    )
    if not rows:
        return None
    # sum the topmost rows only, so that a tree loaded at two levels is not double counted
    paths = sorted(rows)
    total = 0
    taken: list[str] = []
    for path, pop in paths:
        if any(path.startswith(t) for t in taken):
            continue
        taken.append(path)
        total += int(pop)
    return total
