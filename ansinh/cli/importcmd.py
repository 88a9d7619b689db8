"""`ansinh import …` — SPEC sections 1 and 10.

- ``import KIND FILE [--dry-run] [--preview [--format json]] [--errors OUT.csv]``: one summary
  line (on stdout) on success and on refusal; on refusal at most 20 error lines on stderr,
  exit 1. ``--errors`` writes the errors to a CSV (row,column,value,message). ``--preview``
  validates, then prints the province's figures before and after without writing.
- ``import list [--format json|table]``: the batches, newest first.
- ``import undo BATCH``: reverse one batch.
- ``import template KIND [--lang vi|en] -o FILE.xlsx``: an XLSX template."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.accounts.access import SYSTEM
from ansinh.core.formats import fmt_int
from ansinh.core.importer.columns import KIND_LABELS
from ansinh.imports.kinds import KINDS
from ansinh.imports.messages import error_count, error_line, errors_csv, summary_line
from ansinh.imports.preview import preview_lines
from ansinh.imports.run import import_run
from ansinh.imports.selectors import import_list
from ansinh.imports.template_files import template_xlsx
from ansinh.imports.undo import UndoRefused, import_undo

SHOWN_ERRORS = 20
ACTIONS = ("list", "undo", "template")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help=gettext_lazy("nhập một tệp CSV hoặc XLSX (tất cả hoặc không gì cả)"),
        description=_(
            "ansinh import KIND FILE | import list | import undo BATCH | "
            "import template KIND --lang vi|en -o FILE.xlsx"
        ),
    )
    p.add_argument(
        "kind",
        choices=(*KINDS, *ACTIONS),
        metavar="KIND",
        help=", ".join(KINDS) + " | " + ", ".join(ACTIONS),
    )
    p.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help=gettext_lazy("tệp CSV (UTF-8) hoặc XLSX; với undo: số lần nhập; với template: KIND"),
    )
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help=gettext_lazy("chỉ kiểm tra và báo cáo, không ghi gì"),
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help=gettext_lazy("kiểm tra rồi cho biết số liệu của tỉnh thay đổi thế nào, không ghi gì"),
    )
    p.add_argument(
        "--errors",
        metavar="OUT.csv",
        help=gettext_lazy("ghi mọi lỗi vào tệp CSV (row,column,value,message)"),
    )
    p.add_argument("--format", choices=("json", "table", "text"), default=None)
    p.add_argument("--lang", choices=("vi", "en"), default=None)
    p.add_argument("-o", "--output", metavar="FILE.xlsx", default=None)
    p.set_defaults(func=run)


def _say_waiting() -> None:
    sys.stderr.write(_("Đang chờ một lần nhập khác chạy xong…") + "\n")
    sys.stderr.flush()


def _usage(message: str) -> Any:
    from ansinh.cli import CliError

    return CliError(f"ansinh import: {message}", code=2)


def run(args: argparse.Namespace) -> int:
    if args.kind == "list":
        return _list(args)
    if args.kind == "undo":
        return _undo(args)
    if args.kind == "template":
        return _template(args)
    return _import(args)


def _list(args: argparse.Namespace) -> int:
    if args.file:
        raise _usage(_("import list không nhận thêm đối số"))
    rows = import_list(actor=SYSTEM)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    states = _states()
    head = [
        _("Số"),
        _("Loại"),
        _("Tệp"),
        _("Số dòng"),
        _("Người nhập"),
        _("Thời điểm"),
        _("Trạng thái"),
    ]
    table = [
        [
            str(r["id"]),
            str(KIND_LABELS.get(r["kind"], r["kind"])),
            r["file"],
            fmt_int(r["rows"]),
            r["user"] or "cli",
            (r["at"] or "")[:16].replace("T", " "),
            states.get(r["state"], r["state"]),
        ]
        for r in rows
    ]
    widths = [
        max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(head)
    ]
    for line in [head, *table]:
        sys.stdout.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(line)).rstrip() + "\n")
    return 0


def _states() -> dict[str, str]:
    return {"done": _("Đã nhập"), "refused": _("Bị từ chối"), "undone": _("Đã hoàn tác")}


def _undo(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError

    if not args.file or not args.file.isdigit():
        raise _usage(_("cần số của lần nhập: ansinh import undo BATCH"))
    try:
        out = import_undo(batch_id=int(args.file), actor=SYSTEM)
    except UndoRefused as exc:
        raise CliError(f"ansinh import undo: {exc}", code=1) from None
    sys.stdout.write(
        _("lần nhập số %(n)s (%(kind)s) đã hoàn tác: xóa %(d)s dòng, khôi phục %(r)s dòng")
        % {"n": out["id"], "kind": out["kind"], "d": out["deleted"], "r": out["restored"]}
        + "\n"
    )
    return 0


def _template(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError

    if args.file not in KINDS:
        raise _usage(_("cần loại dữ liệu: ansinh import template KIND -o FILE.xlsx"))
    if not args.output:
        raise _usage(_("cần tệp ghi ra: -o FILE.xlsx"))
    lang = args.lang or ("en" if _english() else "vi")
    body = template_xlsx(args.file, lang=lang)
    try:
        pathlib.Path(args.output).write_bytes(body)
    except OSError as exc:
        raise CliError(
            _("-o: không ghi được tệp “%(file)s”: %(e)s")
            % {"file": args.output, "e": exc.strerror},
            code=1,
        ) from None
    return 0


def _english() -> bool:
    from django.utils import translation

    return (translation.get_language() or "vi").startswith("en")


def _import(args: argparse.Namespace) -> int:
    from ansinh.cli import CliError

    if not args.file:
        raise _usage(_("cần tệp: ansinh import KIND FILE"))
    if args.preview and args.dry_run:
        raise _usage(_("--preview đã là chạy thử: không dùng cùng --dry-run"))
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
    result = import_run(
        kind=args.kind,
        path=path,
        dry_run=args.dry_run,
        preview=args.preview,
        on_wait=_say_waiting,
        actor=SYSTEM,
    )
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
    if args.preview and result.preview is not None:
        preview = {k: v for k, v in result.preview.items() if k != "confirm"}
        if args.format == "json":
            sys.stdout.write(json.dumps(preview, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(summary_line(result) + "\n")
            for line in preview_lines(preview):
                sys.stdout.write(line + "\n")
            if result.preview.get("confirm"):
                sys.stderr.write(
                    _("cảnh báo: có loại hình thay đổi quá 10 %: hãy kiểm tra lại tệp") + "\n"
                )
        sys.stderr.write(_("xem trước (--preview): không ghi gì vào cơ sở dữ liệu") + "\n")
        return 0
    sys.stdout.write(summary_line(result) + "\n")
    if result.dry_run:
        sys.stderr.write(_("chạy thử (--dry-run): không ghi gì vào cơ sở dữ liệu") + "\n")
    return 0
