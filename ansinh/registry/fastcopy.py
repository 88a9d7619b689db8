"""PostgreSQL fast path of the participations import: the server parses the file.

A plain CSV file (no quote character anywhere, every row with as many fields as the header)
is streamed as it is, in blocks of whole lines, into ``COPY … FROM STDIN (FORMAT csv)`` of a
temporary table of text columns — the server parses it on its own core while Python only
reads bytes. One ``INSERT … SELECT`` then trims, checks and stages the rows into the same
staging table the row-by-row path fills, so planning and merging are shared.

The checks here are never looser than ``ParticipationsImporter.clean``: whenever anything is
off — a row the checks refuse, a key repeated in one unit (ties between units are kept, as
the row-by-row path keeps them), a ragged row, bad UTF-8, a quote, a lone carriage return,
PostgreSQL's end-of-data marker — the whole fast path is rolled back to a savepoint and the
caller reads the file row by row, which words the exact errors. Nothing of the fast path is
visible then.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from ansinh.core.codes import GROUP_CODES, SCHEME_CODES
from ansinh.core.importer.columns import match_header
from ansinh.core.importer.db import execute, qn, sql, vendor
from ansinh.registry.columns import PART_COLUMNS

# what str.strip() removes (Python's Unicode whitespace), for btrim()
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# dates accepted without asking Python: canonical ISO text within these years
CAL_FIRST, CAL_LAST = "1900-01-01", "2100-12-31"
BLOCK = 1 << 20  # bytes per COPY write, whole lines
MIN_BYTES = 1 << 16  # below this the row-by-row path is as fast

# what core.importer.rows.BAD_IDENT refuses in a code, as a PostgreSQL regular expression
IDENT_RE = "[/\\\\[:cntrl:]\u2028\u2029\u0080-\u009f]"
RAW = "stg_participations_raw"
# optional columns the fast path leaves to the row-by-row reader (consent words need Python)
ROW_PATH_COLUMNS = frozenset({"address", "village", "consent", "email"})
UNITS = "stg_fast_units"
CAL = "stg_fast_cal"


# bytes that may start or end a field with whitespace str.strip() would remove: ASCII
# whitespace and the lead bytes of the Unicode spaces (\x85, NBSP, U+1680, U+2000–U+205F,
# U+3000). Conservative: a hit only means the columns are trimmed in SQL.
_SPACEY = (
    b" ,",
    b", ",
    b" \n",
    b" \r",
    b"\n ",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1d",
    b"\x1e",
    b"\x1f",
    b"\xc2\x85",
    b"\xc2\xa0",
    b"\xe1\x9a\x80",
    b"\xe2\x80",
    b"\xe2\x81\x9f",
    b"\xe3\x80\x80",
)


class _NotPlain(Exception):
    pass


def copy_participations(
    *,
    stg: str,
    unit_ok: frozenset[str],
    path: pathlib.Path,
    header: list[str],
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> int | None:
    """Stage a participations CSV into ``stg`` (the importer's staging table) on PostgreSQL.
    Returns the number of data rows, or None when the file must be read row by row (nothing
    is left behind then). ``unit_ok``: the unit codes the rows may name (scope included)."""
    if vendor() != "postgresql" or path.suffix.lower() == ".xlsx":
        return None
    try:
        if path.stat().st_size < MIN_BYTES:
            return None
    except OSError:
        return None
    with path.open("rb") as fh:
        first = fh.readline()
        if first.startswith(b"\xef\xbb\xbf"):
            first = first[3:]
        if b'"' in first or first.startswith(b"PK\x03\x04") or b"\x00" in first:
            return None
        try:
            cells = [c.strip() for c in first.decode("utf-8").rstrip("\r\n").split(",")]
        except UnicodeDecodeError:
            return None
        # the header on the first line (no title rows above it), every column a known one
        names = match_header("participations", cells, PART_COLUMNS)
        if names != header or not all(names) or len(set(names)) != len(names):
            return None
        if ROW_PATH_COLUMNS.intersection(names):
            return None  # address, village, consent, email: row by row
        sid = transaction.savepoint()
        try:
            rows = _copy_and_check(fh, stg, unit_ok, names, progress, total)
        except Exception:  # a COPY error (ragged row, bad UTF-8…) or _NotPlain
            transaction.savepoint_rollback(sid)
            return None
        if rows is None:
            transaction.savepoint_rollback(sid)
            return None
        transaction.savepoint_commit(sid)
        return rows


def tie_rows(stg: str) -> list[int]:
    """The rows of a staged file sharing a person, scheme and start date in several units
    (ties, kept: SPEC section 3), as ``SpellKeys`` finds them on the row-by-row path; the
    fast path leaves none of one key in one unit (issue 22: a messy file has ties, and
    they sent the whole file back to the row-by-row path)."""
    return [
        int(r)
        for (r,) in sql(
            f"SELECT s.row_no FROM {qn(stg)} s JOIN (SELECT person_id, scheme, start_date "
            f"FROM {qn(stg)} GROUP BY person_id, scheme, start_date HAVING COUNT(*) > 1) d "
            "ON d.person_id = s.person_id AND d.scheme = s.scheme "
            "AND d.start_date = s.start_date"
        )
    ]


def _copy_raw(
    fh: Any, cols: list[str], progress: Callable[[int, int], None] | None, total: int
) -> bool:
    """COPY the rest of the file into RAW; True when some field may need trimming."""
    execute(f"DROP TABLE IF EXISTS {RAW}")
    execute(
        f"CREATE TEMP TABLE {RAW} (n bigint GENERATED ALWAYS AS IDENTITY, "
        + ", ".join(f"{c} text" for c in cols)
        + ") ON COMMIT DROP"
    )
    lines = 0
    spacey = False
    max_line = int(getattr(settings, "IMPORT_MAX_LINE_BYTES", 1 << 20))
    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY {RAW} ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as copy:
            while block := fh.readlines(BLOCK):
                data = b"".join(block)
                if b'"' in data or b"\\." in data or data.count(b"\r") != data.count(b"\r\n"):
                    raise _NotPlain
                if max(map(len, block)) > max_line:
                    raise _NotPlain  # the row-by-row path refuses the long line
                if not spacey:
                    spacey = data[:1] == b" " or any(b in data for b in _SPACEY)
                copy.write(data)
                lines += len(block)
                if progress:
                    progress(lines, max(total, lines))
    return spacey


def _lookups(unit_ok: frozenset[str]) -> None:
    execute(f"DROP TABLE IF EXISTS {UNITS}")
    execute(f"CREATE TEMP TABLE {UNITS} (code text PRIMARY KEY) ON COMMIT DROP")
    with connection.connection.cursor() as cur:
        with cur.copy(f"COPY {UNITS} (code) FROM STDIN") as copy:
            for code in sorted(unit_ok):
                copy.write_row((code,))
    execute(f"DROP TABLE IF EXISTS {CAL}")
    # every way SPEC section 2 writes a date: ISO, DD/MM/YYYY and D/M/YYYY (and mixes)
    forms = ("YYYY-MM-DD", "DD/MM/YYYY", "FMDD/MM/YYYY", "DD/FMMM/YYYY", "FMDD/FMMM/YYYY")
    union = " UNION ".join(
        f"SELECT to_char(g.d, '{f}') AS ds, CAST(g.d AS date) AS d FROM generate_series("
        f"DATE '{CAL_FIRST}', DATE '{CAL_LAST}', interval '1 day') AS g(d)"
        for f in forms
    )
    execute(f"CREATE TEMP TABLE {CAL} ON COMMIT DROP AS {union}")
    execute(f"ALTER TABLE {CAL} ADD PRIMARY KEY (ds)")
    execute(f"ANALYZE {CAL}")
    execute(f"ANALYZE {UNITS}")


def _copy_and_check(
    fh: Any,
    stg: str,
    unit_ok: frozenset[str],
    names: list[str],
    progress: Callable[[int, int], None] | None,
    total: int,
) -> int | None:
    cols = [f"c{i}" for i in range(len(names))]
    # (the rest of the import transaction too) no JIT: compiling costs more than it saves
    execute("SET LOCAL jit = off")
    spacey = _copy_raw(fh, cols, progress, total)
    # statistics, or the planner takes the raw table for one row and probes the calendar
    # per row (nested loops: minutes instead of seconds)
    execute(f"ANALYZE {RAW}")
    _lookups(unit_ok)
    present = [n for n in PART_COLUMNS if n in names]
    # stripped text of each known column ('' when absent from the file or empty)
    if spacey:
        trimmed = ", ".join(
            f"btrim(COALESCE(r.c{names.index(n)}, ''), %s) AS v_{n}" for n in present
        )
        tparams: list[Any] = [WHITESPACE] * len(present)
    else:
        trimmed = ", ".join(f"COALESCE(r.c{names.index(n)}, '') AS v_{n}" for n in present)
        tparams = []

    def v(n: str) -> str:
        return f"x.v_{n}" if n in present else "''"

    # the conjunction of a dozen checks makes the planner expect almost no row and probe the
    # calendar per row; hash joins over the whole file are what this statement wants
    execute("SET LOCAL enable_nestloop = off")
    schemes = ", ".join("%s" for _c in SCHEME_CODES)
    groups = ", ".join("%s" for _c in GROUP_CODES)
    inserted = execute(
        f"""
        INSERT INTO {qn(stg)} (row_no, person_id, unit_id, scheme, "group", start_date,
                               end_date, employer_code, household_id, birth_date, sex,
                               full_name, phone)
        SELECT x.n + 1, {v("person_id")}, {v("unit_code")}, {v("scheme")}, {v("group")},
               cs.d, ce.d, {v("employer_code")}, NULLIF({v("household_id")}, ''), cb.d,
               NULLIF({v("sex")}, ''), NULLIF({v("full_name")}, ''), NULLIF({v("phone")}, '')
        FROM (SELECT r.n, {trimmed} FROM {RAW} r) x
        JOIN {CAL} cs ON cs.ds = {v("start_date")}
        LEFT JOIN {CAL} ce ON ce.ds = {v("end_date")}
        LEFT JOIN {CAL} cb ON cb.ds = {v("birth_date")}
        WHERE {v("person_id")} <> '' AND length({v("person_id")}) <= 64
          AND {v("person_id")} !~ %s
          AND ({v("household_id")} = '' OR {v("household_id")} !~ %s)
          AND ({v("employer_code")} = '' OR {v("employer_code")} !~ %s)
          AND {v("unit_code")} IN (SELECT code FROM {UNITS})
          AND {v("scheme")} IN ({schemes}) AND {v("group")} IN ({groups})
          AND ({v("end_date")} = '' OR (ce.d IS NOT NULL AND ce.d >= cs.d))
          AND ({v("birth_date")} = '' OR cb.d IS NOT NULL)
          AND length({v("household_id")}) <= 64 AND length({v("employer_code")}) <= 64
          AND length({v("sex")}) <= 8 AND length({v("full_name")}) <= 200
          AND length({v("phone")}) <= 32
        """,
        [*tparams, *([IDENT_RE] * 3), *SCHEME_CODES, *GROUP_CODES],
    )
    execute("SET LOCAL enable_nestloop = on")
    rows = int(sql(f"SELECT COUNT(*) FROM {RAW}")[0][0])
    if inserted != rows:
        # the Python path skips blank rows; every other row must have been staged
        blank = " AND ".join(f"x.v_{n} = ''" for n in present)
        rows = int(
            sql(
                f"SELECT COUNT(*) FROM (SELECT r.n, {trimmed} FROM {RAW} r) x WHERE NOT ({blank})",
                tparams,
            )[0][0]
        )
    if rows == 0 or inserted != rows:
        return None  # a row is refused: the Python path words the errors
    if sql(
        f"SELECT 1 FROM {qn(stg)} GROUP BY person_id, scheme, start_date, unit_id "
        "HAVING COUNT(*) > 1 LIMIT 1"
    ):
        return None  # a repeated key inside the file: Python words the errors
    execute(f"DROP TABLE {RAW}")
    return rows
