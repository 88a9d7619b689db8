"""Jobs outlive the web process, and a crash never leaves stale figures (issue 21 items 2, 3).

Real processes on a scratch database of the suite's engine (``test_import_killed.Scratch``):
the command line, ``ansinh serve`` (gunicorn plus its worker), killed with SIGKILL.

- An import killed at any moment leaves either nothing or everything of it: its spells, its
  batch and its figures (the snapshot refreshed in the same transaction).
- A server killed under a web import: once it is back, the job is ``failed`` with the reason
  within 60 s, nothing of it is written, and the retry runs the kept file to the end.
- Two workers never run one job twice.
- SQLite: API reads with a token keep answering during an import, and a second import from
  the command line waits its turn instead of failing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.test_import_killed import BIG_ROWS, CLI, Scratch, write_files

pytestmark = pytest.mark.django_db(transaction=True)

DATES = ("2025-02-28", "2025-05-31", "2025-09-30")


def expected_hi(date: str, *, big: bool) -> int:
    """HI participants at ``date`` from the files of ``write_files`` (S0..S2 from January;
    B{i} from month 1 + i % 9)."""
    month = int(date[5:7])
    n = 3
    if big:
        n += sum(1 for i in range(BIG_ROWS) if 1 + i % 9 <= month)
    return n


def hi_at(scratch: Scratch, date: str) -> int:
    r = scratch.run("kpi", "--as-of", date, "--format", "json")
    assert r.returncode == 0, r.stderr
    return next(i for i in json.loads(r.stdout)["indicators"] if i["code"] == "hi")["participants"]


def load_base(scratch: Scratch) -> None:
    write_files(scratch.home)
    for args in (
        ("init",),
        ("import", "units", "units.csv"),
        ("import", "participations", "small.csv"),
    ):
        r = scratch.run(*args)
        assert r.returncode == 0, (args, r.stderr)


@pytest.fixture
def scratches(tmp_path: Path) -> Iterator[Any]:
    made: list[Scratch] = []

    def make() -> Scratch:
        home = tmp_path / uuid.uuid4().hex[:8]
        home.mkdir()
        s = Scratch(home)
        made.append(s)
        return s

    try:
        yield make
    finally:
        for s in made:
            s.drop()


def test_import_killed_at_any_moment_leaves_all_or_nothing(scratches: Any) -> None:
    """Kill the import at spread-out moments of its run (the check of the file, the write,
    the snapshot refresh, the commit): each time the figures are exactly those before or
    exactly those after, and the spells agree with them."""
    timing = scratches()
    load_base(timing)
    t0 = time.monotonic()
    r = timing.run("import", "participations", "big.csv")
    full = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert [hi_at(timing, d) for d in DATES] == [expected_hi(d, big=True) for d in DATES]

    outcomes = set()
    for fraction in (0.35, 0.6, 0.8, 0.9, 0.97):
        s = scratches()
        load_base(s)
        proc = s.start("import", "participations", "big.csv")
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        s.settled()
        spells = s.query("SELECT count(*) FROM registry_spell")
        figures = [hi_at(s, d) for d in DATES]
        if spells == 3:
            outcomes.add("nothing")
            assert figures == [expected_hi(d, big=False) for d in DATES], fraction
            assert s.query("SELECT count(*) FROM core_importbatch") == 2
        else:
            outcomes.add("all")
            assert spells == 3 + BIG_ROWS, fraction
            assert figures == [expected_hi(d, big=True) for d in DATES], fraction
        # the figures kept are those a rebuild from the facts gives
        assert s.run("kpi", "--rebuild").returncode == 0
        assert [hi_at(s, d) for d in DATES] == figures
    assert "nothing" in outcomes  # at least one kill landed inside the import


# ---------------------------------------------------------------------------- a live server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``ansinh serve`` (gunicorn and its worker) on a scratch database, in a process group
    of its own so that the test can kill all of it at once."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.token = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--port", str(self.port), "--workers", "1"],
            env=self.scratch.env,
            cwd=self.scratch.home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if self.get("/healthz", auth=False)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("ansinh serve did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        ctype: str = "",
        auth: bool = True,
    ) -> tuple[int, Any]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method
        )
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def get(self, path: str, *, auth: bool = True) -> tuple[int, Any]:
        return self.request("GET", path, auth=auth)

    def upload(self, kind: str, path: Path) -> int:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, answer = self.request(
            "POST",
            f"/api/imports/{kind}",
            body=body,
            ctype=f"multipart/form-data; boundary={boundary}",
        )
        assert status == 200, answer
        return int(answer["job"])

    def wait_job(self, job: int, states: set[str], limit: float = 180) -> dict[str, Any]:
        end = time.monotonic() + limit
        last: Any = None
        while time.monotonic() < end:
            status, last = self.get(f"/api/jobs/{job}")
            if status == 200 and last["status"] in states:
                return dict(last)
            time.sleep(0.25)
        raise AssertionError(f"job {job} never reached {states}: {last}")


@pytest.fixture
def server(scratches: Any) -> Iterator[Server]:
    s = scratches()
    load_base(s)
    r = subprocess.run(
        [sys.executable, "-c", CLI, "user", "add", "tinh", "--role", "province", "--unit", "KH"]
        + ["--password-stdin"],
        env=s.env,
        cwd=s.home,
        input="YenSao-ThapBa-2025\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    srv = Server(s)
    r = s.run("user", "token", "tinh")
    assert r.returncode == 0, r.stderr
    srv.token = r.stdout.strip().split()[-1]
    try:
        yield srv
    finally:
        srv.stop()


def test_server_killed_under_a_web_import_fails_the_job_and_the_retry_completes(
    server: Server,
) -> None:
    s = server.scratch
    server.start()
    job = server.upload("participations", s.home / "big.csv")
    server.wait_job(job, {"running"}, limit=60)
    time.sleep(0.3)
    server.kill()  # the web server and its worker, mid-job
    assert s.query("SELECT count(*) FROM registry_spell") == 3  # nothing of it written

    back = time.monotonic()
    server.start()
    failed = server.wait_job(job, {"failed", "done"}, limit=60)
    assert failed["status"] == "failed"
    assert time.monotonic() - back < 60
    assert "nothing was written" in failed["message"] or "không có gì được ghi" in failed["message"]
    assert s.query("SELECT count(*) FROM registry_spell") == 3
    assert hi_at(s, "2025-09-30") == 3

    status, answer = server.request("POST", f"/api/jobs/{job}/retry")
    assert status == 200, answer
    again = int(answer["job"])
    done = server.wait_job(again, {"done", "failed", "refused"})
    assert done["status"] == "done", done
    assert done["result"]["created"] == BIG_ROWS
    assert [hi_at(s, d) for d in DATES] == [expected_hi(d, big=True) for d in DATES]
    # a job is retried once; the kept upload is gone with the successful run
    assert server.request("POST", f"/api/jobs/{job}/retry")[0] == 404
    assert not list((s.home / "uploads").glob("*big.csv"))


def test_two_workers_never_run_one_job_twice(server: Server) -> None:
    s = server.scratch
    files = []
    for n in range(6):
        f = s.home / f"p{n}.csv"
        f.write_text(
            "person_id,unit_code,scheme,group,start_date\n"
            + "".join(f"W{n}_{i},C{i},hi,household,2025-03-01\n" for i in range(5)),
            encoding="utf-8",
        )
        files.append(f)
    env = {**s.env, "ANSINH_WORKER": "0"}
    s.env = env
    server.start()  # web only: the jobs wait in the queue
    jobs = [server.upload("participations", f) for f in files]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLI, "worker"],
            env=env,
            cwd=s.home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        results = [server.wait_job(j, {"done", "failed", "refused"}) for j in jobs]
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=30)
    assert [r["status"] for r in results] == ["done"] * 6
    assert [r["result"]["created"] for r in results] == [5] * 6
    # each file imported exactly once: one batch and one audit row per job
    assert s.query("SELECT count(*) FROM core_importbatch") == 2 + 6
    assert (
        s.query("SELECT count(*) FROM core_auditevent WHERE action = 'import.participations'")
        == 1 + 6
    )
    assert s.query("SELECT count(*) FROM registry_spell") == 3 + 30
    status, health = server.get("/healthz?full=1", auth=False)
    assert health["database"] == "ok"


def test_sqlite_reads_answer_and_a_second_import_waits_during_an_import(
    server: Server,
) -> None:
    s = server.scratch
    if s.vendor != "sqlite":
        pytest.skip("SQLite's single write lock")
    with (s.home / "more.csv").open("w", encoding="utf-8") as fh:
        fh.write("person_id,unit_code,scheme,group,start_date\n")
        for i in range(2 * BIG_ROWS):
            fh.write(f"M{i:07d},C{i % 10},si_voluntary,freelancer,2025-0{1 + i % 9}-01\n")
    (s.home / "late.csv").write_text(
        "person_id,unit_code,scheme,group,start_date\nL1,C1,ui,employee,2025-02-01\n",
        encoding="utf-8",
    )
    server.start()
    first = s.start("import", "participations", "more.csv")
    time.sleep(1.0)
    second = subprocess.Popen(
        [sys.executable, "-c", CLI, "import", "participations", "late.csv"],
        env=s.env,
        cwd=s.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    answers = []
    while first.poll() is None:
        answers.append(server.get("/api/kpi?as_of=2025-09-30")[0])
        time.sleep(0.05)
    out, err = second.communicate(timeout=300)
    assert first.returncode == 0, first.stderr.read() if first.stderr else ""
    assert answers and set(answers) == {200}, answers
    assert second.returncode == 0, err
    assert "1 created" in out or "tạo mới 1" in out, out
    assert s.query("SELECT count(*) FROM registry_spell") == 3 + 2 * BIG_ROWS + 1
