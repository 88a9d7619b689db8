"""Disclosure of aggregate figures (SPEC section 4): the one place that decides which cells a
viewer or partner sees as ``<5``.

Each kind of figure row names its person counts and the figures derived from them; a count
between 1 and 4 is shown as ``"<5"`` and, once one count of a row is hidden, every derived
figure of that row (a percentage, a gap, a cost per person) is withheld as ``None``, since it
would give the count away. Pages, exports and the API all pass their rows through
:func:`suppress_cells` with the same kind, so that they agree cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SMALL_CELL = 5
SUPPRESS_ROLES = frozenset({"viewer", "partner"})
HIDDEN = "<5"


@dataclass(frozen=True)
class Cells:
    """The person counts of a kind of row, and the figures derived from them."""

    counts: tuple[str, ...]
    derived: tuple[str, ...] = ()


CELLS: dict[str, Cells] = {
    # one indicator of SPEC section 3 (kpi, ranking, the dashboard's lagging communes)
    "kpi": Cells(
        counts=("participants",),
        derived=("attainment_pct", "gap", "required_per_month", "coverage_pct"),
    ),
    # one forecast indicator of SPEC section 11: the year-end figures are person counts too
    "forecast": Cells(
        counts=("participants", "forecast", "low", "high"), derived=("p_meet_target",)
    ),
    # one funnel row of SPEC section 7
    "funnel": Cells(
        counts=("attendees", "converted", "registrations_reported", "reach"),
        derived=("conversion_pct", "cost_per_conversion"),
    ),
    # the funnel page's plan-against-done row of a commune
    "plan_vs_done": Cells(counts=("registrations_reported", "converted")),
    # one activity (lists and the API): its reported person counts
    "activity": Cells(
        counts=("reach", "leads", "registrations", "vssid_installs", "attendees", "n_attendees")
    ),
}


def suppresses_small_counts(actor: Any) -> bool:
    return getattr(actor, "role", None) in SUPPRESS_ROLES


def small(value: Any) -> bool:
    """A person count the small-cell rule hides (1 to 4; 0 and None are shown)."""
    return value == HIDDEN or (
        isinstance(value, int) and not isinstance(value, bool) and 0 < abs(value) < SMALL_CELL
    )


def suppress(value: int | None, actor: Any) -> int | str | None:
    """One person count as the actor may see it."""
    if value is None or not suppresses_small_counts(actor):
        return value
    return HIDDEN if small(value) else value


def suppress_cells(row: dict[str, Any], *, actor: Any, kind: str) -> dict[str, Any]:
    """``row`` as the actor may see it (a copy when anything is hidden)."""
    if not suppresses_small_counts(actor):
        return row
    rule = CELLS[kind]
    hidden = [k for k in rule.counts if k in row and small(row[k])]
    if not hidden:
        return row
    out = dict(row)
    for k in hidden:
        out[k] = HIDDEN
    for k in rule.derived:
        if k in out:
            out[k] = None
    return out


def suppress_rows(rows: Iterable[dict[str, Any]], *, actor: Any, kind: str) -> list[dict[str, Any]]:
    return [suppress_cells(r, actor=actor, kind=kind) for r in rows]
