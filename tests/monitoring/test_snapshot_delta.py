"""An import corrects the snapshot by the (person, scheme) pairs it changes (``SnapshotDelta``)
and builds new month-ends from the month-end before (``_fresh_from``): after every import of a
random sequence, the stored snapshot equals a full rebuild, row for row."""

from __future__ import annotations

import csv
import datetime as dt
import pathlib
import random

import pytest

from ansinh.accounts.access import SYSTEM
from ansinh.core.formats import month_end
from ansinh.core.models import AuditEvent
from ansinh.imports.run import import_run
from ansinh.monitoring.models import SnapshotState
from ansinh.monitoring.services import snapshot_rebuild
from ansinh.registry.models import Spell
from tests.monitoring.factories import counts, make_units, snapshot_table

SCHEMES = ["si_compulsory", "si_voluntary", "ui", "hi"]
GROUPS = ["employee", "farmer", "household", "student"]
UNITS = ["C1", "C2", "C3"]
HEADER = ["person_id", "unit_code", "scheme", "group", "start_date", "end_date"]


def _months() -> list[dt.date]:
    return sorted(SnapshotState.objects.values_list("as_of", flat=True))


def _write(path: pathlib.Path, rows: list[tuple]) -> pathlib.Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def _day(rnd: random.Random, lo: dt.date, span: int) -> dt.date:
    return lo + dt.timedelta(days=rnd.randrange(span))


def _spell(rnd: random.Random, person: str, lo: dt.date, span: int) -> tuple:
    start = _day(rnd, lo, span)
    end = None if rnd.random() < 0.4 else start + dt.timedelta(days=rnd.randrange(200))
    return (
        person,
        rnd.choice(UNITS),
        rnd.choice(SCHEMES),
        rnd.choice(GROUPS),
        start.isoformat(),
        end.isoformat() if end else None,
    )


def _change(rnd: random.Random, n: int, stored: list[tuple], step: int) -> list[tuple]:
    """A file of ``n`` rows: end dates moved or cleared, moves and overlaps of stored persons,
    ties (same start, another unit), re-sent unchanged rows, new persons, and spells in later
    months (new month-ends) and earlier ones (before the range)."""
    out: dict[tuple, tuple] = {}
    for _ in range(n):
        kind = rnd.random()
        base = rnd.choice(stored)
        person, unit, scheme, group, start, end = base
        if kind < 0.25:  # end date moved, cleared or set
            s = dt.date.fromisoformat(start)
            new_end = None if rnd.random() < 0.3 else s + dt.timedelta(days=rnd.randrange(200))
            row = (person, unit, scheme, group, start, new_end.isoformat() if new_end else None)
        elif kind < 0.4:  # group changed
            row = (person, unit, scheme, rnd.choice(GROUPS), start, end)
        elif kind < 0.55:  # a move or an overlapping spell of the same person and scheme
            s = _day(rnd, dt.date.fromisoformat(start), 300)
            row = (person, rnd.choice(UNITS), scheme, rnd.choice(GROUPS), s.isoformat(), None)
        elif kind < 0.65:  # a tie: same person, scheme and start in another unit
            other = rnd.choice([u for u in UNITS if u != unit])
            row = (person, other, scheme, rnd.choice(GROUPS), start, end)
        elif kind < 0.72:  # re-sent unchanged
            row = base
        elif kind < 0.85:  # a new person
            row = _spell(rnd, f"n{step}_{rnd.randrange(10**6)}", dt.date(2024, 6, 1), 700)
        elif kind < 0.95:  # later months: the data range grows (new month-ends)
            lo = dt.date(2026, 2, 1) + dt.timedelta(days=31 * step)
            row = _spell(rnd, rnd.choice([person, f"late{rnd.randrange(50)}"]), lo, 40)
        else:  # before the data range
            row = _spell(rnd, person, dt.date(2023, 1, 1) - dt.timedelta(days=40 * step), 30)
        out[(row[0], row[2], row[4], row[1])] = row
    return list(out.values())


def _import(tmp_path: pathlib.Path, name: str, rows: list[tuple]) -> None:
    r = import_run(kind="participations", path=_write(tmp_path / name, rows), actor=SYSTEM)
    assert not r.refused, [e.as_dict() for e in r.errors[:3]]


def _last_refresh() -> dict:
    ev = AuditEvent.objects.filter(action="snapshot.refresh").order_by("-id").first()
    assert ev is not None
    return dict(ev.after or {})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_imports_keep_snapshot_equal_to_rebuild(
    db: None, tmp_path: pathlib.Path, seed: int
) -> None:
    make_units()
    # C3 has counts of si_voluntary until its first spells of that scheme arrive; C2 of ui
    counts(
        [
            ("2024-12-31", "C3", "si_voluntary", 40),
            ("2025-03-31", "C3", "si_voluntary", 55, "farmer"),
            ("2025-03-31", "C3", "si_voluntary", 50),
            ("2025-05-31", "C2", "ui", 7, "employee"),
        ]
    )
    rnd = random.Random(seed)
    first = [
        r
        for r in (_spell(rnd, f"p{i % 150}", dt.date(2024, 6, 1), 365) for i in range(300))
        if not (r[1] == "C3" and r[2] == "si_voluntary") and not (r[1] == "C2" and r[2] == "ui")
    ]
    first = list({(r[0], r[2], r[4], r[1]): r for r in first}.values())
    _import(tmp_path, "first.csv", first)
    built = snapshot_table()
    snapshot_rebuild()
    assert snapshot_table() == built
    delta_runs = grown = 0
    for step in range(1, 7):
        stored = [
            (
                s.person_id,
                s.unit_id,
                s.scheme,
                s.group,
                s.start_date.isoformat(),
                s.end_date.isoformat() if s.end_date else None,
            )
            for s in Spell.objects.order_by("id")
        ]
        rows = _change(rnd, 25, stored, step)
        if step == 3:  # the counted units get their first spells of the counted schemes
            rows += [
                ("cnt_a", "C3", "si_voluntary", "farmer", "2025-02-10", None),
                ("cnt_b", "C2", "ui", "employee", "2025-04-02", "2025-06-30"),
            ]
        months = _months()
        _import(tmp_path, f"change{step}.csv", rows)
        if "pairs" in _last_refresh():
            delta_runs += 1
        after = snapshot_table()
        after_months = _months()
        snapshot_rebuild()
        assert _months() == after_months
        assert snapshot_table() == after, (
            f"step {step}: the corrected snapshot differs from a rebuild"
        )
        grown += after_months[-1] > months[-1]
    assert delta_runs >= 5  # the delta path ran (not the fall-back refresh by units)
    assert grown  # and new month-ends were derived (moved end dates may also shrink the range)


def test_new_month_end_built_from_the_one_before(db: None, tmp_path: pathlib.Path) -> None:
    """A monthly load that adds a month-end derives it from the stored month before."""
    make_units()
    counts([("2025-01-31", "C3", "hi", 12), ("2025-03-15", "C3", "hi", 15)])
    rnd = random.Random(9)
    rows = [_spell(rnd, f"p{i}", dt.date(2024, 10, 1), 150) for i in range(120)]
    rows = [r for r in rows if r[1] != "C3"]
    _import(tmp_path, "a.csv", rows)
    months = _months()
    last = max(dt.date.fromisoformat(d) for r in rows for d in r[4:6] if d)
    nxt = month_end(month_end(last) + dt.timedelta(days=1))  # the month after the last fact
    _import(
        tmp_path,
        "b.csv",
        [
            ("p1", "C1", "hi", "farmer", nxt.isoformat(), None),
            ("q9", "C2", "ui", "employee", nxt.replace(day=2).isoformat(), nxt.isoformat()),
        ],
    )
    assert _months()[: len(months)] == months
    assert _months()[-1] == nxt
    assert _last_refresh()["pairs"] == 2
    after = snapshot_table()
    snapshot_rebuild()
    assert snapshot_table() == after


def test_large_change_falls_back_to_unit_refresh(db: None, tmp_path: pathlib.Path) -> None:
    """A file changing most pairs refreshes by units (one pass), with the same result."""
    make_units()
    rnd = random.Random(4)
    rows = [_spell(rnd, f"p{i}", dt.date(2024, 10, 1), 200) for i in range(100)]
    _import(tmp_path, "a.csv", rows)
    moved = [(p, "C1" if u != "C1" else "C2", sc, g, s, e) for p, u, sc, g, s, e in rows]
    _import(tmp_path, "b.csv", moved)
    assert "pairs" not in _last_refresh()
    after = snapshot_table()
    snapshot_rebuild()
    assert snapshot_table() == after


def test_nested_spells_and_far_history_corrected_like_a_rebuild(
    db: None, tmp_path: pathlib.Path
) -> None:
    """The delta drops the spells a change leaves alone on both sides, and ranks the pairs
    with a nested spell day by day only over the span of what changed: a change inside a
    pair with a nested spell and years of untouched history, a change far from its nested
    spell, a renewal that starts to overlap, and a lapse that a moved end undoes."""
    make_units()
    rows = [
        # a: long history, then an open spell with a nested one inside (an ov pair)
        ("a", "C1", "hi", "farmer", "2016-01-01", "2016-12-31"),
        ("a", "C1", "hi", "farmer", "2017-01-01", "2017-12-31"),
        ("a", "C1", "hi", "farmer", "2018-01-01", None),
        ("a", "C2", "hi", "student", "2019-03-10", "2019-08-20"),
        # b: a nested spell early, and a spell years later whose end is moved
        ("b", "C2", "ui", "employee", "2016-02-01", "2017-12-31"),
        ("b", "C3", "ui", "employee", "2016-05-01", "2016-07-31"),
        ("b", "C2", "ui", "employee", "2020-01-01", "2020-06-30"),
        # c: lapses, then a renewal 40 days later
        ("c", "C3", "si_voluntary", "household", "2018-01-01", "2018-06-30"),
        ("c", "C3", "si_voluntary", "household", "2018-08-09", "2018-12-31"),
        # d: untouched, with a nested spell of its own
        ("d", "C1", "hi", "student", "2017-01-01", None),
        ("d", "C3", "hi", "farmer", "2017-04-01", "2017-04-30"),
    ]
    rnd = random.Random(11)  # others, untouched: the change is a small share of the spells
    rows += [_spell(rnd, f"o{i}", dt.date(2016, 1, 1), 1500) for i in range(40)]
    _import(tmp_path, "first.csv", rows)
    changes = [
        ("a", "C2", "hi", "household", "2019-03-10", "2019-11-30"),  # nested, group and end
        ("b", "C2", "ui", "employee", "2020-01-01", "2020-09-30"),  # far from b's nested one
        ("c", "C3", "si_voluntary", "household", "2018-01-01", "2018-07-31"),  # lapse undone
        ("c", "C1", "si_voluntary", "farmer", "2018-12-15", None),  # overlapping renewal
    ]
    _import(tmp_path, "change.csv", changes)
    assert "pairs" in _last_refresh()  # corrected by the delta
    after = snapshot_table()
    snapshot_rebuild()
    assert snapshot_table() == after
