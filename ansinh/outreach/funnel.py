"""The outreach conversion funnel of SPEC section 7, computed set-based in SQL.

What a conversion is (and which activity it is credited to) is ``outreach/conversions.py``.
Only conversions credited to the activities counted (dated within [from, to], in the unit's
subtree, within the actor's scope) are counted; they may fall after ``to``.

One SQL statement (CTEs + ``ROW_NUMBER()``) that runs on SQLite and PostgreSQL; the only
vendor difference is "date plus 90 days" (``ansinh.core.sql.plus_days``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from ansinh.accounts.access import (
    Actor,
    activity_filter,
    actor_org,
    org_scoped,
    suppress_cells,
    suppress_rows,
)
from ansinh.core import hooks, sql
from ansinh.core.formats import round_half_up
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_children
from ansinh.outreach.conversions import candidates_cte
from ansinh.outreach.models import Activity, Attendee, Plan, PlanItem
from ansinh.registry.models import Person

BY_FIELDS: dict[str, str] = {"channel": "channel", "org": "lead_org", "group": "group"}
# internal breakdowns (not offered on the command line)
_KEY_COLUMNS: dict[str, str] = {**BY_FIELDS, "unit": "unit_id"}

ROW_KEYS: tuple[str, ...] = (
    "key",
    "activities",
    "planned_reach",
    "reach",
    "attendees",
    "registrations_reported",
    "converted",
    "conversion_pct",
    "cost",
    "cost_per_conversion",
)


_SUM_FIELDS: tuple[str, ...] = (
    "activities",
    "planned_reach",
    "reach",
    "attendees",
    "registrations_reported",
    "converted",
    "cost",
)


def _aggregate_sql(acts: QuerySet[Activity], bys: Sequence[str]) -> tuple[str, sql.Params]:
    """The one statement of the funnel: sums per combination of the ``bys`` keys (columns
    ``key_<by>``) for the activities of ``acts``; the sums are the columns of
    ``_SUM_FIELDS``."""
    keys = [f"COALESCE(a.{sql.qn(_KEY_COLUMNS[by])}, '')" for by in bys]
    key_list = ", ".join(keys)
    key_cols = ", ".join(f"{k} AS key_{by}" for k, by in zip(keys, bys, strict=True))
    acts_sql, acts_params = sql.named(
        *acts.order_by().values("code").query.sql_with_params(), name="act"
    )
    attendee, activity = sql.table(Attendee), sql.table(Activity)
    query = f"""
WITH sel AS ({acts_sql}),
{candidates_cte()},
conv AS (SELECT acode, COUNT(*) AS n FROM cand WHERE rn = 1 GROUP BY acode),
att AS (
    SELECT activity_id, COUNT(*) AS n FROM {attendee}
    WHERE activity_id IN (SELECT code FROM sel) AND deleted_at IS NULL GROUP BY activity_id
)
SELECT {key_cols},
       COUNT(*) AS activities,
       COALESCE(SUM(a.planned_reach), 0) AS planned_reach,
       COALESCE(SUM(a.reach), 0) AS reach,
       COALESCE(SUM(att.n), 0) AS attendees,
       COALESCE(SUM(a.registrations), 0) AS registrations_reported,
       COALESCE(SUM(conv.n), 0) AS converted,
       COALESCE(SUM(a.cost), 0) AS cost
FROM {activity} a
LEFT JOIN att ON att.activity_id = a.code
LEFT JOIN conv ON conv.acode = a.code
WHERE a.code IN (SELECT code FROM sel)
GROUP BY {key_list}
"""
    return query, acts_params


def _aggregate_multi(acts: QuerySet[Activity], bys: Sequence[str]) -> list[dict[str, Any]]:
    """Raw sums per combination of keys: each row has one entry per ``by`` plus the sums."""
    query, params = _aggregate_sql(acts, bys)
    out: list[dict[str, Any]] = []
    for row in sql.fetch(query, params):
        item: dict[str, Any] = {by: str(row[f"key_{by}"]) for by in bys}
        item.update({f: int(row[f]) for f in _SUM_FIELDS})
        out.append(item)
    return out


def _roll_up(rows: Sequence[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Sum fine-grained aggregate rows to one row per value of ``by``, sorted by key."""
    acc: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r[by]
        tgt = acc.setdefault(key, {"key": key, **dict.fromkeys(_SUM_FIELDS, 0)})
        for f in _SUM_FIELDS:
            tgt[f] += r[f]
    return [acc[k] for k in sorted(acc)]


def _aggregate(acts: QuerySet[Activity], by: str) -> list[dict[str, Any]]:
    """Raw per-key sums for the activities of ``acts`` (plain ints, no rounding)."""
    return _roll_up(_aggregate_multi(acts, [by]), by)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    attendees, converted, cost = row["attendees"], row["converted"], row["cost"]
    pct = (
        float(round_half_up(Decimal(converted * 100) / Decimal(attendees), 2)) if attendees else 0.0
    )
    cpc = (
        int(round_half_up(Decimal(cost) / Decimal(converted), 0))
        if converted and cost is not None
        else None
    )
    return {
        "key": row["key"],
        "activities": row["activities"],
        "planned_reach": row["planned_reach"],
        "reach": row["reach"],
        "attendees": attendees,
        "registrations_reported": row["registrations_reported"],
        "converted": converted,
        "conversion_pct": pct,
        "cost": cost,
        "cost_per_conversion": cpc,
    }


def funnel_activities(
    *, unit: Unit, date_from: dt.date, date_to: dt.date, actor: Actor
) -> QuerySet[Activity]:
    """The activities a funnel counts: dated within [from, to], in the unit's subtree,
    within the actor's scope."""
    return activity_filter(Activity.objects.all(), actor=actor).filter(
        date__gte=date_from, date__lte=date_to, unit__path__startswith=unit.path
    )


def funnel(
    *, unit: Unit, date_from: dt.date, date_to: dt.date, by: str = "channel", actor: Actor
) -> dict[str, Any]:
    """Exactly the JSON object of SPEC section 7 (rows sorted by key)."""
    if by not in BY_FIELDS:
        raise ValueError(f"by must be one of {', '.join(BY_FIELDS)}")
    acts = funnel_activities(unit=unit, date_from=date_from, date_to=date_to, actor=actor)
    raw = _aggregate(acts, by)
    if by == "channel":
        raw = _with_hook_rows(raw, unit, date_from, date_to, actor)
    return _result(unit, date_from, date_to, by, raw, actor)


def _with_hook_rows(
    raw: Sequence[dict[str, Any]], unit: Unit, date_from: dt.date, date_to: dt.date, actor: Actor
) -> list[dict[str, Any]]:
    """Channel rows plus the rows other apps register (``core.hooks.funnel_rows``: the
    follow-up worklists' row ``followup``), sorted by key."""
    extra = hooks.funnel_rows_run(unit=unit, date_from=date_from, date_to=date_to, actor=actor)
    return sorted([*raw, *extra], key=lambda r: r["key"])


def _result(
    unit: Unit,
    date_from: dt.date,
    date_to: dt.date,
    by: str,
    raw: Sequence[dict[str, Any]],
    actor: Actor,
) -> dict[str, Any]:
    rows = suppress_rows([_finish(r) for r in raw], actor=actor, kind="funnel")
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "unit": unit.code,
        "by": by,
        "rows": rows,
    }


def funnel_breakdowns(
    *, unit: Unit, date_from: dt.date, date_to: dt.date, actor: Actor
) -> dict[str, Any]:
    """The three breakdowns of :func:`funnel` (``channel``, ``org``, ``group``, each exactly
    as ``funnel`` would answer), their ``total`` row and ``plan_vs_done``, from one SQL
    statement (the funnel page)."""
    acts = funnel_activities(unit=unit, date_from=date_from, date_to=date_to, actor=actor)
    fine = _aggregate_multi(acts, [*BY_FIELDS, "unit"])
    out: dict[str, Any] = {
        by: _result(unit, date_from, date_to, by, _roll_up(fine, by), actor) for by in BY_FIELDS
    }
    out["channel"] = _result(
        unit,
        date_from,
        date_to,
        "channel",
        _with_hook_rows(_roll_up(fine, "channel"), unit, date_from, date_to, actor),
        actor,
    )
    total = _roll_up([{**r, "_all": ""} for r in fine], "_all") or [
        {"key": "", **dict.fromkeys(_SUM_FIELDS, 0)}
    ]
    out["total"] = _result(unit, date_from, date_to, "total", total, actor)["rows"][0]
    out["plan_vs_done"] = _plan_vs_done(
        unit=unit,
        date_from=date_from,
        date_to=date_to,
        actor=actor,
        done={r["key"]: r for r in _roll_up(fine, "unit")},
    )
    return out


def channel_history(*, unit: Unit, until: dt.date) -> dict[str, tuple[int, int]]:
    """``{channel: (activities, converted)}`` of the activities dated before ``until`` in the
    unit's subtree whose conversions can be observed: those with at least one attendee who is
    a known person (has participations loaded). An activity with no attendance list, or whose
    attendees are all unknown (a commune reported as aggregate counts), shows no conversion
    whatever it brought in, so it is no evidence of a channel's yield."""
    known = Attendee.objects.filter(person_id__in=Person.objects.values("person_id"))
    acts = Activity.objects.filter(
        date__lt=until,
        unit__path__startswith=unit.path,
        code__in=known.values("activity_id"),
    )
    return {
        r["key"]: (r["activities"], r["converted"]) for r in _aggregate(acts, "channel") if r["key"]
    }


def conversion_rates(*, unit: Unit, until: dt.date, min_activities: int = 1) -> dict[str, float]:
    """Conversions per observable activity (``channel_history``) for each channel with at
    least ``min_activities`` of them in the unit's subtree; other channels are absent (the
    plan builder takes the defaults of DOMAIN.md for them)."""
    return {
        ch: converted / n
        for ch, (n, converted) in sorted(channel_history(unit=unit, until=until).items())
        if n >= min_activities
    }


def funnel_table_rows(result: dict[str, Any]) -> Sequence[Sequence[Any]]:
    """The rows of a funnel result as lists in the order of ROW_KEYS (CSV/table output)."""
    return [[row[k] for k in ROW_KEYS] for row in result["rows"]]


def _approved_plan_ids(year_from: int, year_to: int) -> list[int]:
    """The latest approved version of each (unit, year) plan in the years."""
    latest: dict[tuple[str, int], tuple[int, int]] = {}
    for pk, unit_id, year, version in Plan.objects.filter(
        status=Plan.Status.APPROVED, year__gte=year_from, year__lte=year_to
    ).values_list("pk", "unit_id", "year", "version"):
        key = (unit_id, year)
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, pk)
    return [pk for _v, pk in latest.values()]


def plan_vs_done(
    *, unit: Unit, date_from: dt.date, date_to: dt.date, actor: Actor
) -> list[dict[str, Any]]:
    """Plan against what was done, one row per unit directly below ``unit`` (the offices of
    a province; the unit itself when it has none): sessions planned in the approved plans
    for the months of [from, to] against activities held, and expected registrations
    against those reported and the conversions (SPEC section 7) of the activities held."""
    acts = funnel_activities(unit=unit, date_from=date_from, date_to=date_to, actor=actor)
    done = {r["key"]: r for r in _aggregate(acts, "unit")}
    return _plan_vs_done(unit=unit, date_from=date_from, date_to=date_to, actor=actor, done=done)


def _plan_vs_done(
    *,
    unit: Unit,
    date_from: dt.date,
    date_to: dt.date,
    actor: Actor,
    done: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    children = list(unit_children(unit=unit)) or [unit]
    items = PlanItem.objects.filter(
        plan_id__in=_approved_plan_ids(date_from.year, date_to.year),
        unit__path__startswith=unit.path,
        month__gte=date_from.strftime("%Y-%m"),
        month__lte=date_to.strftime("%Y-%m"),
    )
    if org_scoped(actor):
        items = items.filter(lead_org=actor_org(actor))
    planned = {
        r["unit_id"]: r
        for r in items.values("unit_id").annotate(
            s=Sum("sessions"), e=Sum("expected_registrations")
        )
    }
    paths = dict(Unit.objects.filter(code__in=set(done) | set(planned)).values_list("code", "path"))
    rows = []
    for child in children:
        mine = [c for c, p in paths.items() if p.startswith(child.path)]
        row: dict[str, Any] = {
            "unit": child.code,
            "name": child.name,
            "planned_sessions": sum(int(planned[c]["s"] or 0) for c in mine if c in planned),
            "held": sum(done[c]["activities"] for c in mine if c in done),
            "expected_registrations": sum(int(planned[c]["e"] or 0) for c in mine if c in planned),
            "registrations_reported": sum(
                done[c]["registrations_reported"] for c in mine if c in done
            ),
            "converted": sum(done[c]["converted"] for c in mine if c in done),
        }
        row["done_pct"] = (
            float(round_half_up(Decimal(row["held"] * 100) / Decimal(row["planned_sessions"]), 2))
            if row["planned_sessions"]
            else None
        )
        rows.append(suppress_cells(row, actor=actor, kind="plan_vs_done"))
    return rows
