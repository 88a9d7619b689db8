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
import sqlite3
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ansinh.cli import CliError
from ansinh.core.backup import BackupError, backup_database, pg_args, run_tool, vendor

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


def restore_database(*, path: Path) -> None:
    """Replace the database by the backup at ``path`` (refused unless it is one)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CliError(
            _("Không đọc được tệp %(f)s: %(e)s") % {"f": path, "e": exc.strerror}
        ) from None
    kind = vendor()
    if kind == "sqlite":
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
        args, child_env = pg_args("pg_restore")
        connection.close()
        run_tool(
            [
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                str(path.resolve()),
            ],
            child_env,
        )


def run_backup(args: argparse.Namespace) -> int:
    output = Path(args.output)
    from ansinh.core.formats import fmt_int

    try:
        size = backup_database(output=output)
    except BackupError as exc:
        raise CliError(*exc.lines) from None
    print(_("Đã sao lưu cơ sở dữ liệu vào %(f)s (%(n)s byte)") % {"f": output, "n": fmt_int(size)})
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from ansinh.cli.init import migrate

    path = Path(args.file)
    try:
        restore_database(path=path)
    except BackupError as exc:
        raise CliError(*exc.lines) from None
    migrate()
    print(_("Đã khôi phục cơ sở dữ liệu từ %(f)s") % {"f": path})
    return 0
