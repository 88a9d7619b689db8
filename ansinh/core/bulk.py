"""Bulk-load helpers shared by importers (SQLite and PostgreSQL).

A first load (or any load at least as big as what the table holds) writes faster without the
table's secondary indexes: maintaining four B-trees row by row for millions of rows in random
order costs several times more than building each once, sorted, afterwards. Unique indexes and
the indexes behind constraints stay (``ON CONFLICT`` needs the natural key). On PostgreSQL the
table's foreign keys are dropped too and added back after the load: adding one checks every
row in one join, where a kept one fires a trigger per row (about half the load's time). Everything runs
inside the import's transaction, so a failed or killed import leaves the indexes as they were.
On PostgreSQL ``DROP INDEX`` holds an exclusive lock on the table until the import commits:
readers of that table wait for a first load instead of reading a half-indexed table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from ansinh.core.importer.db import execute, qn, sql, vendor

# below this many rows the indexes are kept (dropping and building costs more)
MIN_ROWS = 200_000


def table_rows(table: str) -> int:
    """About how many rows ``table`` holds (PostgreSQL: the planner's estimate)."""
    if vendor() == "postgresql":
        rows = sql("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return max(int(rows[0][0]), 0) if rows else 0
    rows = sql(f"SELECT MAX(rowid) FROM {qn(table)}")
    return int(rows[0][0] or 0) if rows else 0


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's plain, non-unique indexes."""
    if vendor() == "postgresql":
        return [
            (str(name), str(ddl))
            for name, ddl in sql(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                "ORDER BY c.relname",
                [table],
            )
        ]
    return [
        (str(name), str(ddl))
        for name, ddl in sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%%' ORDER BY name",
            [table],
        )
    ]


def _constraints(table: str, *, kind: str, where: str = "") -> list[tuple[str, str]]:
    """PostgreSQL: (name, definition) of the table's constraints of ``kind`` (pg_constraint's
    contype); SQLite's are part of the table and cannot be dropped without rebuilding it."""
    if vendor() != "postgresql":
        return []
    return [
        (str(name), str(ddl))
        for name, ddl in sql(
            "SELECT k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            f"WHERE k.conrelid = %s::regclass AND k.contype = %s {where} ORDER BY k.conname",
            [table, kind],
        )
    ]


def unique_constraints(table: str) -> list[tuple[str, str]]:
    """The table's UNIQUE constraints that no foreign key relies on (PostgreSQL)."""
    return _constraints(
        table,
        kind="u",
        where="AND NOT EXISTS (SELECT 1 FROM pg_constraint f "
        "WHERE f.contype = 'f' AND f.conindid = k.conindid)",
    )


def foreign_keys(table: str) -> list[tuple[str, str]]:
    """The table's foreign keys (PostgreSQL)."""
    return _constraints(table, kind="f")


@contextmanager
def indexes_deferred(
    model: type[models.Model], *, rows: int, unique: bool = False
) -> Iterator[bool]:
    """Inside the caller's transaction: drop ``model``'s secondary indexes when ``rows`` new
    rows are at least as many as the table holds (and at least MIN_ROWS), and build them again
    on leaving. Yields whether they were dropped.

    ``unique``: the caller writes only rows whose keys are new and distinct (a plain INSERT,
    no ON CONFLICT), so on PostgreSQL the UNIQUE constraints go too and come back checked by
    one sorted build (the natural key's B-tree kept row by row was ~60 % of a first load)."""
    table = model._meta.db_table
    if rows < MIN_ROWS or rows < table_rows(table):
        yield False
        return
    defs = secondary_indexes(table)
    fks = foreign_keys(table)
    uniques = unique_constraints(table) if unique else []
    if vendor() == "postgresql":
        execute("SET LOCAL maintenance_work_mem = '512MB'")
        # the deferred checks of rows written earlier in this transaction run now (they would
        # at commit): PostgreSQL alters no table with pending trigger events
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute("SET CONSTRAINTS ALL DEFERRED")
    for name, _ddl in [*fks, *uniques]:
        execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
    for name, _ddl in defs:
        execute(f"DROP INDEX {qn(name)}")
    yield bool(defs or fks or uniques)
    # the foreign keys come back checked by one set-based join instead of a trigger per row
    for name, ddl in [*uniques, *fks]:
        execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {ddl}")
    for _name, ddl in defs:
        execute(ddl)
    if vendor() == "postgresql":
        # fresh statistics for the snapshot refresh that follows in the same job
        execute(f"ANALYZE {qn(table)}")


__all__ = ["indexes_deferred", "secondary_indexes", "table_rows", "unique_constraints"]
