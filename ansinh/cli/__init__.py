"""The ``ansinh`` console script: parses, calls services, prints (SPEC section 1).

Each command is a module of this package with ``add_parser(subparsers)`` and ``run(args)``.
Exit codes: 0 done; 1 input refused (nothing written); 2 wrong usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS = [
    "init",
    "demo",
    "serve",
    "worker",
    "generate",
    "importcmd",
    "units",
    "kpi",
    "report",
    "plan",
    "outreach",
    "arrears",
    "worklists",
    "reminders",
    "user",
    "register",
    "backup",
]


# commands that never open the database (the others create it on first use)
NO_DATABASE = frozenset({"generate"})


class CliError(Exception):
    """Refused input: each line of ``lines`` goes to stderr; exit code 1 (or ``code``)."""

    def __init__(self, *lines: str, code: int = 1) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.utils import translation

    from config import env

    translation.activate(env.lang())


def build_parser() -> argparse.ArgumentParser:
    from django.utils.translation import gettext as _

    parser = _Parser(
        prog="ansinh", description=_("ansinh — nền tảng phát triển người tham gia BHXH, BHYT")
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"ansinh.cli.{name}")
        module.add_parser(sub)
    return parser


def _unusable_setting(exc: Exception) -> int:
    """A bad ``ANSINH_DATABASE_URL`` or an unusable ``ANSINH_HOME`` stops Django's set-up:
    one line in the user's words (Django's translations are not loaded yet), exit 2."""
    from config import env

    if os.environ.get("ANSINH_TRACEBACK"):
        raise exc
    what = (
        "unusable settings (ANSINH_DATABASE_URL, ANSINH_HOME)"
        if env.lang() == "en"
        else "thiết lập không dùng được (ANSINH_DATABASE_URL, ANSINH_HOME)"
    )
    sys.stderr.write(f"ansinh: {what}: {type(exc).__name__}: {exc}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    try:
        setup_django()  # before the parsers: their help texts are translated
    except Exception as exc:
        return _unusable_setting(exc)
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_django()
    try:
        if args.command not in NO_DATABASE:
            from ansinh.cli.init import ensure_database

            ensure_database()
        rc = int(args.func(args) or 0)
    except CliError as exc:
        for line in exc.lines:
            sys.stderr.write(line + "\n")
        rc = exc.code
    except KeyboardInterrupt:
        rc = 130
    except BrokenPipeError:
        rc = 0
    except Exception as exc:  # never a traceback for the user
        from django.db import Error as DbError

        if isinstance(exc, DbError):
            from django.utils.translation import gettext as _

            sys.stderr.write(_("ansinh: lỗi cơ sở dữ liệu: %(e)s") % {"e": exc} + "\n")
        else:
            sys.stderr.write(f"ansinh: {type(exc).__name__}: {exc}\n")
        if os.environ.get("ANSINH_TRACEBACK"):
            raise
        rc = 1
    sys.stdout.flush()
    return rc


def run() -> None:
    raise SystemExit(main())
