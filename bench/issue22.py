"""`make bench` (issue 22): speed on messy files, as the user waits, beside DuckDB.

For one scale (``BENCH_SCALE``, default 0.1; 1.0 ≈ 1.9 M residents, ~5.3 M spells) it writes
the province twice with ``ansinh generate`` (cached in bench/out/): in order, and ``--messy``
(rows shuffled, overlapping renewals and moves, same-day ties, plus a re-sent file with 1 % of
its rows changed; the ordered file gets the same kind of re-sent file here). Then for each
database (``BENCH_DBS``, default ``sqlite,postgres``; PostgreSQL in a fresh ``ansinh_bench_*``
database, dropped afterwards) and each file it measures, each command a subprocess running the
real CLI (bench/trace.py: ``ansinh.cli.main`` with the snapshot refresh timed inside it):

- ``ansinh import participations FILE``: the whole command, until its figures are fresh
  (refresh included; the refresh part shown apart), rows/s, peak RSS of the process
  (``wait4``; on PostgreSQL the server's memory is not in it);
- ``ansinh kpi --rebuild``: the whole command;
- ``ansinh import participations RESENT``: the whole command, its refresh, and that refresh as
  a share of the full rebuild;
- DuckDB (2 threads, same run, same CSV): loading the file (``CREATE TABLE AS read_csv``), and
  the participants at every stored month-end per unit, scheme and group with the same rule
  (latest start decides, ties by the later row), timed again right after each rebuild so that
  both see the same load; ratios ours/DuckDB; and a check that the
  stored figures agree with DuckDB at every month-end after the import, after the rebuild and
  after the re-sent file.

``BENCH_PROFILE=1`` also profiles the messy file on each database (a fresh one): pyinstrument
of the import, the rebuild and the re-sent import, every SQL statement timed, and the plan of
each of the rebuild's statements (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on
PostgreSQL), into bench/results/profiles/.

Cores and the load average (start and end of every step) are written with the figures:
bench/results/issue22-<scale>.json and .md. Not a test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from condense_profile import condense

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PY = str(BIN / "python")
ANS = str(BIN / "ansinh")
TRACE = str(ROOT / "bench" / "trace.py")
STEPS = str(ROOT / "bench" / "steps.py")
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
PROFILES = RESULTS / "profiles"
PG_URL = os.environ.get("ANSINH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SCALE = float(os.environ.get("BENCH_SCALE", "0.1"))
DBS = os.environ.get("BENCH_DBS", "sqlite,postgres").split(",")
FILES = [f for f in os.environ.get("BENCH_FILES", "ordered,messy").split(",") if f]
SEED = os.environ.get("BENCH_SEED", "1")
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
PROFILE_DBS = os.environ.get("BENCH_PROFILE_DBS", ",".join(DBS)).split(",")
PROFILE_STEPS = os.environ.get("BENCH_PROFILE_STEPS", "import,rebuild,resend,explain").split(",")
GOALS = {"import_rows_per_s": 100_000, "peak_mib_sqlite": 1024, "rebuild_vs_duckdb": {
    "postgres": 1.0, "sqlite": 1.5}, "refresh_share": 0.05}  # fmt: skip


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    mem = cpu = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    pg = ""
    if "postgres" in DBS:
        pg = subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    import duckdb

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
        "duckdb": duckdb.__version__,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "load_average_at_start": loadavg(),
    }


def measured(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, user+system CPU seconds and ru_maxrss of that process (on
    Linux at least this process's size when it forked: ``cli`` reads the command's VmHWM)."""
    la = loadavg()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stderr is not None
    # the outputs are short (one summary line): read after exit, reaped by wait4 for its rusage
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out, err = p.stdout.read(), p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(f"FAILED {' '.join(cmd)}\n{out[-2000:]}\n{err[-4000:]}\n")
        raise SystemExit(1)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_mib": round(ru.ru_maxrss / 1024),
        "stdout": out.strip()[-500:],
        "load_average": la,
    }


def cli(env: dict[str, str], *args: str, trace: Path | None = None, sql: bool = False,
        profile: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """The real `ansinh` command in a subprocess, through bench/trace.py (refresh timed)."""
    tr = trace or Path(tempfile.mktemp(suffix=".json"))
    cmd = [TRACE, "--json", str(tr), *(["--sql"] if sql else []), "--", *args]
    if profile is None:
        cmd = [PY, *cmd]
    else:
        cmd = [str(BIN / "pyinstrument"), "-r", "pyisession", "-o", str(profile), *cmd]
    r = measured(cmd, env)
    t = json.loads(tr.read_text())
    if trace is None:
        tr.unlink()
    # the command's own peak (VmHWM, reset by exec); wait4's ru_maxrss starts from the size
    # of this process at fork, which holds DuckDB's results once it has counted
    r["peak_rss_mib"] = t["peak_rss_mib"]
    r["command_s"] = t["command_s"]
    r["refresh_s"] = t["refresh_s"]
    r["refresh_by"] = "delta" if t["delta_applied"] else "units"
    return r


def step(env: dict[str, str], *args: str) -> dict[str, Any]:
    p = subprocess.run([PY, STEPS, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def generate(messy: bool) -> Path:
    data = OUT / f"{'messy' if messy else 'scale'}-{SCALE:g}-seed-{SEED}"
    if not (data / ".complete").exists():
        log(f"generating {'messy' if messy else 'ordered'} scale {SCALE:g}")
        args = [ANS, "generate", "--out", str(data), "--scale", str(SCALE), "--seed", SEED]
        subprocess.run([*args, *(["--messy"] if messy else [])], check=True, capture_output=True)
        (data / ".complete").write_text("")
    if not messy and not (data / "participations-resend.csv").exists():
        resend(data / "participations.csv", data / "participations-resend.csv")
    return data


def resend(src: Path, dst: Path) -> None:
    """The ordered file re-sent with every 100th row changed as generate --messy changes its
    re-sent rows (end date 31 days later; an open spell ends 400 days after its start)."""
    with src.open(encoding="utf-8", newline="") as f, dst.open("w", encoding="utf-8", newline="") as g:  # fmt: skip
        r, w = csv.reader(f), csv.writer(g, lineterminator="\n")
        w.writerow(next(r))
        for i, row in enumerate(r):
            if i % 100 == 50:
                start = dt.date.fromisoformat(row[4])
                end = dt.date.fromisoformat(row[5]) if row[5] else start + dt.timedelta(400)
                row[5] = (end + dt.timedelta(31)).isoformat()
            w.writerow(row)


def count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


_DUCK: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def duckdb_counts(spells: Path, months: list[str], *, again: bool = False) -> dict[str, Any]:
    """DuckDB, 2 threads: load the CSV into a table (the import's counterpart), then the
    participants at every month-end per unit, scheme and group, same rule as SPEC section 3
    (latest start decides; ties: the later row). Once per file and month list in a run, unless
    ``again``: timed anew right beside the command it is compared with (the machine's load
    changes during a run)."""
    key = (str(spells), tuple(months))
    if key in _DUCK and not again:
        return _DUCK[key]
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET preserve_insertion_order = true")
    t0 = time.perf_counter()
    con.execute(
        f"""CREATE TABLE s AS SELECT person_id, unit_code, scheme, "group",
               start_date::DATE AS sd, NULLIF(end_date, '')::DATE AS ed,
               row_number() OVER () AS rn
            FROM read_csv('{spells}', header = true, all_varchar = true)"""
    )
    load = time.perf_counter() - t0
    dates = ", ".join(f"DATE '{m}'" for m in months)
    t0 = time.perf_counter()
    rows = con.execute(
        f"""
        WITH d AS (SELECT unnest([{dates}]) AS d),
        c AS (
          SELECT d.d, s.unit_code, s.scheme, s."group",
                 row_number() OVER (PARTITION BY d.d, s.person_id, s.scheme
                                    ORDER BY s.sd DESC, s.rn DESC) AS k
          FROM s JOIN d ON s.sd <= d.d AND (s.ed IS NULL OR s.ed >= d.d)
        )
        SELECT d, unit_code, scheme, "group", count(*) AS n FROM c WHERE k = 1 GROUP BY ALL
        """
    ).fetchall()
    secs = time.perf_counter() - t0
    con.close()
    per_month: dict[str, int] = {}
    for d, _u, _s, _g, n in rows:
        per_month[d.isoformat()] = per_month.get(d.isoformat(), 0) + int(n)
    _DUCK[key] = {
        "load_s": round(load, 3),
        "counts_s": round(secs, 3),
        "rows": len(rows),
        "per_month": per_month,
    }
    return _DUCK[key]


def check(env: dict[str, str], spells: Path, *, again: bool = False) -> dict[str, Any]:
    """Stored participants per month-end against DuckDB's from ``spells`` (``again``: DuckDB
    timed anew, see ``duckdb_counts``)."""
    months = step(env, "months")["months"]
    ours = step(env, "snapshot-rows")["per_month"]
    ddb = duckdb_counts(spells, months, again=again)
    diff = {m: (ours.get(m), ddb["per_month"].get(m)) for m in months}
    bad = {m: v for m, v in diff.items() if v[0] != v[1]}
    return {
        "month_ends": len(months),
        "same_every_month_end": not bad and bool(months),
        "differences": dict(list(bad.items())[:12]),
        "duckdb": {k: v for k, v in ddb.items() if k != "per_month"},
    }


class Db:
    """A fresh database with units, population and targets loaded."""

    def __init__(self, db: str, data: Path, tag: str) -> None:
        self.db = db
        self.home = Path(tempfile.mkdtemp(prefix=f"ansinh-bench22-{db}-"))
        self.env = dict(os.environ, ANSINH_HOME=str(self.home), ANSINH_LANG="en")
        self.env.pop("ANSINH_DATABASE_URL", None)
        self.name = f"ansinh_bench22_{tag}_{os.getpid()}"
        if db == "postgres":
            self.psql(f"DROP DATABASE IF EXISTS {self.name}")
            self.psql(f"CREATE DATABASE {self.name}")
            self.env["ANSINH_DATABASE_URL"] = f"{PG_URL}/{self.name}"
        subprocess.run([ANS, "init"], env=self.env, check=True, capture_output=True)
        for kind in ("units", "population", "targets"):
            subprocess.run(
                [ANS, "import", kind, str(data / f"{kind}.csv")],
                env=self.env,
                check=True,
                capture_output=True,
            )

    def psql(self, sql: str) -> None:
        subprocess.run(["psql", f"{PG_URL}/postgres", "-qc", sql], check=True, capture_output=True)

    def close(self) -> None:
        if self.db == "postgres":
            self.psql(f"DROP DATABASE IF EXISTS {self.name}")
        shutil.rmtree(self.home, ignore_errors=True)


def bench(db: str, kind: str, data: Path) -> dict[str, Any]:
    part, again = data / "participations.csv", data / "participations-resend.csv"
    rows = count_rows(part)
    res: dict[str, Any] = {"db": db, "file": kind, "rows": rows, "file_mib": round(
        part.stat().st_size / 2**20), "load_average_at_start": loadavg()}  # fmt: skip
    d = Db(db, data, f"{kind}_{str(SCALE).replace('.', '_')}")
    try:
        log(f"{db} {kind}: import participations ({rows:,} rows)")
        imp = cli(d.env, "import", "participations", str(part))
        imp["rows_per_s"] = round(rows / imp["wall_s"])
        imp["check"] = check(d.env, part)
        res["import"] = imp
        log(f"  {json.dumps({k: v for k, v in imp.items() if k != 'check'})}")
        log(f"  same counts: {imp['check']['same_every_month_end']}; {imp['check']['duckdb']}")
        log(f"{db} {kind}: kpi --rebuild")
        reb = cli(d.env, "kpi", "--rebuild")
        reb["check"] = check(d.env, part, again=True)
        ddb = reb["check"]["duckdb"]
        reb["ratio_to_duckdb"] = round(reb["wall_s"] / ddb["counts_s"], 2)
        res["rebuild"] = reb
        log(f"  {reb['wall_s']} s, {reb['ratio_to_duckdb']}× DuckDB's {ddb['counts_s']} s")
        log(f"{db} {kind}: re-sent file (1 % changed)")
        rs = cli(d.env, "import", "participations", str(again))
        rs["rows_per_s"] = round(count_rows(again) / rs["wall_s"])
        rs["refresh_share_of_rebuild"] = round(rs["refresh_s"] / reb["wall_s"], 4)
        rs["command_share_of_rebuild"] = round(rs["wall_s"] / reb["wall_s"], 4)
        rs["check"] = check(d.env, again)
        res["resend"] = rs
        log(f"  {json.dumps({k: v for k, v in rs.items() if k != 'check'})}")
    finally:
        d.close()
    res["load_average_at_end"] = loadavg()
    return res


def profile(db: str, data: Path) -> dict[str, Any]:
    """pyinstrument sessions + SQL timings of import / rebuild / re-sent import, plans of the
    rebuild's statements; a fresh database; nothing here is a measured figure."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    tag = f"{db}-messy-{SCALE:g}"
    d = Db(db, data, f"prof_{str(SCALE).replace('.', '_')}")
    out: dict[str, Any] = {"db": db, "load_average_at_start": loadavg()}
    try:
        for name, args in (
            ("import", ["import", "participations", str(data / "participations.csv")]),
            ("rebuild", ["kpi", "--rebuild"]),
            ("resend", ["import", "participations", str(data / "participations-resend.csv")]),
        ):
            if name not in PROFILE_STEPS:
                continue
            log(f"profile {db} {name}")
            session = PROFILES / f"{name}-{tag}.pyisession"
            trace = PROFILES / f"{name}-{tag}-sql.json"
            out[name] = cli(d.env, *args, trace=trace, sql=True, profile=session)
            txt = PROFILES / f"{name}-{tag}.txt"
            subprocess.run(
                [
                    str(BIN / "pyinstrument"),
                    "--load",
                    str(session),
                    "-r",
                    "text",
                    "--show-all",
                    "-o",
                    str(txt),
                ],  # fmt: skip
                check=True,
                capture_output=True,
            )
            condense(txt)  # the frames above 0.5 % of the command, as a tree
            session.unlink()
        if "explain" not in PROFILE_STEPS:
            return out
        log(f"profile {db}: plans of the rebuild's statements")
        trace = PROFILES / f"rebuild-{tag}-explain.json"
        subprocess.run(
            [PY, TRACE, "--json", str(trace), "--explain", "--", "kpi", "--rebuild"],
            env=d.env,
            check=True,
            capture_output=True,
        )
        out["explain"] = str(trace.relative_to(ROOT))
    finally:
        d.close()
    out["load_average_at_end"] = loadavg()
    return out


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.3g}" if v < 10 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        f"# Issue 22: ordered vs messy files, scale {SCALE:g} (`make bench`)",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; Python {m['python']}, "
        f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or '–'}, DuckDB {m['duckdb']} "
        f"(2 threads). Run {m['started']} → {res.get('finished', '…')}; load average at start "
        f"{m['load_average_at_start']}, at end {m.get('load_average_at_end')}. Other helpers "
        "shared the 2 cores: a load average above 2 means pessimistic timings.",
        "",
        "Every time is a whole `ansinh` command in its own process, start to exit, its figures "
        "fresh (the snapshot refresh inside it; its part in brackets). Peak MiB is the command's "
        "process (VmHWM; PostgreSQL's server memory is not in it). DuckDB: the same CSV, in the same "
        "run; load = `CREATE TABLE AS read_csv`, counts = participants at every stored "
        "month-end per unit, scheme and group. Same counts = our stored figures equal DuckDB's "
        "at every month-end (after import / rebuild / re-sent file). CPU s = user + system "
        "seconds of the command's process: on SQLite nearly all of its work, on PostgreSQL "
        "without the server's; where wall is far above CPU on SQLite, the command waited for "
        "a core (see the load average) or the disk.",
        "",
        "| db | file | rows | import s (refresh) | import CPU s | rows/s | peak MiB "
        "| DuckDB load s | rebuild s (CPU s) | DuckDB counts s | rebuild ÷ DuckDB "
        "| re-sent 1 %: command s (refresh) | refresh ÷ rebuild | same counts "
        "| load avg start→end |",
        "|" + "---|" * 15,
    ]
    for r in res["runs"]:
        i, b, s = r.get("import", {}), r.get("rebuild", {}), r.get("resend", {})
        ddb = b.get("check", {}).get("duckdb", {})
        same = "/".join(
            "yes" if x.get("check", {}).get("same_every_month_end") else "NO" for x in (i, b, s)
        )
        lines.append(
            f"| {r['db']} | {r['file']} | {fmt(r['rows'])} | {fmt(i.get('wall_s'))} "
            f"({fmt(i.get('refresh_s'))}) | {fmt(i.get('cpu_s'))} | {fmt(i.get('rows_per_s'))} "
            f"| {fmt(i.get('peak_rss_mib'))} | {fmt(ddb.get('load_s'))} | {fmt(b.get('wall_s'))} "
            f"({fmt(b.get('cpu_s'))}) "
            f"| {fmt(ddb.get('counts_s'))} | {fmt(b.get('ratio_to_duckdb'))} "
            f"| {fmt(s.get('wall_s'))} ({fmt(s.get('refresh_s'))}) "
            f"| {s.get('refresh_share_of_rebuild', 0):.1%} | {same} "
            f"| {r['load_average_at_start'][:1]}→{r.get('load_average_at_end', [])[:1]} |"
        )
    lines += ["", "Messy ÷ ordered (same database, same run):", ""]
    by = {(r["db"], r["file"]): r for r in res["runs"]}
    for db in DBS:
        o, x = by.get((db, "ordered")), by.get((db, "messy"))
        if not o or not x:
            continue
        lines.append(
            f"- {db}: import {x['import']['wall_s'] / o['import']['wall_s']:.2f}×, rebuild "
            f"{x['rebuild']['wall_s'] / o['rebuild']['wall_s']:.2f}×, re-sent refresh "
            f"{x['resend']['refresh_s'] / max(o['resend']['refresh_s'], 1e-3):.2f}×"
        )
    lines += ["", "Goals (issue 22):", ""]
    for r in res["runs"]:
        lines.append(f"- {r['db']} {r['file']}: " + "; ".join(goals(r)))
    lines.append("")
    return "\n".join(lines)


def goals(r: dict[str, Any]) -> list[str]:
    out = []

    def judge(name: str, value: float, goal: float, high: bool, show: str) -> None:
        ok = value >= goal if high else value <= goal
        factor = (goal / value if high else value / goal) if value else float("inf")
        out.append(f"{name} {show} " + ("met" if ok else f"MISSED ({factor:.1f}× off)"))

    i, b, s = r["import"], r["rebuild"], r["resend"]
    judge(
        "import", i["rows_per_s"], GOALS["import_rows_per_s"], True, f"{i['rows_per_s']:,} rows/s"
    )
    if r["db"] == "sqlite" and i.get("peak_rss_mib") is not None:
        judge(
            "peak", i["peak_rss_mib"], GOALS["peak_mib_sqlite"], False, f"{i['peak_rss_mib']} MiB"
        )
    goal = GOALS["rebuild_vs_duckdb"][r["db"]]  # type: ignore[index]
    judge("rebuild", b["ratio_to_duckdb"], goal, False, f"{b['ratio_to_duckdb']}× DuckDB")
    share = s["refresh_share_of_rebuild"]
    judge("refresh", share, GOALS["refresh_share"], False, f"{share:.1%} of rebuild")
    return out


def main() -> int:
    global SCALE, DBS
    if sys.argv[1:2] == ["--render"]:  # rewrite the markdown of a results file
        res = json.loads(Path(sys.argv[2]).read_text())
        SCALE, DBS = res["scale"], sorted({r["db"] for r in res["runs"]}, reverse=True)
        Path(sys.argv[2]).with_suffix(".md").write_text(markdown(res))
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"machine": machine(), "scale": SCALE, "goals": GOALS, "runs": []}
    name = f"issue22-{SCALE:g}" + ("" if FILES else "-profile")
    data = {kind: generate(kind == "messy") for kind in FILES}
    for db in DBS:
        for kind in FILES:
            log(f"== scale {SCALE:g} {db} {kind}")
            res["runs"].append(bench(db, kind, data[kind]))
            res["machine"]["load_average_at_end"] = loadavg()
            res["finished"] = dt.datetime.now().isoformat(timespec="seconds")
            (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
            (RESULTS / f"{name}.md").write_text(markdown(res))
    if PROFILE:
        messy = generate(True)
        res["profiles"] = [profile(db, messy) for db in PROFILE_DBS if db in DBS]
        res["machine"]["load_average_at_end"] = loadavg()
        (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
