"""Who belongs on a follow-up worklist at a date D (reads, set-based SQL).

End dates are inclusive (the last day covered), so on day D:

- ``hi_expiring``: a person whose HI spell covering D ends within D..D+30 (0 to 30 days of
  cover left: day 30 in, day 31 out; a card whose last day is D is still on it) and no other
  HI spell starts by end+1 and runs past that end (nothing continues the cover).
- ``lapsed``: an HI or voluntary SI spell ended within D−90..D−1 (uncovered for 1 to 90 days:
  day 90 in, day 91 out) and no spell of the scheme covers D (one entry per person and scheme,
  the latest such end). Together the two lists leave no day out.
- ``household``: a household (``Person.household_id``) with at least one member covered by HI at
  D and at least one member (not marked do-not-contact) who is not.
- ``employer_overdue``: an employer with anything overdue at D (SPEC section 8).

Persons marked ``do_not_contact`` never appear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ansinh.accounts.access import SYSTEM
from ansinh.arrears.figures import arrears
from ansinh.core import sql
from ansinh.geography.models import Successor
from ansinh.geography.selectors import unit_root
from ansinh.registry.models import Person, Spell


@dataclass(frozen=True)
class Candidate:
    kind: str
    unit: str
    reference_date: dt.date
    person_id: str = ""
    scheme: str = ""
    household_id: str = ""
    employer: str | None = None


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Scope:
    """The part of the person lists an import can change (``followup_sync(scope=…)``):
    SELECTs of the person ids whose spells or person row it wrote (``persons``) and of the
    households they belonged to before or belong to now (``households``). Every list entry
    is decided by one person's spells (``hi_expiring``, ``lapsed``) or one household's
    members (``household``), so the others' entries stay as they are."""

    persons: str
    households: str


# Each person list is one SELECT with the same columns (kind, unit_id, person_id, household_id,
# scheme, reference_date), so that ``followup_sync`` can insert the missing entries with one
# INSERT … SELECT per list and the readers below can run the very same query.
COLUMNS = ("kind", "unit_id", "person_id", "household_id", "scheme", "reference_date")


def hi_expiring_sql(*, as_of: dt.date, scope: Scope | None = None) -> tuple[str, sql.Params]:
    spell, person = sql.table(Spell), sql.table(Person)
    only = f"AND s.person_id IN ({scope.persons})" if scope is not None else ""
    d, last = sql.date_param("as_of"), sql.date_param("ends_by")
    query = f"""
        SELECT 'hi_expiring' AS kind, MAX(s.unit_id) AS unit_id, s.person_id AS person_id,
               '' AS household_id, 'hi' AS scheme, s.end_date AS reference_date
        FROM {spell} s
        JOIN {person} pe ON pe.person_id = s.person_id
        WHERE s.scheme = 'hi' AND pe.do_not_contact = %(no)s
          AND s.start_date <= {d} AND s.end_date >= {d} AND s.end_date <= {last} {only}
          AND NOT EXISTS (
              SELECT 1 FROM {spell} s2
              WHERE s2.person_id = s.person_id AND s2.scheme = 'hi' AND s2.id <> s.id
                AND s2.start_date <= {sql.plus_days("s.end_date", 1)}
                AND (s2.end_date IS NULL OR s2.end_date > s.end_date))
        GROUP BY s.person_id, s.end_date
    """
    params: sql.Params = {
        "no": False,
        "as_of": sql.iso(as_of),
        "ends_by": sql.iso(as_of + dt.timedelta(days=30)),
    }
    return query, params


def lapsed_sql(*, as_of: dt.date, scope: Scope | None = None) -> tuple[str, sql.Params]:
    """One row per person and scheme: the latest such end (ties: the later spell row)."""
    spell, person = sql.table(Spell), sql.table(Person)
    only = f"AND s.person_id IN ({scope.persons})" if scope is not None else ""
    d = sql.date_param("as_of")
    query = f"""
        SELECT 'lapsed' AS kind, x.unit_id AS unit_id, x.person_id AS person_id,
               '' AS household_id, x.scheme AS scheme, x.end_date AS reference_date
        FROM (
            SELECT s.person_id, s.scheme, s.unit_id, s.end_date,
                   ROW_NUMBER() OVER (PARTITION BY s.person_id, s.scheme
                                      ORDER BY s.end_date DESC, s.id DESC) AS rn
            FROM {spell} s
            JOIN {person} pe ON pe.person_id = s.person_id
            WHERE s.scheme IN ('hi', 'si_voluntary') AND pe.do_not_contact = %(no)s
              AND s.end_date >= {sql.date_param("ended_from")}
              AND s.end_date <= {sql.date_param("ended_to")} {only}
              AND NOT EXISTS (
                  SELECT 1 FROM {spell} s2
                  WHERE s2.person_id = s.person_id AND s2.scheme = s.scheme
                    AND s2.start_date <= {d} AND (s2.end_date IS NULL OR s2.end_date >= {d}))
        ) x
        WHERE x.rn = 1
    """
    params: sql.Params = {
        "no": False,
        "ended_from": sql.iso(as_of - dt.timedelta(days=90)),
        "ended_to": sql.iso(as_of - dt.timedelta(days=1)),
        "as_of": sql.iso(as_of),
    }
    return query, params


def households_sql(*, as_of: dt.date, scope: Scope | None = None) -> tuple[str, sql.Params]:
    """Households with some member covered by HI at D and some (contactable) member not;
    the unit is that of a covered member, the reference date the first of D's month."""
    d = sql.date_param("as_of")
    only = f"AND pe.household_id IN ({scope.households})" if scope is not None else ""
    # one pass over the members' spells (a join, grouped per member), not two correlated
    # subqueries per member: 2 to 3 times faster on a province's registry
    query = f"""
        WITH m AS (
            SELECT pe.household_id AS hh, pe.do_not_contact AS dnc,
                   MAX(CASE WHEN s.scheme = 'hi' AND s.start_date <= {d}
                             AND (s.end_date IS NULL OR s.end_date >= {d})
                       THEN 1 ELSE 0 END) AS cov,
                   MAX(s.unit_id) AS unit
            FROM {sql.table(Person)} pe
            LEFT JOIN {sql.table(Spell)} s ON s.person_id = pe.person_id
            WHERE pe.household_id <> '' {only}
            GROUP BY pe.person_id, pe.household_id, pe.do_not_contact
        )
        SELECT 'household' AS kind,
               COALESCE(MAX(CASE WHEN cov = 1 THEN unit END), MAX(unit)) AS unit_id,
               '' AS person_id, hh AS household_id, 'hi' AS scheme,
               {sql.date_param("month_first")} AS reference_date
        FROM m
        GROUP BY hh
        HAVING SUM(cov) > 0
           AND SUM(CASE WHEN cov = 0 AND dnc = %(no)s THEN 1 ELSE 0 END) > 0
    """
    params: sql.Params = {
        "as_of": sql.iso(as_of),
        "month_first": sql.iso(as_of.replace(day=1)),
        "no": False,
    }
    return query, params


def in_todays_units(
    list_sql: Callable[..., tuple[str, sql.Params]],
) -> Callable[..., tuple[str, sql.Params]]:
    """A person list whose unit is one of today: a spell keyed by a former commune (in force
    until 30 June 2025, SPEC section 9) puts its person on the list of the successor with the
    largest share (ties: the main one, then by code), as the figures count it."""

    def wrapped(*, as_of: dt.date, scope: Scope | None = None) -> tuple[str, sql.Params]:
        query, params = list_sql(as_of=as_of, scope=scope)
        mapped = f"""
            SELECT c.kind AS kind,
                   COALESCE((SELECT g.successor_id FROM {sql.table(Successor)} g
                             WHERE g.legacy_id = c.unit_id AND g.share > 0
                             ORDER BY g.share DESC, g.main DESC, g.successor_id
                             LIMIT 1), c.unit_id) AS unit_id,
                   c.person_id AS person_id, c.household_id AS household_id,
                   c.scheme AS scheme, c.reference_date AS reference_date
            FROM ({query}) c
        """
        return mapped, params

    return wrapped


PERSON_LISTS = {
    "hi_expiring": in_todays_units(hi_expiring_sql),
    "lapsed": in_todays_units(lapsed_sql),
    "household": in_todays_units(households_sql),
}


def _candidates(query: str, params: sql.Params) -> list[Candidate]:
    return [
        Candidate(
            kind=str(r["kind"]),
            unit=str(r["unit_id"]),
            reference_date=_date(r["reference_date"]),
            person_id=str(r["person_id"]),
            scheme=str(r["scheme"]),
            household_id=str(r["household_id"]),
        )
        for r in sql.fetch(query, params)
    ]


def hi_expiring(*, as_of: dt.date) -> list[Candidate]:
    return _candidates(*PERSON_LISTS["hi_expiring"](as_of=as_of))


def lapsed(*, as_of: dt.date) -> list[Candidate]:
    return _candidates(*PERSON_LISTS["lapsed"](as_of=as_of))


def households(*, as_of: dt.date) -> list[Candidate]:
    return _candidates(*PERSON_LISTS["household"](as_of=as_of))


def household_members(*, household_ids: list[str], as_of: dt.date) -> dict[str, list[dict]]:
    """The members of the households with whether HI covers them at D (two queries); members
    marked do-not-contact are left out."""
    if not household_ids:
        return {}

    covered = set(
        Spell.objects.filter(
            person__household_id__in=household_ids, scheme="hi", start_date__lte=as_of
        )
        .exclude(end_date__lt=as_of)
        .values_list("person_id", flat=True)
    )
    out: dict[str, list[dict]] = {}
    members = Person.objects.filter(household_id__in=household_ids, do_not_contact=False)
    for person in members.order_by("person_id"):
        out.setdefault(person.household_id, []).append(
            {"person": person, "covered": person.person_id in covered}
        )
    return out


def employers_overdue(*, as_of: dt.date) -> list[Candidate]:
    out: list[Candidate] = []
    for root in [unit_root()]:
        if root is None:
            continue
        for e in arrears(unit=root, as_of=as_of, actor=SYSTEM)["employers"]:
            out.append(
                Candidate(
                    kind="employer_overdue",
                    unit=e["unit"],
                    reference_date=dt.date.fromisoformat(e["oldest_period"] + "-01"),
                    employer=e["code"],
                )
            )
    return out


def candidates(*, as_of: dt.date) -> list[Candidate]:
    return [
        *hi_expiring(as_of=as_of),
        *lapsed(as_of=as_of),
        *households(as_of=as_of),
        *employers_overdue(as_of=as_of),
    ]
