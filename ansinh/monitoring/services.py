"""Writes of the KPI engine: the materialised month-end snapshot."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from ansinh.core.formats import month_end
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.selectors import data_first_date, facts_last_date
from ansinh.monitoring.sql import insert_snapshot_sql

# month-ends per INSERT … SELECT. Spells are counted by month-end deltas (and overlapping ones
# by a join with the dates), so one statement for every month-end costs about one pass.
CHUNK = 240
# lapsed counts look 30 days past a spell's end, so a change reaches one month back
LOOKBACK = dt.timedelta(days=31)


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


def _insert(dates: list[dt.date], units: set[str] | None) -> int:
    written = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # (inside the caller's transaction) sorts and hashes in memory; no JIT: compiling
            # the ~150 expressions of this statement costs seconds and saves nothing
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute("SET LOCAL jit = off")
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
        gone = existing - wanted_set
        if gone:
            KpiSnapshot.objects.filter(as_of__in=gone).delete()
            SnapshotState.objects.filter(as_of__in=gone).delete()
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
        if fresh:
            KpiSnapshot.objects.filter(as_of__in=fresh).delete()
            written += _insert(fresh, None)
        for d in fresh + redo:
            SnapshotState.objects.update_or_create(as_of=d)
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
