"""`ansinh report progress` — the monthly progress report (SPEC section 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="reports (progress)")
    rsub = p.add_subparsers(dest="report", required=True, parser_class=type(p))
    pp = rsub.add_parser("progress", help="the monthly progress report")
    pp.add_argument("--as-of", required=True, metavar="DATE")
    pp.add_argument("--unit", metavar="CODE")
    pp.add_argument("--lang", choices=["vi", "en"])
    pp.add_argument("--format", choices=["text", "xlsx", "pdf"], default="text")
    pp.add_argument("-o", "--output", metavar="FILE")
    pp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from django.utils import translation

    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg, resolve_unit
    from ansinh.reports.services import report_filename, report_render

    as_of = parse_date_arg(args.as_of, flag="--as-of")
    unit = resolve_unit(args.unit)
    lang = args.lang or ("en" if (translation.get_language() or "vi").startswith("en") else "vi")
    data = report_render(unit=unit, as_of=as_of, lang=lang, fmt=args.format, actor=None)
    if args.format == "text" and not args.output:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    path = Path(args.output or report_filename(unit=unit, as_of=as_of, fmt=args.format))
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(
            _("-o: không ghi được tệp “%(path)s”: %(err)s")
            % {"path": str(path), "err": exc.strerror or str(exc)}
        ) from None
    sys.stdout.write(f"{path}\n")
    return 0
