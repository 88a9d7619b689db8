"""Staging: the temporary tables clean rows go to before the merge (COPY on PostgreSQL,
``executemany`` on SQLite), and :class:`KeyTracker`, which finds keys repeated in a file."""

from __future__ import annotations

import array
import json
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import connection

from ansinh.core.importer.db import qn, sql, vendor
from ansinh.core.importer.rows import MAX_ERRORS

_TYPES = {
    "postgresql": {
        "text": "text",
        "date": "date",
        "int": "bigint",
        "num": "numeric(14,2)",
        "json": "jsonb",
    },
    "sqlite": {"text": "TEXT", "date": "TEXT", "int": "INTEGER", "num": "NUMERIC", "json": "TEXT"},
}


_ROW_NO = operator.itemgetter(0)


class Staging:
    """A temporary table of clean rows; ``row_no`` is always the first column."""

    def __init__(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        self.name = name
        self.columns = [("row_no", "int"), *columns]
        self.names = [c for c, _t in self.columns]

    def create(self) -> None:
        types = _TYPES[vendor()]
        cols = ", ".join(f"{qn(c)} {types[t]}" for c, t in self.columns)
        suffix = " ON COMMIT DROP" if vendor() == "postgresql" else ""
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {qn(self.name)}")
            cur.execute(f"CREATE TEMP TABLE {qn(self.name)} ({cols}){suffix}")

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = ", ".join(qn(c) for c in self.names)
        if vendor() == "postgresql":
            raw = connection.connection
            with raw.cursor() as cur:
                with cur.copy(f"COPY {qn(self.name)} ({cols}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
        else:
            marks = ", ".join("?" for _c in self.names)
            connection.connection.executemany(
                f"INSERT INTO {qn(self.name)} ({cols}) VALUES ({marks})", rows
            )

    def analyze(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {qn(self.name)}")

    def drop(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {qn(self.name)}")


class KeyTracker:
    """Finds keys that repeat inside a file without keeping the keys in memory: one 8-byte
    hash and one row number per row, sorted once at the end; the few candidates are then
    verified against the staged keys in SQL (so a hash collision is never reported)."""

    def __init__(self, stg: Staging, key_cols: Sequence[str]) -> None:
        self.stg = stg
        self.key_cols = list(key_cols)
        self.getter = operator.itemgetter(*(stg.names.index(c) for c in key_cols))
        self.hashes = array.array("q")
        self.rows = array.array("q")

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        self.hashes.extend(map(hash, map(self.getter, rows)))
        self.rows.extend(map(_ROW_NO, rows))

    def _candidates(self) -> list[int]:
        if len(self.hashes) < 2:
            return []
        h = np.frombuffer(self.hashes, dtype=np.int64)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        same = np.nonzero(hs[1:] == hs[:-1])[0]
        if not len(same):
            return []
        pos = np.unique(np.concatenate([same, same + 1]))
        rows = np.frombuffer(self.rows, dtype=np.int64)[order[pos]]
        return sorted(int(r) for r in rows)

    def candidate_rows(self, cols: Sequence[str]) -> list[tuple]:
        """(row_no, *cols) of the staged rows whose key hash repeats, in file order; the
        hashes are released (called once, at the end)."""
        cand = self._candidates()
        self.hashes, self.rows = array.array("q"), array.array("q")
        if not cand:
            return []
        tmp = Staging(f"{self.stg.name}_dup", [])
        tmp.create()
        tmp.insert([(r,) for r in cand])
        names = ", ".join(f"s.{qn(c)}" for c in cols)
        found = sql(
            f"SELECT s.row_no, {names} FROM {qn(self.stg.name)} s "
            f"WHERE s.row_no IN (SELECT row_no FROM {qn(tmp.name)}) ORDER BY s.row_no"
        )
        tmp.drop()
        return list(found)

    def duplicates(self, limit: int = MAX_ERRORS) -> list[tuple[int, int, tuple]]:
        """(row_no, first row_no with the same key, key) for every repeat, in file order."""
        found = self.candidate_rows(self.key_cols)
        first: dict[tuple, int] = {}
        out: list[tuple[int, int, tuple]] = []
        for row_no, *key in found:
            k = tuple(key)
            if k in first:
                out.append((int(row_no), first[k], k))
                if len(out) >= limit:
                    break
            else:
                first[k] = int(row_no)
        return out


def json_list(values: Sequence[str]) -> str:
    """A list as Django's JSONField stores it (so SQLite text compares equal)."""
    return json.dumps(list(values))
