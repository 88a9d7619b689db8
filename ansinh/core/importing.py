"""The import framework (SPEC section 2, DESIGN.md rule 5): read, validate, stage, upsert.

``import_file`` reads one CSV (UTF-8, BOM accepted) or XLSX file row by row, validates every
row (collecting :class:`RowError`), stages the clean rows in a temporary table, then — only when
nothing was wrong — merges them into the real tables set-based in SQL, all in ONE transaction.
Created/updated/unchanged are computed in SQL against what is stored, so re-importing the same
file changes nothing.

Each KIND is an :class:`Importer` subclass living in the app that owns its tables; this module
finds them by name (the apps sit above ``core`` in the layer order, so it never imports them
statically).

Staging is COPY on PostgreSQL and ``executemany`` on SQLite; the merge is
``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE (changed)`` on both.
"""

from __future__ import annotations

import abc
import array
import csv
import datetime as dt
import hashlib
import importlib
import io
import itertools
import json
import operator
import pathlib
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from ansinh.core.formats import sheet_row
from ansinh.core.importcols import CODE_LISTS, code_from

# (this module imports no model at load time: the CLI reads KINDS before Django is set up)
KINDS: tuple[str, ...] = (
    "units",
    "population",
    "targets",
    "participations",
    "counts",
    "employers",
    "contributions",
    "activities",
    "attendees",
    "successors",
)

# kind -> module holding its Importer (looked up by name: those apps are above core)
_MODULES: dict[str, str] = {
    "units": "ansinh.geography.importers",
    "population": "ansinh.geography.importers",
    "targets": "ansinh.targets.importers",
    "participations": "ansinh.registry.importers",
    "counts": "ansinh.registry.importers",
    "employers": "ansinh.arrears.importers",
    "contributions": "ansinh.arrears.importers",
    "activities": "ansinh.outreach.importers",
    "attendees": "ansinh.outreach.importers",
    "successors": "ansinh.geography.importers",
}

BATCH_ROWS = 50_000
IMPORT_LOCK = 0x616E_7369_696D  # PostgreSQL advisory lock key serialising imports ("ansiim")
MAX_ERRORS = 1_000  # errors kept; the rest are only counted (issue 21)


@dataclass
class RowError:
    """One problem: ``row`` as in the file (the header is row 1), the column, the value."""

    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    warnings: list[str]
    refused: bool
    dry_run: bool
    batch_id: int | None
    touched_units: set[str] = field(default_factory=set)
    touched_since: dt.date | None = None
    # every error found, of which ``errors`` keeps the first MAX_ERRORS
    error_total: int = 0
    # the preview of SPEC section 10: {"as_of", "unit", "schemes": {code: {before, after}}}
    preview: dict[str, Any] | None = None


class WriteHook(Protocol):
    """What an app above wants done around an import's write, in its transaction (the KPI
    snapshot's delta: the figures of what the file changes, before and after)."""

    def before_write(self, imp: Importer) -> None: ...

    def after_write(self, imp: Importer) -> None: ...


class Inspector(Protocol):
    """Looks at the figures around an import's write, in its transaction (the preview of
    SPEC section 10); ``after`` answers whether to roll everything back."""

    def before(self, imp: Importer) -> None: ...

    def after(self, imp: Importer, result: ImportResult) -> bool: ...


class Refused(Exception):
    """The file as a whole cannot be read (encoding, binary, missing columns…)."""

    def __init__(self, *errors: RowError) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


# ---------------------------------------------------------------------------------------------
# reading


@dataclass
class Source:
    """An opened file: ``header`` holds, per column of the file, the column it names ('' for
    one it does not know), ``raw_header`` what the file wrote; ``header_row`` is its row."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    total: int
    sha256: str
    raw_header: list[str] = field(default_factory=list)
    header_row: int = 1


def _limits() -> tuple[int, int, int]:
    """(longest line, largest cell, largest uncompressed XLSX) in bytes, from the settings."""
    from django.conf import settings

    return (
        int(getattr(settings, "IMPORT_MAX_LINE_BYTES", 1 << 20)),
        int(getattr(settings, "IMPORT_MAX_CELL_BYTES", 32 << 10)),
        int(getattr(settings, "IMPORT_MAX_XLSX_BYTES", 256 << 20)),
    )


def _scan(path: pathlib.Path) -> tuple[str, int, int, bytes]:
    """sha256, size, number of line breaks and the first bytes, in one pass."""
    h = hashlib.sha256()
    size = 0
    lines = 0
    head = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if not head:
                head = chunk[:8192]
            h.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return h.hexdigest(), size, lines, head


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _too_big_cell(row_no: int, column: int, size: int) -> Refused:
    return Refused(
        RowError(
            row_no,
            str(column + 1) if column >= 0 else "",
            "",
            _("ô dài quá %(n)s kB: tệp bị từ chối") % {"n": size >> 10},
        )
    )


def _check_zip(path: pathlib.Path, limit: int) -> None:
    """An XLSX is a zip: refuse one whose contents, once decompressed, would exceed ``limit``
    bytes (a zip bomb), counting what decompressing really yields, never what it declares."""
    broken = _("Không đọc được tệp XLSX (tệp hỏng hoặc không phải bảng tính)")
    too_big = _(
        "Tệp XLSX giải nén ra quá %(n)s MB (tệp hỏng hoặc “bom nén”): hãy chia nhỏ tệp "
        "hoặc lưu dưới dạng CSV UTF-8"
    ) % {"n": limit >> 20}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > limit:
                raise Refused(RowError(1, "", "", too_big))
            total = 0
            for info in infos:
                with zf.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise Refused(RowError(1, "", "", too_big))
    except Refused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        raise Refused(RowError(1, "", "", broken)) from None
    except Exception:  # zlib errors and the like: a damaged file
        raise Refused(RowError(1, "", "", broken)) from None


def _xlsx_rows(path: pathlib.Path) -> tuple[Iterator[tuple[int, list[str]]], int]:
    from python_calamine import CalamineWorkbook

    _line, max_cell, max_xlsx = _limits()
    with path.open("rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    if zipped:
        _check_zip(path, max_xlsx)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
    except Exception:
        raise Refused(
            RowError(1, "", "", _("Không đọc được tệp XLSX (tệp hỏng hoặc không phải bảng tính)"))
        ) from None

    def gen() -> Iterator[tuple[int, list[str]]]:
        for i, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell(v) for v in row]
            for j, c in enumerate(cells):
                if len(c) > max_cell // 4 and len(c.encode("utf-8")) > max_cell:
                    raise _too_big_cell(i, j, max_cell)
            yield i, cells

    return gen(), int(sheet.height)


def _not_utf8(row: int) -> Refused:
    return Refused(
        RowError(
            row,
            "",
            "",
            _(
                "Tệp CSV không phải mã UTF-8 (Excel lưu “CSV (phân cách bằng dấu phẩy)” theo "
                "bảng mã Windows): trong Excel chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu "
                "phẩy)”, hoặc lưu dạng XLSX"
            ),
        )
    )


def _csv_rows(path: pathlib.Path) -> Iterator[tuple[int, list[str]]]:
    max_line, max_cell, _xlsx = _limits()
    fh = path.open("r", encoding="utf-8-sig", newline="")
    state = {"line": 0, "long": False}

    def lines() -> Iterator[str]:
        while True:
            try:
                line = fh.readline(max_line + 1)
            except UnicodeDecodeError:
                raise _not_utf8(state["line"] + 1) from None
            if not line:
                return
            state["line"] += 1
            n = len(line)
            if n > max_cell // 4:
                size = len(line.encode("utf-8"))
                if size > max_line + 2 or (n > max_line and not line.endswith("\n")):
                    raise Refused(
                        RowError(
                            state["line"],
                            "",
                            "",
                            _("dòng dài quá %(n)s MB: tệp bị từ chối (không phải tệp dữ liệu?)")
                            % {"n": max(max_line >> 20, 1)},
                        )
                    )
                state["long"] = size > max_cell
            yield line

    try:
        reader = csv.reader(lines())
        n = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise _too_big_cell(n + 1, -1, max_cell) from None
                raise Refused(
                    RowError(n + 1, "", "", _("Tệp CSV sai định dạng: %(e)s") % {"e": exc})
                ) from None
            n += 1
            if state["long"]:
                state["long"] = False
                for j, c in enumerate(row):
                    if len(c) > max_cell // 4 and len(c.encode("utf-8")) > max_cell:
                        raise _too_big_cell(n, j, max_cell)
            yield n, list(map(str.strip, row))
    finally:
        fh.close()


def _utf16(head: bytes) -> bool:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    sample = head[:2000]
    if len(sample) < 4:
        return False
    # text in UTF-16 without a BOM: every other byte is a zero
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0), odd.count(0)) * 10 >= len(sample) // 2 * 8


HEADER_ROWS = 20


def match_header(kind: str, cells: Sequence[str], columns: tuple[str, ...]) -> list[str]:
    """The column each cell of a header row names ('' where none)."""
    from ansinh.core.importcols import header_names, norm

    names = header_names(kind, columns)
    return [names.get(norm(c), "") if c else "" for c in cells]


def open_source(
    path: pathlib.Path,
    *,
    kind: str = "",
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> Source:
    """Open a CSV or XLSX file and find its header: the first row, among the first 20, that
    names every required column (title rows of a form above it are skipped); where no row
    does, the row naming most of them (the missing ones are then reported)."""
    if not path.is_file():
        raise Refused(RowError(0, "", str(path), _("Không tìm thấy tệp")))
    sha, size, lines, head = _scan(path)
    if size == 0:
        raise Refused(RowError(1, "", "", _("Tệp rỗng")))
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        rows, total = _xlsx_rows(path)
    elif _utf16(head):
        raise Refused(
            RowError(
                1,
                "",
                "",
                _(
                    "Tệp được lưu ở dạng Unicode UTF-16 (Excel: “Văn bản Unicode”), không phải "
                    "CSV UTF-8: trong Excel chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu "
                    "phẩy)”, hoặc lưu dạng XLSX"
                ),
            )
        )
    elif b"\x00" in head:
        raise Refused(
            RowError(
                1,
                "",
                "",
                _("Tệp không phải bảng tính: chỉ nhận tệp CSV (UTF-8) hoặc XLSX"),
            )
        )
    else:
        rows = _csv_rows(path)
        total = lines
    columns = (*required, *optional)
    seen: list[tuple[int, list[str]]] = []
    best: tuple[int, list[str], list[str]] | None = None
    best_score = -1
    for row_no, row in rows:
        if not any(row):
            continue
        seen.append((row_no, row))
        named = match_header(kind, row, columns) if kind else [c.lower() for c in row]
        score = sum(1 for c in required if c in named)
        if score > best_score:
            best, best_score = (row_no, row, named), score
        if score == len(required) or len(seen) >= HEADER_ROWS:
            break
    if best is None:
        raise Refused(RowError(1, "", "", _("Tệp rỗng")))
    header_row, raw, named = best
    rest = (r for r in seen if r[0] > header_row)
    return Source(
        header=named,
        rows=itertools.chain(rest, rows),
        total=max(total - header_row, 0),
        sha256=sha,
        raw_header=list(raw),
        header_row=header_row,
    )


# ---------------------------------------------------------------------------------------------
# SQL helpers (both SQLite and PostgreSQL)


def vendor() -> str:
    return connection.vendor


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


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


def as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass
class Table:
    """How a staging table merges into a model's table.

    ``key``/``values``/``keep`` name model fields; staging columns carry the same *column*
    names. ``keep`` columns are values where a NULL in the staging table keeps what is stored
    (blank = absent). ``extras`` are written with each created or changed row but not compared:
    ``{"batch_id": "batch", "row_no": "row_no"}``. Non-null fields not listed get the model's
    default on insert."""

    model: type[models.Model]
    key: Sequence[str]
    values: Sequence[str]
    keep: Sequence[str] = ()
    extras: dict[str, str] = field(default_factory=dict)

    def col(self, name: str) -> str:
        return str(self.model._meta.get_field(name).column)  # type: ignore[union-attr]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def diff_sql(self, new: str, old: str) -> str:
        op = distinct_op()
        parts = [f"{new}.{qn(self.col(v))} {op} {old}.{qn(self.col(v))}" for v in self.values]
        for v in self.keep:
            c = qn(self.col(v))
            parts.append(f"({self.kept(f'{new}.{c}', v)} IS NOT NULL AND {new}.{c} {op} {old}.{c})")
        return "(" + " OR ".join(parts) + ")" if parts else "(1=0)"

    def kept(self, expr: str, name: str) -> str:
        """A ``keep`` value as NULL when absent: NULL, or the '' that inserting it made."""
        default = self.model._meta.get_field(name).get_default()  # type: ignore[union-attr]
        if default is None:
            return expr
        if default != "":
            raise ValueError(f"keep column {name} needs a default of '' or None")
        return f"NULLIF({expr}, '')"

    def join_sql(self, new: str, old: str) -> str:
        return " AND ".join(f"{new}.{qn(self.col(k))} = {old}.{qn(self.col(k))}" for k in self.key)


@dataclass
class Plan:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    touched_units: set[str] = field(default_factory=set)
    touched_since: dt.date | None = None
    # rows whose values are unchanged but whose provenance (batch, row) is rewritten, as it
    # orders them against others (participations: ties on the start date)
    restamped: int = 0


def merge_plan(
    stg: str,
    t: Table,
    *,
    unit_col: str | None = None,
    since_col: str | None = None,
    extra_updated: str = "",
) -> Plan:
    """Count what merging ``stg`` into ``t`` would create/update/leave, and which units (and
    from which date) the changes touch — one LEFT JOIN, nothing written."""
    k0 = qn(t.col(t.key[0]))
    changed = t.diff_sql("s", "t")
    if extra_updated:
        changed = f"({changed} OR {extra_updated})"
    unit_expr = f"s.{qn(unit_col)}" if unit_col else "NULL"
    since_expr = (
        f"MIN(CASE WHEN t.{k0} IS NULL OR {t.diff_sql('s', 't')} THEN s.{qn(since_col)} END)"
        if since_col
        else "NULL"
    )
    rows = sql(
        f"SELECT {unit_expr}, "
        f"SUM(CASE WHEN t.{k0} IS NULL THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN t.{k0} IS NOT NULL AND {changed} THEN 1 ELSE 0 END), "
        f"COUNT(*), {since_expr} "
        f"FROM {qn(stg)} s LEFT JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} "
        + (f"GROUP BY {unit_expr}" if unit_col else "")
    )
    plan = Plan()
    for unit, created, updated, total, since in rows:
        created, updated, total = int(created or 0), int(updated or 0), int(total or 0)
        plan.created += created
        plan.updated += updated
        plan.unchanged += total - created - updated
        if unit_col and since_col:
            # touched = facts that changed (created or values changed)
            d = as_date(since)
            if d is not None:
                plan.touched_units.add(str(unit))
                if plan.touched_since is None or d < plan.touched_since:
                    plan.touched_since = d
        elif unit_col and (created or updated):
            plan.touched_units.add(str(unit))
    return plan


def merge_write(stg: str, t: Table, *, batch_id: int | None, all_new: bool = False) -> None:
    """``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE (changed)``; a plain
    ``INSERT … SELECT`` when ``all_new`` (the plan found none of the staged keys stored and
    they are distinct: speculative insertion costs about a third of a big load)."""
    cols: list[str] = []
    exprs: list[str] = []
    params: list[Any] = []
    listed = {*t.key, *t.values, *t.keep}
    for f in listed:
        c = t.col(f)
        cols.append(qn(c))
        if f in t.keep:
            default = t.model._meta.get_field(f).get_default()  # type: ignore[union-attr]
            if default is None:
                exprs.append(f"s.{qn(c)}")
            else:
                exprs.append(f"COALESCE(s.{qn(c)}, %s)")
                params.append(default)
        else:
            exprs.append(f"s.{qn(c)}")
    for c, what in t.extras.items():
        cols.append(qn(c))
        if what == "batch":
            exprs.append("%s")
            params.append(batch_id)
        else:
            exprs.append(f"s.{qn(what)}")
    written = {*(t.col(f) for f in listed), *t.extras}
    for fld in t.model._meta.concrete_fields:
        if fld.primary_key and isinstance(fld, models.AutoField | models.BigAutoField):
            continue
        if fld.column is None or fld.column in written or fld.null:
            continue
        cols.append(qn(fld.column))
        exprs.append("%s")
        params.append(fld.get_db_prep_save(fld.get_default(), connection))
    sets = [f"{qn(t.col(v))} = excluded.{qn(t.col(v))}" for v in t.values]
    sets += [
        f"{qn(t.col(v))} = COALESCE({t.kept(f'excluded.{qn(t.col(v))}', v)}, t.{qn(t.col(v))})"
        for v in t.keep
    ]
    sets += [f"{qn(c)} = excluded.{qn(c)}" for c in t.extras]
    key = ", ".join(qn(t.col(k)) for k in t.key)
    query = (
        f"INSERT INTO {qn(t.table)} AS t ({', '.join(cols)}) "
        f"SELECT {', '.join(exprs)} FROM {qn(stg)} s WHERE 1=1 "
    )
    if all_new:
        execute(query, params)
        return
    query += f"ON CONFLICT ({key}) "
    if sets:
        query += f"DO UPDATE SET {', '.join(sets)} WHERE {t.diff_sql('excluded', 't')}"
    else:
        query += "DO NOTHING"
    execute(query, params)


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
        getter = self.getter
        self.hashes.extend(hash(getter(r)) for r in rows)
        self.rows.extend(r[0] for r in rows)

    def _candidates(self) -> list[int]:
        import numpy as np

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


# ---------------------------------------------------------------------------------------------
# validation helpers

# a code or identifier may not hold these (a "/" breaks the addresses that name a record)
BAD_IDENT = re.compile(r"[/\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_DIGITS = re.compile(r"-?\d+", re.ASCII)
# grouped in threes by one separator used throughout: 3.000.000, 3,000,000, 3 000 000
_GROUPED = re.compile(r"-?\d{1,3}(?P<sep>[.,   ])\d{3}(?:(?P=sep)\d{3})*", re.ASCII)
_PERCENT = re.compile(r"(\d{1,3})(?:[.,](\d+))?", re.ASCII)


def parse_date(value: str) -> str | None:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``D/M/YYYY`` as an ISO string; None otherwise."""
    m = _ISO_DATE.fullmatch(value)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _VN_DATE.fullmatch(value)
        if not m:
            return None
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def parse_whole(value: str) -> int | None:
    """A whole number as SPEC section 2 takes it, or None."""
    if _DIGITS.fullmatch(value):
        return int(value)
    if _GROUPED.fullmatch(value):
        return int(re.sub(r"[^\d-]", "", value))
    return None


def parse_percent(value: str) -> str | None:
    """``95.5`` or ``95,5`` (a trailing ``%`` allowed) as a decimal string, or None."""
    v = value.removesuffix("%").strip()
    m = _PERCENT.fullmatch(v)
    if not m:
        return None
    return m[1] + ("." + m[2] if m[2] else "")


class Context:
    """What an importer needs while it runs: errors, warnings, scope, the column map."""

    def __init__(
        self,
        *,
        kind: str,
        actor: Any,
        allowed_units: set[str] | None,
        dry_run: bool,
        columns: dict[str, int],
    ) -> None:
        self.kind = kind
        self.actor = actor
        self.allowed_units = allowed_units
        self.dry_run = dry_run
        self.columns = columns
        self.errors: list[RowError] = []
        self.error_total = 0
        # set while the import writes: what undoing it will need (``UndoLog``)
        self.undo: UndoLog | None = None
        self.warnings: list[str] = []
        self._dates: dict[str, str] = {}

    def error(self, row: int, column: str, value: Any, message: str) -> None:
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS:
            v = "" if value is None else str(value)
            self.errors.append(RowError(row, column, v[:200], message))

    # typed readers: return the clean value, or record an error and return ``BAD``

    def date(self, row: int, column: str, value: str, *, required: bool = True) -> Any:
        """A date as ISO ``YYYY-MM-DD`` or Vietnamese ``DD/MM/YYYY`` (``D/M/YYYY`` too; never
        month first), returned as its ISO string (each distinct value checked once)."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        iso = self._dates.get(value)
        if iso is not None:
            return iso
        iso = parse_date(value)
        if iso is None:
            self.error(row, column, value, _("ngày không hợp lệ (viết DD/MM/YYYY hoặc YYYY-MM-DD)"))
            return BAD
        self._dates[value] = iso
        return iso

    def integer(
        self, row: int, column: str, value: str, *, required: bool = True, low: int = 0
    ) -> Any:
        """A whole number: digits, optionally grouped in threes by ``.``, ``,`` or spaces
        (``3.000.000``). Anything else (``300,5``, ``3.00``) refuses the row: a number is
        never truncated or read as a decimal."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        n = parse_whole(value)
        if n is None:
            self.error(
                row,
                column,
                value,
                _(
                    "không phải số nguyên: viết 3000000, 3.000.000, 3,000,000 hoặc 3 000 000 "
                    "(không nhận số thập phân)"
                ),
            )
            return BAD
        if n < low:
            if low == 0:
                self.error(row, column, value, _("không được âm"))
            else:
                self.error(row, column, value, _("phải từ %(low)s trở lên") % {"low": low})
            return BAD
        if n > 9_000_000_000_000_000:
            self.error(row, column, value, _("số quá lớn"))
            return BAD
        return n

    def year(self, row: int, column: str, value: str) -> Any:
        y = self.integer(row, column, value)
        if y is BAD:
            return BAD
        if not 1900 <= y <= 2200:
            self.error(row, column, value, _("năm không hợp lệ"))
            return BAD
        return y

    def code(
        self,
        row: int,
        column: str,
        value: str,
        allowed: Any,
        *,
        required: bool = True,
        names: str | None = None,
    ) -> Any:
        """A code of a list, written as the code or by its name (Vietnamese or English;
        ``names``: the list of ``core.importcols.CODE_LISTS``, by default the column's)."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        if value in allowed:
            return value
        listed = names or column
        if listed in CODE_LISTS:
            code = code_from(listed, value)
            if code is not None and code in allowed:
                return code
            shown = [str(CODE_LISTS[listed].get(c, c)) for c in allowed]
        else:
            shown = list(allowed)
        if len(shown) <= 15:
            self.error(
                row,
                column,
                value,
                _("giá trị không hợp lệ; dùng một trong: %(codes)s") % {"codes": "; ".join(shown)},
            )
        else:
            self.error(row, column, value, _("giá trị không hợp lệ"))
        return BAD

    def text(
        self, row: int, column: str, value: str, *, required: bool = False, max_length: int = 200
    ) -> Any:
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        if len(value) > max_length:
            self.error(row, column, value, _("dài quá %(n)s ký tự") % {"n": max_length})
            return BAD
        return value

    def ident(
        self, row: int, column: str, value: str, *, required: bool = False, max_length: int = 64
    ) -> Any:
        """A code or an identifier (a record's code, a person's ID): text without ``/`` or
        control characters, which would break the addresses and files that name it."""
        v = self.text(row, column, value, required=required, max_length=max_length)
        if v is BAD or v is None:
            return v
        if BAD_IDENT.search(v):
            self.error(
                row,
                column,
                value,
                _("mã không được chứa dấu “/”, “\\” hay ký tự điều khiển"),
            )
            return BAD
        return v

    def in_scope(self, row: int, column: str, value: str, unit_code: str, *, missing: str) -> bool:
        """Whether ``unit_code`` (the unit a row's ``value`` belongs to) is in the actor's
        scope. Out of scope is refused with ``missing``, the words a code that does not exist
        gets, so that a refusal tells nothing of what exists elsewhere (SPEC section 4)."""
        if self.allowed_units is None or unit_code in self.allowed_units:
            return True
        self.error(row, column, value, missing)
        return False


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()


class Importer(abc.ABC):
    """One KIND. Subclasses set ``kind``, ``required``, ``optional`` and implement
    ``clean`` (one row → a staging tuple, or None after recording errors), and usually
    ``setup``/``check``/``plan``/``write``."""

    kind: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def setup(self) -> None:
        """Load lookups and create staging tables (inside the import transaction)."""
        return None  # a hook: nothing to do unless a subclass says so

    def stage_file(
        self,
        *,
        path: pathlib.Path,
        header: list[str],
        progress: Callable[[int, int], None] | None,
        total: int,
    ) -> int | None:
        """A fast path staging the whole file at once; returns its number of data rows, or
        None (nothing staged) to have it read, checked and staged row by row."""
        return None

    @abc.abstractmethod
    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        """One data row checked: the clean tuple to stage, or None (errors recorded)."""

    @abc.abstractmethod
    def add(self, rows: list[tuple]) -> None:
        """Stage a batch of clean rows."""

    def check(self) -> None:
        """Cross-row validation once every row was read (duplicates, references)."""
        return None  # a hook: nothing to do unless a subclass says so

    @abc.abstractmethod
    def plan(self) -> Plan:
        """What the staged rows would create, update and leave unchanged."""

    @abc.abstractmethod
    def write(self, *, batch_id: int) -> None:
        """Merge the staged rows into the model tables."""

    def teardown(self) -> None:
        """Drop staging tables (SQLite keeps temp tables for the connection's life)."""
        return None  # a hook: nothing to do unless a subclass says so

    # helpers
    def getter(self) -> Callable[[list[str], str], str]:
        cols = self.ctx.columns

        def get(row: list[str], name: str) -> str:
            i = cols.get(name)
            if i is None or i >= len(row):
                return ""
            return row[i]

        return get


class StagedImporter(Importer):
    """An importer whose clean rows go to one staging table merged into one model table.
    Subclasses set ``staging_columns`` (column, type), ``table`` (a :class:`Table`),
    ``unit_col``/``since_col`` for the touched units and dates, and implement ``clean``."""

    staging_columns: ClassVar[Sequence[tuple[str, str]]]
    # KINDs keyed by a code of their own (employers, activities): the model field holding the
    # unit a stored record belongs to, so that a row may not take over another unit's record
    owner_field: ClassVar[str | None] = None
    unit_col: ClassVar[str | None] = None
    since_col: ClassVar[str | None] = None
    key_label: ClassVar[str] = ""

    @abc.abstractmethod
    def table(self) -> Table:
        """The model table the staging table merges into."""

    @property
    def stg_name(self) -> str:
        return f"stg_{self.kind}"

    def setup(self) -> None:
        self.staging = Staging(self.stg_name, self.staging_columns)
        self.staging.create()
        self.keys = KeyTracker(self.staging, self.key_columns())

    def add(self, rows: list[tuple]) -> None:
        self.staging.insert(rows)
        self.keys.add(rows)

    def key_columns(self) -> list[str]:
        t = self.table()
        return [t.col(k) for k in t.key]

    def check(self) -> None:
        self.staging.analyze()
        label = self.key_label or ", ".join(self.table().key)
        for row_no, first, key in self.keys.duplicates():
            self.ctx.error(
                row_no,
                label,
                " | ".join("" if v is None else str(v) for v in key),
                _("trùng khóa với dòng %(first)s trong cùng tệp") % {"first": first},
            )
        self.check_owner()

    def check_owner(self) -> None:
        """A restricted actor (an office) may write a record keyed by its own code only where
        the stored record belongs to one of its units (its new unit is checked per row): an
        office cannot move another unit's employer or activity into its own."""
        allowed = self.ctx.allowed_units
        if allowed is None or self.owner_field is None:
            return
        t = self.table()
        key = qn(t.col(t.key[0]))
        owner = qn(t.col(self.owner_field))
        label = self.key_label or t.key[0]
        for row_no, code, unit in sql(
            f"SELECT s.row_no, s.{key}, t.{owner} FROM {qn(self.stg_name)} s "
            f"JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} ORDER BY s.row_no"
        ):
            if str(unit) not in allowed:
                self.ctx.error(
                    int(row_no),
                    label,
                    code,
                    _("mã này đã được dùng ngoài phạm vi của bạn: không ghi được"),
                )

    def plan(self) -> Plan:
        self.planned = merge_plan(
            self.stg_name, self.table(), unit_col=self.unit_col, since_col=self.since_col
        )
        return self.planned

    def all_new(self) -> bool:
        """Every staged row is a key the table does not hold (staged keys are distinct)."""
        planned: Plan | None = getattr(self, "planned", None)
        return planned is not None and planned.updated == 0 and planned.unchanged == 0

    def write(self, *, batch_id: int) -> None:
        if self.ctx.undo is not None:
            self.ctx.undo.save(t=self.table(), stg=self.stg_name)
        merge_write(self.stg_name, self.table(), batch_id=batch_id, all_new=self.all_new())

    def teardown(self) -> None:
        self.staging.drop()


def importer_class(kind: str) -> type[Importer]:
    if kind not in _MODULES:
        raise ValueError(kind)
    module = importlib.import_module(_MODULES[kind])
    cls = module.IMPORTERS[kind]
    return cls  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# the door


class _Rollback(Exception):
    pass


def import_file(
    *,
    kind: str,
    path: pathlib.Path,
    actor: Any,
    dry_run: bool = False,
    display_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allowed_units: set[str] | None = None,
    write_hook: WriteHook | None = None,
    inspect: Inspector | None = None,
) -> ImportResult:
    """Validate every row of the file, then write all of it or nothing (one transaction).

    ``allowed_units`` limits the rows to those units (an office's scope; None = no limit);
    ``ansinh.monitoring.importing.import_run`` derives it from the actor. ``write_hook`` is
    called just before and just after the write, in the same transaction. ``inspect`` looks
    at the figures just before the write and after it (in the same transaction); where its
    ``after`` answers True everything is rolled back (a preview: the result says
    ``dry_run``)."""
    from ansinh.core.models import ImportBatch
    from ansinh.core.services import audit_record

    if kind not in KINDS:
        raise ValueError(kind)
    rolled_back = False
    path = pathlib.Path(path)
    cls = importer_class(kind)
    result = ImportResult(
        kind=kind,
        rows=0,
        created=0,
        updated=0,
        unchanged=0,
        errors=[],
        warnings=[],
        refused=False,
        dry_run=dry_run,
        batch_id=None,
    )
    try:
        src = open_source(path, kind=kind, required=cls.required, optional=cls.optional)
    except Refused as exc:
        result.errors = exc.errors
        result.error_total = len(exc.errors)
        result.refused = True
        return result

    columns: dict[str, int] = {}
    hrow = src.header_row
    for i, (name, raw) in enumerate(zip(src.header, src.raw_header, strict=False)):
        if not raw:
            continue
        if not name:
            result.warnings.append(_("cột không xác định “%(c)s” được bỏ qua") % {"c": raw[:60]})
            continue
        if name in columns:
            result.errors.append(RowError(hrow, name, raw, _("cột bị lặp lại trong dòng tiêu đề")))
            continue
        columns[name] = i
    missing = [name for name in cls.required if name not in columns]
    named = [c for c in src.raw_header if c]
    if missing and len(named) == 1 and ";" in named[0]:
        # Excel saves "CSV" with ";" where the list separator is ";" (Vietnamese settings);
        # the one "unknown column" warning would only repeat it
        result.warnings.clear()
        result.errors.append(
            RowError(
                hrow,
                "",
                named[0][:60],
                _(
                    "các cột được phân cách bằng dấu “;” (Excel theo thiết lập tiếng Việt): hãy "
                    "lưu lại tệp dưới dạng “CSV UTF-8 (phân cách bằng dấu phẩy)” hoặc XLSX"
                ),
            )
        )
        missing = []
    for name in missing:
        result.errors.append(RowError(hrow, name, "", _("thiếu cột bắt buộc")))
    if result.errors:
        result.error_total = len(result.errors)
        result.refused = True
        return result

    ctx = Context(
        kind=kind, actor=actor, allowed_units=allowed_units, dry_run=dry_run, columns=columns
    )
    imp = cls(ctx)
    total = src.total
    try:
        with transaction.atomic():
            if vendor() == "postgresql":
                # one import at a time (SQLite: the IMMEDIATE transaction does it): what the
                # plan finds new must still be new when written, and snapshot corrections
                # of two imports must not interleave
                execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
                execute("SET LOCAL work_mem = '256MB'")
            imp.setup()
            rows = 0
            try:
                batch: list[tuple] = []
                clean = imp.clean
                fast = imp.stage_file(path=path, header=src.header, progress=progress, total=total)
                for row_no, row in src.rows if fast is None else ():
                    if not any(row):
                        continue
                    rows += 1
                    item = clean(row_no, row)
                    if item is not None:
                        batch.append(item)
                        if len(batch) >= BATCH_ROWS:
                            if not ctx.errors:
                                imp.add(batch)
                            batch = []
                            if progress:
                                progress(rows, max(total, rows))
                if batch and not ctx.errors:
                    imp.add(batch)
                if fast is not None:
                    rows = fast
                if progress:
                    progress(rows, rows)
                result.rows = rows
                if rows == 0:
                    ctx.error(0, "", "", _("Tệp không có dòng dữ liệu nào"))
                if not ctx.errors:
                    imp.check()
            except Refused as exc:
                ctx.errors.extend(exc.errors)
                ctx.error_total += len(exc.errors)
            if ctx.errors:
                raise _Rollback
            plan = imp.plan()
            result.created, result.updated, result.unchanged = (
                plan.created,
                plan.updated,
                plan.unchanged,
            )
            result.touched_units, result.touched_since = plan.touched_units, plan.touched_since
            if dry_run:
                raise _Rollback
            batch_row = ImportBatch.objects.create(
                kind=kind,
                file_name=(display_name or path.name)[:300],
                sha256=src.sha256,
                rows=rows,
                created=plan.created,
                updated=plan.updated,
                unchanged=plan.unchanged,
                errors=0,
                user=actor if getattr(actor, "pk", None) else None,
            )
            if inspect is not None:
                inspect.before(imp)
            if plan.created or plan.updated or plan.restamped:
                # an unchanged file writes only its batch row
                if write_hook is not None:
                    write_hook.before_write(imp)
                ctx.undo = UndoLog(batch_row.pk)
                imp.write(batch_id=batch_row.pk)
                if write_hook is not None:
                    write_hook.after_write(imp)
                batch_row.undo = ctx.undo.tables
                batch_row.touched = {
                    "units": sorted(plan.touched_units),
                    "since": plan.touched_since.isoformat() if plan.touched_since else None,
                }
                batch_row.save(update_fields=["undo", "touched"])
            if inspect is not None and inspect.after(imp, result):
                # a preview: what the written file makes of the figures, then all rolled back
                rolled_back = True
                imp.teardown()
                raise _Rollback
            imp.teardown()
            result.batch_id = batch_row.pk
            audit_record(
                actor=actor,
                action=f"import.{kind}",
                object_type="import_batch",
                object_id=str(batch_row.pk),
                after={
                    "file": batch_row.file_name,
                    "sha256": src.sha256,
                    "rows": rows,
                    "created": plan.created,
                    "updated": plan.updated,
                    "unchanged": plan.unchanged,
                },
            )
    except _Rollback:
        try:
            imp.teardown()
        except Exception:  # the connection may be unusable after a failed statement
            pass
    if rolled_back:
        result.dry_run, result.batch_id = True, None
    result.errors = sorted(ctx.errors, key=lambda e: e.row)
    result.error_total = max(ctx.error_total, len(result.errors))
    result.warnings = result.warnings + ctx.warnings
    result.refused = bool(result.errors)
    if result.refused:
        result.created = result.updated = result.unchanged = 0
        result.error_total = max(result.error_total, len(result.errors))
        result.touched_units, result.touched_since = set(), None
    return result


def error_count(result: ImportResult) -> int:
    return max(result.error_total, len(result.errors))


def errors_csv(errors: Sequence[RowError | dict[str, Any]], total: int = 0) -> str:
    """The ``row,column,value,message`` CSV of SPEC section 1. Where more errors were found
    than kept (``total``), a last line without a row says how many more."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row", "column", "value", "message"])
    for e in errors:
        d = e.as_dict() if isinstance(e, RowError) else e
        w.writerow(sheet_row([d["row"], d["column"], d["value"], d["message"]]))
    if total > len(errors):
        w.writerow(
            [
                "",
                "",
                "",
                _("… và %(n)s lỗi khác (chỉ liệt kê %(k)s lỗi đầu tiên)")
                % {"n": total - len(errors), "k": len(errors)},
            ]
        )
    return buf.getvalue()


def json_list(values: Sequence[str]) -> str:
    """A list as Django's JSONField stores it (so SQLite text compares equal)."""
    return json.dumps(list(values))


__all__ = [
    "BAD",
    "KINDS",
    "Context",
    "ImportResult",
    "Importer",
    "Plan",
    "Refused",
    "RowError",
    "Staging",
    "StagedImporter",
    "Table",
    "errors_csv",
    "import_file",
]


# ---------------------------------------------------------------------------------------------
# the fixed lines of SPEC section 1 (English under ANSINH_LANG=en, Vietnamese twins otherwise)


def _english() -> bool:
    from django.utils import translation

    return (translation.get_language() or "vi").startswith("en")


def summary_line(result: ImportResult) -> str:
    """``KIND: N rows read, C created, U updated, S unchanged`` or the refusal line."""
    if result.refused:
        if _english():
            return f"{result.kind}: refused, {error_count(result)} errors"
        return f"{result.kind}: bị từ chối, {error_count(result)} lỗi"
    if _english():
        return (
            f"{result.kind}: {result.rows} rows read, {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
    return (
        f"{result.kind}: đọc {result.rows} dòng, tạo mới {result.created}, "
        f"cập nhật {result.updated}, không đổi {result.unchanged}"
    )


def error_line(error: RowError) -> str:
    """``row R, column C: message`` (``dòng R, cột C: …``)."""
    if _english():
        return f"row {error.row}, column {error.column}: {error.message}"
    return f"dòng {error.row}, cột {error.column}: {error.message}"


# ---------------------------------------------------------------------------------------------
# undo (SPEC section 10): what a batch changed, kept set-based in tables of its own

UNDO_PREFIX = "ansinh_undo_"


class UndoLog:
    """Kept while one import writes: for each model table it merges into, a copy of the rows
    it is about to update (their values before) and the keys of the rows it is about to
    create — two ``CREATE TABLE … AS SELECT`` per table, whatever the file's size. Stored on
    the batch (``ImportBatch.undo``), read by :func:`undo_batch`."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = int(batch_id)
        self.tables: list[dict[str, Any]] = []

    def save(self, *, t: Table, stg: str, also_changed: str = "") -> None:
        """Before merging ``stg`` into ``t``: the stored rows it changes (``diff`` or
        ``also_changed``, an SQL condition on ``s``, the staged row) and the keys it adds."""
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
        execute(
            f"CREATE TABLE {qn(old)} AS SELECT t.* FROM {qn(stg)} s "
            f"JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} WHERE {changed}"
        )
        cols = ", ".join(f"s.{qn(c)} AS {qn(c)}" for c in keys)
        execute(
            f"CREATE TABLE {qn(new)} AS SELECT DISTINCT {cols} FROM {qn(stg)} s "
            f"LEFT JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} WHERE t.{k0} IS NULL"
        )
        _index_keys(old, keys)
        _index_keys(new, keys)
        self.tables.append({"table": t.table, "key": keys, "old": old, "new": new})


def _index_keys(table: str, keys: Sequence[str]) -> None:
    """An index on an undo table's key: the undo's probes (and a later batch's conflict
    check) look rows up by it."""
    execute(f"CREATE INDEX {qn(table + '_key')} ON {qn(table)} ({', '.join(qn(k) for k in keys)})")


class TableCapture:
    """Around a write that is not a merge (the ``after_import`` hooks: the worklists), what
    it changed in ``tables`` (db table -> key columns), added to a batch's undo: a copy of
    each table before, compared with the table after (rows changed or deleted: their values
    before; rows added: their keys)."""

    def __init__(self, batch_id: int, tables: dict[str, list[str]]) -> None:
        self.batch_id = int(batch_id)
        self.tables = {t: k for t, k in tables.items() if _table_exists(t)}

    def _copy(self, table: str) -> str:
        return f"{UNDO_PREFIX}{self.batch_id}_cap_{table}"

    def begin(self) -> None:
        for table in self.tables:
            execute(f"DROP TABLE IF EXISTS {qn(self._copy(table))}")
            execute(f"CREATE TABLE {qn(self._copy(table))} AS SELECT * FROM {qn(table)}")

    def end(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch's undo ``entries`` with what the write changed appended."""
        out = list(entries)
        op = distinct_op()
        for table, keys in self.tables.items():
            copy = self._copy(table)
            cols = [
                c.name
                for c in connection.introspection.get_table_description(connection.cursor(), table)
            ]
            n = len(out)
            old = f"{UNDO_PREFIX}{self.batch_id}_{n}_old"
            new = f"{UNDO_PREFIX}{self.batch_id}_{n}_new"
            differs = " OR ".join(f"c.{qn(x)} {op} t.{qn(x)}" for x in cols) or "1 = 0"
            k0 = qn(keys[0])
            for name in (old, new):
                # left by a batch of the same number in a database flushed since (tests)
                execute(f"DROP TABLE IF EXISTS {qn(name)}")
            execute(
                f"CREATE TABLE {qn(old)} AS SELECT c.* FROM {qn(copy)} c "
                f"LEFT JOIN {qn(table)} t ON {_key_match('c', 't', keys)} "
                f"WHERE t.{k0} IS NULL OR {differs}"
            )
            key_cols = ", ".join(f"t.{qn(k)} AS {qn(k)}" for k in keys)
            execute(
                f"CREATE TABLE {qn(new)} AS SELECT {key_cols} FROM {qn(table)} t "
                f"LEFT JOIN {qn(copy)} c ON {_key_match('c', 't', keys)} WHERE c.{k0} IS NULL"
            )
            execute(f"DROP TABLE {qn(copy)}")
            if int(
                sql(f"SELECT (SELECT COUNT(*) FROM {qn(old)}) + (SELECT COUNT(*) FROM {qn(new)})")[
                    0
                ][0]
            ):
                _index_keys(old, keys)
                _index_keys(new, keys)
                out.append({"table": table, "key": list(keys), "old": old, "new": new})
            else:
                execute(f"DROP TABLE {qn(old)}")
                execute(f"DROP TABLE {qn(new)}")
        return out

    def abandon(self) -> None:
        for table in self.tables:
            execute(f"DROP TABLE IF EXISTS {qn(self._copy(table))}")


def _key_match(a: str, b: str, keys: Sequence[str]) -> str:
    return " AND ".join(f"{a}.{qn(k)} = {b}.{qn(k)}" for k in keys)


def _table_exists(name: str) -> bool:
    return name in connection.introspection.table_names()


def undo_conflicts(batch: Any) -> list[int]:
    """The later batches (still in force) that changed rows this batch created or updated:
    undoing it would take their changes away too."""
    from ansinh.core.models import ImportBatch

    mine = batch.undo or []
    later = ImportBatch.objects.filter(
        id__gt=batch.pk, state=ImportBatch.State.DONE, undo__isnull=False
    ).order_by("id")
    tables = connection.introspection.table_names()
    out: list[int] = []
    for other in later:
        hit = False
        for a in mine:
            for b in other.undo or []:
                if a["table"] != b["table"] or a["key"] != b["key"]:
                    continue
                for x in (a["old"], a["new"]):
                    for y in (b["old"], b["new"]):
                        if x not in tables or y not in tables:
                            continue
                        if sql(
                            f"SELECT 1 FROM {qn(x)} x WHERE EXISTS (SELECT 1 FROM {qn(y)} y "
                            f"WHERE {_key_match('x', 'y', a['key'])}) LIMIT 1"
                        ):
                            hit = True
                            break
                    if hit:
                        break
                if hit:
                    break
            if hit:
                break
        if hit:
            out.append(other.pk)
    return out


def undo_missing(batch: Any) -> bool:
    """Whether the batch's undo tables are gone (a batch of before undo existed, or a
    database restored without them)."""
    if batch.undo is None:
        return True
    tables = set(connection.introspection.table_names())
    return any(t["old"] not in tables or t["new"] not in tables for t in batch.undo)


def undo_apply(batch: Any) -> dict[str, int]:
    """Reverse the batch's writes, in the caller's transaction: last table first, the rows it
    created deleted, the rows it updated given back every value they had. Returns the number
    of rows deleted and restored."""
    from django.apps import apps

    deleted = restored = 0
    models_by_table = {m._meta.db_table: m for m in apps.get_models()}
    for entry in reversed(batch.undo or []):
        model = models_by_table[entry["table"]]
        table, keys = qn(entry["table"]), entry["key"]
        deleted += execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {qn(entry['new'])} n "
            f"WHERE {_key_match('n', table, keys)})"
        )
        columns = [
            str(f.column)
            for f in model._meta.concrete_fields
            if f.column and f.column not in keys and not f.primary_key
        ]
        if columns:
            sets = ", ".join(f"{qn(c)} = o.{qn(c)}" for c in columns)
            restored += execute(
                f"UPDATE {table} SET {sets} FROM {qn(entry['old'])} o "
                f"WHERE {_key_match('o', table, keys)}"
            )
        else:
            restored += int(sql(f"SELECT COUNT(*) FROM {qn(entry['old'])}")[0][0])
        # rows the write deleted (a hook's): back as they were
        all_cols = ", ".join(
            qn(c.name)
            for c in connection.introspection.get_table_description(
                connection.cursor(), entry["old"]
            )
        )
        restored += execute(
            f"INSERT INTO {table} ({all_cols}) SELECT {all_cols} FROM {qn(entry['old'])} o "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE {_key_match('o', 'x', keys)})"
        )
    return {"deleted": deleted, "restored": restored}


def undo_drop(batch: Any) -> None:
    for entry in batch.undo or []:
        for name in (entry["old"], entry["new"]):
            execute(f"DROP TABLE IF EXISTS {qn(name)}")


def undo_rows(batch: Any, table: str, column: str, which: str = "both") -> str:
    """A SELECT of ``column`` over the rows of ``table`` the batch created and/or updated
    (its undo tables), for the callers that need what it touched (the snapshot's pairs)."""
    parts = []
    for entry in batch.undo or []:
        if entry["table"] != table:
            continue
        if which in ("both", "old"):
            parts.append(f"SELECT {column} FROM {qn(entry['old'])}")
        if which in ("both", "new"):
            parts.append(f"SELECT {column} FROM {qn(entry['new'])}")
    return " UNION ".join(parts) if parts else ""
