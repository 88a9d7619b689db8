"""Conversions of SPEC section 7: what the funnel counts and an activity's page lists.

An attendee of activity A converts for scheme S when a spell of S starts 1 to 90 days after
A's date and no spell of S covered A's date. Per (person, scheme) at most one conversion: at
the earliest such start date over every candidate (activity, spell) pair of that person and
scheme, credited to the latest activity (by date, then by the highest code on a tie) the
person attended for which both conditions hold with that start date (last touch) — whatever
the activity's own date range.

Both the funnel (``outreach/funnel.py``) and the attendees of an activity
(``outreach/activities/selectors.py``) read it from here, so neither imports the other.
"""

from __future__ import annotations

import datetime as dt

from ansinh.core import sql
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Spell

WINDOW_DAYS = 90


def candidates_cte() -> str:
    """``people`` (who attended an activity of ``sel``) and ``cand``: every (attendance,
    spell) pair of those people that meets both conditions, numbered per (person, scheme) so
    that ``rn = 1`` is the conversion: the earliest start, then the latest activity."""
    plus90 = sql.plus_days("a.date", WINDOW_DAYS)
    attendee, activity, spell = sql.table(Attendee), sql.table(Activity), sql.table(Spell)
    return f"""people AS (
    SELECT DISTINCT t.person_id FROM {attendee} t
    WHERE t.activity_id IN (SELECT code FROM sel) AND t.deleted_at IS NULL
),
cand AS (
    SELECT t.person_id, s.scheme, s.start_date AS sdate, a.code AS acode,
           ROW_NUMBER() OVER (
               PARTITION BY t.person_id, s.scheme
               ORDER BY s.start_date ASC, a.date DESC, a.code DESC
           ) AS rn
    FROM {attendee} t
    JOIN {activity} a ON a.code = t.activity_id
    JOIN {spell} s ON s.person_id = t.person_id
         AND s.start_date > a.date AND s.start_date <= {plus90}
    WHERE t.person_id IN (SELECT person_id FROM people)
      AND t.deleted_at IS NULL AND a.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM {spell} c
          WHERE c.person_id = t.person_id AND c.scheme = s.scheme
            AND c.start_date <= a.date AND (c.end_date IS NULL OR c.end_date >= a.date)
      )
)"""


def activity_conversions(*, activity: Activity) -> dict[str, list[tuple[str, dt.date]]]:
    """The conversions credited to one activity: person_id → [(scheme, start_date)]. Person
    data: callers show it only to those who may see the activity's attendees."""
    query = f"""
WITH sel AS (SELECT %(activity)s AS code),
{candidates_cte()}
SELECT person_id, scheme, sdate AS start_date FROM cand WHERE rn = 1 AND acode = %(activity)s
ORDER BY person_id, scheme
"""
    out: dict[str, list[tuple[str, dt.date]]] = {}
    for r in sql.fetch(query, {"activity": activity.code}):
        start = sql.as_date(r["start_date"])
        assert start is not None
        out.setdefault(str(r["person_id"]), []).append((str(r["scheme"]), start))
    return out
