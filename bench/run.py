"""`make bench`: generate a province, then measure import, snapshot build (vs DuckDB),
incremental refresh, kpi latency, report generation and (optionally) web load, on SQLite and
PostgreSQL. Results go to bench/results/results.json and results.md. Nothing is asserted.

Usage: python bench/run.py [--scales 1.0] [--dbs sqlite,postgres] [--skip-load]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("ANSINH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def machine() -> dict[str, Any]:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "system": platform.platform(),
        "at": dt.datetime.now().isoformat(timespec="seconds"),
    }


def run(cmd: list[str], env: dict[str, str], *, check: bool = True) -> tuple[float, int, str]:
    """Run a command; return (seconds, peak RSS of the child in MiB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if check and p.returncode != 0:
        sys.stderr.write(f"FAILED {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}\n")
        raise SystemExit(1)
    return secs, max(peak, before) // 1024, p.stdout


def peak_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds and the peak RSS (MiB) of this one command, measured with /usr/bin/time if
    present, else with getrusage of a fresh wrapper process."""
    wrapper = [
        sys.executable,
        "-c",
        (
            "import resource,subprocess,sys,time;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:]);d=time.perf_counter()-t;"
            "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
            "sys.stderr.write(f'\\n@@BENCH {d} {r}\\n');sys.exit(p.returncode)"
        ),
        *cmd,
    ]
    p = subprocess.run(wrapper, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"FAILED {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}\n")
        raise SystemExit(1)
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("@@BENCH")][-1]
    _, secs, rss = line.split()
    return float(secs), int(rss) / 1024, p.stdout


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def duckdb_counts(spells: Path, as_of: str) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    t0 = time.perf_counter()
    rows = con.execute(
        f"""
        WITH s AS (
          SELECT person_id, scheme, unit_code, "group", start_date::DATE AS sd,
                 NULLIF(end_date, '')::DATE AS ed,
                 row_number() OVER () AS rn
          FROM read_csv('{spells}', header=true, all_varchar=true)
        ), c AS (
          SELECT *, row_number() OVER (PARTITION BY person_id, scheme
                                       ORDER BY sd DESC, rn DESC) AS k
          FROM s WHERE sd <= DATE '{as_of}' AND (ed IS NULL OR ed >= DATE '{as_of}')
        )
        SELECT unit_code, scheme, "group", count(*) FROM c WHERE k = 1 GROUP BY ALL
        """
    ).fetchall()
    return time.perf_counter() - t0, sum(r[3] for r in rows)


def one_change_file(src: Path, dst: Path, share: float = 0.01) -> int:
    """Copy 1 % of the participation rows with their end date moved (an update each)."""
    n = 0
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8", newline="") as g:
        r = csv.DictReader(f)
        assert r.fieldnames is not None
        w = csv.DictWriter(g, fieldnames=r.fieldnames)
        w.writeheader()
        step = int(1 / share)
        for i, row in enumerate(r):
            if i % step:
                continue
            end = row.get("end_date") or ""
            start = dt.date.fromisoformat(row["start_date"])
            new_end = dt.date.fromisoformat(end) if end else start + dt.timedelta(days=400)
            row["end_date"] = (new_end + dt.timedelta(days=31)).isoformat()
            w.writerow(row)
            n += 1
    return n


def bench_db(db: str, data: Path, scale: float, as_of: str, skip_load: bool) -> dict[str, Any]:
    env = dict(os.environ)
    home = Path(tempfile.mkdtemp(prefix=f"ansinh-bench-{db}-"))
    env["ANSINH_HOME"] = str(home)
    env.pop("ANSINH_DATABASE_URL", None)
    dbname = f"ansinh_bench_{int(time.time())}"
    if db == "postgres":
        subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-qc", f"CREATE DATABASE {dbname}"],
            check=True,
            capture_output=True,
        )
        env["ANSINH_DATABASE_URL"] = f"{PG_URL}/{dbname}"
    ans = str(BIN / "ansinh")
    res: dict[str, Any] = {"db": db, "scale": scale}
    run([ans, "init"], env)
    for kind in ("units", "population", "targets"):
        run([ans, "import", kind, str(data / f"{kind}.csv")], env)
    part = data / "participations.csv"
    rows = count_rows(part)
    secs, rss, _ = peak_rss([ans, "import", "participations", str(part)], env)
    res["import"] = {
        "rows": rows,
        "seconds": round(secs, 2),
        "rows_per_s": round(rows / secs),
        "peak_rss_mib": round(rss),
    }
    for kind in ("counts", "employers", "contributions", "activities", "attendees"):
        if (data / f"{kind}.csv").exists():
            run([ans, "import", kind, str(data / f"{kind}.csv")], env)
    secs, _, _ = run([ans, "kpi", "--rebuild"], env)
    res["snapshot_full_s"] = round(secs, 2)
    ddb_secs, ddb_total = duckdb_counts(part, as_of)
    res["duckdb_one_date_s"] = round(ddb_secs, 2)
    change = data / "participations_change.csv"
    changed = one_change_file(part, change)
    secs, _, _ = run([ans, "import", "participations", str(change)], env)
    res["incremental"] = {
        "rows_changed": changed,
        "import_and_refresh_s": round(secs, 2),
        "ratio_to_full": round(secs / max(res["snapshot_full_s"], 1e-9), 3),
    }
    lat: dict[str, float] = {}
    units = list(csv.DictReader((data / "units.csv").open(encoding="utf-8")))
    samples = {
        "province": next(u["code"] for u in units if u["level"] == "province"),
        "office": next(u["code"] for u in units if u["level"] == "office"),
        "commune": next(u["code"] for u in units if u["level"] == "commune"),
    }
    for level, code in samples.items():
        t0 = time.perf_counter()
        out = subprocess.run(
            [ans, "kpi", "--as-of", as_of, "--unit", code], env=env, capture_output=True, text=True
        )
        lat[level + "_cli_s"] = round(time.perf_counter() - t0, 3)
        if level == "province" and out.returncode == 0:
            res["kpi_province"] = json.loads(out.stdout)
    res["kpi_cli_latency"] = lat
    res["duckdb_total_participants"] = ddb_total
    secs, _, _ = run(
        [
            ans,
            "report",
            "progress",
            "--as-of",
            as_of,
            "--format",
            "pdf",
            "-o",
            str(home / "report.pdf"),
        ],
        env,
        check=False,
    )
    res["report_pdf_s"] = round(secs, 2)
    kpi_bench = ROOT / "bench" / "bench_kpi.py"
    if kpi_bench.exists():
        p = subprocess.run(
            [str(BIN / "python"), str(kpi_bench), "--reuse", "--as-of", as_of],
            env=env,
            capture_output=True,
            text=True,
        )
        res["kpi_bench_stdout"] = p.stdout[-3000:]
    load = ROOT / "bench" / "load.py"
    if load.exists() and not skip_load:
        p = subprocess.run(
            [str(BIN / "python"), str(load), "--home", str(home)],
            env=env,
            capture_output=True,
            text=True,
        )
        res["load_stdout"] = p.stdout[-3000:]
    if db == "postgres":
        subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-qc", f"DROP DATABASE {dbname}"], capture_output=True
        )
    shutil.rmtree(home, ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1.0")
    ap.add_argument("--dbs", default="sqlite,postgres")
    ap.add_argument("--as-of", default="2025-09-30")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--skip-load", action="store_true")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "runs": []}
    for scale in [float(s) for s in args.scales.split(",")]:
        data = OUT / f"scale-{scale}"
        if not (data / "participations.csv").exists():
            t0 = time.perf_counter()
            subprocess.run(
                [
                    str(BIN / "ansinh"),
                    "generate",
                    "--out",
                    str(data),
                    "--scale",
                    str(scale),
                    "--seed",
                    args.seed,
                ],
                check=True,
            )
            results.setdefault("generate_s", {})[str(scale)] = round(time.perf_counter() - t0, 1)
        for db in args.dbs.split(","):
            print(f"== scale {scale} on {db}", flush=True)
            r = bench_db(db, data, scale, args.as_of, args.skip_load)
            print(
                json.dumps(
                    {k: v for k, v in r.items() if "stdout" not in k and k != "kpi_province"},
                    indent=1,
                ),
                flush=True,
            )
            results["runs"].append(r)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {results['machine']['cores']} cores, {results['machine']['memory']}, "
        f"{results['machine']['cpu']}; {results['machine']['at']}",
        "",
        "| scale | db | import rows/s | peak MiB | full snapshot s | DuckDB one date s | "
        "1 % change s (ratio) | kpi province/office/commune s (CLI, incl. start-up) | report PDF s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lat = r["kpi_cli_latency"]
        lines.append(
            f"| {r['scale']} | {r['db']} | {r['import']['rows_per_s']:,} | "
            f"{r['import']['peak_rss_mib']} | {r['snapshot_full_s']} | {r['duckdb_one_date_s']} | "
            f"{r['incremental']['import_and_refresh_s']} ({r['incremental']['ratio_to_full']}) | "
            f"{lat.get('province_cli_s')}/{lat.get('office_cli_s')}/{lat.get('commune_cli_s')} | "
            f"{r['report_pdf_s']} |"
        )
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
