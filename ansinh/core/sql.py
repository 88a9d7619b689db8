"""Raw SQL: the one place for the differences between SQLite and PostgreSQL.

Set-based figures (KPI engine, arrears, worklists, funnel) and the import pipeline write SQL by
hand. Everything that differs between the two databases is a function here, so the SQL of the
apps reads the same on both:

- ``vendor``/``is_postgres``, ``qn`` (quoting), ``table`` (a model's ``_meta.db_table``);
- parameters are **named** (``%(name)s``; Django's SQLite backend turns them into ``:name``):
  builders return ``(sql, {name: value})`` and merge their parts with ``merge``; a name used
  twice is one value. ``param``/``date_param`` write a placeholder, ``in_list`` an ``IN``
  list, ``dates_values`` a ``VALUES`` list of dates;
- dates: ``month_end``, ``plus_days``, ``shift_date``, ``days_between``, ``far_date`` (SQLite
  keeps dates as ISO text, PostgreSQL as ``date``);
- comparisons: ``distinct_op`` (``IS DISTINCT FROM`` / ``IS NOT``);
- temporary tables: ``column_type``, ``temp_create``, ``temp_as``, ``temp_insert`` (COPY on
  PostgreSQL), ``analyze``, ``drop_table``; ``set_local`` (planner settings, PostgreSQL only);
  ``bulk_memory`` (SQLite: temporary storage on disk around a bulk statement);
- running: ``execute`` (row count), ``fetch`` (rows as dicts by column name), ``fetch_as``
  (rows as dataclasses whose fields are the column names), ``fetch_one``, ``scalar``.

Values are passed as they are given: dates are passed as ISO text (``iso``), which both
databases compare and cast like their own dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection, models

Params = dict[str, Any]
T = TypeVar("T")

POSTGRESQL = "postgresql"
SQLITE = "sqlite"


# --------------------------------------------------------------------------- the database


def vendor() -> str:
    """``"postgresql"`` or ``"sqlite"``."""
    return str(connection.vendor)


def is_postgres() -> bool:
    return connection.vendor == POSTGRESQL


def qn(name: str) -> str:
    """A quoted identifier (``"group"``)."""
    return str(connection.ops.quote_name(name))


def table(model: type[models.Model]) -> str:
    """The table of ``model`` (``Model._meta.db_table``), as written in SQL."""
    return model._meta.db_table


def column(model: type[models.Model], field: str) -> str:
    """The quoted column of ``model``'s ``field``."""
    return qn(str(model._meta.get_field(field).column))  # type: ignore[union-attr]


# --------------------------------------------------------------------------- parameters


def merge(*parts: Mapping[str, Any]) -> Params:
    """The parameters of several parts of one statement; a name given twice must have one
    value (it is one parameter)."""
    out: Params = {}
    for part in parts:
        for name, value in part.items():
            if name in out and out[name] != value:
                raise ValueError(f"parameter {name!r} given two values")
            out[name] = value
    return out


def param(name: str) -> str:
    """The placeholder of parameter ``name``."""
    return f"%({name})s"


def date_param(name: str) -> str:
    """The placeholder of a date parameter, typed on PostgreSQL so that date arithmetic and
    comparisons with ``date`` columns work."""
    return f"CAST(%({name})s AS DATE)" if is_postgres() else f"%({name})s"


def iso(value: dt.date) -> str:
    """A date as a parameter value."""
    return value.isoformat()


def in_list(
    col: str, values: Iterable[Any], *, name: str, negate: bool = False
) -> tuple[str, Params]:
    """``col IN (…)`` (``NOT IN`` with ``negate``) with parameters ``name_0``, ``name_1``…;
    no values: false (true with ``negate``). The same ``name`` and values give the same
    parameters, so one list may be used in several places of a statement."""
    vals = list(values)
    if not vals:
        return ("1 = 1" if negate else "1 = 0"), {}
    op = "NOT IN" if negate else "IN"
    names = [f"{name}_{i}" for i in range(len(vals))]
    marks = ", ".join(param(n) for n in names)
    return f"{col} {op} ({marks})", dict(zip(names, vals, strict=True))


def dates_values(dates: Sequence[dt.date], *, name: str = "date") -> tuple[str, Params]:
    """``VALUES (d0), (d1), …`` of ``dates`` (parameters ``name_0``…), typed as dates."""
    names = [f"{name}_{i}" for i in range(len(dates))]
    values = ", ".join(f"({date_param(n)})" for n in names)
    return f"VALUES {values}", {n: iso(d) for n, d in zip(names, dates, strict=True)}


_PLACEHOLDER = re.compile(r"%(%|s)")


def named(query: str, params: Sequence[Any], *, name: str) -> tuple[str, Params]:
    """A statement with positional ``%s`` parameters (a queryset's
    ``query.sql_with_params()``) with named ones instead (``name_0``…), to be part of a
    statement with named parameters."""
    it = iter(range(len(params)))

    def sub(m: re.Match[str]) -> str:
        return "%%" if m.group(1) == "%" else param(f"{name}_{next(it)}")

    out = _PLACEHOLDER.sub(sub, query)
    return out, {f"{name}_{i}": v for i, v in enumerate(params)}


# --------------------------------------------------------------------------- expressions


def far_date() -> str:
    """A date after every real one (the end of an open spell)."""
    return "DATE '9999-12-31'" if is_postgres() else "'9999-12-31'"


def month_end(expr: str) -> str:
    """The last day of the month of the date ``expr``."""
    if is_postgres():
        # through timestamp WITHOUT time zone: date_trunc on a date casts it to timestamptz,
        # which costs a time-zone conversion per row
        return (
            f"CAST(date_trunc('month', CAST({expr} AS timestamp)) + interval '1 month' "
            "- interval '1 day' AS DATE)"
        )
    return f"date({expr}, 'start of month', '+1 month', '-1 day')"


def plus_days(expr: str, days: int) -> str:
    """The date ``expr`` plus ``days`` days."""
    if is_postgres():
        return f"(({expr}) + {int(days)})"
    return f"date({expr}, '{int(days):+d} days')"


def shift_date(expr: str, *, months: int, days: int) -> str:
    """The date ``expr`` plus ``months`` months, then plus ``days`` days (the due date of a
    contribution period: ``months=2, days=-1``)."""
    if is_postgres():
        return f"(({expr}) + interval '{int(months)} months' + interval '{int(days)} days')::date"
    return f"date({expr}, '{int(months):+d} months', '{int(days):+d} days')"


def days_between(later: str, earlier: str) -> str:
    """Whole days ``later − earlier`` (may be negative)."""
    if is_postgres():
        return f"(({later})::date - ({earlier})::date)"
    return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"


def last_char_code(expr: str) -> str:
    """The code point of the last character of the text ``expr`` (splits rows into parts
    by a key: the last digit of a person number is as good as a hash)."""
    if is_postgres():
        return f"ascii(right({expr}, 1))"
    return f"unicode(substr({expr}, -1))"


def distinct_op() -> str:
    """``a <op> b``: true when a and b differ, NULLs compared as values."""
    return "IS DISTINCT FROM" if is_postgres() else "IS NOT"


# --------------------------------------------------------------------------- temporary tables

_TYPES = {
    POSTGRESQL: {
        "text": "text",
        "date": "date",
        "int": "bigint",
        "num": "numeric(14,2)",
        "json": "jsonb",
    },
    SQLITE: {"text": "TEXT", "date": "TEXT", "int": "INTEGER", "num": "NUMERIC", "json": "TEXT"},
}


def column_type(kind: str) -> str:
    """The column type of a temporary table for ``kind``: text, date, int, num or json."""
    return _TYPES[vendor()][kind]


def drop_table(name: str) -> None:
    execute(f"DROP TABLE IF EXISTS {qn(name)}")


def temp_create(name: str, columns: Sequence[tuple[str, str]], *, on_commit_drop: bool) -> None:
    """(Re)create the empty temporary table ``name`` with ``columns`` ((name, kind), kinds of
    ``column_type``); ``on_commit_drop``: dropped with the transaction on PostgreSQL."""
    cols = ", ".join(f"{qn(c)} {column_type(t)}" for c, t in columns)
    suffix = " ON COMMIT DROP" if on_commit_drop and is_postgres() else ""
    drop_table(name)
    execute(f"CREATE TEMP TABLE {qn(name)} ({cols}){suffix}")


def temp_as(
    name: str,
    select: str,
    params: Mapping[str, Any] | None = None,
    *,
    on_commit_drop: bool = False,
    analysed: bool = True,
) -> None:
    """(Re)create the temporary table ``name`` as ``select``, analysed on PostgreSQL unless
    ``analysed`` is false (the caller analyses once it has finished writing it);
    ``on_commit_drop``: dropped with the transaction on PostgreSQL."""
    drop_table(name)
    suffix = " ON COMMIT DROP" if on_commit_drop and is_postgres() else ""
    execute(f"CREATE TEMP TABLE {qn(name)}{suffix} AS {select}", params)
    if analysed:
        analyze(name)


def temp_insert(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Append ``rows`` to table ``name``: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    cols = ", ".join(qn(c) for c in columns)
    if is_postgres():
        with connection.connection.cursor() as cur:
            with cur.copy(f"COPY {qn(name)} ({cols}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
    else:
        marks = ", ".join("?" for _c in columns)
        connection.connection.executemany(f"INSERT INTO {qn(name)} ({cols}) VALUES ({marks})", rows)


def analyze(name: str, *, sqlite: bool = False) -> None:
    """Statistics for the planner of PostgreSQL (a temporary table has none); on SQLite too
    with ``sqlite``."""
    if sqlite or is_postgres():
        execute(f"ANALYZE {qn(name)}")


def set_local(setting: str, value: str) -> None:
    """``SET LOCAL setting = value`` on PostgreSQL (inside the caller's transaction)."""
    if is_postgres():
        execute(f"SET LOCAL {setting} = {value}")


# SQLite, around one import or full snapshot build (issue 22: peak memory < 1 GiB at scale
# 1.0): the staging tables, sorts and every spill go to a temporary file (the system's temp
# directory, SQLITE_TMPDIR) instead of RAM, with a smaller page cache and no memory map; the
# connection's own settings (config/settings.py: for the pages) come back afterwards
BULK_PRAGMAS = {"temp_store": "FILE", "cache_size": "-65536", "mmap_size": "0"}


@contextmanager
def bulk_memory() -> Iterator[None]:
    """Around one bulk job on SQLite (outside a transaction: changing ``temp_store`` drops the
    connection's temporary tables): :data:`BULK_PRAGMAS`, then the settings before. Nothing
    on PostgreSQL or inside a transaction."""
    if is_postgres() or connection.in_atomic_block:
        yield
        return
    before: dict[str, Any] = {}
    for name in BULK_PRAGMAS:
        value = scalar(f"PRAGMA {name}")  # (no mmap_size of an in-memory database)
        if value is not None:
            before[name] = value
    for name in before:
        execute(f"PRAGMA {name} = {BULK_PRAGMAS[name]}")
    try:
        yield
    finally:
        if not connection.in_atomic_block and connection.connection is not None:
            for name, value in before.items():
                execute(f"PRAGMA {name} = {value}")


# --------------------------------------------------------------------------- running

ParamsIn = Mapping[str, Any] | Sequence[Any] | None


def _args(params: ParamsIn) -> Any:
    if params is None:
        return None
    if isinstance(params, Mapping):
        return dict(params)
    return list(params)


def execute(query: str, params: ParamsIn = None) -> int:
    """Run ``query``; the number of rows it wrote (0 where the database does not say)."""
    with connection.cursor() as cur:
        cur.execute(query, _args(params))
        return max(int(cur.rowcount or 0), 0)


def fetch(query: str, params: ParamsIn = None) -> list[dict[str, Any]]:
    """The rows of ``query`` as dicts by column name."""
    with connection.cursor() as cur:
        cur.execute(query, _args(params))
        if not cur.description:
            return []
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def fetch_as(cls: type[T], query: str, params: ParamsIn = None) -> list[T]:
    """The rows of ``query`` as ``cls`` (a dataclass): each column by name to the field of
    that name (every field must be a column)."""
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return [cls(**{f: row[f] for f in fields}) for row in fetch(query, params)]


def fetch_one(query: str, params: ParamsIn = None) -> dict[str, Any] | None:
    rows = fetch(query, params)
    return rows[0] if rows else None


def scalar(query: str, params: ParamsIn = None) -> Any:
    """The first column of the first row (None without rows)."""
    with connection.cursor() as cur:
        cur.execute(query, _args(params))
        row = cur.fetchone()
    return row[0] if row else None


def as_date(value: Any) -> dt.date | None:
    """A date read from either database (SQLite gives ISO text)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
