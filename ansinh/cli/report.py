"""`ansinh report progress` — the monthly progress report (SPEC section 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from ansinh.accounts.access import SYSTEM


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
        "--format", choices=["text", "xlsx", "pdf", "docx"], default="text", help=_("định dạng")
    )
    pp.add_argument(
        "--draft",
        action="store_true",
        help=_("DOCX: bản dự thảo, để trống số văn bản (không lấy số từ sổ đăng ký)"),
    )
    pp.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=_(
            "tệp ghi ra (mặc định: văn bản ra màn hình; xlsx/pdf: progress-<đơn vị>-<ngày>; "
            "docx: bao-cao-<đơn vị>-<ngày>-so-<số>-<năm>)"
        ),
    )
    pp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from django.db import transaction
    from django.utils import translation

    from ansinh.cli import CliError
    from ansinh.cli.common import parse_date_arg, resolve_unit
    from ansinh.core.documents import DocumentError
    from ansinh.reports.services import report_filename, report_issue, report_render

    as_of = parse_date_arg(args.as_of, flag="--as-of")
    unit = resolve_unit(args.unit)
    lang = args.lang or ("en" if (translation.get_language() or "vi").startswith("en") else "vi")
    if args.draft and args.format != "docx":
        raise CliError(_("--draft chỉ dùng với --format docx"), code=2)
    number = None
    if args.format != "docx":
        data = report_render(unit=unit, as_of=as_of, lang=lang, fmt=args.format, actor=SYSTEM)
        if args.format == "text" and not args.output:
            sys.stdout.write(data.decode("utf-8"))
            return 0
    try:
        # the number, the render and the file: all or nothing (a file that cannot be written
        # gives no number away)
        with transaction.atomic():
            if args.format == "docx":
                data, number = report_issue(
                    unit=unit, as_of=as_of, lang=lang, actor=SYSTEM, draft=args.draft
                )
            path = Path(
                args.output
                or report_filename(unit=unit, as_of=as_of, fmt=args.format, number=number)
            )
            path.write_bytes(data)
    except DocumentError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(
            _("-o: không ghi được tệp “%(path)s”: %(err)s")
            % {"path": str(args.output or ""), "err": exc.strerror or str(exc)}
        ) from None
    if number is not None:
        sys.stdout.write(
            _("%(path)s: số %(n)s/BC-%(s)s năm %(y)s")
            % {
                "path": path,
                "n": f"{number.number:02d}",
                "s": number.register.symbol,
                "y": number.year,
            }
            + "\n"
        )
    else:
        sys.stdout.write(f"{path}\n")
    return 0
