"""Dashboard under load with the server and the load generator on separate cores (issue 22
item 5). Not a test: it measures and reports.

Serves the database named by ``ANSINH_DATABASE_URL`` (already loaded, with a login that sees
the province, e.g. ``ansinh user add bench --role province --unit 56 --password-stdin``; see
bench/results/issue22-dashboard.md) with ``ansinh serve`` pinned to ``--server-cpus`` and runs
bench/load.py pinned to ``--load-cpus`` (``taskset``), so that the generator's own CPU does not
slow the server it measures. Reports, per run: the latencies of load.py, the CPU seconds of
the server's processes (gunicorn master and workers; the job worker is off), of the generator,
and of the PostgreSQL backends serving the run's database (which the kernel may put on either
core), and the load average before and after.

    ANSINH_DATABASE_URL=postgresql://… .venv/bin/python bench/dashboard.py \\
        --username bench --password … -o bench/results/issue22-dashboard.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from load import wait_healthy

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def session_pids(sid: int) -> list[int]:
    """Every process of the session ``sid`` (the server and the children it forked)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: session id
            out.append(int(d.name))
    return out


def run_load(
    args: argparse.Namespace, *, users: int, duration: float, out: Path, watch: list[int]
) -> dict[str, Any]:
    cmd = [
        str(BIN / "python"),
        str(ROOT / "bench" / "load.py"),
        "--base",
        f"http://127.0.0.1:{args.port}",
        "--users",
        str(users),
        "--duration",
        str(duration),
        "--username",
        args.username,
        "--password",
        args.password,
        "--think",
        "0",
        "--watch",
        ",".join(str(p) for p in watch),
        "--watch-db",
        os.environ.get("ANSINH_DATABASE_URL", ""),
        "-o",
        str(out),
    ]
    if args.load_cpus:
        cmd = ["taskset", "-c", args.load_cpus, *cmd]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice), *cmd]
    subprocess.run(cmd, check=True, capture_output=True)
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8106)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--username", default="bench")
    ap.add_argument("--password", default="Bench-Load-2025-x")
    ap.add_argument("--server-cpus", default="0", help="taskset list for the server; '' none")
    ap.add_argument("--load-cpus", default="1", help="taskset list for load.py; '' none")
    ap.add_argument("--workers", type=int, default=None, help="default: ansinh serve's")
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the server and load.py at this niceness (note: where the kernel groups tasks "
        "by session, autogroup, this does not put them ahead of other sessions' work)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="back-to-back runs after the warm-up")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    env = dict(os.environ, ANSINH_WORKER="0")
    cmd = [
        str(BIN / "ansinh"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.server_cpus:
        cmd = ["taskset", "-c", args.server_cpus, *cmd]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice), *cmd]
    log = args.output.with_suffix(".serve.log")
    with log.open("w") as logf:
        server = subprocess.Popen(
            cmd, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True
        )
    runs: list[dict[str, Any]] = []
    try:
        if not wait_healthy(f"http://127.0.0.1:{args.port}", tries=240):
            raise SystemExit("the server did not answer /healthz")
        tmp = args.output.with_suffix(".load.tmp")
        # warm-up: every worker process computes (and caches) the figures once
        run_load(args, users=args.users, duration=5.0, out=tmp, watch=[])
        for i in range(args.repeat):
            server_pids = session_pids(server.pid)
            report = run_load(
                args, users=args.users, duration=args.duration, out=tmp, watch=server_pids
            )
            server_user = report.pop("watched_cpu_user_s")
            server_sys = report.pop("watched_cpu_system_s")
            server_cpu = server_user + server_sys
            pg_cpu = report["postgres_backends_cpu_s"]
            requests = sum(e["requests"] for e in report["endpoints"].values())
            seconds = report["duration_s"]
            report.update(
                {
                    "run": i + 1,
                    "server_cpus": args.server_cpus or "any",
                    "load_cpus": args.load_cpus or "any",
                    "workers": args.workers or "default",
                    "nice": args.nice,
                    "requests_per_s": round(requests / seconds, 1),
                    "server_cpu_s": round(server_cpu, 2),
                    "server_cpu_user_s": server_user,
                    "server_cpu_system_s": server_sys,
                    "server_cpu_share_of_one_core": round(server_cpu / seconds, 2),
                    "server_cpu_ms_per_request": round(server_cpu / max(requests, 1) * 1000, 2),
                    "postgres_cpu_ms_per_request": round(pg_cpu / max(requests, 1) * 1000, 2),
                    "generator_cpu_ms_per_request": round(
                        report["generator_cpu_s"] / max(requests, 1) * 1000, 2
                    ),
                }
            )
            runs.append(report)
            d = report["endpoints"].get("dashboard", {})
            print(
                f"run {i + 1}: dashboard p50/p95/p99 {d.get('p50_ms')}/{d.get('p95_ms')}/"
                f"{d.get('p99_ms')} ms, {report['requests_per_s']} req/s, server CPU "
                f"{server_cpu:.1f} s (user {server_user}, sys {server_sys}; "
                f"{report['server_cpu_ms_per_request']} ms/req), generator "
                f"{report['generator_cpu_s']} s ({report['generator_cpu_ms_per_request']} ms/req),"
                f" postgres {pg_cpu:.1f} s ({report['postgres_backends']} backends), load "
                f"{report['load_average'][0][0]}→{report['load_average'][1][0]}",
                flush=True,
            )
        tmp.unlink(missing_ok=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    args.output.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    print(f"→ {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
