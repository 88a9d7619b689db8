"""`ansinh plan build` — draft the communication plan of SPEC section 6 from the gaps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

FORMATS = ("json", "xlsx", "docx")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("plan", help=_("kế hoạch truyền thông"))
    psub = p.add_subparsers(dest="plan_command", required=True, parser_class=type(p))
    b = psub.add_parser(
        "build", help=_("lập dự thảo kế hoạch truyền thông từ số còn thiếu so với chỉ tiêu")
    )
    b.add_argument("--year", type=int, required=True, metavar="Y")
    b.add_argument("--as-of", dest="as_of", default=None, metavar="DATE")
    b.add_argument("--unit", default=None, metavar="CODE")
    b.add_argument("--format", choices=FORMATS, default="json")
    b.add_argument("-o", "--output", default=None, metavar="FILE")
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg, print_json, resolve_unit
    from ansinh.outreach import exports
    from ansinh.outreach.planning import (
        PlanError,
        default_as_of,
        draft_dict,
        plan_compute,
        warning_label,
    )

    if not 2000 <= args.year <= 2100:
        raise CliError(_("--year: năm không hợp lệ “%(y)s”") % {"y": args.year}, code=2)
    if args.as_of:
        as_of = parse_date_arg(args.as_of, flag="--as-of")
        if as_of.year > args.year:
            raise CliError(
                _("--as-of %(d)s đã sau năm kế hoạch %(y)s (--year)")
                % {"d": as_of.isoformat(), "y": args.year},
                code=2,
            )
    else:
        as_of = default_as_of(args.year)
    unit = resolve_unit(args.unit)
    try:
        items, by_unit, warnings = plan_compute(unit=unit, year=args.year, as_of=as_of)
    except PlanError as exc:
        raise CliError(str(exc)) from None
    data = draft_dict(
        unit=unit, year=args.year, as_of=as_of, items=items, by_unit=by_unit, warnings=warnings
    )

    if args.format == "json":
        if args.output:
            import json

            Path(args.output).write_text(json.dumps(data, ensure_ascii=False) + "\n", "utf-8")
        else:
            print_json(data)
        return 0
    meta = exports.PlanMeta.from_draft(
        unit=unit, data=data, warnings=[warning_label(w) for w in warnings]
    )
    content = (
        exports.plan_xlsx(data, meta=meta)
        if args.format == "xlsx"
        else exports.plan_docx(data, meta=meta)
    )
    out = Path(args.output or f"ke-hoach-{unit.code}-{args.year}.{args.format}")
    out.write_bytes(content)
    sys.stdout.write(
        _("Đã ghi %(path)s: %(n)s hoạt động") % {"path": out, "n": len(data["items"])} + "\n"
    )
    return 0
