"""Run one real `ansinh` command in this process (``ansinh.cli.main``, as the console script
does) and say where its time went; used by bench/issue22.py. Not a test.

    python bench/trace.py --json OUT.json [--sql] [--explain] -- import participations FILE

Always: wall seconds of the command, the snapshot refresh inside it (``snapshot_refresh`` and
the in-transaction ``SnapshotDelta``, timed by wrapping them), peak RSS (VmHWM).
``--sql``: every statement timed (Django execute wrapper), grouped by its text with numbers
and parameters left out; the top ones with count and seconds. ``--explain``: before each
statement, its plan — EXPLAIN QUERY PLAN on SQLite; on PostgreSQL EXPLAIN (ANALYZE, BUFFERS)
inside a savepoint rolled back, so every statement runs twice (profiling only, never timed).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

django.setup()

import ansinh.imports.run as mi  # noqa: E402
from ansinh.cli import main as cli_main  # noqa: E402

STATS: dict[str, list[float]] = {}
PLANS: dict[str, str] = {}
REFRESH: dict[str, float] = {"snapshot_refresh_s": 0.0, "snapshot_delta_s": 0.0}
DELTAS: list[Any] = []
_NUM = re.compile(r"\b\d+\b|'[^']*'")
_LIST = re.compile(r"\((?:\s*%s\s*,?)+\)|\((?:\s*\?\s*,?)+\)")
_VALUES = re.compile(r"(VALUES\s*)(\([^()]*\)\s*,?\s*)+", re.I)


def norm(sql: str) -> str:
    s = _VALUES.sub(r"\1(…)", sql)
    s = _LIST.sub("(…)", s)
    s = _NUM.sub("N", s)
    return " ".join(s.split())[:4000]


def explain(conn: Any, raw: Any, sql: str, params: Any) -> str:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if head == "CREATE" and " AS SELECT " in sql:  # CREATE [TEMP] TABLE … AS SELECT: the query
        sql, head = sql[sql.index(" AS SELECT ") + 4 :], "SELECT"
    if head not in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
        return ""
    try:
        if conn.vendor == "sqlite":
            raw.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(" ".join(str(x) for x in r) for r in raw.fetchall())
        raw.execute("SAVEPOINT bench_explain")
        try:
            raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(r[0] for r in raw.fetchall())
        finally:
            raw.execute("ROLLBACK TO SAVEPOINT bench_explain")
    except Exception as exc:  # a plan we cannot get is noted, never fatal
        return f"(no plan: {type(exc).__name__}: {exc})"


def make_wrapper(with_explain: bool) -> Any:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        key = norm(sql)
        if with_explain and not many and key not in PLANS and "EXPLAIN" not in sql:
            conn = context["connection"]
            PLANS[key] = explain(conn, context["cursor"].cursor, sql, params)
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            STATS.setdefault(key, []).append(time.perf_counter() - t0)

    return wrapper


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--sql", action="store_true")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    if a.sql or a.explain:
        wrapper = make_wrapper(a.explain)

        def add(sender: Any, connection: Any, **kw: Any) -> None:
            # once per connection object, however often it reconnects
            if wrapper not in connection.execute_wrappers:
                connection.execute_wrappers.append(wrapper)

        connection_created.connect(add, weak=False)
        for c in connections.all(initialized_only=True):
            add(None, c)
    refresh = mi.snapshot_refresh
    delta_cls = mi.SnapshotDelta

    def timed_refresh(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return refresh(*args, **kw)
        finally:
            REFRESH["snapshot_refresh_s"] += time.perf_counter() - t0

    class Delta(delta_cls):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            DELTAS.append(self)

    mi.snapshot_refresh = timed_refresh  # type: ignore[assignment]
    mi.SnapshotDelta = Delta  # type: ignore[misc]
    t0 = time.perf_counter()
    rc = cli_main(argv)
    wall = time.perf_counter() - t0
    REFRESH["snapshot_delta_s"] = sum(float(getattr(d, "seconds", 0.0)) for d in DELTAS)
    peak = 0.0
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    top = sorted(STATS.items(), key=lambda kv: -sum(kv[1]))
    out = {
        "argv": argv,
        "rc": rc,
        "command_s": round(wall, 3),
        "refresh_s": round(REFRESH["snapshot_refresh_s"] + REFRESH["snapshot_delta_s"], 3),
        **{k: round(v, 3) for k, v in REFRESH.items()},
        "delta_applied": any(getattr(d, "applied", False) for d in DELTAS),
        "peak_rss_mib": round(peak),
        "sql_statements": sum(len(v) for v in STATS.values()),
        "sql_s": round(sum(sum(v) for v in STATS.values()), 3),
        "sql_top": [
            {"seconds": round(sum(v), 3), "count": len(v), "sql": k, "plan": PLANS.get(k, "")}
            for k, v in top[:40]
        ],
    }
    pathlib.Path(a.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
