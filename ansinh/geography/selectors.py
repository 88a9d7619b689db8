"""Reads of units and population."""

from __future__ import annotations

from django.db.models import QuerySet

from ansinh.geography.models import Population, Unit


def unit_get(*, code: str) -> Unit | None:
    return Unit.objects.filter(code=code).first()


def unit_root() -> Unit | None:
    """The province (first root unit), the default scope of the command line."""
    return Unit.objects.filter(parent__isnull=True).order_by("code").first()


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
