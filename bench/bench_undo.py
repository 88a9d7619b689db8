"""Preview and undo of a 1 % change at a given scale (issue 16 item 5). Not a test: it
measures and reports.

For each database (SQLite, PostgreSQL) a province of ``--scale`` is generated (cached in
bench/out/, as ``bench/run.py`` does) and loaded; then a 1 % change of the participations file
(every 100th row's end date moved, as run.py's ``change_files``) is

1. previewed: ``ansinh import participations FILE --preview --format json``;
2. imported;
3. undone: ``ansinh import undo BATCH``;

each timed through the command line (Python's start included), and the province's figures are
compared before the import and after the undo (they must be equal). Writes
bench/results/undo-<db>-<scale>.json.

    .venv/bin/python bench/bench_undo.py --scale 1.0 --dbs sqlite,postgres
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import ANS, PG_URL, RESULTS, change_files, count_rows, generate, loadavg, log, machine  # noqa: E402


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(f"FAILED {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}\n")
        raise SystemExit(1)
    return round(seconds, 2), p.stdout


def bench(db: str, data: Path, scale: float) -> dict[str, Any]:
    env = dict(os.environ, ANSINH_LANG="en")
    home = Path(tempfile.mkdtemp(prefix=f"ansinh-undo-{db}-"))
    env["ANSINH_HOME"] = str(home)
    env.pop("ANSINH_DATABASE_URL", None)
    dbname = f"ansinh_in_undo_{os.getpid()}"
    if db == "postgres":
        subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-qc", f"DROP DATABASE IF EXISTS {dbname}"], check=True
        )
        subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-qc", f"CREATE DATABASE {dbname}"], check=True
        )
        env["ANSINH_DATABASE_URL"] = f"{PG_URL}/{dbname}"
    res: dict[str, Any] = {"db": db, "scale": scale, "load_average_at_start": loadavg()}
    try:
        _run([ANS, "init"], env)
        load: dict[str, float] = {}
        for kind in ("units", "population", "targets", "participations", "counts"):
            log(f"{db}: import {kind}")
            load[kind], _out = _run([ANS, "import", kind, str(data / f"{kind}.csv")], env)
        res["load_s"] = load
        work = Path(tempfile.mkdtemp(prefix="ansinh-undo-change-"))
        path, n = change_files(data, work)["province"]
        res["rows_in_file"] = count_rows(data / "participations.csv")
        res["rows_changed"] = n
        log(f"{db}: preview of {n:,} changed rows")
        res["preview_s"], out = _run(
            [ANS, "import", "participations", str(path), "--preview", "--format", "json"], env
        )
        preview = json.loads(out)
        res["preview"] = preview
        as_of = preview["as_of"]
        _t, before = _run([ANS, "kpi", "--as-of", as_of, "--format", "json"], env)
        log(f"{db}: import")
        res["import_s"], _out = _run([ANS, "import", "participations", str(path)], env)
        _t, listed = _run([ANS, "import", "list", "--format", "json"], env)
        batch = json.loads(listed)[0]["id"]
        _t, during = _run([ANS, "kpi", "--as-of", as_of, "--format", "json"], env)
        log(f"{db}: undo batch {batch}")
        res["undo_s"], _out = _run([ANS, "import", "undo", str(batch)], env)
        _t, after = _run([ANS, "kpi", "--as-of", as_of, "--format", "json"], env)
        res["figures_equal_after_undo"] = json.loads(before) == json.loads(after)
        res["figures_changed_by_import"] = json.loads(before) != json.loads(during)
        res["preview_after_matches_import"] = {
            i["code"]: i["participants"] for i in json.loads(during)["indicators"] if "target" in i
        } == {k: v["after"] for k, v in preview["schemes"].items()}
        shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if db == "postgres":
            subprocess.run(
                ["psql", f"{PG_URL}/postgres", "-qc", f"DROP DATABASE IF EXISTS {dbname}"],
                check=False,
            )
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dbs", default="sqlite,postgres")
    args = ap.parse_args()
    data, gen_s = generate(args.scale)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for db in args.dbs.split(","):
        res = bench(db, data, args.scale)
        res["generate_s"] = gen_s
        res["machine"] = machine()
        res["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        out = RESULTS / f"undo-{db}-{args.scale:g}.json"
        out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
        log(
            f"{db}: preview {res['preview_s']} s, import {res['import_s']} s, undo {res['undo_s']} s, "
            f"equal after undo: {res['figures_equal_after_undo']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
