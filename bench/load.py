"""Bounded load test: N concurrent users against a running ansinh server (not a test).

Each simulated user logs in through the login form (session + CSRF, as a browser does), then
until the deadline alternately asks for the dashboard ``/`` and for ``/api/kpi``, back to back
(``--think 0``: the saturation case) or pausing about ``--think`` seconds (0.5–1.5×, random)
between requests as a person reading the page would. Reports the
p50/p95/p99 latencies, throughput and errors per endpoint; writes ``bench/results/load.json``.

    make demo &                     # or: ansinh demo --no-serve && ansinh serve
    .venv/bin/python bench/load.py --users 50 --duration 20

Login defaults to the demo province login (``tinh``). One login per user is made, all from the
same address: keep ``--users`` well within what django-axes allows only for *failed* logins
(successful logins are not limited).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []

    def ok(self, name: str, seconds: float) -> None:
        with self.lock:
            self.latencies[name].append(seconds)

    def fail(self, name: str, why: str) -> None:
        with self.lock:
            self.errors[name] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{name}: {why}")


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process (all its threads); zeros once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a process (all its threads); 0 once it is gone."""
    return sum(cpu_times(pid))


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def pg_backends(url: str) -> list[int]:
    """The PIDs of the PostgreSQL backends connected to the database of ``url`` (a server on
    this machine); [] without a URL."""
    if not url.startswith("postgres"):
        return []
    import psycopg

    db = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db,)).fetchall()
    return [int(r[0]) for r in rows]


def wait_healthy(base: str, *, tries: int) -> bool:
    """Whether ``base``/healthz answers 200 within ``tries`` half-second attempts (a server
    just started by a bench)."""
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def login(client: httpx.Client, username: str, password: str) -> None:
    r = client.get("/login/")
    r.raise_for_status()
    token = client.cookies.get("csrftoken")
    r = client.post(
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token or ""},
        headers={"Referer": str(client.base_url) + "/login/"},
    )
    if r.status_code != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"login failed for {username}: HTTP {r.status_code}")


def user(
    base: str,
    username: str,
    password: str,
    as_of: str | None,
    deadline: dict[str, float],
    start: threading.Barrier,
    stats: Stats,
    think: float = 0.0,
) -> None:
    kpi = "/api/kpi" + (f"?as_of={as_of}" if as_of else "")
    with httpx.Client(base_url=base, timeout=30.0, follow_redirects=False) as client:
        try:
            login(client, username, password)
        except Exception as exc:  # counted, the user gives up
            stats.fail("login", str(exc))
            start.wait()
            return
        start.wait()
        if think > 0:
            # people do not all click at the same instant: spread the first requests over one
            # pause (otherwise the 50 first requests queue together and make the tail)
            time.sleep(random.uniform(0, think))
        targets = [("dashboard", "/"), ("api_kpi", kpi)]
        i = 0
        while time.monotonic() < deadline["t"]:
            name, path = targets[i % 2]
            i += 1
            began = time.perf_counter()
            try:
                r = client.get(path)
                elapsed = time.perf_counter() - began
                if r.status_code == 200:
                    stats.ok(name, elapsed)
                else:
                    stats.fail(name, f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                stats.fail(name, type(exc).__name__)
            if think > 0:
                time.sleep(think * random.uniform(0.5, 1.5))


def summarise(stats: Stats, duration: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(set(stats.latencies) | set(stats.errors)):
        lat = stats.latencies.get(name, [])
        ms = [v * 1000 for v in lat]
        out[name] = {
            "requests": len(lat),
            "errors": stats.errors.get(name, 0),
            "rps": round(len(lat) / duration, 1),
            "p50_ms": round(percentile(ms, 50) or 0, 1) if ms else None,
            "p95_ms": round(percentile(ms, 95) or 0, 1) if ms else None,
            "p99_ms": round(percentile(ms, 99) or 0, 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds (capped at 120)")
    ap.add_argument("--username", default="tinh")
    ap.add_argument("--password", default="YenSao-ThapBa-2025")
    ap.add_argument("--as-of", dest="as_of", default=None, help="default: the latest data")
    ap.add_argument("--think", type=float, default=0.0, help="seconds between requests")
    ap.add_argument(
        "--watch", default="", help="PIDs (comma-separated) whose CPU seconds to report"
    )
    ap.add_argument(
        "--watch-db",
        default="",
        help="a PostgreSQL URL: report the CPU seconds of the backends connected to its database",
    )
    ap.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    duration = min(max(args.duration, 1.0), 120.0)

    with httpx.Client(base_url=args.base, timeout=10) as probe:
        if probe.get("/healthz").text.strip() != "ok":
            raise SystemExit(f"no ansinh server at {args.base}")

    stats = Stats()
    start = threading.Barrier(args.users + 1)
    deadline: dict[str, float] = {"t": float("inf")}  # set once every user has logged in
    threads = [
        threading.Thread(
            target=user,
            args=(
                args.base,
                args.username,
                args.password,
                args.as_of,
                deadline,
                start,
                stats,
                args.think,
            ),
            name=f"user-{i}",
            daemon=True,
        )
        for i in range(args.users)
    ]
    for t in threads:
        t.start()
    start.wait()
    watched = [int(x) for x in args.watch.split(",") if x]
    cpu0 = {pid: cpu_times(pid) for pid in watched}
    pg0 = {pid: cpu_seconds(pid) for pid in pg_backends(args.watch_db)}
    own0, load0 = time.process_time(), loadavg()
    began = time.monotonic()
    deadline["t"] = began + duration
    for t in threads:
        t.join(timeout=duration + 60)
    elapsed = time.monotonic() - began
    own, load1 = time.process_time() - own0, loadavg()
    watched_cpu = {
        pid: [now - before for now, before in zip(cpu_times(pid), cpu0[pid], strict=True)]
        for pid in watched
    }
    # backends that started during the window count from 0; those that ended are lost
    pg_cpu = {pid: cpu_seconds(pid) - pg0.get(pid, 0.0) for pid in pg_backends(args.watch_db)}

    report = {
        "base": args.base,
        "users": args.users,
        "duration_s": round(elapsed, 1),
        "login": args.username,
        "as_of": args.as_of,
        "think_s": args.think,
        "machine": f"{platform.system()} {platform.machine()}, python {platform.python_version()}",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "endpoints": summarise(stats, elapsed),
        # CPU seconds over the measured window (after the logins): this process, and the
        # processes of --watch (the server's, the database backends)
        "generator_cpu_s": round(own, 2),
        "watched_cpu_user_s": round(sum(u for u, _s in watched_cpu.values()), 2),
        "watched_cpu_system_s": round(sum(s for _u, s in watched_cpu.values()), 2),
        "postgres_backends_cpu_s": round(sum(pg_cpu.values()), 2),
        "postgres_backends": len(pg_cpu),
        "load_average": [load0, load1],
        "error_samples": stats.error_samples,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.users} users, think {args.think:g} s, {elapsed:.1f} s against {args.base}")
    print(f"{'endpoint':<12}{'requests':>9}{'errors':>8}{'rps':>8}{'p50':>9}{'p95':>9}{'p99':>9}")
    for name, s in report["endpoints"].items():
        print(
            f"{name:<12}{s['requests']:>9}{s['errors']:>8}{s['rps']:>8}"
            f"{s['p50_ms'] or '-':>9}{s['p95_ms'] or '-':>9}{s['p99_ms'] or '-':>9}"
        )
    print(f"(ms) → {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
