"""One measured step of `make bench`, run in its own process against the database named by the
environment (ANSINH_DATABASE_URL / ANSINH_HOME); prints one JSON object. Not a test.

    python bench/steps.py import KIND FILE      # import_file, then snapshot_refresh, timed apart
    python bench/steps.py rebuild               # full snapshot build
    python bench/steps.py months                # the materialised month-ends
    python bench/steps.py snapshot-rows         # participants per (month-end, unit, scheme, group)
    python bench/steps.py latency AS_OF N       # kpi_figures p50/p95 per level, in-process
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import statistics
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def peak_mib() -> float:
    """Peak resident memory of this process: VmHWM (getrusage's ru_maxrss survives exec on
    Linux, so it would report the forking parent's size)."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def step_import(kind: str, path: str) -> dict[str, Any]:
    from ansinh.accounts.access import SYSTEM
    from ansinh.imports.pipeline import import_file
    from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh

    # as import_run does: the snapshot is corrected inside the import (SnapshotDelta) where it
    # can be, else refreshed after it; the two are timed apart
    delta = SnapshotDelta()
    t0 = time.perf_counter()
    r = import_file(kind=kind, path=pathlib.Path(path), write_hook=delta, actor=SYSTEM)
    t_import = time.perf_counter() - t0 - delta.seconds
    peak_import = peak_mib()
    if r.refused:
        return {"refused": True, "errors": [e.as_dict() for e in r.errors[:5]]}
    t0 = time.perf_counter()
    if r.touched_units and kind in {"participations", "counts"} and not delta.applied:
        snapshot_refresh(units=r.touched_units, since=r.touched_since)
    t_refresh = time.perf_counter() - t0 + delta.seconds
    return {
        "rows": r.rows,
        "created": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "touched_units": len(r.touched_units),
        "touched_since": r.touched_since.isoformat() if r.touched_since else None,
        "import_s": round(t_import, 3),
        "rows_per_s": round(r.rows / t_import) if t_import else None,
        "peak_rss_mib_import": round(peak_import),
        "refresh_s": round(t_refresh, 3),
        "refresh_by": "pairs" if delta.applied else "units",
        "pairs": delta.pairs,
        "peak_rss_mib": round(peak_mib()),
    }


def step_rebuild() -> dict[str, Any]:
    from ansinh.monitoring.services import snapshot_months, snapshot_rebuild

    t0 = time.perf_counter()
    rows = snapshot_rebuild()
    return {
        "seconds": round(time.perf_counter() - t0, 3),
        "rows": rows,
        "month_ends": len(snapshot_months()),
    }


def step_months() -> dict[str, Any]:
    from ansinh.monitoring.services import snapshot_months

    return {"months": [d.isoformat() for d in snapshot_months()]}


def step_snapshot_rows() -> dict[str, Any]:
    """Participants of the spell-made snapshot rows, summed per month-end (to compare with
    DuckDB's)."""
    from django.db.models import Sum

    from ansinh.monitoring.models import KpiSnapshot

    rows = (
        KpiSnapshot.objects.filter(from_counts=False)
        .values("as_of")
        .annotate(p=Sum("participants"))
        .order_by("as_of")
    )
    return {"per_month": {r["as_of"].isoformat(): int(r["p"] or 0) for r in rows}}


def step_latency(as_of: str, n: int) -> dict[str, Any]:
    import datetime as dt

    from ansinh.accounts.access import SYSTEM
    from ansinh.geography.models import Unit
    from ansinh.geography.selectors import unit_root
    from ansinh.monitoring import selectors

    day = dt.date.fromisoformat(as_of)
    root = unit_root()
    office = Unit.objects.filter(level="office").order_by("code").first()
    commune = Unit.objects.filter(level="commune").order_by("code").first()
    out: dict[str, Any] = {"as_of": as_of, "calls": n}
    for name, unit in (("province", root), ("office", office), ("commune", commune)):
        if unit is None:
            continue
        selectors.kpi_figures(unit=unit, as_of=day, actor=SYSTEM)  # warm (connection, caches)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            selectors.kpi_figures(unit=unit, as_of=day, actor=SYSTEM)
            times.append((time.perf_counter() - t0) * 1000)
        by_unit = []
        for _ in range(max(3, n // 5)):
            t0 = time.perf_counter()
            selectors.kpi_figures(unit=unit, as_of=day, by="unit", actor=SYSTEM)
            by_unit.append((time.perf_counter() - t0) * 1000)
        live_day = day - dt.timedelta(days=10)
        t0 = time.perf_counter()
        selectors.kpi_figures(unit=unit, as_of=live_day, actor=SYSTEM)
        live = (time.perf_counter() - t0) * 1000
        out[name] = {
            "unit": unit.code,
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(pct(times, 95), 1),
            "by_unit_p50_ms": round(statistics.median(by_unit), 1),
            "other_day_ms": round(live, 1),
        }
    return out


def main() -> int:
    setup()
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "import":
        res = step_import(args[0], args[1])
    elif cmd == "rebuild":
        res = step_rebuild()
    elif cmd == "months":
        res = step_months()
    elif cmd == "snapshot-rows":
        res = step_snapshot_rows()
    elif cmd == "latency":
        res = step_latency(args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown step {cmd}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
