"""`ansinh backup -o FILE` and `ansinh restore FILE` — a copy of the whole database.

- SQLite (the embedded default): SQLite's online backup API (``sqlite3.Connection.backup``),
  safe while the web app is serving; the copy is an ordinary SQLite file.
- PostgreSQL: ``pg_dump -Fc`` and ``pg_restore --clean --if-exists --single-transaction``;
  the PostgreSQL client programs (Debian: ``postgresql-client``) must be on the PATH, at the
  server's major version or newer. Stop the web app while restoring.

Restore refuses (exit 1, nothing changed) a file that is not a backup of the same kind of
database; after a restore the schema is migrated to this version of ansinh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backup", help=gettext_lazy("sao lưu toàn bộ cơ sở dữ liệu vào một tệp"))
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help=gettext_lazy("tệp sao lưu")
    )
    p.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help=gettext_lazy("khôi phục cơ sở dữ liệu từ một tệp sao lưu"))
    r.add_argument("file", metavar="FILE", help=gettext_lazy("tệp sao lưu (từ ansinh backup)"))
    r.set_defaults(func=run_restore)


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def _pg_args(tool: str) -> tuple[list[str], dict[str, str]]:
    from django.db import connection

    from ansinh.cli import CliError

    exe = shutil.which(tool)
    if exe is None:
        raise CliError(
            _("Không tìm thấy chương trình %(tool)s: hãy cài gói postgresql-client")
            % {"tool": tool}
        )
    s = connection.settings_dict
    args = [exe, "--dbname", str(s["NAME"])]
    if s.get("HOST"):
        args += ["--host", str(s["HOST"])]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", str(s["USER"])]
    child_env = dict(os.environ)  # the child needs PATH, locale; the password goes by env
    if s.get("PASSWORD"):
        child_env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, child_env


def _run_tool(args: list[str], env: dict[str, str]) -> None:
    from ansinh.cli import CliError

    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()][-5:]
        raise CliError(
            _("%(tool)s thất bại (mã %(rc)s)")
            % {"tool": Path(args[0]).name, "rc": proc.returncode},
            *lines,
        )


def backup_database(*, output: Path) -> int:
    """Write a copy of the database to ``output``; returns its size in bytes."""
    from django.db import connection

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_name(output.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if _vendor() == "sqlite":
            connection.ensure_connection()
            src = connection.connection
            dst = sqlite3.connect(str(part))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
        else:
            args, env = _pg_args("pg_dump")
            _run_tool([*args, "--format=custom", "--no-owner", "--file", str(part)], env)
        os.replace(part, output)
    finally:
        part.unlink(missing_ok=True)
    return output.stat().st_size


def restore_database(*, path: Path) -> None:
    """Replace the database by the backup at ``path`` (refused unless it is one)."""
    from django.db import connection

    from ansinh.cli import CliError

    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CliError(
            _("Không đọc được tệp %(f)s: %(e)s") % {"f": path, "e": exc.strerror}
        ) from None
    vendor = _vendor()
    if vendor == "sqlite":
        if head != SQLITE_MAGIC:
            raise CliError(_("%(f)s không phải bản sao lưu SQLite của ansinh") % {"f": path.name})
        src = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            has_schema = src.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'django_migrations'"
            ).fetchone()[0]
            if not ok or not has_schema:
                raise CliError(
                    _("%(f)s không phải bản sao lưu SQLite của ansinh") % {"f": path.name}
                )
            connection.ensure_connection()
            src.backup(connection.connection)
        except sqlite3.DatabaseError as exc:
            raise CliError(
                _("%(f)s không phải bản sao lưu SQLite của ansinh (%(e)s)")
                % {"f": path.name, "e": exc}
            ) from None
        finally:
            src.close()
    else:
        if not head.startswith(PG_MAGIC):
            raise CliError(
                _("%(f)s không phải bản sao lưu PostgreSQL (pg_dump -Fc) của ansinh")
                % {"f": path.name}
            )
        args, env = _pg_args("pg_restore")
        connection.close()
        _run_tool(
            [
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                str(path.resolve()),
            ],
            env,
        )


def run_backup(args: argparse.Namespace) -> int:
    output = Path(args.output)
    from ansinh.core.formats import fmt_int

    size = backup_database(output=output)
    print(_("Đã sao lưu cơ sở dữ liệu vào %(f)s (%(n)s byte)") % {"f": output, "n": fmt_int(size)})
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from ansinh.cli.init import migrate

    path = Path(args.file)
    restore_database(path=path)
    migrate()
    print(_("Đã khôi phục cơ sở dữ liệu từ %(f)s") % {"f": path})
    return 0
