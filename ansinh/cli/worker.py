"""`ansinh worker` — run the background jobs (imports, worklist builds, the nightly backup).

``ansinh serve`` (and so ``make demo``) starts one beside the web server; run it alone where
the web server is started some other way (``ANSINH_WORKER=0 ansinh serve`` plus a service for
``ansinh worker``)."""

from __future__ import annotations

import argparse
from typing import Any

from django.utils.translation import gettext_lazy

from ansinh.core.jobs import worker_run


def add_parser(sub: Any) -> None:
    p = sub.add_parser("worker", help=gettext_lazy("chạy các việc nền (nhập tệp, lập danh sách…)"))
    p.add_argument(
        "--batch",
        action="store_true",
        help=gettext_lazy("chạy hết các việc đang chờ rồi dừng"),
    )
    p.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    worker_run(batch=args.batch, parent_pid=args.parent_pid)
    return 0
