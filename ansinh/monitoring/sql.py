"""Set-based SQL of the KPI engine; runs on SQLite and PostgreSQL.

Every query yields "leaf rows" ``(as_of, unit, scheme, group, participants, new, lapsed,
renewed, in_total)`` at the units where facts are loaded. The live computation for one date
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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _date_param() -> str:
    return "CAST(%s AS DATE)" if _pg() else "%s"


def _month_end(expr: str) -> str:
    if _pg():
        # through timestamp WITHOUT time zone: date_trunc on a date casts it to timestamptz,
        # which costs a time-zone conversion per row
        return (
            f"CAST(date_trunc('month', CAST({expr} AS timestamp)) + interval '1 month' "
            "- interval '1 day' AS DATE)"
        )
    return f"date({expr}, 'start of month', '+1 month', '-1 day')"


def _plus_days(expr: str, days: int) -> str:
    if _pg():
        return f"({expr} + {int(days)})"
    return f"date({expr}, '+{int(days)} days')"


def _far() -> str:
    """A date after every real one (for open spells)."""
    return "DATE '9999-12-31'" if _pg() else "'9999-12-31'"


def _dates_cte(dates: Sequence[dt.date]) -> tuple[str, list[Any]]:
    values = ", ".join(f"({_date_param()})" for _ in dates)
    return f"dates(d) AS (VALUES {values})", [d.isoformat() for d in dates]


def in_list(column: str, values: Iterable[str], *, negate: bool = False) -> tuple[str, list[Any]]:
    """``column IN (values)`` (``NOT IN`` with ``negate``) and its parameters; no values: false
    (true with ``negate``)."""
    vals = list(values)
    if not vals:
        return ("1 = 1" if negate else "1 = 0"), []
    op = "NOT IN" if negate else "IN"
    return f"{column} {op} ({', '.join(['%s'] * len(vals))})", vals


def _leaf_parts(
    *,
    dates: Sequence[dt.date],
    units: set[str] | None,
    path_prefix: str | None,
    events: bool,
    delta: bool = False,
    with_spells: bool = True,
    with_counts: bool = True,
    pairs: str | None = None,
    signed: str | None = None,
) -> tuple[str, str, list[Any]]:
    """The WITH clause, the body SELECT and their parameters of the leaf rows of ``dates``.

    ``units`` restricts the rows to those unit codes (incremental refresh); ``path_prefix`` to a
    subtree (live reads). The person-level windows always see every spell of the persons
    concerned, so restricting rows never changes which spell decides.

    ``delta`` False (live, one date): the covering spells of each date ranked by
    ``ROW_NUMBER()``. ``delta`` True (snapshot; ``dates`` consecutive month-ends): in the
    order that breaks ties (start, batch, row), a spell that ends no later than every spell
    after it decides exactly from its start until the next spell starts (or it ends): later
    spells that start by a day still cover it. Those spells are counted by +1/−1 deltas per
    month-end bucket summed cumulatively over a (unit, scheme, group) × dates grid. Only a
    spell with a later spell nested inside it (ending earlier, ``ov``) decides on scattered
    days: the spells of such pairs are joined with the dates and ranked, and the days that
    spell decides are counted. Events (new, lapsed, renewed) need ``delta``.

    ``pairs`` names a table of ``(person_id, scheme)``: only those pairs' spells are counted
    (with ``delta``; a pair's rows depend on its own spells alone, so the snapshot can be
    corrected by the rows of the pairs an import changes, before and after it).

    ``signed`` names a table of spells (the columns of ``registry_spell`` used here plus
    ``sg``, +1 or −1) holding both sides of a change: each side is ranked apart and its rows
    counted with its sign, so the rows are the difference of the two sides. A spell that is the
    same on both sides cancels in the month-end deltas before they are spread over the dates.
    """
    assert delta or not events
    params: list[Any] = []
    cte, p = _dates_cte(dates)
    params += p

    # which units' rows we want, and which persons may land there
    unit_cond_s = "1 = 1"
    unit_params: list[Any] = []
    person_cond = "1 = 1"
    person_params: list[Any] = []
    if units is not None:
        unit_cond_s, unit_params = in_list("x.unit_id", units)
        cond, cp = in_list("s2.unit_id", units)
        person_cond = f"s.person_id IN (SELECT s2.person_id FROM registry_spell s2 WHERE {cond})"
        person_params = cp
    elif path_prefix is not None:
        unit_cond_s = (
            "x.unit_id IN (SELECT u.code FROM geography_unit u WHERE substr(u.path, 1, %s) = %s)"
        )
        unit_params = [len(path_prefix), path_prefix]
        person_cond = (
            "s.person_id IN (SELECT s2.person_id FROM registry_spell s2 JOIN geography_unit u2 "
            "ON u2.code = s2.unit_id WHERE substr(u2.path, 1, %s) = %s)"
        )
        person_params = [len(path_prefix), path_prefix]
    body_params: list[Any] = []

    if not delta:
        spells = f"""
        SELECT x.d AS d, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               COUNT(*) AS p, 0 AS n, 0 AS l, 0 AS r, 1 AS t, 0 AS c
        FROM (
            SELECT dt.d AS d, s.unit_id AS unit_id, s.scheme AS scheme, s."group" AS grp,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, s.person_id, s.scheme
                       ORDER BY s.start_date DESC, COALESCE(s.batch_id, 0) DESC,
                                s.row_no DESC, s.id DESC
                   ) AS rn
            FROM registry_spell s
            JOIN dates dt ON s.start_date <= dt.d AND (s.end_date IS NULL OR s.end_date >= dt.d)
            WHERE {person_cond}
        ) x
        WHERE x.rn = 1 AND {unit_cond_s}
        GROUP BY x.d, x.unit_id, x.scheme, x.grp
        """
        if with_spells:
            body_params += person_params + unit_params
    else:
        d0, dn = _date_param(), _date_param()
        spell_source = f"registry_spell s WHERE {person_cond}"
        # the sign of a spell's rows, and the partition of its pair (with its side)
        sg, part = "1", "s.person_id, s.scheme"
        if signed is not None:
            spell_source, sg, part = f"{signed} s", "s.sg", f"s.sg, {part}"
            person_params = []
        if pairs is not None:
            # driven by the (few) pairs: one natural-key probe each (CROSS JOIN keeps SQLite's
            # join order)
            spell_source = (
                f"{pairs} pp CROSS JOIN registry_spell s "
                "WHERE s.person_id = pp.person_id AND s.scheme = pp.scheme"
            )
            person_params = []
        plus = _month_end("f.start_date")
        minus = _month_end("f.stop")
        far = _far()
        cte += f""",
        ordered AS (
            SELECT s.id AS id, s.person_id AS person_id, s.scheme AS scheme,
                   s.unit_id AS unit_id, s."group" AS grp, s.start_date AS start_date,
                   s.end_date AS end_date, s.batch_id AS batch_id, s.row_no AS row_no,
                   {sg} AS sg,
                   MIN(COALESCE(s.end_date, {far})) OVER (
                       PARTITION BY {part}
                       ORDER BY s.start_date, COALESCE(s.batch_id, 0), s.row_no, s.id
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
                   ) AS later_end,
                   LEAD(s.start_date) OVER (
                       PARTITION BY {part}
                       ORDER BY s.start_date, COALESCE(s.batch_id, 0), s.row_no, s.id
                   ) AS next_start,
                   ROW_NUMBER() OVER (
                       PARTITION BY {part}
                       ORDER BY s.start_date, COALESCE(s.batch_id, 0), s.row_no, s.id
                   ) AS first_rn,
                   MIN(s.start_date) OVER (PARTITION BY {part}) AS first_start
            FROM {spell_source}
        ),
        flagged AS MATERIALIZED (
            SELECT o.id, o.person_id, o.scheme, o.unit_id, o.grp, o.start_date, o.end_date,
                   o.batch_id, o.row_no, o.first_rn, o.first_start, o.sg,
                   CASE WHEN o.later_end IS NOT NULL
                              AND COALESCE(o.end_date, {far}) > o.later_end
                        THEN 1 ELSE 0 END AS ov,
                   CASE WHEN o.next_start IS NOT NULL
                              AND (o.end_date IS NULL OR o.next_start <= o.end_date)
                        THEN o.next_start
                        ELSE {_plus_days("o.end_date", 1)} END AS stop
            FROM ordered o
        ),
        deltas AS (
            SELECT x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
                   CASE WHEN x.b < {d0} THEN {d0} ELSE x.b END AS d, SUM(x.delta) AS delta
            FROM (
                SELECT f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp, {plus} AS b,
                       f.sg AS delta
                FROM flagged f WHERE f.ov = 0 AND (f.stop IS NULL OR f.stop > f.start_date)
                UNION ALL
                SELECT f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp, {minus} AS b,
                       -f.sg AS delta
                FROM flagged f WHERE f.ov = 0 AND f.stop > f.start_date
            ) x
            WHERE x.b <= {dn} AND {unit_cond_s}
            GROUP BY 1, 2, 3, 4
            HAVING SUM(x.delta) <> 0
        ),
        overl AS MATERIALIZED (
            SELECT f.id, f.person_id, f.scheme, f.unit_id, f.grp, f.start_date, f.end_date,
                   f.batch_id, f.row_no, f.ov, f.sg
            FROM flagged f
            WHERE EXISTS (
                SELECT 1 FROM flagged g
                WHERE g.ov = 1 AND g.person_id = f.person_id AND g.scheme = f.scheme
                  AND g.sg = f.sg
            )
        ),
        grid AS (
            SELECT c.unit_id AS unit_id, c.scheme AS scheme, c.grp AS grp, dt.d AS d
            FROM (SELECT DISTINCT unit_id, scheme, grp FROM deltas) c CROSS JOIN dates dt
        )"""
        first, last = min(dates).isoformat(), max(dates).isoformat()
        params += person_params + [first, first, last] + unit_params
        simple = """
        SELECT x.d AS d, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               x.p AS p, 0 AS n, 0 AS l, 0 AS r, 1 AS t, 0 AS c
        FROM (
            SELECT g.d AS d, g.unit_id AS unit_id, g.scheme AS scheme, g.grp AS grp,
                   SUM(COALESCE(dl.delta, 0)) OVER (
                       PARTITION BY g.unit_id, g.scheme, g.grp ORDER BY g.d
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS p
            FROM grid g
            LEFT JOIN deltas dl ON dl.unit_id = g.unit_id AND dl.scheme = g.scheme
                               AND dl.grp = g.grp AND dl.d = g.d
        ) x
        WHERE x.p <> 0
        """
        overlapping = f"""
        SELECT x.d AS d, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               SUM(x.sg) AS p, 0 AS n, 0 AS l, 0 AS r, 1 AS t, 0 AS c
        FROM (
            SELECT dt.d AS d, f.unit_id AS unit_id, f.scheme AS scheme, f.grp AS grp,
                   f.ov AS ov, f.sg AS sg,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, f.sg, f.person_id, f.scheme
                       ORDER BY f.start_date DESC, COALESCE(f.batch_id, 0) DESC,
                                f.row_no DESC, f.id DESC
                   ) AS rn
            FROM overl f
            JOIN dates dt ON f.start_date <= dt.d AND (f.end_date IS NULL OR f.end_date >= dt.d)
        ) x
        WHERE x.rn = 1 AND x.ov = 1 AND {unit_cond_s}
        GROUP BY x.d, x.unit_id, x.scheme, x.grp
        """
        spells = simple + " UNION ALL " + overlapping
        body_params += unit_params

    count_unit_cond = unit_cond_s.replace("x.unit_id", "c.unit_id")
    counts = f"""
        SELECT x.d AS d, x.unit_id AS unit_id, x.scheme AS scheme, x.grp AS grp,
               x.participants AS p, 0 AS n, 0 AS l, 0 AS r,
               CASE WHEN x.grp = '' OR NOT EXISTS (
                   SELECT 1 FROM registry_count c3
                   WHERE c3.unit_id = x.unit_id AND c3.scheme = x.scheme AND c3."group" = ''
                     AND c3.as_of <= x.d
               ) THEN 1 ELSE 0 END AS t, 1 AS c
        FROM (
            SELECT dt.d AS d, c.unit_id AS unit_id, c.scheme AS scheme, c."group" AS grp,
                   c.participants AS participants,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, c.unit_id, c.scheme, c."group" ORDER BY c.as_of DESC
                   ) AS rn
            FROM registry_count c
            JOIN dates dt ON c.as_of <= dt.d
            WHERE {count_unit_cond}
              AND NOT EXISTS (
                  SELECT 1 FROM registry_spell s4
                  WHERE s4.unit_id = c.unit_id AND s4.scheme = c.scheme
              )
        ) x
        WHERE x.rn = 1
    """
    if with_counts:
        body_params += unit_params

    parts = ([spells] if with_spells else []) + ([counts] if with_counts else [])
    if events:
        bucket_start = _month_end("e.start_date")
        bucket_end = _month_end("e.end_date")
        after = _plus_days("e.end_date", 30)
        event_unit_cond = unit_cond_s.replace("x.unit_id", "e.unit_id")
        # a lapse looks for a later spell of the same pair: ``flagged`` holds every spell of
        # the pairs it covers; PostgreSQL hashes it (the table would be scanned whole), SQLite
        # probes the table's natural key (it would index the CTE first)
        others = "flagged" if pairs is not None and _pg() else "registry_spell"
        same_side = ""
        if signed is not None:
            # the spells of the same side of the change (indexed by the caller)
            others, same_side = signed, "AND f.sg = e.sg"
        started = f"""
            SELECT {bucket_start} AS d, e.unit_id AS unit_id, e.scheme AS scheme, e.grp AS grp,
                   0 AS p,
                   CASE WHEN e.first_rn = 1 THEN e.sg ELSE 0 END AS n,
                   0 AS l,
                   CASE WHEN e.start_date > e.first_start THEN e.sg ELSE 0 END AS r,
                   1 AS t, 0 AS c
            FROM flagged e
            WHERE (e.first_rn = 1 OR e.start_date > e.first_start) AND {event_unit_cond}
        """
        ended = f"""
            SELECT {bucket_end} AS d, e.unit_id AS unit_id, e.scheme AS scheme,
                   e.grp AS grp, 0 AS p, 0 AS n, e.sg AS l, 0 AS r, 1 AS t, 0 AS c
            FROM flagged e
            WHERE e.end_date IS NOT NULL AND {event_unit_cond}
              AND NOT EXISTS (
                  SELECT 1 FROM {others} f
                  WHERE f.person_id = e.person_id AND f.scheme = e.scheme AND f.id <> e.id
                    {same_side}
                    AND f.start_date <= {after}
                    AND (f.end_date IS NULL OR f.end_date > e.end_date)
              )
        """
        parts.append(
            f"""
            SELECT ev.d AS d, ev.unit_id AS unit_id, ev.scheme AS scheme, ev.grp AS grp,
                   ev.p AS p, ev.n AS n, ev.l AS l, ev.r AS r, ev.t AS t, ev.c AS c
            FROM ({started} UNION ALL {ended}) ev
            WHERE ev.d IN (SELECT d FROM dates)
            """
        )
        body_params += unit_params + unit_params

    union = " UNION ALL ".join(parts)
    body = f"""
        SELECT y.d AS d, y.unit_id AS unit_id, y.scheme AS scheme, y.grp AS grp,
               SUM(y.p) AS p, SUM(y.n) AS n, SUM(y.l) AS l, SUM(y.r) AS r, MAX(y.t) AS t,
               MAX(y.c) AS c
        FROM ({union}) y
        GROUP BY y.d, y.unit_id, y.scheme, y.grp
    """
    return f"WITH {cte} ", body, params + body_params


def leaf_rows_sql(
    *,
    dates: Sequence[dt.date],
    units: set[str] | None = None,
    path_prefix: str | None = None,
    events: bool = True,
) -> tuple[str, list[Any]]:
    """A SELECT of leaf rows ``(d, unit_id, scheme, grp, p, n, l, r, t)`` for ``dates``."""
    with_, body, params = _leaf_parts(
        dates=dates, units=units, path_prefix=path_prefix, events=events
    )
    return with_ + body, params


def insert_snapshot_sql(
    *, dates: Sequence[dt.date], units: set[str] | None = None
) -> tuple[str, list[Any]]:
    """INSERT … SELECT of the leaf rows of ``dates`` (restricted to ``units``) into the
    snapshot table."""
    with_, body, params = _leaf_parts(
        dates=dates, units=units, path_prefix=None, events=True, delta=True
    )
    sql = f"""
        INSERT INTO monitoring_kpisnapshot
            (as_of, unit_id, scheme, "group", participants, new, lapsed, renewed, in_total,
             from_counts)
        {with_}
        SELECT z.d, z.unit_id, z.scheme, z.grp, z.p, z.n, z.l, z.r,
               CASE WHEN z.t = 1 THEN TRUE ELSE FALSE END,
               CASE WHEN z.c = 1 THEN TRUE ELSE FALSE END
        FROM ({body}) z
    """
    return sql, params


def changed_contrib_sql(
    *, month_end_before: dt.date, day: dt.date, schemes: Sequence[str]
) -> tuple[str, list[Any]]:
    """Spell rows ``(d, unit_id, scheme, grp, p)`` at ``month_end_before`` (M) and ``day`` (D)
    of only the (person, scheme) pairs whose covering spells differ between M and D: a spell
    starting in (M, D] or ending in [M, D). Every other pair has the same covering spells, hence
    the same deciding spell, at both dates, so figures(D) = snapshot(M) − these rows at M + these
    rows at D. One indexed range scan per scheme and condition."""
    cte, params = _dates_cte([month_end_before, day])
    changed, changed_params = changed_pairs_sql(
        month_end_before=month_end_before, day=day, schemes=schemes, end_on_day=False
    )
    params += changed_params
    sql = f"""
        WITH {cte}, changed AS ({changed})
        SELECT x.d, x.unit_id, x.scheme, x.grp, COUNT(*)
        FROM (
            SELECT dt.d AS d, s.unit_id AS unit_id, s.scheme AS scheme, s."group" AS grp,
                   ROW_NUMBER() OVER (
                       PARTITION BY dt.d, s.person_id, s.scheme
                       ORDER BY s.start_date DESC, COALESCE(s.batch_id, 0) DESC,
                                s.row_no DESC, s.id DESC
                   ) AS rn
            FROM changed c
            JOIN registry_spell s ON s.person_id = c.person_id AND s.scheme = c.scheme
            JOIN dates dt ON s.start_date <= dt.d AND (s.end_date IS NULL OR s.end_date >= dt.d)
        ) x
        WHERE x.rn = 1
        GROUP BY x.d, x.unit_id, x.scheme, x.grp
    """
    return sql, params


def _spell_rows_sql(
    *,
    dates: Sequence[dt.date],
    pairs: str | None = None,
    signed: str | None = None,
    where: str = "",
) -> tuple[str, list[Any]]:
    with_, body, params = _leaf_parts(
        dates=dates,
        units=None,
        path_prefix=None,
        events=True,
        delta=True,
        with_counts=False,
        pairs=pairs,
        signed=signed,
    )
    sql = f"{with_} SELECT z.d, z.unit_id, z.scheme, z.grp, z.p, z.n, z.l, z.r FROM ({body}) z"
    return f"{sql} {where}", params


def pairs_rows_sql(*, dates: Sequence[dt.date], pairs: str) -> tuple[str, list[Any]]:
    """A SELECT of the spell rows ``(d, unit_id, scheme, grp, p, n, l, r)`` that only the
    (person, scheme) pairs of table ``pairs`` make at ``dates`` (consecutive month-ends)."""
    return _spell_rows_sql(dates=dates, pairs=pairs)


def signed_rows_sql(*, dates: Sequence[dt.date], spells: str) -> tuple[str, list[Any]]:
    """A SELECT of the non-zero differences ``(d, unit_id, scheme, grp, p, n, l, r)`` at
    ``dates`` (consecutive month-ends) between the two sides of the spells table ``spells``
    (see ``_leaf_parts``): the rows its +1 spells make minus those its −1 spells make."""
    return _spell_rows_sql(
        dates=dates, signed=spells, where="WHERE z.p <> 0 OR z.n <> 0 OR z.l <> 0 OR z.r <> 0"
    )


def changed_pairs_sql(
    *, month_end_before: dt.date, day: dt.date, schemes: Sequence[str], end_on_day: bool = True
) -> tuple[str, list[Any]]:
    """The (person, scheme) pairs whose covering spells may differ between ``month_end_before``
    (M) and ``day`` (D): a spell starting in (M, D] or ending in [M, D) — and with
    ``end_on_day`` also on D, so that every pair with an event in the month of D is in (a
    lapse on D). One indexed range scan per scheme and condition."""
    end_op = "<=" if end_on_day else "<"
    dp = _date_param()
    picks = []
    params: list[Any] = []
    for scheme in schemes:
        picks.append(
            f"SELECT person_id, scheme FROM registry_spell WHERE scheme = %s "
            f"AND start_date > {dp} AND start_date <= {dp}"
        )
        params += [scheme, month_end_before.isoformat(), day.isoformat()]
        picks.append(
            f"SELECT person_id, scheme FROM registry_spell WHERE scheme = %s "
            f"AND end_date >= {dp} AND end_date {end_op} {dp}"
        )
        params += [scheme, month_end_before.isoformat(), day.isoformat()]
    return " UNION ".join(picks), params


def counts_only_sql(*, day: dt.date) -> tuple[str, list[Any]]:
    """Leaf rows of the counts alone at ``day`` (same columns as ``leaf_rows_sql``)."""
    with_, body, params = _leaf_parts(
        dates=[day], units=None, path_prefix=None, events=False, delta=False, with_spells=False
    )
    return with_ + body, params
