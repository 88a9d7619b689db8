"""Copies of the whole database: ``ansinh backup`` and the nightly backup job (kept
``ANSINH_BACKUP_KEEP`` days in ``ANSINH_HOME/backups``).

- SQLite (the embedded default): SQLite's online backup API (``sqlite3.Connection.backup``),
  safe while the web app is serving; the copy is an ordinary SQLite file.
- PostgreSQL: ``pg_dump -Fc``; the PostgreSQL client programs (Debian: ``postgresql-client``)
  must be on the PATH, at the server's major version or newer.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.core import sql
from config import env


class BackupError(Exception):
    """A backup tool failed or is missing: the lines say why, in the user's words."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def vendor() -> str:
    return sql.vendor()


def pg_args(tool: str) -> tuple[list[str], dict[str, str]]:
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(
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


def run_tool(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()][-5:]
        raise BackupError(
            _("%(tool)s thất bại (mã %(rc)s)")
            % {"tool": Path(args[0]).name, "rc": proc.returncode},
            *lines,
        )


def backup_database(*, output: Path) -> int:
    """Write a copy of the database to ``output``; returns its size in bytes."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_name(output.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if vendor() == "sqlite":
            connection.ensure_connection()
            src = connection.connection
            dst = sqlite3.connect(str(part))
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
        else:
            args, child_env = pg_args("pg_dump")
            run_tool([*args, "--format=custom", "--no-owner", "--file", str(part)], child_env)
        os.replace(part, output)
    finally:
        part.unlink(missing_ok=True)
    return output.stat().st_size


def backup_nightly(*, keep_days: int | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Write today's backup into ``ANSINH_HOME/backups`` and delete those older than
    ``keep_days`` (default ``ANSINH_BACKUP_KEEP``, 7). Returns the file, its size and the
    files removed."""
    keep = env.backup_keep_days() if keep_days is None else keep_days
    today = today or timezone.localdate()
    folder = env.home() / "backups"
    suffix = ".sqlite3" if vendor() == "sqlite" else ".pgdump"
    out = folder / f"ansinh-{today.isoformat()}{suffix}"
    size = backup_database(output=out)
    removed = []
    for old in sorted(folder.glob("ansinh-*")):
        day = old.name[len("ansinh-") : len("ansinh-") + 10]
        try:
            when = dt.date.fromisoformat(day)
        except ValueError:
            continue
        if (today - when).days >= keep:
            old.unlink(missing_ok=True)
            removed.append(old.name)
    return {"file": out.name, "bytes": size, "removed": removed}
