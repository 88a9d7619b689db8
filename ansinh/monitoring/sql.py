"""Set-based SQL of the KPI engine; runs on SQLite and PostgreSQL.

Every query yields "leaf rows" ``(as_of, unit_id, scheme, group, participants, new, lapsed,
renewed, in_total, from_counts)`` (``KpiRow``) at the units where facts are loaded. The live computation for one date
and the materialised snapshot (``monitoring_kpisnapshot``) run the very same SQL, so a figure
read from the snapshot equals the one computed live by construction.

Definitions (SPEC section 3):

- spells: at date D a person counts once per scheme; among the spells covering D
  (``start_date ≤ D ≤ end_date`` or no end) the one with the latest ``start_date`` decides the
  unit and group; ties by the later import batch, then the later row (``ROW_NUMBER()``).
- counts: per (unit, scheme, group) the row with the latest ``as_of ≤ D`` stands; a unit with
  ANY spell of a scheme ignores its counts of that scheme; where a unit/scheme has a row without
  a group, that row is the total and the grouped rows only a breakdown (``in_total`` false).
- new: persons whose first-ever spell of the scheme started in the month.
- lapsed: spells that ended in the month with no spell of the same person and scheme covering
  the day after, nor starting within 30 days after the end.
- renewed: spells started in the month by a person who had an earlier spell of the scheme.

The rows are built from one builder per kind of row, each returning ``(sql, {name: value})``
(``ansinh.core.sql``: named parameters, the vendor differences):

- ``_live_spell_rows``: participants from spells at any dates, the covering spells of each
  date ranked by ``ROW_NUMBER()`` (live reads, one date);
- ``_delta_spell_rows``: participants from spells at consecutive month-ends by month-end deltas
  (the snapshot), over the spells of a ``_Source`` (all of them, the spells of some (person,
  scheme) pairs, or both sides of a change with their signs);
- ``_event_rows``: new, lapsed and renewed at month-ends (with the delta CTEs);
- ``_count_rows``: participants from counts.

A ``Scope`` says which units' rows are wanted (and so which persons' spells are read); the
public builders put the kinds together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ansinh.core import sql
from ansinh.core.sql import Params, date_param, in_list, merge
from ansinh.geography.models import Unit
from ansinh.monitoring.models import KpiSnapshot
from ansinh.registry.models import Count, Spell


@dataclass(frozen=True)
class KpiRow:
    """A leaf row as the SQL of this module reads it (``as_of`` is ISO text on SQLite)."""

    as_of: Any
    unit_id: str
    scheme: str
    group: str
    participants: int
    new: int
    lapsed: int
    renewed: int
    in_total: int
    from_counts: int


@dataclass(frozen=True)
class SpellRow:
    """Participants (and events) that spells make at a date: a row of ``pairs_rows_sql``,
    ``signed_rows_sql``, ``changed_contrib_sql`` (events 0 there)."""

    as_of: Any
    unit_id: str
    scheme: str
    group: str
    participants: int
    new: int
    lapsed: int
    renewed: int


# the columns of a spell-rows table (``SpellRow``), in order
SPELL_ROW_COLUMNS = (
    "as_of",
    "unit_id",
    "scheme",
    "group",
    "participants",
    "new",
    "lapsed",
    "renewed",
)


def spell_row_columns(alias: str = "") -> str:
    """The columns of ``SPELL_ROW_COLUMNS`` as a list for SQL (prefixed with ``alias.``)."""
    pre = f"{alias}." if alias else ""
    return ", ".join(pre + sql.qn(c) for c in SPELL_ROW_COLUMNS)


@dataclass(frozen=True)
class Scope:
    """Which units' rows are wanted: ``units`` (codes; the incremental refresh), a subtree
    (``path_prefix``; live reads) or all. The person-level windows always see every spell of
    the persons concerned, so restricting rows never changes which spell decides."""

    units: frozenset[str] | None = None
    path_prefix: str | None = None

    def rows(self, col: str) -> tuple[str, Params]:
        """The condition that the unit column ``col`` is in the scope."""
        if self.units is not None:
            return in_list(col, sorted(self.units), name="unit")
        if self.path_prefix is not None:
            return (
                f"{col} IN (SELECT u.code FROM {sql.table(Unit)} u "
                "WHERE substr(u.path, 1, %(prefix_len)s) = %(prefix)s)",
                self._prefix(),
            )
        return "1 = 1", {}

    def persons(self, col: str) -> tuple[str, Params]:
        """The condition that the person column ``col`` names a person with a spell in the
        scope (whose spells may make rows there)."""
        spell = sql.table(Spell)
        if self.units is not None:
            cond, params = in_list("s2.unit_id", sorted(self.units), name="unit")
            return f"{col} IN (SELECT s2.person_id FROM {spell} s2 WHERE {cond})", params
        if self.path_prefix is not None:
            return (
                f"{col} IN (SELECT s2.person_id FROM {spell} s2 JOIN {sql.table(Unit)} u2 "
                "ON u2.code = s2.unit_id WHERE substr(u2.path, 1, %(prefix_len)s) = %(prefix)s)",
                self._prefix(),
            )
        return "1 = 1", {}

    def _prefix(self) -> Params:
        assert self.path_prefix is not None
        return {"prefix_len": len(self.path_prefix), "prefix": self.path_prefix}


ALL = Scope()


def _dates(dates: Sequence[dt.date]) -> tuple[str, Params]:
    values, params = sql.dates_values(dates)
    return f"dates(d) AS ({values})", params


def _summed(parts: Sequence[str]) -> str:
    """The rows of ``parts`` (each with the columns of a leaf row) summed per key."""
    union = " UNION ALL ".join(parts)
    return f"""
        SELECT y.as_of AS as_of, y.unit_id AS unit_id, y.scheme AS scheme, y.grp AS "group",
               SUM(y.participants) AS participants, SUM(y.new) AS new,
               SUM(y.lapsed) AS lapsed, SUM(y.renewed) AS renewed,
               MAX(y.in_total) AS in_total, MAX(y.from_counts) AS from_counts
        FROM ({union}) y
        GROUP BY y.as_of, y.unit_id, y.scheme, y.grp
    """


# --------------------------------------------------------------------------- kinds of row


def _live_spell_rows(scope: Scope) -> tuple[str, Params]:
    """Participants from spells at the ``dates`` CTE: the covering spells of each date ranked
    by ``ROW_NUMBER()``."""
    persons, pp = scope.persons("s.person_id")
    rows, rp = scope.rows("x.unit_id")
    return (
        f"""
        SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               COUNT(*) AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed, 1 AS in_total,
               0 AS from_counts
        FROM (
            SELECT dt.d AS as_of, s.unit_id AS unit_id, s.scheme AS scheme, s."group" AS grp,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, s.person_id, s.scheme
                       ORDER BY s.start_date DESC, COALESCE(s.batch_id, 0) DESC,
                                s.row_no DESC, s.id DESC
                   ) AS rn
            FROM {sql.table(Spell)} s
            JOIN dates dt ON s.start_date <= dt.d AND (s.end_date IS NULL OR s.end_date >= dt.d)
            WHERE {persons}
        ) x
        WHERE x.rn = 1 AND {rows}
        GROUP BY x.as_of, x.unit_id, x.scheme, x.grp
        """,
        merge(pp, rp),
    )


def _count_rows(scope: Scope) -> tuple[str, Params]:
    """Participants from counts at the ``dates`` CTE: per (unit, scheme, group) the row with
    the latest ``as_of`` on or before the date, where the unit has no spell of the scheme."""
    rows, rp = scope.rows("c.unit_id")
    count, spell = sql.table(Count), sql.table(Spell)
    return (
        f"""
        SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               x.participants AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed,
               CASE WHEN x.grp = '' OR NOT EXISTS (
                   SELECT 1 FROM {count} c3
                   WHERE c3.unit_id = x.unit_id AND c3.scheme = x.scheme AND c3."group" = ''
                     AND c3.as_of <= x.as_of
               ) THEN 1 ELSE 0 END AS in_total, 1 AS from_counts
        FROM (
            SELECT dt.d AS as_of, c.unit_id AS unit_id, c.scheme AS scheme, c."group" AS grp,
                   c.participants AS participants,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, c.unit_id, c.scheme, c."group" ORDER BY c.as_of DESC
                   ) AS rn
            FROM {count} c
            JOIN dates dt ON c.as_of <= dt.d
            WHERE {rows}
              AND NOT EXISTS (
                  SELECT 1 FROM {spell} s4
                  WHERE s4.unit_id = c.unit_id AND s4.scheme = c.scheme
              )
        ) x
        WHERE x.rn = 1
        """,
        rp,
    )


@dataclass(frozen=True)
class _Source:
    """The spells the month-end deltas count.

    ``spells``: FROM … (WHERE …) giving ``s``; ``sign``: the sign of a spell's rows;
    ``partition``: the window of a (person, scheme) pair (with its side); ``others``: where a
    lapse looks for a later spell of the pair (``same_side``: the condition that it is of the
    same side)."""

    spells: str
    sign: str
    partition: str
    others: str
    same_side: str
    params: Params
    signed: bool = False


def _all_spells(scope: Scope, *, part: tuple[int, int] | None = None) -> _Source:
    """Every spell of the persons of ``scope``; with ``part`` = (k, n) of the persons of part k
    of n (by the last character of their number: every spell of a person is in one part)."""
    persons, params = scope.persons("s.person_id")
    spell = sql.table(Spell)
    if part is not None:
        k, n = part
        persons += f" AND {sql.last_char_code('s.person_id')} %% {int(n)} = {int(k)}"
    return _Source(
        spells=f"{spell} s WHERE {persons}",
        sign="1",
        partition="s.person_id, s.scheme",
        others=spell,
        same_side="",
        params=params,
    )


def _pair_spells(pairs: str) -> _Source:
    """The spells of the (person, scheme) pairs of table ``pairs``, driven by the (few) pairs:
    one natural-key probe each (CROSS JOIN keeps SQLite's join order). A lapse looks for a
    later spell of the same pair in ``flagged`` on PostgreSQL (hashed; the table would be
    scanned whole), in the table on SQLite (its natural key is probed; it would index the CTE
    first)."""
    spell = sql.table(Spell)
    return _Source(
        spells=(
            f"{pairs} pp CROSS JOIN {spell} s "
            "WHERE s.person_id = pp.person_id AND s.scheme = pp.scheme"
        ),
        sign="1",
        partition="s.person_id, s.scheme",
        others="flagged" if sql.is_postgres() else spell,
        same_side="",
        params={},
    )


def _signed_spells(spells: str) -> _Source:
    """Table ``spells`` (the columns of ``registry_spell`` used here plus ``sg``, +1 or −1)
    holding both sides of a change: each side is ranked apart and its rows counted with its
    sign, so the rows are the difference of the two sides; a lapse looks at the spells of its
    own side (indexed by the caller)."""
    return _Source(
        spells=f"{spells} s",
        sign="s.sg",
        partition="s.sg, s.person_id, s.scheme",
        others=spells,
        same_side="AND f.sg = {e}.sg",
        params={},
        signed=True,
    )


def _delta_ctes(source: _Source, scope: Scope) -> tuple[str, Params]:
    """The CTEs ``flagged``, ``events``, ``deltas``, ``overl``, ``grid`` (after ``dates``,
    consecutive month-ends from ``%(first)s`` to ``%(last)s``).

    In the order that breaks ties (start, batch, row), a spell that ends no later than every
    spell after it decides exactly from its start until the next spell starts (or it ends):
    later spells that start by a day still cover it. Those spells are counted by +1/−1 deltas
    per month-end bucket summed cumulatively over a (unit, scheme, group) × dates grid. Only
    a spell with a later spell nested inside it (ending earlier, ``ov``) decides on scattered
    days: the spells of such pairs (``overl``) are joined with the dates and ranked. A spell
    that is the same on both sides of a signed source cancels in the deltas before they are
    spread over the dates; a signed source (a change: ``_cancelled``, ``_signed_overl``)
    drops those spells before its events are summed, ranks its nested spells only over the
    span of what changed, and spreads its deltas without a grid (``_delta_spell_rows``).

    One sort of the spells serves every window (``first_start`` is the first start in the
    same order), and ``flagged`` is the only copy of them. ``events`` sums, in one
    ``GROUP BY`` per (unit, scheme, group, month-end), the deltas and the new, lapsed and
    renewed events (``nev``: how many event rows a key has, so that a key is an event row
    exactly when a spell made an event there); ``deltas`` folds the months before the
    first month-end into it."""
    rows, rp = scope.rows("x.unit_id")
    far = sql.far_date()
    first, last = date_param("first"), date_param("last")
    window = (
        f"PARTITION BY {source.partition} "
        "ORDER BY s.start_date, COALESCE(s.batch_id, 0), s.row_no, s.id"
    )
    # two frames, each one pass (SQLite runs the functions of one frame together): the later
    # spells (next start: the least later start, as the order is by start) and the spells
    # up to this one (ROW_NUMBER's own frame)
    later = f"{window} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
    upto = f"{window} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    # the next start: LEAD on PostgreSQL (MIN over a moving frame is recomputed per row
    # there); on SQLite the least later start (the order is by start), in the later frame's
    # pass, as LEAD would take a pass of its own
    next_start = (
        f"LEAD(s.start_date) OVER ({window})"
        if sql.is_postgres()
        else f"MIN(s.start_date) OVER ({later})"
    )
    counted = "f.ov = 0 AND (f.stop IS NULL OR f.stop > f.start_date)"

    def lapses(e: str) -> str:
        """The condition that spell ``e`` (ended) lapses: no spell of its pair (and side)
        covers the day after its end, nor starts within 30 days after it."""
        return f"""{e}.end_date IS NOT NULL AND NOT EXISTS (
                      SELECT 1 FROM {source.others} f
                      WHERE f.person_id = {e}.person_id AND f.scheme = {e}.scheme
                        AND f.id <> {e}.id {source.same_side.format(e=e)}
                        AND f.start_date <= {sql.plus_days(f"{e}.end_date", 30)}
                        AND (f.end_date IS NULL OR f.end_date > {e}.end_date)
                  )"""

    # a signed source ranks both sides (``ranked``), then drops what is the same on both
    # (``flagged``: ``_cancelled``)
    ranked = "ranked" if source.signed else "flagged"
    ctes = f"""
        {ranked} AS MATERIALIZED (
            SELECT o.id, o.person_id, o.scheme, o.unit_id, o.grp, o.start_date, o.end_date,
                   o.first_rn, o.first_start, o.sg,
                   CASE WHEN o.later_end IS NOT NULL
                              AND COALESCE(o.end_date, {far}) > o.later_end
                        THEN 1 ELSE 0 END AS ov,
                   CASE WHEN o.next_start IS NOT NULL
                              AND (o.end_date IS NULL OR o.next_start <= o.end_date)
                        THEN o.next_start
                        ELSE {sql.plus_days("o.end_date", 1)} END AS stop
            FROM (
                SELECT s.id AS id, s.person_id AS person_id, s.scheme AS scheme,
                       s.unit_id AS unit_id, s."group" AS grp, s.start_date AS start_date,
                       s.end_date AS end_date,
                       {source.sign} AS sg,
                       MIN(COALESCE(s.end_date, {far})) OVER ({later}) AS later_end,
                       {next_start} AS next_start,
                       ROW_NUMBER() OVER ({upto}) AS first_rn,
                       FIRST_VALUE(s.start_date) OVER ({upto}) AS first_start
                FROM {source.spells}
            ) o
        ),{_cancelled(lapses("e")) if source.signed else ""}
        events AS MATERIALIZED (
            SELECT x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
                   x.bucket AS bucket, SUM(x.delta) AS delta, SUM(x.new) AS new,
                   SUM(x.lapsed) AS lapsed, SUM(x.renewed) AS renewed, SUM(x.nev) AS nev
            FROM (
                SELECT f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp,
                       {sql.month_end("f.start_date")} AS bucket,
                       CASE WHEN {counted} THEN f.sg ELSE 0 END AS delta,
                       CASE WHEN f.first_rn = 1 THEN f.sg ELSE 0 END AS new,
                       0 AS lapsed,
                       CASE WHEN f.start_date > f.first_start THEN f.sg ELSE 0 END AS renewed,
                       CASE WHEN f.first_rn = 1 OR f.start_date > f.first_start
                            THEN 1 ELSE 0 END AS nev
                FROM flagged f
                WHERE ({counted}) OR f.first_rn = 1 OR f.start_date > f.first_start
                UNION ALL
                SELECT f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp,
                       {sql.month_end("f.stop")} AS bucket, -f.sg AS delta, 0 AS new,
                       0 AS lapsed, 0 AS renewed, 0 AS nev
                FROM flagged f WHERE f.ov = 0 AND f.stop > f.start_date
                UNION ALL
                SELECT e.unit_id AS unit_id, e.scheme AS scheme, e.grp AS grp,
                       {sql.month_end("e.end_date")} AS bucket, 0 AS delta, 0 AS new,
                       e.sg AS lapsed, 0 AS renewed, 1 AS nev
                FROM flagged e
                WHERE {"e.lapse = 1" if source.signed else lapses("e")}
            ) x
            WHERE x.bucket <= {last} AND {rows}
            GROUP BY x.unit_id, x.scheme, x.grp, x.bucket
        ),
        deltas AS (
            SELECT v.unit_id AS unit_id, v.scheme AS scheme, v.grp AS grp,
                   CASE WHEN v.bucket < {first} THEN {first} ELSE v.bucket END AS d,
                   SUM(v.delta) AS delta
            FROM events v
            WHERE v.delta <> 0
            GROUP BY 1, 2, 3, 4
            HAVING SUM(v.delta) <> 0
        ),
        {_signed_overl(far) if source.signed else _overl()}"""
    if not source.signed:
        ctes += """,
        grid AS (
            SELECT k.unit_id AS unit_id, k.scheme AS scheme, k.grp AS grp, dt.d AS d
            FROM (SELECT DISTINCT unit_id, scheme, grp FROM deltas) k CROSS JOIN dates dt
        )"""
    return ctes, merge(source.params, rp)


def _overl() -> str:
    """The CTE ``overl``: the spells of the pairs (and sides) with a nested spell, to be
    ranked at every month-end they cover."""
    return """overl AS MATERIALIZED (
            SELECT f.id, f.person_id, f.scheme, f.unit_id, f.grp, f.start_date, f.end_date,
                   f.first_rn, f.ov, f.sg
            FROM flagged f
            WHERE EXISTS (
                SELECT 1 FROM flagged g
                WHERE g.ov = 1 AND g.person_id = f.person_id AND g.scheme = f.scheme
                  AND g.sg = f.sg
            )
        )"""


def _cancelled(lapses: str) -> str:
    """The CTE ``flagged`` of a signed source: the rows of ``ranked`` (both sides, each
    ranked apart) less the spells that are the same on both sides. A spell the change left
    alone, with its neighbours alone, is on both: the same spell (id), deciding over the
    same days (``stop``, ``ov``), in the same place of its pair's order (``first_rn``,
    ``first_start``), lapsing alike (``lapse``); it makes the same rows on both sides, so
    both copies go before anything is summed or spread over the month-ends.

    In a pair with a nested spell (``ovpairs``) the rows stay, both copies (``copies`` = 2,
    ``same`` = 1), as ``overl`` ranks them day by day; but a month-end that only such
    copies cover has the same spells, hence the same one deciding, on both sides.

    ``lapsing``: the spells (``e``) that lapse, by the condition ``lapses`` (an anti-join,
    which PostgreSQL hashes)."""
    return f"""
        lapsing AS MATERIALIZED (
            SELECT e.id AS id, e.sg AS sg FROM ranked e WHERE {lapses}
        ),
        ovpairs AS MATERIALIZED (
            SELECT DISTINCT r.person_id AS person_id, r.scheme AS scheme
            FROM ranked r WHERE r.ov = 1
        ),
        grouped AS MATERIALIZED (
            SELECT r.id AS id, r.person_id AS person_id, r.scheme AS scheme,
                   r.unit_id AS unit_id, r.grp AS grp, r.start_date AS start_date,
                   r.end_date AS end_date, r.first_rn AS first_rn,
                   r.first_start AS first_start, r.ov AS ov, r.stop AS stop,
                   CASE WHEN l.id IS NULL THEN 0 ELSE 1 END AS lapse, SUM(r.sg) AS sg,
                   COUNT(*) AS copies, MAX(CASE WHEN v.person_id IS NULL THEN 0 ELSE 1 END) AS ovp
            FROM ranked r
            LEFT JOIN lapsing l ON l.id = r.id AND l.sg = r.sg
            LEFT JOIN ovpairs v ON v.person_id = r.person_id AND v.scheme = r.scheme
            GROUP BY r.id, r.person_id, r.scheme, r.unit_id, r.grp, r.start_date,
                     r.end_date, r.first_rn, r.first_start, r.ov, r.stop,
                     CASE WHEN l.id IS NULL THEN 0 ELSE 1 END
        ),
        flagged AS MATERIALIZED (
            SELECT g.id, g.person_id, g.scheme, g.unit_id, g.grp, g.start_date, g.end_date,
                   g.first_rn, g.first_start, g.ov, g.stop, g.lapse,
                   CASE WHEN g.copies = 2 THEN side.sg ELSE g.sg END AS sg,
                   g.ovp, CASE WHEN g.copies = 2 THEN 1 ELSE 0 END AS same
            FROM grouped g
            JOIN (SELECT 1 AS sg UNION ALL SELECT -1) side
              ON (g.copies = 2 AND g.ovp = 1) OR (g.copies = 1 AND side.sg = g.sg)
        ),"""


def _signed_overl(far: str) -> str:
    """The CTE ``overl`` of a signed source: the spells of the pairs with a nested spell,
    both sides, each with the span (``lo``, ``hi``) of the pair's spells that differ between
    the sides; only the month-ends in it can differ."""
    return f"""ovspan AS MATERIALIZED (
            SELECT f.person_id AS person_id, f.scheme AS scheme, MIN(f.start_date) AS lo,
                   MAX(COALESCE(f.end_date, {far})) AS hi
            FROM flagged f WHERE f.ovp = 1 AND f.same = 0
            GROUP BY f.person_id, f.scheme
        ),
        overl AS MATERIALIZED (
            SELECT f.id, f.person_id, f.scheme, f.unit_id, f.grp, f.start_date, f.end_date,
                   f.first_rn, f.ov, f.sg, w.lo AS lo, w.hi AS hi
            FROM flagged f
            JOIN ovspan w ON w.person_id = f.person_id AND w.scheme = f.scheme
            WHERE f.start_date <= w.hi AND COALESCE(f.end_date, {far}) >= w.lo
        )"""


_SPREAD_RUNS = """
        SELECT dt.d AS as_of, r.unit_id AS unit_id, r.scheme AS scheme, r.grp AS grp,
               r.run AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed,
               1 AS in_total, 0 AS from_counts
        FROM (
            SELECT dl.unit_id AS unit_id, dl.scheme AS scheme, dl.grp AS grp, dl.d AS d,
                   SUM(dl.delta) OVER (
                       PARTITION BY dl.unit_id, dl.scheme, dl.grp ORDER BY dl.d
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS run,
                   LEAD(dl.d) OVER (PARTITION BY dl.unit_id, dl.scheme, dl.grp ORDER BY dl.d)
                       AS nxt
            FROM deltas dl
        ) r
        JOIN dates dt ON dt.d >= r.d AND (r.nxt IS NULL OR dt.d < r.nxt)
        WHERE r.run <> 0
"""

_SPREAD_GRID = """
        SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               x.participants AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed,
               1 AS in_total, 0 AS from_counts
        FROM (
            SELECT g.d AS as_of, g.unit_id AS unit_id, g.scheme AS scheme, g.grp AS grp,
                   SUM(COALESCE(dl.delta, 0)) OVER (
                       PARTITION BY g.unit_id, g.scheme, g.grp ORDER BY g.d
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS participants
            FROM grid g
            LEFT JOIN deltas dl ON dl.unit_id = g.unit_id AND dl.scheme = g.scheme
                               AND dl.grp = g.grp AND dl.d = g.d
        ) x
        WHERE x.participants <> 0
"""


def _delta_spell_rows(scope: Scope, *, signed: bool = False) -> tuple[str, Params]:
    """Participants from spells at the month-ends of ``dates`` (with ``_delta_ctes``): the
    cumulative deltas over the (unit, scheme, group) × month-ends grid (``_SPREAD_GRID``),
    plus the days the nested spells decide. The deltas of a signed source (``signed``: a
    change) are few and their sums mostly zero: each running sum is spread over the
    month-ends up to the next delta of its key instead (``_SPREAD_RUNS``; over every key's
    month-ends that join would cost more than the grid)."""
    rows, rp = scope.rows("x.unit_id")
    simple = _SPREAD_RUNS if signed else _SPREAD_GRID
    overlapping = f"""
        SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               SUM(x.sg) AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed,
               1 AS in_total, 0 AS from_counts
        FROM (
            SELECT dt.d AS as_of, f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp,
                   f.ov AS ov, f.sg AS sg,
                   ROW_NUMBER() OVER (  -- first_rn: the place in the order that breaks ties
                       PARTITION BY dt.d, f.sg, f.person_id, f.scheme
                       ORDER BY f.first_rn DESC
                   ) AS rn
            FROM overl f
            JOIN dates dt ON f.start_date <= dt.d AND (f.end_date IS NULL OR f.end_date >= dt.d)
                         {"AND dt.d >= f.lo AND dt.d <= f.hi" if signed else ""}
        ) x
        WHERE x.rn = 1 AND x.ov = 1 AND {rows}
        GROUP BY x.as_of, x.unit_id, x.scheme, x.grp
    """
    return f"{simple} UNION ALL {overlapping}", rp


def _event_rows(scope: Scope) -> tuple[str, Params]:
    """New, lapsed and renewed at the month-ends of ``dates`` (with ``_delta_ctes``: summed
    in ``events``), each at the month-end of its start or end."""
    return (
        """
        SELECT v.bucket AS as_of, v.unit_id AS unit_id, v.scheme AS scheme, v.grp AS grp,
               0 AS participants, v.new AS new, v.lapsed AS lapsed, v.renewed AS renewed,
               1 AS in_total, 0 AS from_counts
        FROM events v
        WHERE v.nev > 0 AND v.bucket IN (SELECT d FROM dates)
        """,
        {},
    )


def _month_end_rows(
    *, dates: Sequence[dt.date], source: _Source, scope: Scope, counts: bool
) -> tuple[str, Params]:
    """WITH … SELECT of the leaf rows (``KpiRow``) at ``dates`` (consecutive month-ends)
    that the spells of ``source`` make, with their events, and (``counts``) the counts."""
    with_dates, dp = _dates(dates)
    ctes, cp = _delta_ctes(source, scope)
    spells, sp = _delta_spell_rows(scope, signed=source.signed)
    events, ep = _event_rows(scope)
    parts, params = [spells, events], [dp, cp, sp, ep]
    if counts:
        count_rows, np_ = _count_rows(scope)
        parts.insert(1, count_rows)
        params.append(np_)
    bounds = {"first": sql.iso(min(dates)), "last": sql.iso(max(dates))}
    return f"WITH {with_dates}, {ctes} {_summed(parts)}", merge(bounds, *params)


# --------------------------------------------------------------------------- statements


def live_rows_sql(*, dates: Sequence[dt.date], scope: Scope = ALL) -> tuple[str, Params]:
    """A SELECT of the leaf rows (``KpiRow``; no events) at ``dates`` from all spells and
    counts, restricted to ``scope``."""
    with_dates, dp = _dates(dates)
    spells, sp = _live_spell_rows(scope)
    counts, cp = _count_rows(scope)
    return f"WITH {with_dates} {_summed([spells, counts])}", merge(dp, sp, cp)


def counts_only_sql(*, day: dt.date) -> tuple[str, Params]:
    """The leaf rows (``KpiRow``) of the counts alone at ``day``."""
    with_dates, dp = _dates([day])
    counts, cp = _count_rows(ALL)
    return f"WITH {with_dates} {_summed([counts])}", merge(dp, cp)


def insert_snapshot_sql(
    *, dates: Sequence[dt.date], units: set[str] | None = None
) -> tuple[str, Params]:
    """INSERT … SELECT of the leaf rows of ``dates`` (consecutive month-ends; restricted to
    ``units``) into the snapshot table."""
    scope = Scope(units=None if units is None else frozenset(units))
    select, params = _month_end_rows(
        dates=dates, source=_all_spells(scope), scope=scope, counts=True
    )
    query = f"""
        INSERT INTO {sql.table(KpiSnapshot)}
            (as_of, unit_id, scheme, "group", participants, new, lapsed, renewed, in_total,
             from_counts)
        SELECT z.as_of, z.unit_id, z.scheme, z."group", z.participants, z.new, z.lapsed,
               z.renewed, CASE WHEN z.in_total = 1 THEN TRUE ELSE FALSE END,
               CASE WHEN z.from_counts = 1 THEN TRUE ELSE FALSE END
        FROM ({select}) z
    """
    return query, params


def part_rows_sql(*, dates: Sequence[dt.date], part: int, parts: int) -> tuple[str, Params]:
    """A SELECT of the leaf rows (``KpiRow``, every unit) at ``dates`` (consecutive
    month-ends) that the persons of part ``part`` of ``parts`` make (``_all_spells``), with
    the counts in part 0. Every row of the snapshot depends on one person's spells (or on
    the counts), so the rows of all parts summed per key are those of ``insert_snapshot_sql``:
    the parts can run side by side, one per core (a full rebuild)."""
    select, params = _month_end_rows(
        dates=dates,
        source=_all_spells(ALL, part=(part, parts)),
        scope=ALL,
        counts=part == 0,
    )
    return f"SELECT {spell_row_columns('z')}, z.in_total, z.from_counts FROM ({select}) z", params


def pairs_rows_sql(*, dates: Sequence[dt.date], pairs: str) -> tuple[str, Params]:
    """A SELECT of the spell rows (``SpellRow``) that only the (person, scheme) pairs of table
    ``pairs`` make at ``dates`` (consecutive month-ends): a pair's rows depend on its own
    spells alone, so the snapshot can be corrected by the rows of the pairs an import changes,
    before and after it."""
    select, params = _month_end_rows(
        dates=dates, source=_pair_spells(pairs), scope=ALL, counts=False
    )
    return f"SELECT {spell_row_columns('z')} FROM ({select}) z", params


def signed_rows_sql(*, dates: Sequence[dt.date], spells: str) -> tuple[str, Params]:
    """A SELECT of the non-zero differences (``SpellRow``) at ``dates`` (consecutive
    month-ends) between the two sides of the spells table ``spells`` (``_signed_spells``): the
    rows its +1 spells make minus those its −1 spells make."""
    select, params = _month_end_rows(
        dates=dates, source=_signed_spells(spells), scope=ALL, counts=False
    )
    return (
        f"SELECT {spell_row_columns('z')} FROM ({select}) z "
        "WHERE z.participants <> 0 OR z.new <> 0 OR z.lapsed <> 0 OR z.renewed <> 0",
        params,
    )


def changed_pairs_sql(
    *, month_end_before: dt.date, day: dt.date, schemes: Sequence[str], end_on_day: bool = True
) -> tuple[str, Params]:
    """The (person, scheme) pairs whose covering spells may differ between ``month_end_before``
    (M) and ``day`` (D): a spell starting in (M, D] or ending in [M, D) — and with
    ``end_on_day`` also on D, so that every pair with an event in the month of D is in (a
    lapse on D). One indexed range scan per scheme and condition."""
    end_op = "<=" if end_on_day else "<"
    before, after = date_param("before"), date_param("day")
    spell = sql.table(Spell)
    picks = []
    params: Params = {"before": sql.iso(month_end_before), "day": sql.iso(day)}
    for i, scheme in enumerate(schemes):
        name = f"scheme_{i}"
        params[name] = scheme
        picks.append(
            f"SELECT person_id, scheme FROM {spell} WHERE scheme = %({name})s "
            f"AND start_date > {before} AND start_date <= {after}"
        )
        picks.append(
            f"SELECT person_id, scheme FROM {spell} WHERE scheme = %({name})s "
            f"AND end_date >= {before} AND end_date {end_op} {after}"
        )
    return " UNION ".join(picks), params


def changed_contrib_sql(
    *, month_end_before: dt.date, day: dt.date, schemes: Sequence[str]
) -> tuple[str, Params]:
    """Spell rows (``SpellRow``; events 0) at ``month_end_before`` (M) and ``day`` (D) of only
    the (person, scheme) pairs whose covering spells differ between M and D: a spell starting
    in (M, D] or ending in [M, D). Every other pair has the same covering spells, hence the
    same deciding spell, at both dates, so figures(D) = snapshot(M) − these rows at M + these
    rows at D. One indexed range scan per scheme and condition."""
    with_dates, dp = _dates([month_end_before, day])
    changed, cp = changed_pairs_sql(
        month_end_before=month_end_before, day=day, schemes=schemes, end_on_day=False
    )
    query = f"""
        WITH {with_dates}, changed AS ({changed})
        SELECT x.as_of AS as_of, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS "group",
               COUNT(*) AS participants, 0 AS new, 0 AS lapsed, 0 AS renewed
        FROM (
            SELECT dt.d AS as_of, s.unit_id AS unit_id, s.scheme AS scheme, s."group" AS grp,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, s.person_id, s.scheme
                       ORDER BY s.start_date DESC, COALESCE(s.batch_id, 0) DESC,
                                s.row_no DESC, s.id DESC
                   ) AS rn
            FROM changed c
            JOIN {sql.table(Spell)} s ON s.person_id = c.person_id AND s.scheme = c.scheme
            JOIN dates dt ON s.start_date <= dt.d AND (s.end_date IS NULL OR s.end_date >= dt.d)
        ) x
        WHERE x.rn = 1
        GROUP BY x.as_of, x.unit_id, x.scheme, x.grp
    """
    return query, merge(dp, cp)
