"""The KPI selectors other parts use: unit_gaps, participants_series, rankings, forecast,
data_as_of; checked against values worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from ansinh.accounts.access import SYSTEM
from ansinh.monitoring import selectors
from ansinh.monitoring.services import snapshot_rebuild
from tests.monitoring.factories import batch, counts, d, make_units, make_user, spells, targets


@pytest.fixture
def units(db: None) -> dict:
    u = make_units()
    spells(
        [(f"a{i}", "C1", "hi", "household", f"2025-0{1 + i % 3}-01", None) for i in range(9)]
        + [("b1", "C2", "hi", "farmer", "2025-01-01", "2025-12-31")],
        batch(),
    )
    counts([("2025-02-28", "C3", "hi", 40)])
    targets([(2025, "C1", "hi", 20), (2025, "C3", "hi", 30), (2025, "O1", "ui", 5)])
    return u


def test_unit_gaps_every_commune(units) -> None:
    gaps = selectors.unit_gaps(unit=units["KH"], as_of=d("2025-03-31"))
    assert set(gaps) == {"C1", "C2", "C3"}
    assert gaps["C1"] == {"si_compulsory": None, "si_voluntary": None, "ui": None, "hi": 11}
    assert gaps["C2"]["hi"] is None  # no target
    assert gaps["C3"]["hi"] == -10  # ahead of plan
    assert set(selectors.unit_gaps(unit=units["O2"], as_of=d("2025-03-31"))) == {"C3"}


@pytest.mark.parametrize("snapshot", [False, True])
def test_participants_series(units, snapshot: bool) -> None:
    if snapshot:
        snapshot_rebuild()
    series = selectors.participants_series(
        unit=units["KH"], scheme="hi", months=4, as_of=d("2025-03-15")
    )
    # a0,a3,a6 join in Jan, a1.. in Feb, a2.. in Mar; b1 from Jan; C3 counts 40 from 28 Feb
    assert series == [
        (d("2024-12-31"), 0),
        (d("2025-01-31"), 4),
        (d("2025-02-28"), 47),
        (d("2025-03-15"), 50),
    ]


def test_forecast_and_rankings(units) -> None:
    pts = [(d("2025-04-30"), 100), (d("2025-05-31"), 110), (d("2025-06-30"), 120)]
    assert selectors.forecast_year_end(pts) == 180  # +10 a month, 6 months to December
    assert selectors.forecast_year_end(pts[:2]) is None
    rank = selectors.ranking(
        unit=units["KH"], as_of=d("2025-03-31"), scheme="hi", level="commune", actor=SYSTEM
    )
    assert [(r["unit"], r["attainment_pct"]) for r in rank] == [
        ("C1", 45.0),
        ("C3", 133.33),
        ("C2", None),
    ]
    by_gap = selectors.ranking_by_gap(
        unit=units["KH"], as_of=d("2025-03-31"), scheme="hi", actor=SYSTEM
    )
    assert [(r["unit"], r["gap"], r["required_per_month"]) for r in by_gap] == [
        ("O1", 10, 2),  # target 20 (C1), 10 participants in O1: ⌈10 / 9⌉
        ("O2", -10, 0),
    ]
    office = make_user("o2", "office", units["O2"])
    with pytest.raises(Http404):
        selectors.kpi_figures(unit=units["O1"], as_of=d("2025-03-31"), actor=office)


def test_data_as_of(units) -> None:
    """The latest start or count date, capped at today; end dates (b1's 2025-12-31) are not
    events: a card valid into next year does not make "data as of" today."""
    from ansinh.registry.models import Spell

    assert selectors.data_as_of() == d("2025-03-01")  # the latest start (a2, a5, a8)
    today = dt.date.today()
    Spell.objects.filter(end_date__isnull=False).update(end_date=today + dt.timedelta(days=400))
    assert selectors.data_as_of() == d("2025-03-01")  # the latest start (a2, a5, a8)
