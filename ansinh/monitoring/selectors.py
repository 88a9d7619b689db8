"""Reads of the KPI engine: the figures of SPEC section 3, trends, rankings, forecasts.

A month-end that is materialised (``SnapshotState``) is read from ``KpiSnapshot``; any other
date is computed live from spells and counts by the same SQL (``ansinh.monitoring.sql``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone

from ansinh.accounts.access import Actor, suppress_rows, suppresses_small_counts, unit_in_scope
from ansinh.core import sql
from ansinh.core.cache import cached
from ansinh.core.codes import GROUP_CODES, SCHEME_CODES
from ansinh.core.formats import month_end
from ansinh.core.models import ImportBatch
from ansinh.geography.models import Population, TreeChange, Unit
from ansinh.geography.selectors import LegacyUnder, legacy_under, unit_children, unit_subtree
from ansinh.monitoring import figures
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.sql import (
    KpiRow,
    Scope,
    SpellRow,
    changed_contrib_sql,
    counts_only_sql,
    live_rows_sql,
)
from ansinh.registry.models import Count, Spell
from ansinh.targets.selectors import target_tree

BY_CHOICES = ("unit", "group")


@dataclass(frozen=True)
class LeafRow:
    """Participants of one (unit, scheme, group) where facts are loaded."""

    unit: str
    path: str
    scheme: str
    group: str
    participants: int
    in_total: bool


# --------------------------------------------------------------------------- data as of


def data_version() -> str:
    """A token that changes whenever the figures (or the units they are shown under) may:
    every import writes a batch row, every snapshot write stamps its month-ends, every other
    write to the unit tree a ``TreeChange`` (``ansinh.core.cache`` keys on it). One query."""
    batch, state, tree = sql.table(ImportBatch), sql.table(SnapshotState), sql.table(TreeChange)
    row = sql.fetch_one(
        f"SELECT (SELECT MAX(id) FROM {batch}) AS batch, "
        f"(SELECT MAX(undone_at) FROM {batch}) AS undone, "
        f"(SELECT MAX(built_at) FROM {state}) AS built, "
        f"(SELECT COUNT(*) FROM {state}) AS states, "
        f"(SELECT MAX(id) FROM {tree}) AS tree"
    )
    assert row is not None
    return ":".join(str(row[k]) for k in ("batch", "undone", "built", "states", "tree"))


def data_as_of(*, version: str | None = None) -> dt.date | None:
    """The latest date with data: the latest count ``as_of`` or spell start, capped at today.
    End dates are not events of the data: a card's validity is known when it is issued, so the
    demo's (and an office's) cards valid into next year would make "data as of" today, a year
    past the last load. None on an empty database. Uses the (scheme, start_date) index; kept
    per data version (``version``: the caller's, saving its query), the cap applied per call."""
    if connection.in_atomic_block:
        # inside a transaction (an import's job): what it sees may yet be rolled back
        return _latest_fact(spell_cols=("start_date",))
    latest = cached(
        namespace="data_as_of",
        version=version if version is not None else data_version(),
        parts=(),
        compute=lambda: _latest_fact(spell_cols=("start_date",), cap=False),
    )
    return min(latest, timezone.localdate()) if latest is not None else None


def facts_last_date() -> dt.date | None:
    """The latest date the facts speak of: count ``as_of``, spell start or end, capped at
    today. The snapshot is materialised up to the month-end on or before it, so that days
    after the last load (known end dates) stay fast. None on an empty database."""
    return _latest_fact(spell_cols=("start_date", "end_date"))


def _latest_fact(*, spell_cols: tuple[str, ...], cap: bool = True) -> dt.date | None:
    """The latest of the spells' ``spell_cols`` and the counts' ``as_of``, capped at today
    (with ``cap``); one MAX per scheme and column so that the (scheme, date) indexes answer
    it."""
    spell = sql.table(Spell)
    query = " UNION ALL ".join(
        f"SELECT MAX({col}) AS latest FROM {spell} WHERE scheme = %(scheme_{i})s"
        for i, _scheme in enumerate(SCHEME_CODES)
        for col in spell_cols
    )
    params = {f"scheme_{i}": scheme for i, scheme in enumerate(SCHEME_CODES)}
    values = [_as_date(r["latest"]) for r in sql.fetch(query, params) if r["latest"] is not None]
    latest_count = Count.objects.aggregate(m=Max("as_of"))["m"]
    if latest_count is not None:
        values.append(latest_count)
    if not values:
        return None
    return min(max(values), timezone.localdate()) if cap else max(values)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def data_first_date() -> dt.date | None:
    """The earliest date with data (spell start or count as_of)."""
    query = " UNION ALL ".join(
        f"SELECT MIN(start_date) AS earliest FROM {sql.table(Spell)} WHERE scheme = %(scheme_{i})s"
        for i, _s in enumerate(SCHEME_CODES)
    )
    params = {f"scheme_{i}": scheme for i, scheme in enumerate(SCHEME_CODES)}
    values = [
        _as_date(r["earliest"]) for r in sql.fetch(query, params) if r["earliest"] is not None
    ]
    first_count = Count.objects.order_by("as_of").values_list("as_of", flat=True).first()
    if first_count is not None:
        values.append(first_count)
    return min(values) if values else None


# --------------------------------------------------------------------------- leaf rows


def snapshot_ready(as_of: dt.date) -> bool:
    """True when ``as_of`` is a materialised month-end."""
    return as_of == month_end(as_of) and SnapshotState.objects.filter(as_of=as_of).exists()


# a leaf row at a former commune before it is mapped: (unit, scheme, group, participants,
# in_total, from_counts)
RawRow = tuple[str, str, str, int, bool, bool]


def legacy_rows(
    *,
    leg: LegacyUnder | None,
    raw: list[RawRow],
    own_counts: set[tuple[str, str]],
) -> list[LeafRow]:
    """The rows of former communes as figures of today's communes (SPEC section 9): a count
    in each successor times its share (rounded half-up per successor, the difference to the
    largest share), standing until the successor has a count of its own of the scheme
    (``own_counts``: (unit, scheme) with a count row at the date: the newer count replaces
    them); the persons of a spell in the successor with the largest share. Only the
    successors under ``leg``'s unit."""
    if leg is None:
        return []
    out: list[LeafRow] = []
    for u, s, g, n, t, c in raw:
        if u not in leg.relevant or not n:
            continue
        if c:
            out += [
                LeafRow(code, path, s, g, part, t)
                for code, path, part in leg.split(u, n)
                if (code, s) not in own_counts
            ]
        else:
            main = leg.main(u)
            if main is not None:
                out.append(LeafRow(main[0], main[1], s, g, n, t))
    return [r for r in out if r.participants]


def leaf_rows(*, unit: Unit, as_of: dt.date, live: bool = False) -> list[LeafRow]:
    """Participants per (unit, scheme, group) at or below ``unit`` at ``as_of``: from the
    snapshot for a materialised month-end; for another day from the snapshot of the month-end
    before it corrected by the persons whose spells changed in between; else (or with ``live``)
    computed from all spells and counts. The figures of the former communes count in their
    successors (``legacy_rows``)."""
    leg = legacy_under(unit=unit)
    if not live:
        if snapshot_ready(as_of):
            qs = KpiSnapshot.objects.filter(
                as_of=as_of, unit__path__startswith=unit.path
            ).values_list(
                "unit_id",
                "unit__path",
                "scheme",
                "group",
                "participants",
                "in_total",
                "from_counts",
            )
            out = []
            own: set[tuple[str, str]] = set()
            for u, p, s, g, n, t, c in qs:
                if n:  # event-only rows carry no participants
                    out.append(LeafRow(u, p, s, g, int(n), bool(t)))
                if c:
                    own.add((u, s))
            if leg is not None:
                former = KpiSnapshot.objects.filter(
                    as_of=as_of, unit_id__in=leg.relevant
                ).values_list(
                    "unit_id", "scheme", "group", "participants", "in_total", "from_counts"
                )
                out += legacy_rows(
                    leg=leg,
                    raw=[(u, s, g, int(n), bool(t), bool(c)) for u, s, g, n, t, c in former],
                    own_counts=own,
                )
            return out
        rows = _rows_from_month_end_before(unit=unit, as_of=as_of, leg=leg)
        if rows is not None:
            return rows
    prefix = None if unit.parent_id is None else unit.path
    query, params = live_rows_sql(dates=[as_of], scope=Scope(path_prefix=prefix))
    raw = sql.fetch_as(KpiRow, query, params)
    if leg is not None and prefix is not None:
        query, params = live_rows_sql(dates=[as_of], scope=Scope(units=frozenset(leg.relevant)))
        raw += sql.fetch_as(KpiRow, query, params)
    paths = dict(Unit.objects.filter(code__in={r.unit_id for r in raw}).values_list("code", "path"))
    out = [
        LeafRow(
            r.unit_id, paths[r.unit_id], r.scheme, r.group, int(r.participants), bool(r.in_total)
        )
        for r in raw
        if int(r.participants) and paths.get(r.unit_id, "").startswith(unit.path)
    ]
    if leg is not None:
        out += legacy_rows(
            leg=leg,
            raw=[_raw_row(r) for r in raw if r.unit_id in leg.relevant],
            own_counts={
                (r.unit_id, r.scheme) for r in raw if r.from_counts and r.unit_id in leg.paths
            },
        )
    return out


def _raw_row(r: KpiRow) -> RawRow:
    return (
        r.unit_id,
        r.scheme,
        r.group,
        int(r.participants),
        bool(r.in_total),
        bool(r.from_counts),
    )


def _rows_from_month_end_before(
    *, unit: Unit, as_of: dt.date, leg: LegacyUnder | None = None
) -> list[LeafRow] | None:
    """Spell rows of the materialised month-end M before ``as_of``, corrected by the (person,
    scheme) pairs whose covering spells differ between M and ``as_of``; counts computed at
    ``as_of``. None when M is not materialised."""
    if as_of.replace(day=1) == dt.date.min:
        return None  # no month-end before the first month of the calendar
    before = as_of.replace(day=1) - dt.timedelta(days=1)
    if not SnapshotState.objects.filter(as_of=before).exists():
        return None
    paths = dict(unit_subtree(unit=unit).values_list("code", "path"))
    former = set() if leg is None else set(leg.relevant)
    acc: dict[tuple[str, str, str], int] = defaultdict(int)
    where = Q(unit__path__startswith=unit.path)
    if former:
        where |= Q(unit_id__in=former)
    for u, s, g, n in KpiSnapshot.objects.filter(
        where, as_of=before, from_counts=False
    ).values_list("unit_id", "scheme", "group", "participants"):
        acc[(u, s, g)] += int(n)
    query, params = changed_contrib_sql(month_end_before=before, day=as_of, schemes=SCHEME_CODES)
    for c in sql.fetch_as(SpellRow, query, params):
        if c.unit_id in paths or c.unit_id in former:
            n = int(c.participants)
            acc[(c.unit_id, c.scheme, c.group)] += n if _as_date(c.as_of) == as_of else -n
    query, params = counts_only_sql(day=as_of)
    count_rows = sql.fetch_as(KpiRow, query, params)
    out = [LeafRow(u, paths[u], s, g, n, True) for (u, s, g), n in acc.items() if n and u in paths]
    out += [
        LeafRow(
            r.unit_id, paths[r.unit_id], r.scheme, r.group, int(r.participants), bool(r.in_total)
        )
        for r in count_rows
        if int(r.participants) and r.unit_id in paths
    ]
    if former:
        raw: list[RawRow] = [
            (u, s, g, n, True, False) for (u, s, g), n in acc.items() if n and u in former
        ]
        raw += [_raw_row(r) for r in count_rows if r.unit_id in former]
        own = {(r.unit_id, r.scheme) for r in count_rows if r.unit_id in paths}
        out += legacy_rows(leg=leg, raw=raw, own_counts=own)
    return out


def _totals(rows: list[LeafRow]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.in_total:
            out[r.scheme] += r.participants
    return dict(out)


def _group_totals(rows: list[LeafRow], group: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.group == group:
            out[r.scheme] += r.participants
    return dict(out)


def _child_of(unit: Unit, path: str) -> str | None:
    rest = path[len(unit.path) :]
    code = rest.split("/", 1)[0]
    return code or None


# --------------------------------------------------------------------------- population


def population_tree(*, unit: Unit, year: int, group: str = "") -> dict[str, int | None]:
    """Population of ``year`` for ``unit`` and every unit below it (same rule as
    ``geography.selectors.population_of``: own row, else the sum of the topmost rows below)."""
    return population_trees(unit=unit, year=year, groups=(group,))[group]


def population_trees(
    *, unit: Unit, year: int, groups: tuple[str, ...]
) -> dict[str, dict[str, int | None]]:
    """``population_tree`` for several groups at once (two queries)."""
    rows: dict[str, dict[str, int]] = {g: {} for g in groups}
    for g, path, pop in Population.objects.filter(
        year=year, group__in=groups, unit__path__startswith=unit.path
    ).values_list("group", "unit__path", "population"):
        rows[g][path] = int(pop)
    leg = legacy_under(unit=unit)
    if leg is not None:
        # a former commune's population counts in each successor times its share
        for g, legacy, pop in Population.objects.filter(
            year=year, group__in=groups, unit_id__in=leg.relevant
        ).values_list("group", "unit_id", "population"):
            for _code, path, part in leg.split(legacy, int(pop)):
                rows[g][path] = rows[g].get(path, 0) + part
    paths = list(unit_subtree(unit=unit).values_list("code", "path"))
    out: dict[str, dict[str, int | None]] = {}
    for g in groups:
        mine = rows[g]
        tree: dict[str, int | None] = {}
        ordered = sorted(mine)
        for code, path in paths:
            if path in mine:
                tree[code] = mine[path]
                continue
            below = [p for p in ordered if p.startswith(path)]
            if not below:
                tree[code] = None
                continue
            total, taken = 0, list[str]()
            for p in below:
                if any(p.startswith(t) for t in taken):
                    continue
                taken.append(p)
                total += mine[p]
            tree[code] = total
        out[g] = tree
    return out


# --------------------------------------------------------------------------- kpi


def _check(unit: Unit, actor: Actor) -> None:
    if not unit_in_scope(actor=actor, unit=unit):
        raise Http404


def _suppressed(items: list[dict[str, Any]], actor: Actor) -> list[dict[str, Any]]:
    """Indicators as a viewer/partner may see them (``accounts.access``, kind ``kpi``)."""
    return suppress_rows(items, actor=actor, kind="kpi")


def kpi_figures(
    *, unit: Unit, as_of: dt.date, by: str | None = None, actor: Actor
) -> dict[str, Any]:
    """The JSON object of SPEC section 3 (``ansinh kpi``, ``GET /api/kpi``).

    ``by`` None: ``{"as_of", "unit", "indicators"}``; ``"unit"``: one row per child unit
    (by code); ``"group"``: one row per target group of DOMAIN.md (targets null). ``actor``
    None is the command line; another unit than the actor's scope is a 404; viewers and
    partners get participant counts below 5 as ``"<5"``.
    """
    _check(unit, actor)
    if by not in (None, *BY_CHOICES):
        raise ValueError(by)
    return figures_from_rows(
        unit=unit, as_of=as_of, by=by, rows=leaf_rows(unit=unit, as_of=as_of), actor=actor
    )


def kpi_figures_cached(
    *,
    unit: Unit,
    as_of: dt.date,
    by: str | None = None,
    actor: Actor,
    version: str | None = None,
) -> dict[str, Any]:
    """``kpi_figures`` kept per data version (``ansinh.core.cache``; ``version``: the caller's,
    saving its query): the scope check runs every time; the figures are shared by the actors
    who see them alike."""
    _check(unit, actor)
    return cached(
        namespace="kpi",
        version=version if version is not None else data_version(),
        parts=(unit.code, as_of.isoformat(), by, suppresses_small_counts(actor)),
        compute=lambda: kpi_figures(unit=unit, as_of=as_of, by=by, actor=actor),
    )


def figures_from_rows(
    *, unit: Unit, as_of: dt.date, by: str | None, rows: list[LeafRow], actor: Actor
) -> dict[str, Any]:
    """``kpi_figures`` from leaf rows already read (a page reads them once for all views)."""
    year = as_of.year
    head: dict[str, Any] = {"as_of": as_of.isoformat(), "unit": unit.code}
    if by is None:
        targets = target_tree(unit=unit, year=year)[unit.code]
        population = population_tree(unit=unit, year=year).get(unit.code)
        items = figures.indicators(
            participants=_totals(rows), targets=targets, population=population, as_of=as_of
        )
        return {**head, "indicators": _suppressed(items, actor)}
    if by == "unit":
        children = list(unit_children(unit=unit))
        tree = target_tree(unit=unit, year=year)
        pops = population_tree(unit=unit, year=year)
        per_child: dict[str, list[LeafRow]] = defaultdict(list)
        for r in rows:
            code = _child_of(unit, r.path)
            if code is not None:
                per_child[code].append(r)
        out_rows = []
        for child in children:
            items = figures.indicators(
                participants=_totals(per_child.get(child.code, [])),
                targets=tree.get(child.code, {}),
                population=pops.get(child.code),
                as_of=as_of,
            )
            out_rows.append({"unit": child.code, "indicators": _suppressed(items, actor)})
        return {**head, "rows": out_rows}
    out_rows = []
    pops_by_group = population_trees(unit=unit, year=year, groups=GROUP_CODES)
    for group in GROUP_CODES:
        pop = pops_by_group[group].get(unit.code)
        items = figures.indicators(
            participants=_group_totals(rows, group), targets={}, population=pop, as_of=as_of
        )
        out_rows.append({"group": group, "indicators": _suppressed(items, actor)})
    return {**head, "rows": out_rows}


def unit_gaps(
    *, unit: Unit, as_of: dt.date, year: int | None = None
) -> dict[str, dict[str, int | None]]:
    """For every commune-level unit at or below ``unit``: ``{scheme: gap or None}`` (None where
    the commune has no target for the year). The targets are those of ``year`` (default
    ``as_of``'s year: a plan for next year is drafted from this year's participants)."""
    rows = leaf_rows(unit=unit, as_of=as_of)
    tree = target_tree(unit=unit, year=year or as_of.year)
    communes = list(
        unit_subtree(unit=unit).filter(level=Unit.Level.COMMUNE).values_list("code", "path")
    )
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.in_total:
            # a leaf row belongs to the commune whose path it starts with (normally itself)
            per[r.path][r.scheme] += r.participants
    out: dict[str, dict[str, int | None]] = {}
    for code, path in communes:
        got: dict[str, int] = defaultdict(int)
        for p, schemes in per.items():
            if p.startswith(path):
                for s, n in schemes.items():
                    got[s] += n
        targets = tree.get(code, {})
        out[code] = {
            s: figures.gap(figures.target_int(targets.get(s)), got.get(s, 0)) for s in SCHEME_CODES
        }
    return out


def participants_series(
    *, unit: Unit, scheme: str, months: int, as_of: dt.date
) -> list[tuple[dt.date, int]]:
    """Participants of ``scheme`` at the month-ends of the ``months`` months ending with
    ``as_of``'s month; the last point is ``as_of`` itself when it is not a month-end."""
    return series_all(unit=unit, months=months, as_of=as_of)[scheme]


def series_all(
    *, unit: Unit, months: int, as_of: dt.date, last_rows: list[LeafRow] | None = None
) -> dict[str, list[tuple[dt.date, int]]]:
    """``participants_series`` of every scheme at once: one query over the snapshot for the
    materialised month-ends, a live computation for the others (``last_rows``: the leaf rows
    of ``as_of`` when the caller has them already)."""
    points = series_dates(as_of=as_of, months=months)
    ready = set(SnapshotState.objects.filter(as_of__in=points).values_list("as_of", flat=True))
    snap: dict[tuple[dt.date, str], int] = defaultdict(int)
    if ready:
        qs = KpiSnapshot.objects.filter(
            as_of__in=ready, in_total=True, unit__path__startswith=unit.path
        ).values_list("as_of", "scheme", "participants")
        for d, scheme, n in qs:
            snap[(d, scheme)] += int(n)
        for d, rows in legacy_snapshot_rows(unit=unit, dates=ready).items():
            for r in rows:
                if r.in_total:
                    snap[(d, r.scheme)] += r.participants
    out: dict[str, list[tuple[dt.date, int]]] = {s: [] for s in SCHEME_CODES}
    for d in points:
        if d in ready:
            totals = {s: snap.get((d, s), 0) for s in SCHEME_CODES}
        elif d == as_of and last_rows is not None:
            totals = _totals(last_rows)
        else:
            totals = _totals(leaf_rows(unit=unit, as_of=d, live=True))
        for s in SCHEME_CODES:
            out[s].append((d, totals.get(s, 0)))
    return out


def legacy_snapshot_rows(
    *, unit: Unit, dates: set[dt.date] | list[dt.date]
) -> dict[dt.date, list[LeafRow]]:
    """The stored snapshot rows of former communes at ``dates`` as rows of today's communes
    below ``unit`` (``legacy_rows``): what a series across 1 July 2025 adds to the snapshot
    rows of today's units. Empty where no former units are loaded."""
    leg = legacy_under(unit=unit)
    if leg is None:
        return {}
    by_date: dict[dt.date, list[RawRow]] = defaultdict(list)
    for d, u, s, g, n, t, c in KpiSnapshot.objects.filter(
        as_of__in=list(dates), unit_id__in=leg.relevant
    ).values_list("as_of", "unit_id", "scheme", "group", "participants", "in_total", "from_counts"):
        by_date[d].append((u, s, g, int(n), bool(t), bool(c)))
    own: dict[dt.date, set[tuple[str, str]]] = defaultdict(set)
    for d, u, s in KpiSnapshot.objects.filter(
        as_of__in=list(by_date), unit_id__in=list(leg.paths), from_counts=True
    ).values_list("as_of", "unit_id", "scheme"):
        own[d].add((u, s))
    return {d: legacy_rows(leg=leg, raw=raw, own_counts=own[d]) for d, raw in by_date.items()}


def series_dates(*, as_of: dt.date, months: int) -> list[dt.date]:
    """Month-ends of the ``months`` months ending with ``as_of``'s month (last = ``as_of``)."""
    out = []
    y, m = as_of.year, as_of.month
    for _ in range(max(months, 1)):
        out.append(month_end(dt.date(y, m, 1)))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    out.reverse()
    out[-1] = as_of
    return out


# --------------------------------------------------------------------------- rankings, forecast


def forecast_year_end(series: list[tuple[dt.date, int]]) -> int | None:
    """Participants expected on 31 December from the recent trend: a least-squares line over
    the last (up to 6, at least 3) points of ``series``, extended month by month to December.
    None with fewer than 3 points."""
    pts = series[-6:]
    if len(pts) < 3:
        return None
    n = len(pts)
    xs = list(range(n))
    ys = [float(v) for _d, v in pts]
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0
    last_date = pts[-1][0]
    ahead = 12 - last_date.month
    value = ys[-1] + slope * ahead
    return max(int(round(value)), 0)


def ranking(
    *,
    unit: Unit,
    as_of: dt.date,
    scheme: str,
    level: str | None = None,
    actor: Actor,
    rows: list[LeafRow] | None = None,
) -> list[dict[str, Any]]:
    """Units below ``unit`` (its children, or every unit of ``level`` below it) ranked by
    attainment of ``scheme``, lowest first (units without a target last), each with
    participants, target, attainment_pct, gap and required_per_month (``rows``: the leaf rows
    of ``as_of`` when the caller has them already)."""
    _check(unit, actor)
    if rows is None:
        rows = leaf_rows(unit=unit, as_of=as_of)
    tree = target_tree(unit=unit, year=as_of.year)
    if level:
        units = list(
            unit_subtree(unit=unit).filter(level=level).exclude(code=unit.code).order_by("code")
        )
    else:
        units = list(unit_children(unit=unit))
    out = []
    for u in units:
        n = sum(
            r.participants
            for r in rows
            if r.in_total and r.scheme == scheme and r.path.startswith(u.path)
        )
        item = figures.scheme_indicator(scheme, n, tree.get(u.code, {}).get(scheme), as_of)
        out.append({"unit": u.code, "name": u.name, "level": u.level, **item})
    out.sort(
        key=lambda i: (
            i["attainment_pct"] is None,
            i["attainment_pct"] if i["attainment_pct"] is not None else 0.0,
            i["unit"],
        )
    )
    return _suppressed(out, actor)


def ranking_by_gap(
    *,
    unit: Unit,
    as_of: dt.date,
    scheme: str,
    level: str | None = None,
    actor: Actor,
    rows: list[LeafRow] | None = None,
) -> list[dict[str, Any]]:
    """The same items as ``ranking``, largest gap first (units without a target last)."""
    items = ranking(unit=unit, as_of=as_of, scheme=scheme, level=level, actor=actor, rows=rows)
    items.sort(key=lambda i: (i["gap"] is None, -(i["gap"] or 0), i["unit"]))
    return items


def participants_totals(*, unit: Unit, as_of: dt.date) -> dict[str, int]:
    """Participants per scheme of ``unit`` (and below) at ``as_of``, every scheme present
    (the preview of an import, SPEC section 10)."""
    totals = _totals(leaf_rows(unit=unit, as_of=as_of))
    return {code: int(totals.get(code, 0)) for code in SCHEME_CODES}
