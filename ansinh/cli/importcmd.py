"""`ansinh import KIND FILE [--dry-run] [--errors OUT.csv]` — SPEC section 1.

Prints one summary line (on stdout) on success and on refusal; on refusal at most 20 error
lines on stderr, exit 1. ``--errors`` writes every error to a CSV (row,column,value,message)."""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.core.importing import KINDS

SHOWN_ERRORS = 20


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "import", help=gettext_lazy("nhập một tệp CSV hoặc XLSX (tất cả hoặc không gì cả)")
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    p.add_argument("file", metavar="FILE", help=gettext_lazy("tệp CSV (UTF-8) hoặc XLSX"))
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help=gettext_lazy("chỉ kiểm tra và báo cáo, không ghi gì"),
    )
    p.add_argument(
        "--errors",
        metavar="OUT.csv",
        help=gettext_lazy("ghi mọi lỗi vào tệp CSV (row,column,value,message)"),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError
    from ansinh.core.importing import error_count, error_line, errors_csv, summary_line
    from ansinh.monitoring.importing import import_run

    path = pathlib.Path(args.file)
    if not path.is_file():
        raise CliError(
            _("ansinh import: không tìm thấy tệp “%(file)s”") % {"file": args.file}, code=2
        )
    if args.errors:
        # before importing: exit 1 must mean that nothing was written
        try:
            pathlib.Path(args.errors).open("a", encoding="utf-8").close()
        except OSError as exc:
            raise CliError(
                _("--errors: không ghi được tệp “%(file)s”: %(e)s")
                % {"file": args.errors, "e": exc.strerror},
                code=2,
            ) from None
    result = import_run(kind=args.kind, path=path, dry_run=args.dry_run)
    for warning in result.warnings:
        sys.stderr.write(_("cảnh báo: %(w)s") % {"w": warning} + "\n")
    if args.errors:
        try:
            pathlib.Path(args.errors).write_text(
                errors_csv(result.errors, error_count(result)), encoding="utf-8"
            )
        except OSError as exc:
            raise CliError(
                _("--errors: không ghi được tệp “%(file)s”: %(e)s")
                % {"file": args.errors, "e": exc.strerror}
            ) from None
    if result.refused:
        # the summary line on stdout (as on success), then one line per problem on stderr,
        # at most 20 of them (the summary says how many there are; --errors has them all)
        # A script that reads only stderr also sees which file was refused and how badly:
        # the refusal line heads the error lines there too, unless both streams are one
        # terminal (a person would read it twice).
        sys.stdout.write(summary_line(result) + "\n")
        sys.stdout.flush()
        errors = [error_line(e) for e in result.errors[:SHOWN_ERRORS]]
        if not (sys.stdout.isatty() and sys.stderr.isatty()):
            errors.insert(0, summary_line(result))
        raise CliError(*errors, code=1)
    sys.stdout.write(summary_line(result) + "\n")
    if result.dry_run:
        sys.stderr.write(_("chạy thử (--dry-run): không ghi gì vào cơ sở dữ liệu") + "\n")
    return 0
