"""The materialised snapshot equals the live computation; incremental refresh equals a rebuild."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.conf import settings

from ansinh.accounts.access import SYSTEM
from ansinh.core.formats import month_end
from ansinh.geography.models import Unit
from ansinh.monitoring import selectors
from ansinh.monitoring.models import KpiSnapshot, SnapshotState
from ansinh.monitoring.services import snapshot_rebuild, snapshot_refresh
from ansinh.registry.models import Spell
from tests.monitoring.factories import batch, counts, make_units, snapshot_table, spells

SCHEMES = ["si_compulsory", "si_voluntary", "ui", "hi"]
GROUPS = ["employee", "farmer", "household", "student"]


def _random_spells(seed: int, n: int) -> list[tuple]:
    rnd = random.Random(seed)
    rows = []
    for _i in range(n):
        person = f"p{rnd.randrange(n // 2)}"
        start = dt.date(2024, 11, 1) + dt.timedelta(days=rnd.randrange(300))
        end = None if rnd.random() < 0.5 else start + dt.timedelta(days=rnd.randrange(200))
        rows.append(
            (
                person,
                rnd.choice(["C1", "C2", "C3"]),
                rnd.choice(SCHEMES),
                rnd.choice(GROUPS),
                start.isoformat(),
                end.isoformat() if end else None,
            )
        )
    # the natural key is (person, scheme, start, unit): drop accidental duplicates
    seen, out = set(), []
    for r in rows:
        k = (r[0], r[2], r[4], r[1])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


@pytest.fixture
def data(db: None) -> dict[str, Unit]:
    units = make_units()
    spells(_random_spells(1, 400), batch())
    counts(
        [
            ("2024-12-31", "C3", "si_voluntary", 40),
            ("2025-03-31", "C3", "si_voluntary", 55, "farmer"),
            ("2025-03-31", "C3", "si_voluntary", 50),
            ("2025-05-31", "C1", "ui", 7, "employee"),
        ]
    )
    return units


def _all_figures(unit: Unit, as_of: dt.date) -> list[dict]:
    return [
        selectors.kpi_figures(unit=unit, as_of=as_of, by=by, actor=SYSTEM)
        for by in (None, "unit", "group")
    ]


def _live(unit: Unit, as_of: dt.date) -> list[dict]:
    """The figures computed from all spells and counts, ignoring every stored row."""
    real_ready, real_before = selectors.snapshot_ready, selectors._rows_from_month_end_before
    selectors.snapshot_ready = lambda _d: False  # type: ignore[assignment]
    selectors._rows_from_month_end_before = lambda **_k: None  # type: ignore[assignment]
    try:
        return _all_figures(unit, as_of)
    finally:
        selectors.snapshot_ready = real_ready  # type: ignore[assignment]
        selectors._rows_from_month_end_before = real_before  # type: ignore[assignment]


def test_snapshot_equals_live(data: dict[str, Unit]) -> None:
    written = snapshot_rebuild()
    assert written == KpiSnapshot.objects.count() > 0
    months = sorted(SnapshotState.objects.values_list("as_of", flat=True))
    assert months[0] == dt.date(2024, 11, 30)
    last = selectors.facts_last_date()
    assert last is not None
    # the last month-end on or before the facts' last date (a later one would be partial)
    assert months[-1] <= last < month_end(months[-1] + dt.timedelta(days=1)) + dt.timedelta(1)
    for as_of in months:
        assert selectors.snapshot_ready(as_of)
        for unit in data.values():
            assert _all_figures(unit, as_of) == _live(unit, as_of), (as_of, unit.code)


def test_days_between_month_ends_equal_live(data: dict[str, Unit]) -> None:
    """A day that is not a month-end is read as the month-end before it plus the persons whose
    spells changed since: it must equal the computation from scratch."""
    snapshot_rebuild()
    days = [dt.date(2024, 12, 1), dt.date(2025, 1, 15), dt.date(2025, 3, 1), dt.date(2025, 6, 17)]
    days += [dt.date(2025, 8, 30), dt.date(2025, 10, 2)]
    for day in days:
        assert selectors._rows_from_month_end_before(unit=data["KH"], as_of=day) is not None
        for unit in data.values():
            assert _all_figures(unit, day) == _live(unit, day), (day, unit.code)


def test_snapshot_events_new_lapsed_renewed(db: None) -> None:
    make_units()
    spells(
        [
            # a: joins Jan, ends 31 Mar, renews 15 Apr (within 30 days: not lapsed)
            ("a", "C1", "hi", "household", "2025-01-10", "2025-03-31"),
            ("a", "C1", "hi", "household", "2025-04-15", None),
            # b: joins Jan, ends 28 Feb, nothing after: lapsed in February
            ("b", "C1", "hi", "household", "2025-01-20", "2025-02-28"),
            # c: joins Feb, ends Mar, comes back in June: lapsed in March, renewed in June
            ("c", "C1", "hi", "household", "2025-02-01", "2025-03-10"),
            ("c", "C1", "hi", "household", "2025-06-01", "2025-06-30"),
        ],
        batch(),
    )
    snapshot_rebuild()
    rows = {
        r[0].isoformat()[:7]: r[1:]
        for r in KpiSnapshot.objects.filter(unit_id="C1", scheme="hi").values_list(
            "as_of", "participants", "new", "lapsed", "renewed"
        )
    }
    assert rows["2025-01"] == (2, 2, 0, 0)
    assert rows["2025-02"] == (3, 1, 1, 0)  # b covered on its last day
    assert rows["2025-03"] == (1, 0, 1, 0)  # a still covered on 31 Mar; c lapsed
    assert rows["2025-04"] == (1, 0, 0, 1)
    assert rows["2025-06"] == (2, 0, 1, 1)  # c renewed, and lapses on 30 Jun (nothing after)


def test_incremental_refresh_touches_only_that_commune(data: dict[str, Unit]) -> None:
    snapshot_rebuild()
    before = snapshot_table()
    # change one commune: a new spell and the removal of another
    victim = Spell.objects.filter(unit_id="C2").order_by("id").first()
    assert victim is not None
    victim.delete()
    spells([("newbie", "C2", "hi", "student", "2025-02-03", None)], batch(2))
    since = min(victim.start_date, dt.date(2025, 2, 3))
    snapshot_refresh(units={"C2"}, since=since)
    after = snapshot_table()
    others_before = [r for r in before if r[1] != "C2"]
    others_after = [r for r in after if r[1] != "C2"]
    assert others_before == others_after
    # C2 rows before `since`'s look-back window are unchanged too
    cutoff = since - dt.timedelta(days=31)
    assert [r for r in before if r[1] == "C2" and r[0] < cutoff] == [
        r for r in after if r[1] == "C2" and r[0] < cutoff
    ]
    assert [r for r in before if r[1] == "C2"] != [r for r in after if r[1] == "C2"]
    # and equals a full rebuild
    snapshot_rebuild()
    assert snapshot_table() == after


def test_cli_rebuild_and_month_end_read(cli, data: dict[str, Unit]) -> None:
    r = cli("kpi", "--rebuild")
    assert r.code == 0, r.err
    assert json.loads(r.out)["rows"] == KpiSnapshot.objects.count()
    as_of = sorted(SnapshotState.objects.values_list("as_of", flat=True))[-2]
    r = cli("kpi", "--as-of", as_of.isoformat(), "--by", "unit")
    assert json.loads(r.out) == _live(data["KH"], as_of)[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="on SQLite the parts run in processes, which cannot open the test's in-memory "
    "database (tests/acceptance/test_rebuild_parts.py runs them on a database file)",
)
def test_rebuild_in_parts_equals_one_statement(
    data: dict[str, Unit], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full rebuild of many committed spells runs one statement per core side by side, each
    over a part of the persons, on connections of its own (threads on PostgreSQL); their sums
    are the rows of one statement over all persons (counts once, events, nested spells)."""
    import os

    from ansinh.monitoring import services

    calls: list[int] = []
    real = services._insert_parts

    def spy(dates: list[dt.date], *, parts: int) -> int:
        calls.append(parts)
        return real(dates, parts=parts)

    counts([("2024-12-31", "O2", "hi", 9), ("2025-03-31", "O2", "hi", 12, "farmer")])
    monkeypatch.setattr(services, "_insert_parts", spy)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2})
    monkeypatch.setattr(services, "PARTS_MIN_SPELLS", 0)
    written = snapshot_rebuild()
    parted = snapshot_table()
    assert calls == [3] and written == len(parted) > 0
    assert any(r[-1] for r in parted)  # rows from counts are in, once
    monkeypatch.setattr(services, "PARTS_MIN_SPELLS", 10**9)
    assert snapshot_rebuild() == written
    assert calls == [3]
    assert snapshot_table() == parted
