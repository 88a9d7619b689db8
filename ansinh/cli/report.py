"""`ansinh report progress` — the monthly progress report (SPEC section 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help=_("báo cáo (tiến độ hằng tháng)"))
    rsub = p.add_subparsers(dest="report", required=True, parser_class=type(p))
    pp = rsub.add_parser(
        "progress", help=_("báo cáo tiến độ phát triển người tham gia so với kế hoạch năm")
    )
    pp.add_argument("--as-of", required=True, metavar="DATE", help=_("ngày số liệu (YYYY-MM-DD)"))
    pp.add_argument("--unit", metavar="CODE", help=_("mã đơn vị (mặc định: tỉnh)"))
    pp.add_argument("--lang", choices=["vi", "en"], help=_("ngôn ngữ (mặc định: ANSINH_LANG)"))
    pp.add_argument(
        "--format", choices=["text", "xlsx", "pdf"], default="text", help=_("định dạng")
    )
    pp.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=_("tệp ghi ra (mặc định: văn bản ra màn hình; xlsx/pdf: progress-<đơn vị>-<ngày>)"),
    )
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
