"""Registered hooks: where a lower app's work must be followed by an upper app's, in the same
call, without the lower app importing the upper one (the layer order of pyproject.toml).

An app registers its function once, in its ``AppConfig.ready``; the lower app calls the hooks
explicitly at one documented place. These are plain function calls in a known order, not
Django signals (DESIGN.md rule 6): the caller names the hook point, and every hook is listed
here.

- ``funnel_rows``: called by ``outreach.funnel`` for ``--by channel``; returns extra rows with
  their own key (the arrears app reports follow-up conversions as the row ``followup``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

FunnelRows = Callable[..., list[dict[str, Any]]]

_FUNNEL_ROWS: list[FunnelRows] = []


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
