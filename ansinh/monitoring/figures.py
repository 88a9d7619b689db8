"""The figures of SPEC section 3, one documented function each.

The participant counts themselves are computed set-based in SQL (``ansinh.monitoring.sql``);
this module turns counts, targets and populations into the published indicators, so that the
CLI, the API, the pages and the reports all share one definition.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ansinh.core.codes import SCHEME_CODES

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def pct_half_up(numerator: int | Decimal, denominator: int | Decimal) -> float | None:
    """numerator / denominator × 100, rounded half-up to 2 decimals (125.515 → 125.52).
    None when the denominator is missing or zero."""
    if denominator is None or Decimal(denominator) == 0:
        return None
    value = Decimal(numerator) * _HUNDRED / Decimal(denominator)
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def target_int(target: Decimal | int | None) -> int | None:
    """A scheme target is a number of persons: a whole number (half-up if a file had cents)."""
    if target is None:
        return None
    return int(Decimal(target).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def attainment_pct(participants: int, target: int | None) -> float | None:
    """participants / target × 100, half-up to 2 decimals; None without a (non-zero) target."""
    if target is None:
        return None
    return pct_half_up(participants, target)


def coverage_pct(participants: int, population: int | None) -> float | None:
    """HI coverage: participants(hi) / population × 100, half-up to 2 decimals."""
    if population is None:
        return None
    return pct_half_up(participants, population)


def gap(target: int | None, participants: int) -> int | None:
    """target − participants (negative when ahead); None without a target."""
    if target is None:
        return None
    return target - participants


def months_left(as_of: dt.date) -> int:
    """Months left in D's year after D's month (0 in December)."""
    return 12 - as_of.month


def required_per_month(gap_value: int | None, as_of: dt.date) -> int | None:
    """⌈gap / months left⌉ when gap > 0 (the gap itself in December); 0 when gap ≤ 0;
    None without a target."""
    if gap_value is None:
        return None
    if gap_value <= 0:
        return 0
    left = months_left(as_of)
    if left == 0:
        return gap_value
    return -(-gap_value // left)


def scheme_indicator(
    code: str, participants: int, target: Decimal | int | None, as_of: dt.date
) -> dict[str, Any]:
    """One scheme item of ``indicators``, keys in SPEC order."""
    t = target_int(target)
    g = gap(t, participants)
    return {
        "code": code,
        "participants": participants,
        "target": t,
        "attainment_pct": attainment_pct(participants, t),
        "gap": g,
        "required_per_month": required_per_month(g, as_of),
    }


def hi_coverage_indicator(
    participants: int, population: int, target_pct: Decimal | None
) -> dict[str, Any]:
    """The ``hi_coverage`` item (only where a population is known)."""
    return {
        "code": "hi_coverage",
        "participants": participants,
        "population": population,
        "coverage_pct": coverage_pct(participants, population),
        "target_pct": None if target_pct is None else float(Decimal(target_pct)),
    }


def indicators(
    *,
    participants: dict[str, int],
    targets: dict[str, Decimal | None],
    population: int | None,
    as_of: dt.date,
) -> list[dict[str, Any]]:
    """Every scheme (0 participants and null targets where nothing is loaded), then
    ``hi_coverage`` where a population is known."""
    items = [
        scheme_indicator(code, int(participants.get(code, 0)), targets.get(code), as_of)
        for code in SCHEME_CODES
    ]
    if population is not None:
        items.append(
            hi_coverage_indicator(
                int(participants.get("hi", 0)), population, targets.get("hi_coverage")
            )
        )
    return items
