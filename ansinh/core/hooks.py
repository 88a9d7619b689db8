"""Registered hooks: where a lower app's work must be followed by an upper app's, in the same
call, without the lower app importing the upper one (the layer order of pyproject.toml).

An app registers its function once, in its ``AppConfig.ready``; the lower app calls the hooks
explicitly at one documented place. These are plain function calls in a known order, not
Django signals (DESIGN.md rule 6): the caller names the hook point, and every hook is listed
here.

- ``after_import``: called by ``monitoring.importing.import_run`` after an import of a KIND has
  been written and the KPI snapshot refreshed, inside the same job (the arrears app brings the
  follow-up worklists up to date: an import of participations the person lists, one of
  contributions or employers the employer list — closing what it resolved, adding new entries).
- ``funnel_rows``: called by ``outreach.funnel`` for ``--by channel``; returns extra rows with
  their own key (the arrears app reports follow-up conversions as the row ``followup``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

AfterImport = Callable[..., dict[str, Any] | None]
FunnelRows = Callable[..., list[dict[str, Any]]]

_AFTER_IMPORT: list[tuple[frozenset[str], AfterImport]] = []
_FUNNEL_ROWS: list[FunnelRows] = []
# (db table, key columns) each after_import hook writes: an import's undo gives them back
_AFTER_IMPORT_TABLES: dict[str, list[str]] = {}


def after_import_register(
    *,
    kinds: set[str] | frozenset[str],
    fn: AfterImport,
    tables: dict[str, list[str]] | None = None,
) -> None:
    """Call ``fn(kind=..., actor=...)`` after every written import of one of ``kinds``.
    ``tables``: the tables it writes (db table -> key columns), so that undoing the import
    gives them back the rows they had (SPEC section 10)."""
    if all(f is not fn for _k, f in _AFTER_IMPORT):
        _AFTER_IMPORT.append((frozenset(kinds), fn))
    _AFTER_IMPORT_TABLES.update(tables or {})


def after_import_tables() -> dict[str, list[str]]:
    return dict(_AFTER_IMPORT_TABLES)


def after_import_run(*, kind: str, actor: Any) -> dict[str, Any]:
    """Run the hooks registered for ``kind``; their results merged (for the job's result)."""
    out: dict[str, Any] = {}
    for kinds, fn in _AFTER_IMPORT:
        if kind in kinds:
            out.update(fn(kind=kind, actor=actor) or {})
    return out


def funnel_rows_register(fn: FunnelRows) -> None:
    """``fn(unit=, date_from=, date_to=, actor=)`` returns raw funnel rows (the sums of
    ``outreach.funnel`` with their own ``key``), or ``[]`` when it has nothing."""
    if fn not in _FUNNEL_ROWS:
        _FUNNEL_ROWS.append(fn)


def funnel_rows_run(
    *, unit: Any, date_from: dt.date, date_to: dt.date, actor: Any
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for fn in _FUNNEL_ROWS:
        rows.extend(fn(unit=unit, date_from=date_from, date_to=date_to, actor=actor))
    return rows
