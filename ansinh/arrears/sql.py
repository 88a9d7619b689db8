"""Small vendor-specific SQL fragments (SQLite and PostgreSQL) for date arithmetic.

Django's ORM has no portable "add months" or "days between two dates"; these helpers give
the few expressions the arrears and worklist queries need, for both databases.
"""

from __future__ import annotations

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def due_date(period_col: str) -> str:
    """The due date of a contribution period (first day of month M): last day of month M+1."""
    if is_postgres():
        return f"(({period_col}) + interval '2 months' - interval '1 day')::date"
    return f"date({period_col}, '+2 months', '-1 day')"


def days_between(later: str, earlier: str) -> str:
    """Whole days ``later − earlier`` (may be negative)."""
    if is_postgres():
        return f"(({later})::date - ({earlier})::date)"
    return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"


def plus_one_day(col: str) -> str:
    if is_postgres():
        return f"(({col}) + 1)"
    return f"date({col}, '+1 day')"


def param() -> str:
    """A date parameter placeholder, typed on PostgreSQL so that arithmetic works."""
    return "CAST(%s AS date)" if is_postgres() else "%s"
