"""What undoing an import needs, kept while it writes (SPEC section 10): :class:`UndoLog`
copies, per model table a merge writes, the rows it is about to update and the keys it is
about to create, into tables of their own named on the batch. ``ansinh.imports.undo`` reads
them back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ansinh.core.importer.db import execute, qn
from ansinh.core.importer.merge import MergeTarget

UNDO_PREFIX = "ansinh_undo_"


class UndoLog:
    """Kept while one import writes: for each model table it merges into, a copy of the rows
    it is about to update (their values before) and the keys of the rows it is about to
    create — two ``CREATE TABLE … AS SELECT`` per table, whatever the file's size. Stored on
    the batch (``ImportBatch.undo``), read by ``ansinh.imports.undo``."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = int(batch_id)
        self.tables: list[dict[str, Any]] = []

    def save(
        self, *, t: MergeTarget, stg: str, also_changed: str = "", all_new: bool = False
    ) -> None:
        """Before merging ``stg`` into ``t``: the stored rows it changes (``diff`` or
        ``also_changed``, an SQL condition on ``s``, the staged row) and the keys it adds.
        ``all_new``: the counts found none of the staged keys stored and they are distinct
        (a first load), so it changes no row and adds every staged key — no join needed."""
        n = len(self.tables)
        old = f"{UNDO_PREFIX}{self.batch_id}_{n}_old"
        new = f"{UNDO_PREFIX}{self.batch_id}_{n}_new"
        keys = [t.col(k) for k in t.key]
        changed = t.diff_sql("s", "t")
        if also_changed:
            changed = f"({changed} OR {also_changed})"
        k0 = qn(keys[0])
        for name in (old, new):
            execute(f"DROP TABLE IF EXISTS {qn(name)}")
        cols = ", ".join(f"s.{qn(c)} AS {qn(c)}" for c in keys)
        if all_new:
            # (issue 22: the join and DISTINCT over a first load were 10 % of its import)
            execute(f"CREATE TABLE {qn(old)} AS SELECT t.* FROM {qn(t.table)} t WHERE 1 = 0")
            execute(f"CREATE TABLE {qn(new)} AS SELECT {cols} FROM {qn(stg)} s")
        else:
            execute(
                f"CREATE TABLE {qn(old)} AS SELECT t.* FROM {qn(stg)} s "
                f"JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} WHERE {changed}"
            )
            execute(
                f"CREATE TABLE {qn(new)} AS SELECT DISTINCT {cols} FROM {qn(stg)} s "
                f"LEFT JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} WHERE t.{k0} IS NULL"
            )
        index_keys(old, keys)
        index_keys(new, keys)
        self.tables.append({"table": t.table, "key": keys, "old": old, "new": new})


def index_keys(table: str, keys: Sequence[str]) -> None:
    """An index on an undo table's key: the undo's probes (and a later batch's conflict
    check) look rows up by it."""
    execute(f"CREATE INDEX {qn(table + '_key')} ON {qn(table)} ({', '.join(qn(k) for k in keys)})")


def key_match(a: str, b: str, keys: Sequence[str]) -> str:
    return " AND ".join(f"{a}.{qn(k)} = {b}.{qn(k)}" for k in keys)
