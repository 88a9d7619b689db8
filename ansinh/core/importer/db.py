"""The SQL helpers the importers use on both SQLite and PostgreSQL (the dialect differences
of the import framework; ``core.sql`` is their place once it exists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def vendor() -> str:
    return connection.vendor


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def sql(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall()) if cur.description else []


def execute(query: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(query, params)
        return int(cur.rowcount or 0)


def distinct_op() -> str:
    return "IS DISTINCT FROM" if vendor() == "postgresql" else "IS NOT"
