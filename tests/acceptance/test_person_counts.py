"""Acceptance: person-level participations (issue 3's edge cases) loaded with ``ansinh import``
in several files — XLSX with date cells, a BOM CSV with shuffled and unknown columns, a
re-import, a file that changes rows, a small file that moves a few persons — and ``ansinh
kpi`` compared with an independent count (``oracle.py``) at many dates, for the province, an
office and communes, whole, by unit and by group.

Edge cases: overlapping spells of one person in two units (latest start decides), ties on the
start date (the later row of the later import), inclusive end dates, open spells, persons
moving communes, spells taking precedence over counts for a unit and scheme, counts where a
unit has no spells of a scheme."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import pytest

from tests.acceptance.conftest import Site
from tests.acceptance.files import write_csv, write_xlsx
from tests.acceptance.oracle import GROUPS, SCHEMES, World, diff, normalise

UNITS = [
    ("KH", "Khánh Hòa", "province", ""),
    ("O1", "BHXH cơ sở Một", "office", "KH"),
    ("O2", "BHXH cơ sở Hai", "office", "KH"),
    ("C1", "Xã Một", "commune", "O1"),
    ("C2", "Xã Hai", "commune", "O1"),
    ("C3", "Xã Ba", "commune", "O1"),
    ("C4", "Phường Bốn", "commune", "O2"),
    ("C5", "Phường Năm", "commune", "O2"),
    ("C6", "Phường Sáu", "commune", "O2"),
    ("C7", "Đặc khu Bảy", "commune", "KH"),
]
SPELL_COMMUNES = ["C1", "C2", "C3", "C4", "C5", "C6"]
PERSONS = 650
START = dt.date(2023, 1, 1)
PART_COLUMNS = ["person_id", "unit_code", "scheme", "group", "start_date", "end_date", "full_name"]


def _day(rnd: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rnd.randint(0, max((hi - lo).days, 0)))


def _spell(
    pid: str, unit: str, scheme: str, group: str, start: dt.date, end: dt.date | None
) -> dict[str, Any]:
    return {
        "person_id": pid,
        "unit_code": unit,
        "scheme": scheme,
        "group": group,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else "",
        "full_name": f"Người {pid}",
    }


def first_file(rnd: random.Random) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(PERSONS):
        pid = f"P{i:05d}"
        home = rnd.choice(SPELL_COMMUNES)
        for scheme in SCHEMES:
            if scheme == "si_voluntary" and home == "C6":
                continue  # C6 reports voluntary SI as counts only
            if rnd.random() < 0.35:
                continue
            group = rnd.choice(GROUPS)
            day = _day(rnd, START, dt.date(2025, 6, 30))
            for _k in range(rnd.randint(1, 3)):
                unit = home if rnd.random() < 0.8 else rnd.choice(SPELL_COMMUNES)
                if scheme == "si_voluntary" and unit == "C6":
                    unit = "C5"
                length = rnd.choice([29, 89, 180, 364, 500])
                end = day + dt.timedelta(days=length)
                if rnd.random() < 0.25:
                    end = None  # still covered
                rows.append(_spell(pid, unit, scheme, group, day, end))
                if end is None:
                    break
                kind = rnd.random()
                if kind < 0.3:
                    day = end - dt.timedelta(days=rnd.randint(0, 40))  # renewed early: overlap
                elif kind < 0.6:
                    day = end + dt.timedelta(days=1)  # continuous
                else:
                    day = end + dt.timedelta(days=rnd.randint(2, 200))  # a gap
                if day > dt.date(2026, 6, 30):
                    break
            if rnd.random() < 0.06:
                # a tie: the same person and scheme starting the same day in another unit
                base = rnd.choice(
                    [r for r in rows if r["person_id"] == pid and r["scheme"] == scheme]
                )
                other = rnd.choice(
                    [
                        u
                        for u in SPELL_COMMUNES
                        if u != base["unit_code"] and not (scheme == "si_voluntary" and u == "C6")
                    ]
                )
                rows.append({**base, "unit_code": other, "group": rnd.choice(GROUPS)})
    rnd.shuffle(rows)
    return rows


def second_file(rnd: random.Random, first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unchanged copies, changed end dates and groups, new spells and new ties."""
    rows: list[dict[str, Any]] = []
    for r in first:
        x = rnd.random()
        if x < 0.25:
            rows.append(dict(r))  # unchanged copy
        elif x < 0.32:
            start = dt.date.fromisoformat(r["start_date"])
            end = start + dt.timedelta(days=rnd.choice([0, 15, 45, 400]))
            rows.append({**r, "end_date": end.isoformat()})  # end moved (0: a one-day spell)
        elif x < 0.35:
            rows.append({**r, "end_date": ""})  # reopened
        elif x < 0.37:
            rows.append({**r, "group": rnd.choice(GROUPS)})
    by_person: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in first:
        by_person.setdefault((r["person_id"], r["scheme"]), []).append(r)
    for (pid, scheme), spells in sorted(by_person.items())[::7]:
        last = max(spells, key=lambda s: s["start_date"])
        start = dt.date.fromisoformat(last["start_date"])
        unit = rnd.choice(
            [u for u in SPELL_COMMUNES if not (scheme == "si_voluntary" and u == "C6")]
        )
        if rnd.random() < 0.5:
            # a tie with a stored spell (the later import wins)
            rows.append(_spell(pid, unit, scheme, rnd.choice(GROUPS), start, None))
        else:
            # moved: a new spell in another commune while the old one is still open
            rows.append(
                _spell(
                    pid,
                    unit,
                    scheme,
                    last["group"],
                    start + dt.timedelta(days=rnd.randint(1, 300)),
                    None,
                )
            )
    # brand-new persons, some on the first day of the data
    for i in range(120):
        pid = f"N{i:04d}"
        scheme = rnd.choice(["hi", "si_voluntary"])
        start = _day(rnd, dt.date(2024, 1, 1), dt.date(2026, 3, 31))
        end = None if rnd.random() < 0.5 else start + dt.timedelta(days=rnd.randint(0, 400))
        rows.append(
            _spell(pid, rnd.choice(["C1", "C4", "C5"]), scheme, rnd.choice(GROUPS), start, end)
        )
    rnd.shuffle(rows)
    # one key twice in a file is refused, so keep the last of each
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    for r in rows:
        seen[(r["person_id"], r["scheme"], r["start_date"], r["unit_code"])] = r
    return list(seen.values())


def moves_file(world: World) -> list[dict[str, Any]]:
    """A few persons of C1 move to C2 (C1 is not in the file), and a tie in C3 against C4."""
    rows = []
    picked = 0
    for (pid, scheme, start, unit), (group, end, _rank) in sorted(world.spells.items()):
        if unit == "C1" and end is None and scheme != "si_voluntary" and picked < 12:
            rows.append(
                _spell(pid, "C2", scheme, group, start + dt.timedelta(days=10 + picked * 30), None)
            )
            picked += 1
    for (pid, scheme, start, unit), (group, end, _rank) in sorted(world.spells.items()):
        if unit == "C4" and scheme == "hi" and len(rows) < 20:
            rows.append(_spell(pid, "C3", scheme, group, start, end))
    return rows


# the first spells of C7, which had only counts: from now on its spells decide at every date,
# also before they start (0 where its counts said 300)
FIRST_SPELLS = [
    _spell(f"S7{i}", "C7", "hi", "household", dt.date(2025, 8, 1), None) for i in range(3)
]


COUNTS = [
    # C6 has no voluntary-SI spells: its counts stand
    *(
        {"as_of": d, "unit_code": "C6", "scheme": "si_voluntary", "group": "", "participants": n}
        for d, n in (("2024-06-30", 40), ("2025-03-31", 55), ("2025-09-15", 61))
    ),
    # C5 has hi spells: its hi counts are ignored
    {"as_of": "2025-06-30", "unit_code": "C5", "scheme": "hi", "group": "", "participants": 9_999},
    # C7 has no spells at all
    *(
        {"as_of": d, "unit_code": "C7", "scheme": s, "group": g, "participants": n}
        for d, s, g, n in (
            ("2024-12-31", "hi", "", 300),
            ("2025-06-30", "hi", "", 310),
            ("2025-06-30", "hi", "household", 200),
            ("2025-06-30", "ui", "", 12),
        )
    ),
]


def as_of_dates(world: World) -> list[str]:
    days = {
        "2022-12-31",  # before any data
        "2023-01-01",
        "2024-02-29",
        "2024-12-31",
        "2025-03-15",
        "2025-06-30",
        "2025-07-01",
        "2025-09-30",
        "2025-10-14",
        "2026-06-30",
        "2027-03-31",  # after the data (and after today)
    }
    # a spell's last day and the day after it (inclusive ends)
    ends = sorted(
        e for (_p, _s, _st, _u), (_g, e, _r) in world.spells.items() if e and e.year == 2025
    )
    days |= {
        ends[len(ends) // 2].isoformat(),
        (ends[len(ends) // 2] + dt.timedelta(days=1)).isoformat(),
    }
    return sorted(days)


class Script:
    """Every command of the test and what it must print, run in ONE process (``Site.many``):
    the expectations come from the oracle as the files are loaded into it, step by step."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.checks: list[tuple[str, Any]] = []

    def command(self, args: list[str], stdout: str | None = None) -> None:
        self.calls.append((args, {"ANSINH_LANG": "en"}))
        self.checks.append((" ".join(args[:2]), stdout))

    def figures(
        self, world: World, stage: str, days: list[str], full: bool, few: bool = False
    ) -> None:
        shapes: list[tuple[str | None, str | None]] = [(None, None), (None, "unit")]
        if not few:
            shapes += [("O1", None), ("C1", None), ("C5", None), ("C6", None), (None, "group")]
        if full:
            shapes += [("O1", "unit"), ("C1", "group")]
        for day in days:
            for unit, by in shapes:
                args = ["kpi", "--as-of", day, "--format", "json"]
                args += ["--unit", unit] if unit else []
                args += ["--by", by] if by else []
                want = normalise(world.kpi(day=dt.date.fromisoformat(day), unit=unit, by=by))
                self.calls.append((args, {}))
                self.checks.append((f"{stage} {day} {unit} {by}", want))

    def run(self, site: Site) -> None:
        problems: list[str] = []
        for (args, _env), (label, want), res in zip(
            self.calls, self.checks, site.many(self.calls), strict=True
        ):
            if args[0] == "kpi" and isinstance(want, dict):
                problems += [f"{label}: {p}" for p in diff(normalise(res.json()), want)]
            else:
                if res.code != 0:
                    problems.append(f"{label}: exit {res.code}: {res.err}")
                elif want is not None and res.out != want:
                    problems.append(f"{label}: printed {res.out!r}, want {want!r}")
        assert not problems, "\n".join(problems[:30])


def summary(kind: str, read: int, created: int, updated: int, unchanged: int) -> str:
    return (
        f"{kind}: {read} rows read, {created} created, {updated} updated, {unchanged} unchanged\n"
    )


def expected_counts(world: World, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    created = updated = 0
    for r in rows:
        key = (r["person_id"], r["scheme"], dt.date.fromisoformat(r["start_date"]), r["unit_code"])
        old = world.spells.get(key)  # type: ignore[arg-type]
        end = dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None
        if old is None:
            created += 1
        elif (old[0], old[1]) != (r["group"], end):
            updated += 1
    return created, updated, len(rows) - created - updated


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("persons"))
    try:
        yield s
    finally:
        s.drop()


def test_person_counts_match_an_independent_count(site: Site) -> None:
    rnd = random.Random(20251019)
    world = World()
    units = [dict(code=c, name=n, level=lv, parent_code=p) for c, n, lv, p in UNITS]
    one = first_file(rnd)
    two = second_file(rnd, one)
    assert len(one) > 1500 and len(two) > 500
    cols2 = ["ghi_chu", "start_date", "group", "end_date", "scheme", "full_name", "unit_code"]
    cols2.append("person_id")
    paths = {
        "units": write_csv(
            site.home / "units.csv", units, ["code", "name", "level", "parent_code"]
        ),
        "counts": write_csv(
            site.home / "counts.csv",
            COUNTS,
            ["as_of", "unit_code", "scheme", "group", "participants"],
        ),
        "one": write_xlsx(site.home / "participations-1.xlsx", one, PART_COLUMNS),
        "two": write_csv(
            site.home / "participations-2.csv",
            [{**r, "ghi_chu": "x"} for r in two],
            cols2,
            bom=True,
        ),
    }
    script = Script()
    script.command(["import", "units", str(paths["units"])])
    script.command(["import", "counts", str(paths["counts"])])
    script.command(
        ["import", "participations", str(paths["one"])],
        summary("participations", len(one), len(one), 0, 0),
    )
    for kind, rows in (("units", units), ("counts", COUNTS), ("participations", one)):
        world.load(kind, rows)
    days = as_of_dates(world)
    month_ends = [d for d in days if (dt.date.fromisoformat(d) + dt.timedelta(days=1)).day == 1]
    some = days[::2]
    script.figures(world, "first file", some, full=False)

    created, updated, unchanged = expected_counts(world, two)
    assert created > 100 and updated > 50 and unchanged > 300
    script.command(
        ["import", "participations", str(paths["two"])],
        summary("participations", len(two), created, updated, unchanged),
    )
    world.load("participations", two)
    script.command(  # the same file again changes nothing
        ["import", "participations", str(paths["two"])],
        summary("participations", len(two), 0, 0, len(two)),
    )
    world.load("participations", two)
    script.figures(world, "second file", days, full=True)

    moves = moves_file(world)
    paths["moves"] = write_csv(site.home / "moves.csv", moves, PART_COLUMNS)
    created, updated, unchanged = expected_counts(world, moves)
    script.command(
        ["import", "participations", str(paths["moves"])],
        summary("participations", len(moves), created, updated, unchanged),
    )
    world.load("participations", moves)
    script.figures(world, "moves", days, full=True)

    paths["c7"] = write_csv(site.home / "c7.csv", FIRST_SPELLS, PART_COLUMNS)
    script.command(
        ["import", "participations", str(paths["c7"])],
        summary("participations", len(FIRST_SPELLS), len(FIRST_SPELLS), 0, 0),
    )
    world.load("participations", FIRST_SPELLS)
    script.figures(world, "spells after counts", month_ends, full=False, few=True)

    # a commune moves to the other office: the figures follow the tree at once
    moved = [dict(code="C3", name="Xã Ba", level="commune", parent_code="O2")]
    paths["tree"] = write_csv(
        site.home / "tree.csv", moved, ["code", "name", "level", "parent_code"]
    )
    script.command(["import", "units", str(paths["tree"])], summary("units", 1, 0, 1, 0))
    world.load("units", moved)
    script.figures(world, "C3 under O2", month_ends[-3:] + days[-2:], full=False, few=True)

    # the first file again: its rows are the later ones now (ties), its values restored
    script.command(["import", "participations", str(paths["one"])])
    world.load("participations", one)
    script.figures(world, "first file again", some, full=False)

    # a full rebuild of the stored figures changes nothing
    script.command(["kpi", "--rebuild"])
    script.figures(world, "rebuilt", month_ends, full=False)
    script.run(site)

    # the unknown column of the second file was warned about, on stderr
    warned = site.run("import", "participations", str(paths["two"]), "--dry-run", lang="en")
    assert warned.code == 0 and "ghi_chu" in warned.err
    assert warned.out == summary("participations", len(two), *expected_counts(world, two))
