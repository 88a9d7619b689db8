"""`ansinh register` — the registers of outgoing documents (numbers of plans, reports and
letters; ``ansinh.core.documents``)."""

from __future__ import annotations

import argparse
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM
from ansinh.core.documents import KINDS


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "register", help=_("sổ đăng ký văn bản đi (số kế hoạch, báo cáo, thông báo)")
    )
    s = p.add_subparsers(dest="register_cmd", required=True, parser_class=type(p))
    o = s.add_parser("open", help=_("mở sổ đăng ký văn bản của một đơn vị ban hành"))
    o.add_argument("--unit", required=True, metavar="CODE", help=_("mã BHXH tỉnh hoặc BHXH cơ sở"))
    o.add_argument("--kind", required=True, choices=list(KINDS), help=_("loại văn bản"))
    o.add_argument("--symbol", default="BHXH", help=_("ký hiệu cơ quan sau loại văn bản"))
    o.set_defaults(func=run_open)
    ls = s.add_parser("list", help=_("các số văn bản đã cấp, mới nhất trước"))
    ls.add_argument("--unit", metavar="CODE")
    ls.add_argument("--year", type=int)
    ls.add_argument("--format", choices=["json", "table"], default="table")
    ls.set_defaults(func=run_list)


def run_open(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.cli.common import resolve_unit
    from ansinh.core.documents import DocumentError, register_open

    unit = resolve_unit(args.unit)
    try:
        register = register_open(actor=SYSTEM, unit=unit, kind=args.kind, symbol=args.symbol)
    except DocumentError as exc:
        raise CliError(str(exc)) from None
    print(
        _("Đã mở sổ đăng ký văn bản %(k)s-%(s)s của %(u)s")
        % {"k": register.kind, "s": register.symbol, "u": unit.name}
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ansinh.cli.common import print_json, print_table, resolve_unit
    from ansinh.core.selectors import document_numbers

    unit = resolve_unit(args.unit) if args.unit else None
    rows = document_numbers(unit_codes=[unit.code] if unit else None, year=args.year)
    out = [
        {
            "unit": n.register.unit_id,
            "kind": n.register.kind,
            "year": n.year,
            "number": f"{n.number:02d}/{n.register.kind}-{n.register.symbol}",
            "subject": n.subject,
            "user": n.issued_by_name,
            "at": n.issued_at.isoformat(timespec="seconds"),
        }
        for n in rows
    ]
    if args.format == "json":
        print_json(out)
    else:
        print_table(
            [_("Đơn vị"), _("Năm"), _("Số"), _("Trích yếu"), _("Người cấp"), _("Thời gian")],
            [[r["unit"], r["year"], r["number"], r["subject"], r["user"], r["at"]] for r in out],
        )
    return 0
