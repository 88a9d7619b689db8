"""`ansinh demo` — SPEC section 1: init, load the demo province when the database is empty,
print the demo logins, serve the web app."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help=_("khởi tạo, nạp bộ dữ liệu mẫu, in tài khoản dùng thử và chạy web")
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help=_("chỉ nạp và in, không chạy web"))
    p.add_argument(
        "--files",
        metavar="DIR",
        help=_("chỉ ghi các tệp của bộ dữ liệu mẫu (SPEC mục 2) vào DIR rồi dừng"),
    )
    p.add_argument("--seed", type=int, default=2025, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.cli.common import print_table

    if args.files:
        from ansinh.demo.dataset import write_demo

        counts = write_demo(Path(args.files), seed=args.seed)
        for kind, n in counts.items():
            print(_("%(kind)s.csv: %(n)s dòng") % {"kind": kind, "n": n})
        return 0

    from ansinh.cli.init import migrate
    from ansinh.demo.load import (
        DemoError,
        demo_load,
        demo_logins_ensure,
        demo_plan_ensure,
        demo_registers_ensure,
    )
    from ansinh.geography.models import Unit

    migrate()
    fresh = not Unit.objects.exists()
    if not fresh:
        print(_("Cơ sở dữ liệu đã có dữ liệu: không nạp lại bộ dữ liệu mẫu."))
    else:
        print(_("Đang nạp bộ dữ liệu mẫu tỉnh Khánh Hòa …"), flush=True)
        began = time.monotonic()
        try:
            demo_load(seed=args.seed, progress=lambda line: print("  " + line, flush=True))
        except DemoError as exc:
            raise CliError(*exc.lines) from None
        print(_("Đã nạp trong %(s).1f giây.") % {"s": time.monotonic() - began})
    logins = demo_logins_ensure()
    demo_registers_ensure()
    plan = demo_plan_ensure() if fresh else None
    if plan is not None:
        print(
            _("Đã lập dự thảo kế hoạch truyền thông năm %(y)s của tỉnh (%(n)s hoạt động).")
            % {"y": plan.year, "n": plan.items.count()}
        )
    print()
    print(_("Tài khoản dùng thử:"))
    print_table(
        [_("tên đăng nhập"), _("mật khẩu"), _("vai trò"), _("đơn vị"), _("tổ chức")],
        [
            [
                login.username,
                login.password if created or not _password_changed(login) else _("(đã đổi)"),
                login.role,
                login.unit or "",
                login.org or "",
            ]
            for login, created in logins
        ],
    )
    if args.no_serve:
        return 0
    from ansinh.cli.serve import serve

    print(_("Mở http://%(h)s:%(p)s/ trong trình duyệt.") % {"h": args.host, "p": args.port})
    print(flush=True)
    serve(host=args.host, port=args.port)
    return 0


def _password_changed(login: Any) -> bool:
    from ansinh.accounts.models import User

    user = User.objects.filter(username=login.username).first()
    return user is None or not user.check_password(login.password)
