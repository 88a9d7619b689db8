"""`ansinh outreach funnel` — what the activities brought in (SPEC sections 1 and 7)."""

from __future__ import annotations

import argparse
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM

FORMATS = ("json", "csv", "table")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("outreach", help=_("hoạt động truyền thông và hiệu quả chuyển đổi"))
    osub = p.add_subparsers(dest="outreach_command", required=True, parser_class=type(p))
    f = osub.add_parser(
        "funnel", help=_("số người tham gia mới do các hoạt động trong kỳ mang lại")
    )
    f.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    f.add_argument("--to", dest="date_to", required=True, metavar="DATE")
    f.add_argument("--unit", default=None, metavar="CODE")
    f.add_argument("--by", choices=("channel", "org", "group"), default="channel")
    f.add_argument("--format", choices=FORMATS, default="json")
    f.set_defaults(func=run_funnel)


def run_funnel(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg, print_csv, print_json, print_table, resolve_unit
    from ansinh.outreach.funnel import ROW_KEYS, funnel, funnel_table_rows

    date_from = parse_date_arg(args.date_from, flag="--from")
    date_to = parse_date_arg(args.date_to, flag="--to")
    if date_from > date_to:
        raise CliError(
            _("--from (%(from)s) phải trước hoặc bằng --to (%(to)s)")
            % {"from": date_from.isoformat(), "to": date_to.isoformat()},
            code=2,
        )
    unit = resolve_unit(args.unit)
    result = funnel(unit=unit, date_from=date_from, date_to=date_to, by=args.by, actor=SYSTEM)
    if args.format == "json":
        print_json(result)
    elif args.format == "csv":
        print_csv(ROW_KEYS, funnel_table_rows(result))
    else:
        header = [
            _("Nhóm"),
            _("Hoạt động"),
            _("Dự kiến"),
            _("Tiếp cận"),
            _("Người dự"),
            _("Báo cáo đăng ký"),
            _("Tham gia mới"),
            _("Tỷ lệ %"),
            _("Chi phí"),
            _("Chi phí/người"),
        ]
        print_table(header, funnel_table_rows(result))
    return 0
