"""The figures of late contributions (SPEC section 8): what the arrears page, the API, the
CLI, the letters and the worklists all count, in one module.

Per contribution row of period M (its first day) at a date D:

- due date: the last day of M+1 (``due_date``);
- paid = ``amount_paid`` when ``paid_on`` ≤ D, else 0; outstanding = max(``amount_due`` −
  paid, 0); overdue = outstanding when D is after the due date;
- **interest** at 0.03 % a day (``RATE_PER_10000``): ``outstanding`` × max(D − due, 0) days
  plus, for an amount paid after the due date, ``paid`` × (``paid_on`` − due) days, rounded
  half-up per row, computed exactly in integers as (3x + 5000) div 10000. The rule is written
  once for Python (``row_figures``, one employer's rows) and once as the SQL expression built
  from the same constant (``_interest_sql``, every employer of a subtree), both here.

Sums add the rounded rows. ``arrears_pct`` is null when ``due_ytd`` is 0 (SPEC leaves it open).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.http import Http404

from ansinh.accounts.access import Actor, can_see_arrears, unit_visible
from ansinh.arrears.models import Contribution, Employer
from ansinh.core import sql
from ansinh.core.formats import month_end, round_half_up
from ansinh.geography.models import Unit

BUCKETS: tuple[str, ...] = ("lt3", "3to6", "6to12", "ge12")
RATE_PER_10000 = 3  # late interest: 0.03 % a day


def bucket_of(months_overdue: int) -> str:
    """Aging bucket of a number of months overdue (DOMAIN.md section 4)."""
    if months_overdue < 3:
        return "lt3"
    if months_overdue < 6:
        return "3to6"
    if months_overdue < 12:
        return "6to12"
    return "ge12"


def months_overdue(*, period: dt.date, as_of: dt.date) -> int:
    """(D.year − M.year) × 12 + (D.month − M.month) − 1 (SPEC section 8)."""
    return (as_of.year - period.year) * 12 + (as_of.month - period.month) - 1


def due_date(period: dt.date) -> dt.date:
    """Last day of the month after the period."""
    return month_end(period.replace(day=1) + relativedelta(months=1))


def like_prefix(path: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern for a unit's path and everything below it."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def check_unit(unit: Unit, actor: Actor) -> None:
    """A unit outside the actor's scope is a 404, like a missing one (and every unit, for an
    actor who may not see arrears)."""
    if not can_see_arrears(actor) or unit_visible(actor=actor, code=unit.code) is None:
        raise Http404


def as_date(value: Any) -> dt.date | None:
    """A date as the database cursor gives it (a date, or ISO text on SQLite)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------- the rule, per row


def interest_of(amount_days: int) -> int:
    """0.03 % a day of ``amount_days`` (đồng × days), half-up to the đồng, in integers."""
    return (RATE_PER_10000 * amount_days + 5000) // 10000


@dataclass(frozen=True)
class RowFigures:
    """The figures of one contribution row at a date."""

    due: dt.date
    paid: int
    outstanding: int
    overdue: int
    interest: int


def row_figures(c: Contribution, on: dt.date) -> RowFigures:
    """SPEC section 8's figures of contribution row ``c`` at ``on``."""
    due = due_date(c.period)
    paid = c.amount_paid if c.paid_on is not None and c.paid_on <= on else 0
    outstanding = max(c.amount_due - paid, 0)
    overdue = outstanding if outstanding > 0 and on > due else 0
    amount_days = outstanding * max((on - due).days, 0)
    if paid and c.paid_on is not None and c.paid_on > due:
        amount_days += paid * (c.paid_on - due).days
    return RowFigures(
        due=due,
        paid=paid,
        outstanding=outstanding,
        overdue=overdue,
        interest=interest_of(amount_days),
    )


def _interest_sql(amount_days: str) -> str:
    """``interest_of`` as an SQL expression (integer division on both databases; the amount
    is never negative)."""
    return f"({RATE_PER_10000} * ({amount_days}) + 5000) / 10000"


def _rows_sql(*, unit: Unit, as_of: dt.date) -> tuple[str, sql.Params]:
    """The CTEs ``r``, ``s``, ``t`` of every contribution row of the employers in a subtree:
    ``t`` has emp, unit, period, amount_due, due, overdue and interest of each row at D
    (``%(as_of)s``), and the periods of D's year are ``%(year_first)s``–``%(year_last)s``."""
    d = sql.date_param("as_of")
    due = sql.shift_date("c.period", months=2, days=-1)  # last day of the month after
    days_d = sql.days_between(d, "due")
    days_paid = sql.days_between("paid_on", "due")
    amount_days = (
        "(CASE WHEN days_d > 0 THEN outstanding * days_d ELSE 0 END)"
        f" + (CASE WHEN paid > 0 AND paid_on > due THEN paid * {days_paid} ELSE 0 END)"
    )
    query = f"""
        r AS (
            SELECT c.employer_id AS emp, e.unit_id AS unit, c.period AS period,
                   c.amount_due AS amount_due, c.paid_on AS paid_on, {due} AS due,
                   CASE WHEN c.paid_on IS NOT NULL AND c.paid_on <= {d}
                        THEN c.amount_paid ELSE 0 END AS paid
            FROM {sql.table(Contribution)} c
            JOIN {sql.table(Employer)} e ON e.code = c.employer_id
            JOIN {sql.table(Unit)} u ON u.code = e.unit_id
            WHERE u.path LIKE %(path_like)s ESCAPE '\\'
        ), s AS (
            SELECT emp, unit, period, amount_due, paid_on, due, paid,
                   CASE WHEN amount_due > paid THEN amount_due - paid ELSE 0 END AS outstanding,
                   {days_d} AS days_d
            FROM r
        ), t AS (
            SELECT emp, unit, period, amount_due, due,
                   CASE WHEN outstanding > 0 AND days_d > 0 THEN outstanding ELSE 0 END
                       AS overdue,
                   {_interest_sql(amount_days)} AS interest
            FROM s
        )"""
    params: sql.Params = {
        "as_of": sql.iso(as_of),
        "path_like": like_prefix(unit.path),
        "year_first": f"{as_of.year}-01-01",
        "year_last": f"{as_of.year}-12-01",
    }
    return query, params


def _due_ytd_sql() -> str:
    """What of D's year was due by D (summed over ``t``)."""
    return f"""SUM(CASE WHEN period >= {sql.date_param("year_first")}
                         AND period <= {sql.date_param("year_last")}
                         AND due <= {sql.date_param("as_of")}
                        THEN amount_due ELSE 0 END)"""


# ---------------------------------------------------------------- a subtree


@dataclass(frozen=True)
class EmployerRow:
    """An employer's sums at D (``_employer_rows``)."""

    code: str
    unit: str
    overdue: int
    interest: int
    oldest_overdue: Any  # a period (ISO text on SQLite); None when nothing is overdue
    due_ytd: int


def _employer_rows(*, unit: Unit, as_of: dt.date) -> list[EmployerRow]:
    """One row per employer of the subtree: overdue, interest, oldest overdue period and
    due_ytd, computed per contribution row in SQL and summed per employer."""
    rows, params = _rows_sql(unit=unit, as_of=as_of)
    query = f"""
        WITH {rows}
        SELECT emp AS code, unit AS unit, SUM(overdue) AS overdue, SUM(interest) AS interest,
               MIN(CASE WHEN overdue > 0 THEN period END) AS oldest_overdue,
               {_due_ytd_sql()} AS due_ytd
        FROM t
        GROUP BY emp, unit
    """
    return [
        EmployerRow(
            code=str(r.code),
            unit=str(r.unit),
            overdue=int(r.overdue or 0),
            interest=int(r.interest or 0),
            oldest_overdue=r.oldest_overdue,
            due_ytd=int(r.due_ytd or 0),
        )
        for r in sql.fetch_as(EmployerRow, query, params)
    ]


def arrears_pct(overdue: int, due_ytd: int) -> float | None:
    """overdue / due_ytd × 100, half-up to 2 decimals; None (JSON null) when nothing of D's
    year is due yet (1–31 January): the ratio is undefined then, as ``attainment_pct`` is
    null without a target (SPEC section 3), whatever is still overdue from last year."""
    if not due_ytd:
        return None
    return float(round_half_up(Decimal(overdue) * 100 / Decimal(due_ytd), 2))


def arrears(*, unit: Unit, as_of: dt.date, actor: Actor) -> dict[str, Any]:
    """Late contributions of the employers in ``unit`` and below at ``as_of``: exactly the
    JSON object of SPEC section 8.

    Per contribution row (in SQL): paid = amount_paid when paid_on ≤ D; outstanding =
    max(amount_due − paid, 0); overdue when outstanding > 0 and D > due date (last day of
    M+1); interest = round_half_up(0.0003 × (outstanding × max(D − due, 0) + paid ×
    max(paid_on − due, 0))) computed exactly in integers as (3x + 5000) div 10000. Sums add the
    rounded rows. ``arrears_pct`` is null when ``due_ytd`` is 0 (SPEC leaves it open)."""
    check_unit(unit, actor)
    rows = _employer_rows(unit=unit, as_of=as_of)
    buckets = dict.fromkeys(BUCKETS, 0)
    total_overdue = total_interest = due_ytd = 0
    employers: list[dict[str, Any]] = []
    for row in rows:
        code, unit_code, overdue, interest = row.code, row.unit, row.overdue, row.interest
        oldest = row.oldest_overdue
        total_interest += interest
        due_ytd += row.due_ytd
        if overdue <= 0:
            continue
        total_overdue += overdue
        oldest_d = as_date(oldest)
        assert oldest_d is not None
        mo = months_overdue(period=oldest_d, as_of=as_of)
        b = bucket_of(mo)
        buckets[b] += overdue
        employers.append(
            {
                "code": code,
                "unit": unit_code,
                "overdue": overdue,
                "interest": interest,
                "oldest_period": f"{oldest_d:%Y-%m}",
                "months_overdue": mo,
                "bucket": b,
            }
        )
    employers.sort(key=lambda e: (-e["overdue"], e["code"]))
    return {
        "as_of": as_of.isoformat(),
        "unit": unit.code,
        "totals": {
            "employers": len(employers),
            "overdue": total_overdue,
            "interest": total_interest,
            "due_ytd": due_ytd,
            "arrears_pct": arrears_pct(total_overdue, due_ytd),
            "buckets": buckets,
        },
        "employers": employers,
    }


def arrears_ratio(*, unit: Unit, as_of: dt.date) -> tuple[int, int, float | None]:
    """(overdue, due_ytd, arrears_pct) at ``as_of`` in one aggregate query (for trends)."""
    rows, params = _rows_sql(unit=unit, as_of=as_of)
    row = sql.fetch_one(
        f"WITH {rows} SELECT SUM(overdue) AS overdue, {_due_ytd_sql()} AS due_ytd FROM t",
        params,
    )
    overdue = int(row["overdue"] or 0) if row else 0
    ytd = int(row["due_ytd"] or 0) if row else 0
    return overdue, ytd, arrears_pct(overdue, ytd)


def arrears_trend(*, unit: Unit, as_of: dt.date, months: int = 12) -> list[dict[str, Any]]:
    """The arrears ratio at each of the last ``months`` month-ends up to ``as_of`` (the last
    point is ``as_of`` itself)."""
    points: list[dt.date] = []
    for i in range(months - 1, 0, -1):
        points.append(month_end(as_of.replace(day=1) - relativedelta(months=i)))
    points.append(as_of)
    out = []
    for d in points:
        overdue, ytd, pct = arrears_ratio(unit=unit, as_of=d)
        out.append({"date": d.isoformat(), "overdue": overdue, "due_ytd": ytd, "pct": pct})
    return out


def employer_contributions(*, employer: Employer, as_of: dt.date) -> list[dict[str, Any]]:
    """The employer's contribution rows with the SPEC section 8 figures of each at ``as_of``
    (one employer: a few dozen rows)."""
    out = []
    for c in Contribution.objects.filter(employer=employer).order_by("-period"):
        f = row_figures(c, as_of)
        out.append(
            {
                "period": c.period,
                "due_date": f.due,
                "amount_due": c.amount_due,
                "amount_paid": c.amount_paid,
                "paid_on": c.paid_on,
                "paid": f.paid,
                "outstanding": f.outstanding,
                "overdue": f.overdue,
                "months_overdue": (
                    months_overdue(period=c.period, as_of=as_of) if f.overdue else None
                ),
                "interest": f.interest,
            }
        )
    return out


def employer_figures(*, employer: Employer, as_of: dt.date) -> dict[str, int]:
    """Overdue and interest of one employer at ``as_of`` (SPEC section 8 rules)."""
    rows = employer_contributions(employer=employer, as_of=as_of)
    return {
        "overdue": sum(r["overdue"] for r in rows),
        "interest": sum(r["interest"] for r in rows),
    }


def interest_split(*, unit: Unit, as_of: dt.date, actor: Actor) -> list[dict[str, Any]]:
    """Where each employer's interest (SPEC section 8: every row, overdue or since paid) comes
    from: ``on_overdue`` the rows overdue at ``as_of`` (still owed), ``since_paid`` the rows
    paid in full but late, with how many such periods and their span. Per row rounded as the
    SPEC rounds, so ``on_overdue + since_paid`` is the employer's ``interest`` exactly. Only
    employers with interest."""
    check_unit(unit, actor)
    rows, params = _rows_sql(unit=unit, as_of=as_of)
    query = f"""
        WITH {rows}
        SELECT emp AS code, unit AS unit,
               SUM(CASE WHEN overdue > 0 THEN interest ELSE 0 END) AS on_overdue,
               SUM(CASE WHEN overdue = 0 THEN interest ELSE 0 END) AS since_paid,
               SUM(CASE WHEN overdue = 0 AND interest > 0 THEN 1 ELSE 0 END) AS periods,
               MIN(CASE WHEN overdue = 0 AND interest > 0 THEN period END) AS first_late,
               MAX(CASE WHEN overdue = 0 AND interest > 0 THEN period END) AS last_late
        FROM t
        GROUP BY emp, unit
        HAVING SUM(interest) > 0
    """
    out: list[dict[str, Any]] = [
        {
            "code": str(r["code"]),
            "unit": str(r["unit"]),
            "on_overdue": int(r["on_overdue"] or 0),
            "since_paid": int(r["since_paid"] or 0),
            "interest": int(r["on_overdue"] or 0) + int(r["since_paid"] or 0),
            "periods_paid_late": int(r["periods"] or 0),
            "first_paid_late": as_date(r["first_late"]),
            "last_paid_late": as_date(r["last_late"]),
        }
        for r in sql.fetch(query, params)
    ]
    out.sort(key=lambda r: (-r["since_paid"], r["code"]))
    return out
