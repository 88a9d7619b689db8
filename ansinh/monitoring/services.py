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
import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from django import setup
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ansinh.accounts.access import SYSTEM
from ansinh.core import sql
from ansinh.core.formats import month_end
from ansinh.core.machine import usable_cores
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.selectors import data_first_date, facts_last_date
from ansinh.monitoring.sql import (
    changed_pairs_sql,
    counts_only_sql,
    insert_snapshot_sql,
    pairs_rows_sql,
    part_rows_sql,
    signed_rows_sql,
    spell_row_columns,
)
from ansinh.registry.models import Count, Spell

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
# a full rebuild of at least this many spells runs as one statement per core (at most
# PARTS_MAX), each over a part of the persons, on connections of their own (on SQLite in
# processes of their own, whose start costs a few seconds: 528 k spells took 8.2 s in one
# statement, 6.7 s in two parts on 2 cores; 5.3 M spells 87 s and 49 s)
PARTS_MIN_SPELLS = 500_000
PARTS_MAX = 4


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
    sql.set_local("work_mem", "'256MB'")
    sql.set_local("jit", "off")
    if probes:
        sql.set_local("random_page_cost", "1.1")


def _drop_gone(gone: set[dt.date]) -> None:
    """Forget the month-ends that fell out of the data range."""
    if gone:
        KpiSnapshot.objects.filter(as_of__in=gone).delete()
        SnapshotState.objects.filter(as_of__in=gone).delete()


def _insert(dates: list[dt.date], units: set[str] | None, *, parts: int = 1) -> int:
    written = 0
    _pg_settings()
    for run in _runs(dates):
        if parts > 1 and units is None:
            written += _insert_parts(run, parts=parts)
            continue
        query, params = insert_snapshot_sql(dates=run, units=units)
        written += sql.execute(query, params)
    return written


def _rebuild_parts() -> int:
    """How many statements side by side a full rebuild takes (``_insert_parts``):
    ``ANSINH_REBUILD_PARTS`` where set (1: one statement); else one per core of this process
    (at most PARTS_MAX) when the spells are many. Always 1 inside an open transaction (a
    test's: another connection would see none of its rows)."""
    if connection.in_atomic_block:
        return 1
    if settings.ANSINH_REBUILD_PARTS is not None:
        return settings.ANSINH_REBUILD_PARTS
    cores = min(usable_cores(), PARTS_MAX)
    if cores < 2 or _spells_estimate() < PARTS_MIN_SPELLS:
        return 1
    return cores


# the columns of a part's rows (``part_rows_sql``: spell rows and the two flags), with their
# kinds for a temporary table
_KPI_COLUMNS = (
    ("as_of", "date"),
    ("unit_id", "text"),
    ("scheme", "text"),
    ("group", "text"),
    ("participants", "int"),
    ("new", "int"),
    ("lapsed", "int"),
    ("renewed", "int"),
    ("in_total", "int"),
    ("from_counts", "int"),
)


def _part_rows(*, dates: list[dt.date], part: int, parts: int, snapshot: str | None) -> list[Any]:
    """The leaf rows of one part of the persons (``part_rows_sql``) on a connection of its
    own (a thread's or a process's), closed afterwards; on PostgreSQL in the caller's snapshot
    (``snapshot``), so that every part reads the same facts."""
    names = [c for c, _kind in _KPI_COLUMNS]
    query, params = part_rows_sql(dates=dates, part=part, parts=parts)
    try:
        if snapshot is None:
            # SQLite: one SELECT outside a transaction (one would ask for the write lock the
            # caller holds) reads one state of the database, which nobody else can change
            # while the caller holds the lock
            with sql.bulk_memory():
                return [tuple(r[c] for c in names) for r in sql.fetch(query, params)]
        with transaction.atomic():
            sql.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            sql.execute("SET TRANSACTION SNAPSHOT %(id)s", {"id": snapshot})
            _pg_settings()
            return [tuple(r[c] for c in names) for r in sql.fetch(query, params)]
    finally:
        connection.close()


def _parts_pool(parts: int) -> Executor:
    """Threads on PostgreSQL (the server's processes do the work); processes of their own on
    SQLite, started afresh (``spawn``: nothing of this process's open connection is carried
    over): SQLite's connections in one process share its allocator's lock, and two sorts side
    by side in threads took as long as one statement over every person."""
    if sql.is_postgres():
        return ThreadPoolExecutor(max_workers=parts, thread_name_prefix="snapshot")
    return ProcessPoolExecutor(
        max_workers=parts, mp_context=multiprocessing.get_context("spawn"), initializer=setup
    )


def _insert_parts(dates: list[dt.date], *, parts: int) -> int:
    """Build every unit's rows at ``dates`` as ``parts`` statements side by side, each over
    a part of the persons (a figure sums what each person's spells make), and insert their
    sums. The caller's transaction has written (SQLite: it holds the write lock, so nothing
    is committed while the parts read); on PostgreSQL they read its snapshot."""
    snapshot = sql.scalar("SELECT pg_export_snapshot()") if sql.is_postgres() else None
    with _parts_pool(parts) as pool:
        futures = [
            pool.submit(_part_rows, dates=dates, part=k, parts=parts, snapshot=snapshot)
            for k in range(parts)
        ]
        rows = [row for f in futures for row in f.result()]
    name = "snap_parts"
    sql.temp_create(name, _KPI_COLUMNS, on_commit_drop=True)
    sql.temp_insert(name, [c for c, _kind in _KPI_COLUMNS], rows)
    written = sql.execute(
        f"""
        INSERT INTO {sql.table(KpiSnapshot)} ({spell_row_columns()}, in_total, from_counts)
        SELECT p.as_of, p.unit_id, p.scheme, p."group", SUM(p.participants), SUM(p.new),
               SUM(p.lapsed), SUM(p.renewed),
               CASE WHEN MAX(p.in_total) = 1 THEN TRUE ELSE FALSE END,
               CASE WHEN MAX(p.from_counts) = 1 THEN TRUE ELSE FALSE END
        FROM {sql.qn(name)} p
        GROUP BY p.as_of, p.unit_id, p.scheme, p."group"
        """
    )
    sql.drop_table(name)
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
            actor=SYSTEM,
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


def _rows_table(table: str) -> None:
    """Empty temp table ``table`` of spell rows (``SpellRow``: as_of, unit_id, scheme, group,
    participants, new, lapsed, renewed)."""
    sql.temp_as(
        table,
        "SELECT CAST(NULL AS DATE) AS as_of, CAST(NULL AS TEXT) AS unit_id, "
        'CAST(NULL AS TEXT) AS scheme, CAST(NULL AS TEXT) AS "group", '
        "CAST(0 AS BIGINT) AS participants, CAST(0 AS BIGINT) AS new, "
        "CAST(0 AS BIGINT) AS lapsed, CAST(0 AS BIGINT) AS renewed WHERE 1 = 0",
    )


def _pairs_rows_into(table: str, *, dates: list[dt.date], pairs: str) -> None:
    """Temp table ``table`` (spell rows): the spell rows of the pairs in ``pairs`` at
    ``dates``."""
    _rows_table(table)
    for run in _runs(dates):
        query, params = pairs_rows_sql(dates=run, pairs=pairs)
        sql.execute(f"INSERT INTO {table} ({spell_row_columns()}) {query}", params)


def _apply_diff(diff: str) -> int:
    """Add the rows of temp table ``diff`` (spell rows) to the spell rows of the snapshot:
    update the rows that exist, insert the others, drop those left with nothing (a full build
    never stores an all-zero spell row)."""
    snap = sql.table(KpiSnapshot)
    key = (
        "k.as_of = x.as_of AND k.unit_id = x.unit_id AND k.scheme = x.scheme "
        'AND k."group" = x."group"'
    )
    n = sql.execute(
        f"UPDATE {snap} AS k SET participants = k.participants + x.participants, "
        "new = k.new + x.new, lapsed = k.lapsed + x.lapsed, renewed = k.renewed + x.renewed "
        f"FROM {diff} x WHERE {key}"
    )
    n += sql.execute(
        f"INSERT INTO {snap} ({spell_row_columns()}, in_total, from_counts) "
        f"SELECT {spell_row_columns('x')}, TRUE, FALSE "
        f"FROM {diff} x WHERE NOT EXISTS (SELECT 1 FROM {snap} k WHERE {key})"
    )
    sql.execute(
        f"DELETE FROM {snap} WHERE participants = 0 AND new = 0 AND lapsed = 0 "
        "AND renewed = 0 AND from_counts = FALSE AND EXISTS (SELECT 1 FROM "
        f"{diff} x WHERE x.as_of = {snap}.as_of "
        f"AND x.unit_id = {snap}.unit_id "
        f"AND x.scheme = {snap}.scheme "
        f'AND x."group" = {snap}."group")'
    )
    return n


def _diff_into(diff: str, *, after: str, before: str) -> None:
    """Temp table ``diff``: rows of ``after`` minus the participants of ``before`` (whose
    events belong to another month-end), summed per key, non-zero."""
    sql.temp_as(
        diff,
        'SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x."group" AS "group", '
        "SUM(x.participants) AS participants, SUM(x.new) AS new, SUM(x.lapsed) AS lapsed, "
        "SUM(x.renewed) AS renewed FROM ("
        f"SELECT {spell_row_columns('a')} FROM {after} a UNION ALL "
        f'SELECT b.as_of, b.unit_id, b.scheme, b."group", -b.participants, 0, 0, 0 '
        f"FROM {before} b) x "
        'GROUP BY x.as_of, x.unit_id, x.scheme, x."group" '
        "HAVING SUM(x.participants) <> 0 OR SUM(x.new) <> 0 OR SUM(x.lapsed) <> 0 "
        "OR SUM(x.renewed) <> 0",
    )


def _fresh_from(*, before: dt.date, day: dt.date) -> int:
    """Month-end ``day`` built from the stored month-end ``before`` it: its spell rows'
    participants, corrected by the pairs with a spell starting or ending in between (their
    rows at ``before`` out, at ``day`` in, with the events of ``day``), plus the counts."""
    _pg_settings(probes=True)
    query, params = changed_pairs_sql(month_end_before=before, day=day, schemes=SCHEMES)
    sql.temp_as("snap_fresh_pairs", query, params)
    _pairs_rows_into("snap_fresh_before", dates=[before], pairs="snap_fresh_pairs")
    _pairs_rows_into("snap_fresh_after", dates=[day], pairs="snap_fresh_pairs")
    sql.execute("UPDATE snap_fresh_before SET as_of = %(day)s", {"day": day})
    snap = sql.table(KpiSnapshot)
    written = sql.execute(
        f"INSERT INTO {snap} ({spell_row_columns()}, in_total, from_counts) "
        'SELECT %(day)s, unit_id, scheme, "group", participants, 0, 0, 0, TRUE, FALSE '
        f"FROM {snap} WHERE as_of = %(before)s AND from_counts = FALSE "
        "AND participants > 0",
        {"day": day, "before": before},
    )
    _diff_into("snap_fresh_diff", after="snap_fresh_after", before="snap_fresh_before")
    _apply_diff("snap_fresh_diff")
    query, params = counts_only_sql(day=day)
    written += sql.execute(
        f"INSERT INTO {snap} ({spell_row_columns()}, in_total, from_counts) "
        'SELECT z.as_of, z.unit_id, z.scheme, z."group", z.participants, 0, 0, 0, '
        "CASE WHEN z.in_total = 1 THEN TRUE ELSE FALSE END, TRUE "
        f"FROM ({query}) z",
        params,
    )
    for name in ("snap_fresh_pairs", "snap_fresh_before", "snap_fresh_after", "snap_fresh_diff"):
        sql.drop_table(name)
    return written


def _spells_estimate() -> int:
    """About how many spells are stored, cheaply: the planner's estimate on PostgreSQL (exact
    when small or unknown), the highest row id on SQLite (spells are never deleted)."""
    spell = sql.table(Spell)
    if sql.is_postgres():
        tuples = sql.scalar(
            "SELECT reltuples FROM pg_class WHERE relname = %(table)s", {"table": spell}
        )
        if tuples is not None and float(tuples) >= 100_000:
            return int(tuples)
        return int(sql.scalar(f"SELECT COUNT(*) FROM {spell}") or 0)
    return int(sql.scalar(f"SELECT MAX(id) FROM {spell}") or 0)


class SnapshotDelta:
    """The write hook of a participations import (``imports.pipeline.WriteHook``): before the
    file is written, the stored spells of the (person, scheme) pairs it changes are copied
    (sign −1); after, the same pairs' spells again (sign +1); one pass over both gives the
    difference of their snapshot rows, added to the snapshot in the import's transaction.
    Spells the write left alone cancel before they are spread over the month-ends.
    ``applied`` tells the caller that the snapshot is up to date; otherwise (an import changing
    a large share of the spells, an empty snapshot) it is refreshed by units as before.

    An importer with ``snapshot_changes`` (participations) is read after its write: the pairs
    and the spells before come from its undo capture (``deferred``); others (an undo) give
    the pairs before it (``snapshot_pairs_sql``)."""

    PAIRS, SPELLS, DIFF = "snap_pairs", "snap_spells", "snap_diff"

    def __init__(self) -> None:
        self.active = False
        self.deferred = False
        self.applied = False
        self.seconds = 0.0
        self.pairs = 0
        self.existing: list[dt.date] = []
        self.units_before: set[str] = set()

    def before_write(self, imp: Any) -> None:
        self.existing = sorted(SnapshotState.objects.values_list("as_of", flat=True))
        if not self.existing:
            return
        if callable(getattr(imp, "snapshot_changes", None)):
            # the pairs and the spells before come from the write's own undo capture, after
            # it (issue 22: selecting the pairs joined the whole file with the spells again)
            self.active = self.deferred = True
            return
        pairs_sql = imp.snapshot_pairs_sql()
        if pairs_sql is None:
            return
        t0 = time.perf_counter()
        _pg_settings(probes=True)
        sql.temp_as(self.PAIRS, pairs_sql)
        if not self._few_pairs():
            return
        sql.temp_as(self.SPELLS, self._pair_spells(-1))
        self.units_before = self._units(-1)
        self.active = True
        self.seconds += time.perf_counter() - t0

    def _few_pairs(self) -> bool:
        """Whether the pairs of ``PAIRS`` are few enough for a delta (else it is dropped)."""
        self.pairs = int(sql.scalar(f"SELECT COUNT(*) FROM {self.PAIRS}") or 0)
        if self.pairs > DELTA_MAX_SHARE * _spells_estimate():
            sql.drop_table(self.PAIRS)
            return False
        return True

    def _from_changes(self, imp: Any) -> bool:
        """After the write, from its capture of the spells (``imp.snapshot_changes()``: the
        table of the stored rows it changed, as they were, and that of the keys it created):
        the pairs of both, their spells now (+1) and before (−1: the same spells but the
        created ones, the changed ones as they were). False (nothing kept) without a capture
        or with too many pairs."""
        changes = imp.snapshot_changes()
        if changes is None:
            return False
        old, new = (sql.qn(name) for name in changes)
        sql.temp_as(
            self.PAIRS,
            f"SELECT person_id, scheme FROM {old} UNION SELECT person_id, scheme FROM {new}",
        )
        if not self._few_pairs():
            return False
        sql.temp_as(self.SPELLS, self._pair_spells(1))
        cols = 'id, person_id, scheme, unit_id, "group", start_date, end_date, batch_id, row_no'
        key = (
            "{x}.person_id = a.person_id AND {x}.scheme = a.scheme "
            "AND {x}.start_date = a.start_date AND {x}.unit_id = a.unit_id"
        )
        sql.execute(
            f"INSERT INTO {self.SPELLS} ({cols}, sg) SELECT {cols}, -1 FROM {self.SPELLS} a "
            f"WHERE a.sg = 1 AND NOT EXISTS (SELECT 1 FROM {old} o WHERE {key.format(x='o')}) "
            f"AND NOT EXISTS (SELECT 1 FROM {new} n WHERE {key.format(x='n')})"
        )
        sql.execute(f"INSERT INTO {self.SPELLS} ({cols}, sg) SELECT {cols}, -1 FROM {old}")
        self.units_before = self._units(-1)
        return True

    def _pair_spells(self, sign: int) -> str:
        """The stored spells of the pairs, with ``sign`` (one natural-key probe per pair;
        CROSS JOIN keeps SQLite's join order)."""
        return (
            "SELECT s.id AS id, s.person_id AS person_id, s.scheme AS scheme, "
            's.unit_id AS unit_id, s."group" AS "group", s.start_date AS start_date, '
            "s.end_date AS end_date, s.batch_id AS batch_id, s.row_no AS row_no, "
            f"CAST({int(sign)} AS INTEGER) AS sg "
            f"FROM {self.PAIRS} pp CROSS JOIN {sql.table(Spell)} s "
            "WHERE s.person_id = pp.person_id AND s.scheme = pp.scheme"
        )

    def _units(self, sign: int) -> set[str]:
        """Units of the pairs' spells (of the side ``sign``) that also have counts of the
        scheme: a unit's first spell of a scheme replaces its counts (and its last gives them
        back)."""
        rows = sql.fetch(
            f"SELECT DISTINCT s.unit_id AS unit_id FROM {self.SPELLS} s WHERE s.sg = %(sign)s "
            f"AND EXISTS (SELECT 1 FROM {sql.table(Count)} c WHERE c.unit_id = s.unit_id "
            "AND c.scheme = s.scheme)",
            {"sign": sign},
        )
        return {str(r["unit_id"]) for r in rows}

    def after_write(self, imp: Any) -> None:
        if not self.active:
            return
        t0 = time.perf_counter()
        _pg_settings(probes=True)
        if self.deferred and not self._from_changes(imp):
            self.active = False
            self.seconds += time.perf_counter() - t0
            return
        wanted = snapshot_months()
        wanted_set = set(wanted)
        existing = set(self.existing)
        _drop_gone(existing - wanted_set)
        redo = sorted(existing & wanted_set)
        if not self.deferred:
            sql.execute(f"INSERT INTO {self.SPELLS} {self._pair_spells(1)}")
        if not sql.is_postgres():
            # in the order the sides are ranked in (no sort), and the lapse check looks up the
            # other spells of the same side and pair by it (PostgreSQL hashes them instead)
            sql.execute(
                f"CREATE INDEX {self.SPELLS}_pair ON {self.SPELLS} (sg, person_id, scheme, "
                "start_date, COALESCE(batch_id, 0), row_no, id)"
            )
        whole = self.units_before | self._units(1)
        written = 0
        if redo:
            units_out, uparams = sql.in_list("z.unit_id", sorted(whole), name="whole", negate=True)
            _rows_table(self.DIFF)
            # PostgreSQL guesses the spells' month-end deltas a thousand times too few and
            # sorts half a million rows to group them; hashing them saves a fifth
            sql.set_local("enable_sort", "off")
            for run in _runs(redo):
                query, params = signed_rows_sql(dates=run, spells=self.SPELLS)
                sql.execute(
                    f"INSERT INTO {self.DIFF} ({spell_row_columns()}) "
                    f"SELECT {spell_row_columns('z')} FROM ({query}) z WHERE {units_out}",
                    sql.merge(params, uparams),
                )
            sql.set_local("enable_sort", "on")
            sql.analyze(self.DIFF)
            written = _apply_diff(self.DIFF)
            if whole:
                KpiSnapshot.objects.filter(as_of__in=redo, unit_id__in=whole).delete()
                written += _insert(redo, whole)
        fresh = [d for d in wanted if d not in existing]
        written += _build_fresh(fresh, materialised=set(redo))
        _mark(fresh + redo)
        for name in (self.PAIRS, self.SPELLS, self.DIFF):
            sql.drop_table(name)
        audit_record(
            actor=SYSTEM,
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
    """Drop and rebuild every stored figure from the facts (``ansinh kpi --rebuild``); on
    SQLite with the import's temporary storage on disk (``bulk_memory``: the first import
    builds the same statement under it)."""
    parts = _rebuild_parts()
    with sql.bulk_memory(), transaction.atomic():
        KpiSnapshot.objects.all().delete()
        SnapshotState.objects.all().delete()
        wanted = snapshot_months()
        written = _insert(wanted, None, parts=parts)
        SnapshotState.objects.bulk_create([SnapshotState(as_of=d) for d in wanted])
        audit_record(
            actor=SYSTEM,
            action="snapshot.rebuild",
            object_type="kpi_snapshot",
            after={"months": len(wanted), "rows": written, "parts": parts},
        )
    return written
