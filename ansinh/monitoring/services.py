"""Writes of the KPI engine: the materialised month-end snapshot.

Every figure of the snapshot is a sum over (person, scheme) pairs of what that pair's own
spells make (SPEC section 3 never compares two persons), plus the counts of units without
spells. So after an import the snapshot is corrected, not rebuilt: the spells of the pairs the
file changes are copied before the write and again after it, and one pass over both copies
gives the difference of their rows, which is added (``SnapshotDelta``); a month-end that
newly enters the data range is the month-end before it corrected by the pairs with a spell
starting or ending in between (``_fresh_from``). Only the units whose counts a first spell
replaces (or gives back) are recomputed whole.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ansinh.core.formats import month_end
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.selectors import data_first_date, facts_last_date
from ansinh.monitoring.sql import (
    changed_pairs_sql,
    counts_only_sql,
    in_list,
    insert_snapshot_sql,
    pairs_rows_sql,
    signed_rows_sql,
)

# month-ends per INSERT … SELECT. Spells are counted by month-end deltas (and overlapping ones
# by a join with the dates), so one statement for every month-end costs about one pass.
CHUNK = 240
# lapsed counts look 30 days past a spell's end, so a change reaches one month back
LOOKBACK = dt.timedelta(days=31)
# an import changing more (person, scheme) pairs than this share of the spells is cheaper to
# refresh by the units it touches than by its pairs (computed twice, before and after)
DELTA_MAX_SHARE = 0.2
# new month-ends after the materialised ones are derived one from the other up to this many;
# more are built in one pass
FRESH_CHAIN_MAX = 12
SCHEMES = ("si_compulsory", "si_voluntary", "ui", "hi")


def snapshot_months() -> list[dt.date]:
    """The month-ends to materialise: from the earliest data month to the latest data month
    (``facts_last_date``); a month-end after that is not materialised."""
    first, last = data_first_date(), facts_last_date()
    if first is None or last is None or first > last:
        return []
    out = []
    d = month_end(first)
    while d <= last:
        out.append(d)
        d = month_end(d + dt.timedelta(days=1))
    return out


def _runs(dates: list[dt.date]) -> list[list[dt.date]]:
    """Split month-ends into runs of consecutive month-ends of at most CHUNK."""
    runs: list[list[dt.date]] = []
    for d in sorted(dates):
        prev = runs[-1][-1] if runs else None
        if (
            prev is not None
            and month_end(prev + dt.timedelta(days=1)) == d
            and len(runs[-1]) < CHUNK
        ):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _pg_settings(*, probes: bool = False) -> None:
    """PostgreSQL, inside the caller's transaction: sorts and hashes in memory; no JIT
    (compiling the ~150 expressions of a snapshot statement costs seconds and saves nothing).
    ``probes``: the statements read a few spells by their natural key — the default
    random_page_cost (4, for spinning disks) makes the planner scan the whole table instead
    (3–5 s at 5 M spells against 0.3 s of probes); 1.1 is the usual value for SSDs and a warm
    cache."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SET LOCAL jit = off")
        if probes:
            cur.execute("SET LOCAL random_page_cost = 1.1")


def _drop_gone(gone: set[dt.date]) -> None:
    """Forget the month-ends that fell out of the data range."""
    if gone:
        KpiSnapshot.objects.filter(as_of__in=gone).delete()
        SnapshotState.objects.filter(as_of__in=gone).delete()


def _insert(dates: list[dt.date], units: set[str] | None) -> int:
    written = 0
    _pg_settings()
    with connection.cursor() as cur:
        for run in _runs(dates):
            sql, params = insert_snapshot_sql(dates=run, units=units)
            cur.execute(sql, params)
            written += max(cur.rowcount, 0)
    return written


def snapshot_refresh(*, units: set[str] | None = None, since: dt.date | None = None) -> int:
    """Recompute the snapshot after facts changed: the rows of ``units`` (None = every unit)
    at the month-ends on or after ``since`` (None = all; one month earlier is redone too, as a
    new spell can undo a lapse). Month-ends that newly fall inside the data range are built
    for every unit; those that fell out are dropped. Returns the number of rows written."""
    if units is not None and len(units) * 2 >= Unit.objects.count():
        # touching most units: one unrestricted pass is cheaper than selecting their persons
        units = None
    with transaction.atomic():
        wanted = snapshot_months()
        wanted_set = set(wanted)
        existing = set(SnapshotState.objects.values_list("as_of", flat=True))
        _drop_gone(existing - wanted_set)
        fresh = [d for d in wanted if d not in existing]
        cutoff = None if since is None else since - LOOKBACK
        redo = [d for d in wanted if d in existing and (cutoff is None or d >= cutoff)]
        written = 0
        if redo and (units is None or units):
            qs = KpiSnapshot.objects.filter(as_of__in=redo)
            if units is not None:
                qs = qs.filter(unit_id__in=units)
            qs.delete()
            written += _insert(redo, units)
        written += _build_fresh(fresh, materialised=existing & wanted_set)
        _mark(fresh + redo)
        audit_record(
            actor=None,
            action="snapshot.refresh",
            object_type="kpi_snapshot",
            after={
                "units": None if units is None else sorted(units)[:100],
                "since": since.isoformat() if since else None,
                "months": len(fresh) + len(redo),
                "rows": written,
            },
        )
    return written


def _mark(dates: list[dt.date]) -> None:
    """Record ``dates`` as materialised, now (``built_at``)."""
    if not dates:
        return
    now = timezone.now()
    SnapshotState.objects.filter(as_of__in=dates).update(built_at=now)
    have = set(SnapshotState.objects.filter(as_of__in=dates).values_list("as_of", flat=True))
    SnapshotState.objects.bulk_create(
        [SnapshotState(as_of=d, built_at=now) for d in dates if d not in have]
    )


def _build_fresh(fresh: list[dt.date], *, materialised: set[dt.date]) -> int:
    """Build the month-ends ``fresh`` (none of them stored yet) for every unit: each from the
    month-end before it (materialised, or built here just before it) when all of them can be
    and they are at most FRESH_CHAIN_MAX (the monthly load); else all in one pass over the
    spells, which costs about the same for one month-end as for all of them (a first load
    chaining month after month from its first month-end took twice the whole build)."""
    if not fresh:
        return 0
    KpiSnapshot.objects.filter(as_of__in=fresh).delete()
    chain: list[tuple[dt.date, dt.date]] = []
    have = set(materialised)
    for d in sorted(fresh):
        before = d.replace(day=1) - dt.timedelta(days=1)
        if before not in have or len(chain) >= FRESH_CHAIN_MAX:
            return _insert(sorted(fresh), None)
        chain.append((before, d))
        have.add(d)
    return sum(_fresh_from(before=before, day=d) for before, d in chain)


def _sql(query: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return max(cur.rowcount, 0)


def _temp(name: str, select: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """(Re)create the temporary table ``name`` as ``select``."""
    _sql(f"DROP TABLE IF EXISTS {name}")
    _sql(f"CREATE TEMP TABLE {name} AS {select}", params)
    if connection.vendor == "postgresql":
        _sql(f"ANALYZE {name}")


def _rows_table(table: str) -> None:
    """Empty temp table ``table`` (d, unit_id, scheme, grp, p, n, l, r) of spell rows."""
    _temp(
        table,
        "SELECT CAST(NULL AS DATE) AS d, CAST(NULL AS TEXT) AS unit_id, "
        "CAST(NULL AS TEXT) AS scheme, CAST(NULL AS TEXT) AS grp, CAST(0 AS BIGINT) AS p, "
        "CAST(0 AS BIGINT) AS n, CAST(0 AS BIGINT) AS l, CAST(0 AS BIGINT) AS r WHERE 1 = 0",
    )


def _pairs_rows_into(table: str, *, dates: list[dt.date], pairs: str) -> None:
    """Temp table ``table`` (d, unit_id, scheme, grp, p, n, l, r): the spell rows of the pairs
    in ``pairs`` at ``dates``."""
    _rows_table(table)
    for run in _runs(dates):
        query, params = pairs_rows_sql(dates=run, pairs=pairs)
        _sql(f"INSERT INTO {table} (d, unit_id, scheme, grp, p, n, l, r) {query}", params)


def _apply_diff(diff: str) -> int:
    """Add the rows of temp table ``diff`` (d, unit_id, scheme, grp, p, n, l, r) to the spell
    rows of the snapshot: update the rows that exist, insert the others, drop those left with
    nothing (a full build never stores an all-zero spell row)."""
    key = 'k.as_of = x.d AND k.unit_id = x.unit_id AND k.scheme = x.scheme AND k."group" = x.grp'
    n = _sql(
        "UPDATE monitoring_kpisnapshot AS k SET participants = k.participants + x.p, "
        "new = k.new + x.n, lapsed = k.lapsed + x.l, renewed = k.renewed + x.r "
        f"FROM {diff} x WHERE {key}"
    )
    n += _sql(
        'INSERT INTO monitoring_kpisnapshot (as_of, unit_id, scheme, "group", participants, '
        "new, lapsed, renewed, in_total, from_counts) "
        "SELECT x.d, x.unit_id, x.scheme, x.grp, x.p, x.n, x.l, x.r, TRUE, FALSE "
        f"FROM {diff} x WHERE NOT EXISTS (SELECT 1 FROM monitoring_kpisnapshot k WHERE {key})"
    )
    _sql(
        "DELETE FROM monitoring_kpisnapshot WHERE participants = 0 AND new = 0 AND lapsed = 0 "
        "AND renewed = 0 AND from_counts = FALSE AND EXISTS (SELECT 1 FROM "
        f"{diff} x WHERE x.d = monitoring_kpisnapshot.as_of "
        "AND x.unit_id = monitoring_kpisnapshot.unit_id "
        "AND x.scheme = monitoring_kpisnapshot.scheme "
        'AND x.grp = monitoring_kpisnapshot."group")'
    )
    return n


def _diff_into(diff: str, *, after: str, before: str) -> None:
    """Temp table ``diff``: rows of ``after`` minus the participants of ``before`` (whose
    events belong to another month-end), summed per key, non-zero."""
    _temp(
        diff,
        "SELECT x.d AS d, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp, "
        "SUM(x.p) AS p, SUM(x.n) AS n, SUM(x.l) AS l, SUM(x.r) AS r FROM ("
        f"SELECT a.d AS d, a.unit_id AS unit_id, a.scheme AS scheme, a.grp AS grp, a.p AS p, "
        f"a.n AS n, a.l AS l, a.r AS r FROM {after} a UNION ALL "
        f"SELECT b.d, b.unit_id, b.scheme, b.grp, -b.p, 0, 0, 0 FROM {before} b) x "
        "GROUP BY x.d, x.unit_id, x.scheme, x.grp "
        "HAVING SUM(x.p) <> 0 OR SUM(x.n) <> 0 OR SUM(x.l) <> 0 OR SUM(x.r) <> 0",
    )


def _fresh_from(*, before: dt.date, day: dt.date) -> int:
    """Month-end ``day`` built from the stored month-end ``before`` it: its spell rows'
    participants, corrected by the pairs with a spell starting or ending in between (their
    rows at ``before`` out, at ``day`` in, with the events of ``day``), plus the counts."""
    _pg_settings(probes=True)
    query, params = changed_pairs_sql(month_end_before=before, day=day, schemes=SCHEMES)
    _temp("snap_fresh_pairs", query, params)
    _pairs_rows_into("snap_fresh_before", dates=[before], pairs="snap_fresh_pairs")
    _pairs_rows_into("snap_fresh_after", dates=[day], pairs="snap_fresh_pairs")
    _sql("UPDATE snap_fresh_before SET d = %s", [day])
    written = _sql(
        'INSERT INTO monitoring_kpisnapshot (as_of, unit_id, scheme, "group", participants, '
        "new, lapsed, renewed, in_total, from_counts) "
        'SELECT %s, unit_id, scheme, "group", participants, 0, 0, 0, TRUE, FALSE '
        "FROM monitoring_kpisnapshot WHERE as_of = %s AND from_counts = FALSE "
        "AND participants > 0",
        [day, before],
    )
    _diff_into("snap_fresh_diff", after="snap_fresh_after", before="snap_fresh_before")
    _apply_diff("snap_fresh_diff")
    query, params = counts_only_sql(day=day)
    written += _sql(
        'INSERT INTO monitoring_kpisnapshot (as_of, unit_id, scheme, "group", participants, '
        "new, lapsed, renewed, in_total, from_counts) "
        "SELECT z.d, z.unit_id, z.scheme, z.grp, z.p, 0, 0, 0, "
        "CASE WHEN z.t = 1 THEN TRUE ELSE FALSE END, TRUE "
        f"FROM ({query}) z",
        params,
    )
    for name in ("snap_fresh_pairs", "snap_fresh_before", "snap_fresh_after", "snap_fresh_diff"):
        _sql(f"DROP TABLE IF EXISTS {name}")
    return written


def _spells_estimate() -> int:
    """About how many spells are stored, cheaply: the planner's estimate on PostgreSQL (exact
    when small or unknown), the highest row id on SQLite (spells are never deleted)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_spell'")
            row = cur.fetchone()
            if row is not None and row[0] is not None and float(row[0]) >= 100_000:
                return int(row[0])
            cur.execute("SELECT COUNT(*) FROM registry_spell")
        else:
            cur.execute("SELECT MAX(id) FROM registry_spell")
        return int(cur.fetchone()[0] or 0)


class SnapshotDelta:
    """The write hook of a participations import (``imports.pipeline.WriteHook``): before the
    file is written, the stored spells of the (person, scheme) pairs it changes are copied
    (sign −1); after, the same pairs' spells again (sign +1); one pass over both gives the
    difference of their snapshot rows, added to the snapshot in the import's transaction.
    Spells the write left alone cancel before they are spread over the month-ends.
    ``applied`` tells the caller that the snapshot is up to date; otherwise (an import changing
    a large share of the spells, an empty snapshot) it is refreshed by units as before."""

    PAIRS, SPELLS, DIFF = "snap_pairs", "snap_spells", "snap_diff"

    def __init__(self) -> None:
        self.active = False
        self.applied = False
        self.seconds = 0.0
        self.pairs = 0
        self.existing: list[dt.date] = []
        self.units_before: set[str] = set()

    def before_write(self, imp: Any) -> None:
        pairs_sql = imp.snapshot_pairs_sql()
        if pairs_sql is None:
            return
        t0 = time.perf_counter()
        self.existing = sorted(SnapshotState.objects.values_list("as_of", flat=True))
        if not self.existing:
            return
        _pg_settings(probes=True)
        _temp(self.PAIRS, pairs_sql)
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.PAIRS}")
            self.pairs = int(cur.fetchone()[0])
        if self.pairs > DELTA_MAX_SHARE * _spells_estimate():
            _sql(f"DROP TABLE IF EXISTS {self.PAIRS}")
            return
        _temp(self.SPELLS, self._pair_spells(-1))
        self.units_before = self._units(-1)
        self.active = True
        self.seconds += time.perf_counter() - t0

    def _pair_spells(self, sign: int) -> str:
        """The stored spells of the pairs, with ``sign`` (one natural-key probe per pair;
        CROSS JOIN keeps SQLite's join order)."""
        return (
            "SELECT s.id AS id, s.person_id AS person_id, s.scheme AS scheme, "
            's.unit_id AS unit_id, s."group" AS "group", s.start_date AS start_date, '
            "s.end_date AS end_date, s.batch_id AS batch_id, s.row_no AS row_no, "
            f"CAST({int(sign)} AS INTEGER) AS sg FROM {self.PAIRS} pp CROSS JOIN registry_spell s "
            "WHERE s.person_id = pp.person_id AND s.scheme = pp.scheme"
        )

    def _units(self, sign: int) -> set[str]:
        """Units of the pairs' spells (of the side ``sign``) that also have counts of the
        scheme: a unit's first spell of a scheme replaces its counts (and its last gives them
        back)."""
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT DISTINCT s.unit_id FROM {self.SPELLS} s WHERE s.sg = %s AND EXISTS ("
                "SELECT 1 FROM registry_count c WHERE c.unit_id = s.unit_id "
                "AND c.scheme = s.scheme)",
                [sign],
            )
            return {str(r[0]) for r in cur.fetchall()}

    def after_write(self, imp: Any) -> None:
        if not self.active:
            return
        t0 = time.perf_counter()
        _pg_settings(probes=True)
        wanted = snapshot_months()
        wanted_set = set(wanted)
        existing = set(self.existing)
        _drop_gone(existing - wanted_set)
        redo = sorted(existing & wanted_set)
        _sql(f"INSERT INTO {self.SPELLS} {self._pair_spells(1)}")
        if connection.vendor == "sqlite":
            # the lapse check looks up the other spells of the same side and pair (PostgreSQL
            # hashes them instead)
            _sql(f"CREATE INDEX {self.SPELLS}_pair ON {self.SPELLS} (person_id, scheme, sg)")
        whole = self.units_before | self._units(1)
        written = 0
        if redo:
            units_out, uparams = in_list("z.unit_id", sorted(whole), negate=True)
            _rows_table(self.DIFF)
            pg = connection.vendor == "postgresql"
            if pg:
                # PostgreSQL guesses the spells' month-end deltas a thousand times too few and
                # sorts half a million rows to group them; hashing them saves a fifth
                _sql("SET LOCAL enable_sort = off")
            for run in _runs(redo):
                query, params = signed_rows_sql(dates=run, spells=self.SPELLS)
                _sql(
                    f"INSERT INTO {self.DIFF} (d, unit_id, scheme, grp, p, n, l, r) "
                    f"SELECT z.d, z.unit_id, z.scheme, z.grp, z.p, z.n, z.l, z.r "
                    f"FROM ({query}) z WHERE {units_out}",
                    params + uparams,
                )
            if pg:
                _sql("SET LOCAL enable_sort = on")
                _sql(f"ANALYZE {self.DIFF}")
            written = _apply_diff(self.DIFF)
            if whole:
                KpiSnapshot.objects.filter(as_of__in=redo, unit_id__in=whole).delete()
                written += _insert(redo, whole)
        fresh = [d for d in wanted if d not in existing]
        written += _build_fresh(fresh, materialised=set(redo))
        _mark(fresh + redo)
        for name in (self.PAIRS, self.SPELLS, self.DIFF):
            _sql(f"DROP TABLE IF EXISTS {name}")
        audit_record(
            actor=None,
            action="snapshot.refresh",
            object_type="kpi_snapshot",
            after={
                "pairs": self.pairs,
                "units_recomputed": sorted(whole)[:100],
                "months": len(fresh) + len(redo),
                "rows": written,
            },
        )
        self.applied = True
        self.seconds += time.perf_counter() - t0


def snapshot_rebuild() -> int:
    """Drop and rebuild every stored figure from the facts (``ansinh kpi --rebuild``)."""
    with transaction.atomic():
        KpiSnapshot.objects.all().delete()
        SnapshotState.objects.all().delete()
        wanted = snapshot_months()
        written = _insert(wanted, None)
        SnapshotState.objects.bulk_create([SnapshotState(as_of=d) for d in wanted])
        audit_record(
            actor=None,
            action="snapshot.rebuild",
            object_type="kpi_snapshot",
            after={"months": len(wanted), "rows": written},
        )
    return written
