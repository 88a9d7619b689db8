"""`ansinh arrears --as-of DATE [--unit CODE] [--format json|csv|table]` — SPEC section 8."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "arrears", help=_("chậm đóng BHXH, BHYT, BHTN của đơn vị sử dụng lao động (SPEC mục 8)")
    )
    p.add_argument("--as-of", required=True, dest="as_of", metavar="DATE")
    p.add_argument("--unit", default=None, metavar="CODE")
    p.add_argument("--format", choices=["json", "csv", "table"], default="json")
    p.set_defaults(func=run)


HEADER = ["code", "unit", "overdue", "interest", "oldest_period", "months_overdue", "bucket"]


def run(args: argparse.Namespace) -> int:
    from ansinh.arrears.figures import arrears
    from ansinh.cli.common import parse_date_arg, print_csv, print_json, print_table, resolve_unit
    from ansinh.core.formats import fmt_date

    as_of = parse_date_arg(args.as_of, flag="--as-of")
    unit = resolve_unit(args.unit)
    data = arrears(unit=unit, as_of=as_of, actor=SYSTEM)
    if args.format == "json":
        print_json(data)
        return 0
    rows = [[e[k] for k in HEADER] for e in data["employers"]]
    if args.format == "csv":
        print_csv(HEADER, rows)
        return 0
    t = data["totals"]
    day = fmt_date(dt.date.fromisoformat(data["as_of"]))
    print_table(
        [_("chỉ tiêu"), _("giá trị")],
        [
            [_("Ngày"), day],
            [_("Đơn vị"), data["unit"]],
            [_("Số đơn vị chậm đóng"), t["employers"]],
            [_("Số tiền chậm đóng"), t["overdue"]],
            [_("Tiền lãi chậm đóng"), t["interest"]],
            [_("Phải đóng từ đầu năm"), t["due_ytd"]],
            [_("Tỷ lệ nợ (%)"), t["arrears_pct"]],
            [_("Dưới 3 tháng"), t["buckets"]["lt3"]],
            [_("3 đến dưới 6 tháng"), t["buckets"]["3to6"]],
            [_("6 đến dưới 12 tháng"), t["buckets"]["6to12"]],
            [_("Từ 12 tháng trở lên"), t["buckets"]["ge12"]],
        ],
    )
    if rows:
        print("")
        print_table(HEADER, rows)
    return 0
