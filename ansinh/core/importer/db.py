"""How the importers run SQL on both SQLite and PostgreSQL: positional statements whose rows
are read as tuples (the staging and merge code). The dialect differences themselves — the
database, quoting, ``IS DISTINCT FROM`` — are ``core.sql``'s, re-used here by name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

from ansinh.core.sql import distinct_op, qn, vendor

__all__ = ["distinct_op", "execute", "import_memory", "qn", "sql", "vendor"]


def sql(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall()) if cur.description else []


def execute(query: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return int(cur.rowcount or 0)


# SQLite, while an import runs (issue 22: peak memory < 1 GiB at scale 1.0): the staging
# tables, the undo copies' sorts and every spill go to a temporary file (the system's temp
# directory, SQLITE_TMPDIR) instead of RAM, with a smaller page cache and no memory map;
# the connection's own settings (config/settings.py: for the pages) come back afterwards
IMPORT_PRAGMAS = {"temp_store": "FILE", "cache_size": "-65536", "mmap_size": "0"}


@contextmanager
def import_memory() -> Iterator[None]:
    """Around one import on SQLite (outside a transaction: changing ``temp_store`` drops the
    connection's temporary tables): :data:`IMPORT_PRAGMAS`, then the settings before."""
    if vendor() != "sqlite" or connection.in_atomic_block:
        yield
        return
    before: dict[str, Any] = {}
    for name in IMPORT_PRAGMAS:
        rows = sql(f"PRAGMA {name}")  # (no mmap_size of an in-memory database)
        if rows:
            before[name] = rows[0][0]
    for name in before:
        execute(f"PRAGMA {name} = {IMPORT_PRAGMAS[name]}")
    try:
        yield
    finally:
        if not connection.in_atomic_block and connection.connection is not None:
            for name, value in before.items():
                execute(f"PRAGMA {name} = {value}")
