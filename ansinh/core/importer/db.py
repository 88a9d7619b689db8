"""How the importers run SQL on both SQLite and PostgreSQL: positional statements whose rows
are read as tuples (the staging and merge code). The dialect differences themselves — the
database, quoting, ``IS DISTINCT FROM`` — are ``core.sql``'s, re-used here by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from ansinh.core.sql import distinct_op, qn, vendor

__all__ = ["distinct_op", "execute", "qn", "sql", "vendor"]


def sql(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall()) if cur.description else []


def execute(query: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return int(cur.rowcount or 0)
