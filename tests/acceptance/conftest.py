"""Acceptance checks: the ``ansinh`` command line and the HTTP API driven from outside, on a
scratch database of the suite's engine (a fresh SQLite home, or a scratch PostgreSQL database
on the server the suite runs against when ``ANSINH_DATABASE_URL`` is set), compared with an
independent computation of SPEC section 3 (``tests/acceptance/oracle.py``).

``Site.run`` starts the installed console script (``.venv/bin/ansinh``) as a subprocess;
``Site.many`` runs many commands through the same ``ansinh.cli.main`` in one subprocess (a
Django start costs about a second on the shared 2-core machine)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ANSINH = str(Path(sys.executable).with_name("ansinh"))
REPO = Path(__file__).resolve().parents[2]

# runs each {"args": [...], "env": {...}} of stdin through ansinh.cli.main in this process
MANY = r"""
import contextlib, io, json, os, sys, time
from ansinh.cli import main
calls = json.load(sys.stdin)
out = []
for call in calls:
    for k, v in call.get("env", {}).items():
        os.environ[k] = v
    o, e = io.StringIO(), io.StringIO()
    t0 = time.process_time()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            code = main(call["args"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    for k in call.get("env", {}):
        os.environ.pop(k, None)
    out.append({"code": code, "out": o.getvalue(), "err": e.getvalue(),
                "cpu": time.process_time() - t0})
sys.__stdout__.write(json.dumps(out))
"""


@dataclass
class Result:
    code: int
    out: str
    err: str
    cpu: float = 0.0

    def json(self) -> Any:
        assert self.code == 0, (self.code, self.err)
        return json.loads(self.out)

    def csv(self) -> list[dict[str, str]]:
        assert self.code == 0, (self.code, self.err)
        return list(csv.DictReader(self.out.splitlines()))


def suite_vendor() -> str:
    return "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


class Site:
    """A scratch ``ANSINH_HOME`` (and, on PostgreSQL, a scratch database)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.vendor = suite_vendor()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSINH_")}
        env["ANSINH_HOME"] = str(home / "ansinh-home")  # does not exist yet
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.server: dict[str, Any] = {}
        self.name = ""
        if self.vendor == "postgresql":
            db = settings.DATABASES["default"]
            self.server = dict(
                host=db.get("HOST") or "127.0.0.1",
                port=db.get("PORT") or 5432,
                user=db.get("USER") or "postgres",
                password=db.get("PASSWORD") or None,
            )
            self.name = f"ansinh_acc_{uuid.uuid4().hex[:10]}"
            self._admin(f'CREATE DATABASE "{self.name}"')
            auth = self.server["user"]
            if self.server["password"]:
                auth += f":{self.server['password']}"
            env["ANSINH_DATABASE_URL"] = (
                f"postgresql://{auth}@{self.server['host']}:{self.server['port']}/{self.name}"
            )
        self.env = env
        self.cache: dict[str, Result] = {}

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the site's database (to compare before/after)."""
        if self.vendor == "sqlite":
            import sqlite3

            conn = sqlite3.connect(Path(self.env["ANSINH_HOME"]) / "ansinh.sqlite3", timeout=30)
            try:
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(dbname=self.name, autocommit=True, **self.server) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def fingerprint(self) -> dict[str, Any]:
        """Everything an import may write: row counts and contents of the fact tables."""
        tables = {
            "geography_unit": "code, name, level, parent_id, valid_from, valid_to",
            "geography_population": 'year, unit_id, "group", population',
            "targets_target": "year, unit_id, indicator, target",
            "registry_person": "person_id, full_name, birth_date, sex, phone, household_id",
            "registry_spell": 'person_id, scheme, "group", unit_id, start_date, end_date, '
            "batch_id, row_no",
            "registry_count": 'as_of, unit_id, scheme, "group", participants',
            "core_importbatch": "id",
            "monitoring_kpisnapshot": 'as_of, unit_id, scheme, "group", participants',
        }
        return {
            t: sorted(map(repr, self.query(f"SELECT {cols} FROM {t}")))
            for t, cols in tables.items()
        }

    def run(
        self, *args: str, lang: str | None = None, stdin: str | None = None, **env: str
    ) -> Result:
        """The installed console script, as a user would run it from a shell."""
        e = dict(self.env, **env)
        if lang:
            e["ANSINH_LANG"] = lang
        p = subprocess.run(
            [ANSINH, *args],
            env=e,
            cwd=self.home,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return Result(p.returncode, p.stdout, p.stderr)

    def many(
        self, calls: Sequence[Sequence[str] | tuple[Sequence[str], dict[str, str]]]
    ) -> list[Result]:
        """Several commands in one process (same ``main`` as the console script); answers
        read-only commands already run by ``prefetch`` from its cache."""
        payload = []
        for c in calls:
            if isinstance(c, tuple) and len(c) == 2 and isinstance(c[1], dict):
                payload.append({"args": list(c[0]), "env": c[1]})
            else:
                payload.append({"args": list(c), "env": {}})
        keys = [self._key(c) for c in payload]
        if all(k in self.cache for k in keys):
            return [self.cache[k] for k in keys]
        p = subprocess.run(
            [sys.executable, "-c", MANY],
            env=self.env,
            cwd=self.home,
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert p.returncode == 0, p.stderr[-3000:]
        results = [Result(r["code"], r["out"], r["err"], r["cpu"]) for r in json.loads(p.stdout)]
        if os.environ.get("ACCEPTANCE_TIMINGS"):
            for c, r in sorted(zip(payload, results, strict=True), key=lambda x: -x[1].cpu)[:8]:
                sys.stderr.write(f"{r.cpu:7.3f}s cpu  {' '.join(c['args'])}\n")
        return results

    @staticmethod
    def _key(call: dict[str, Any]) -> str:
        return json.dumps(call, sort_keys=True)

    def prefetch(
        self, calls: Sequence[Sequence[str] | tuple[Sequence[str], dict[str, str]]]
    ) -> None:
        """Run read-only commands of several tests at once (one Django start) and keep their
        results for ``many``."""
        results = self.many(calls)
        for c, r in zip(calls, results, strict=True):
            call = (
                {"args": list(c[0]), "env": c[1]}
                if isinstance(c, tuple) and len(c) == 2 and isinstance(c[1], dict)
                else {"args": list(c), "env": {}}
            )
            self.cache[self._key(call)] = r

    def write(self, name: str, text: str, *, bom: bool = False) -> Path:
        path = self.home / name
        path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
        return path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    try:
        yield s
    finally:
        s.drop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``ansinh serve`` on a free port of the site's database."""

    def __init__(self, site: Site) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [ANSINH, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env=site.env,
            cwd=site.home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        end = time.monotonic() + 90
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"serve ended: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("serve did not answer /healthz")

    def post_file(self, path: str, token: str, name: str, content: bytes) -> tuple[int, bytes]:
        """A multipart/form-data POST with one field ``file``."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        req = urllib.request.Request(self.base + path, data=body, method="POST")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        return self._open(req, token)

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        return self._open(urllib.request.Request(self.base + path), token)

    def _open(self, req: urllib.request.Request, token: str | None) -> tuple[int, bytes]:
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
