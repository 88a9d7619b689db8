from __future__ import annotations

import argparse
import atexit
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication

from ansinh.core.machine import usable_cores
from config import env


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help=_("chạy ứng dụng web bằng máy chủ dùng cho vận hành thật (gunicorn)")
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=_("số tiến trình phục vụ (mặc định: số lõi CPU được dùng, tối đa 2)"),
    )
    p.set_defaults(func=run)


def default_workers() -> int:
    """One web process per CPU core this process may run on, at most 2: a process runs Python
    on one core at a time (its 8 threads wait for the database in parallel), and a second one
    on the same core only takes turns with the first — which makes the slowest answers slower
    (issue 22: ``taskset -c 0 ansinh serve``)."""
    return max(1, min(2, usable_cores()))


def serve(*, host: str, port: int, workers: int | None = None) -> None:
    """Gunicorn with threaded workers; static files are served by WhiteNoise.
    Behind a reverse proxy (nginx) that terminates TLS, set ANSINH_HTTPS=1 and forward
    X-Forwarded-Proto; see docs/deploy.md. The job worker (``ansinh worker``) runs beside
    it as a child process unless ANSINH_WORKER=0."""
    # WhiteNoise serves from the finders; an absent STATIC_ROOT only makes it warn at start
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from config.wsgi import application

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or default_workers())
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 300)
            # idle keep-alive connections stay open as a proxy's or browser's would expect;
            # gunicorn's 2 s default races with clients reusing them (dropped requests)
            self.cfg.set("keepalive", 75)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            return application

    if env.worker_in_serve():
        worker_start()
    App().run()


def worker_start() -> subprocess.Popen[bytes]:
    """Start ``ansinh worker`` as a child that stops with this process (and, should this
    process be killed, after the job at hand)."""
    me = os.getpid()
    proc = subprocess.Popen([sys.executable, "-m", "ansinh.cli", "worker", "--parent-pid", str(me)])

    def stop() -> None:
        # gunicorn's forked web workers inherit this handler: only the parent stops the worker
        if os.getpid() == me and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    atexit.register(stop)
    return proc


def run(args: argparse.Namespace) -> int:
    from ansinh.cli.init import migrate

    migrate()
    print(
        _("ansinh: đang phục vụ tại http://%(h)s:%(p)s/") % {"h": args.host, "p": args.port},
        flush=True,
    )
    serve(host=args.host, port=args.port, workers=args.workers)
    return 0
