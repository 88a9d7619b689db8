"""Reads of units and population."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ansinh.core.formats import fmt_date, round_half_up
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


@dataclass(frozen=True)
class LegacyMap:
    """How the figures of the former communes count in today's communes (SPEC section 9):
    ``shares[L]`` the successors of former commune ``L`` with a share above 0, largest first
    (ties: the main successor, then by code); ``valid_to[L]`` its last day in force."""

    shares: dict[str, list[tuple[str, Decimal]]]
    valid_to: dict[str, dt.date | None]

    def __bool__(self) -> bool:
        return bool(self.shares)

    def main(self, legacy: str) -> str:
        """Where a person's spell keyed by ``legacy`` counts: the largest share."""
        return self.shares[legacy][0][0]

    def split(self, legacy: str, value: int | Decimal) -> list[tuple[str, int]]:
        """``value`` of ``legacy`` in each successor times its share, rounded half-up per
        successor; the rounding difference goes to the successor with the largest share."""
        parts = [
            (code, int(round_half_up(Decimal(value) * share, 0)))
            for code, share in self.shares[legacy]
        ]
        diff = int(value) - sum(n for _c, n in parts)
        if diff:
            parts[0] = (parts[0][0], parts[0][1] + diff)
        return parts


def legacy_map() -> LegacyMap:
    """The successors of every former commune that has any (empty without ``--legacy``)."""
    shares: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for legacy, succ, share in (
        Successor.objects.filter(share__gt=0)
        .order_by("legacy_id", "-share", "-main", "successor_id")
        .values_list("legacy_id", "successor_id", "share")
    ):
        shares[legacy].append((succ, Decimal(share)))
    valid_to = dict(Unit.objects.filter(code__in=list(shares)).values_list("code", "valid_to"))
    return LegacyMap(shares=dict(shares), valid_to=valid_to)


@dataclass(frozen=True)
class LegacyUnder:
    """The former communes whose figures count at or below a unit of today: ``relevant``
    those with a successor there, ``paths`` the paths of those successors."""

    map: LegacyMap
    relevant: frozenset[str]
    paths: dict[str, str]

    def split(self, legacy: str, value: int | Decimal) -> list[tuple[str, str, int]]:
        """(successor, its path, part) of ``value`` for the successors under the unit."""
        return [
            (code, self.paths[code], part)
            for code, part in self.map.split(legacy, value)
            if code in self.paths
        ]

    def main(self, legacy: str) -> tuple[str, str] | None:
        code = self.map.main(legacy)
        return (code, self.paths[code]) if code in self.paths else None


def legacy_under(*, unit: Unit) -> LegacyUnder | None:
    """None unless some former commune counts at or below ``unit`` (a unit of today; the
    page of a former unit shows its own facts). Kept on the ``unit`` instance: a page or a
    command computes many figures of one unit (one query instead of one per figure)."""
    memo = unit.__dict__.get("_legacy_under", _MISSING)
    if memo is _MISSING:
        memo = _legacy_under(unit)
        unit.__dict__["_legacy_under"] = memo
    return memo  # type: ignore[no-any-return]


_MISSING = object()


def _legacy_under(unit: Unit) -> LegacyUnder | None:
    if is_legacy_key(unit.code) or not Successor.objects.filter(share__gt=0).exists():
        return None
    lm = legacy_map()
    targets = {code for parts in lm.shares.values() for code, _s in parts}
    paths = dict(
        Unit.objects.filter(code__in=list(targets), path__startswith=unit.path).values_list(
            "code", "path"
        )
    )
    relevant = frozenset(
        legacy for legacy, parts in lm.shares.items() if any(c in paths for c, _s in parts)
    )
    if not relevant:
        return None
    return LegacyUnder(map=lm, relevant=relevant, paths=paths)
