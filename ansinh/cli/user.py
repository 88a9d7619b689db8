from __future__ import annotations

import argparse
import sys
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM
from ansinh.accounts.models import User


def add_parser(sub: Any) -> None:
    p = sub.add_parser("user", help=_("tài khoản đăng nhập"))
    s = p.add_subparsers(dest="user_cmd", required=True)
    a = s.add_parser("add", help=_("tạo tài khoản đăng nhập"))
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=list(User.Role.values))
    a.add_argument("--unit")
    a.add_argument("--org")
    a.add_argument("--password-stdin", action="store_true")
    a.set_defaults(func=run_add)
    t = s.add_parser("token", help=_("in mã truy cập API (token) của một tài khoản"))
    t.add_argument("name")
    t.set_defaults(func=run_token)


def run_add(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError

    from ansinh.accounts.services import UserError, user_create
    from ansinh.cli import CliError
    from ansinh.cli.init import migrate

    migrate()
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CliError(_("Mật khẩu trống"))
    try:
        user = user_create(
            actor=SYSTEM,
            username=args.name,
            role=args.role,
            unit_code=args.unit,
            org=args.org,
            password=password,
        )
    except ValidationError as exc:
        raise CliError(*[_("Mật khẩu: %(m)s") % {"m": m} for m in exc.messages]) from None
    except UserError as exc:
        msg = str(exc)
        if msg.startswith("exists"):
            raise CliError(_("Tên đăng nhập “%(n)s” đã có") % {"n": args.name}) from None
        if msg.startswith("unit:"):
            raise CliError(_("--unit: không có đơn vị mã “%(c)s”") % {"c": args.unit}) from None
        if msg == "unit required":
            raise CliError(_("Vai trò %(r)s cần --unit") % {"r": args.role}) from None
        if msg == "org required":
            raise CliError(_("Vai trò partner cần --org")) from None
        if msg.startswith("org:"):
            raise CliError(_("--org: không có tổ chức mã “%(c)s”") % {"c": args.org}) from None
        raise CliError(msg) from None
    print(_("Đã tạo tài khoản %(n)s (%(r)s)") % {"n": user.username, "r": user.role})
    return 0


def run_token(args: argparse.Namespace) -> int:
    from ansinh.accounts.models import User
    from ansinh.accounts.services import token_create
    from ansinh.cli import CliError

    user = User.objects.filter(username=args.name).first()
    if user is None:
        raise CliError(_("Không có tài khoản “%(n)s”") % {"n": args.name})
    print(token_create(actor=SYSTEM, user=user))
    return 0
