"""Time of the year-end forecast (SPEC section 11) for the province by commune, from the
snapshot; and the backtest (each past year forecast from its own September, against its
December). Not a test: it measures and reports.

    .venv/bin/python bench/bench_forecast.py [--scale 1.0] [--seed 1] [--db URL]
    .venv/bin/python bench/bench_forecast.py --demo      # the demo data set instead

Generates the province with ``ansinh generate`` (cached in bench/out/), loads units,
population, targets, participations and counts into a fresh database (SQLite under a temporary
ANSINH_HOME unless ``--db`` names a PostgreSQL URL), then, in-process, times
``forecast_tree`` for the province (every commune and office, four schemes) cold — the figure
cache emptied before each run — and warm, and ``ansinh kpi forecast --by unit`` through the CLI.
Writes bench/results/forecast-<label>.json and prints it. Target: under 2 s from the snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANS = str(ROOT / ".venv" / "bin" / "ansinh")
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
KINDS = ("units", "population", "targets", "participations", "counts")
TARGET_S = 2.0


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--db", default="")
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--home", default="", help="an ANSINH_HOME already loaded: measure only")
    args = ap.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="ansinh-fc-bench-")
    env = {**os.environ, "ANSINH_HOME": home}
    if args.db:
        env["ANSINH_DATABASE_URL"] = args.db
    load_s: dict[str, float] = {}
    if args.demo:
        label = "demo"
        if not args.home:
            load_s["demo"] = _run([ANS, "demo", "--no-serve"], env)
    elif args.home:
        label = f"{args.scale:g}"
    else:
        label = f"{args.scale:g}"
        data = OUT / f"forecast-{label}-{args.seed}"
        if not (data / "counts.csv").exists():
            load_s["generate"] = _run(
                [ANS, "generate", "--out", str(data), "--scale", label, "--seed", args.seed],
                env,
            )
        _run([ANS, "init"], env)
        for kind in KINDS:
            load_s[kind] = _run([ANS, "import", kind, str(data / f"{kind}.csv")], env)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache

    from ansinh.geography.models import Unit
    from ansinh.monitoring import forecast
    from ansinh.monitoring.models import SnapshotState
    from ansinh.monitoring.selectors import data_as_of

    root = Unit.objects.get(parent__isnull=True)
    latest = data_as_of()
    assert latest is not None
    as_of = forecast.default_as_of(year=latest.year, latest=latest)
    if not args.demo:
        # the generated province's as-of date: 30 September, before the peak
        as_of = as_of.replace(month=9, day=30) if as_of.month > 9 else as_of
    cold, cpu = [], []
    for _ in range(args.runs):
        cache.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        tree = forecast.forecast_tree(root=root, year=as_of.year, as_of=as_of)
        cold.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    t0 = time.perf_counter()
    forecast.history(root=root, until=as_of)
    history_s = time.perf_counter() - t0
    version = "bench"
    forecast.forecast_tree_cached(root=root, year=as_of.year, as_of=as_of, version=version)
    warm = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        forecast.forecast_figures(
            unit=root, year=as_of.year, as_of=as_of, by="unit", version=version
        )
        warm.append(time.perf_counter() - t0)
    cli_s = _run(
        [ANS, "kpi", "forecast", "--year", str(as_of.year), "--as-of", as_of.isoformat()],
        env,
    )
    t0 = time.perf_counter()
    bt = forecast.backtest(unit=root)
    backtest_s = time.perf_counter() - t0
    methods: dict[str, int] = {}
    for schemes in tree["units"].values():
        for fc in schemes.values():
            methods[fc["method"]] = methods.get(fc["method"], 0) + 1
    communes = Unit.objects.filter(level="commune").count()
    result = {
        "label": label,
        "db": "postgresql" if args.db.startswith("postgres") else "sqlite",
        "as_of": as_of.isoformat(),
        "units_forecast": len(tree["units"]),
        "communes": communes,
        "month_ends": SnapshotState.objects.count(),
        "series_by_method": methods,
        "load_s": {k: round(v, 1) for k, v in load_s.items()},
        "history_query_s": round(history_s, 3),
        "forecast_cold_s": {
            "p50": round(statistics.median(cold), 3),
            "max": round(max(cold), 3),
            # CPU seconds of this process: what the wall time would be on an idle machine
            "cpu_p50": round(statistics.median(cpu), 3),
        },
        "forecast_warm_by_unit_s": round(statistics.median(warm), 4),
        "cli_kpi_forecast_s": round(cli_s, 2),
        "target_s": TARGET_S,
        "met": statistics.median(cold) < TARGET_S,
        "met_cpu": statistics.median(cpu) < TARGET_S,
        "backtest_s": round(backtest_s, 2),
        "backtest": bt["rows"],
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"forecast-{label}-{result['db']}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
