"""Table-driven tests of the definitions of SPEC section 3, through `ansinh kpi`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ansinh.monitoring import figures
from tests.monitoring.factories import batch, counts, make_units, population, spells, targets


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (125515, 100000, 125.52),  # 125.515 → 125.52 half-up (banker's would give 125.52 too)
        (125525, 100000, 125.53),  # half-up, not half-even
        (1, 8, 12.5),
        (2, 3, 66.67),
        (1762678, 1889000, 93.31),
        (269801, 214950, 125.52),
        (5, 0, None),
    ],
)
def test_pct_half_up(num: int, den: int, expected: float | None) -> None:
    assert figures.pct_half_up(num, den) == expected


@pytest.mark.parametrize(
    ("gap", "as_of", "expected"),
    [
        (100, "2025-09-30", 34),  # 3 months left: ceil(100/3)
        (90, "2025-09-15", 30),
        (100, "2025-11-30", 100),  # 1 month left
        (100, "2025-12-31", 100),  # December: the gap itself
        (7, "2025-01-31", 1),  # 11 months left
        (0, "2025-05-31", 0),
        (-54851, "2025-09-30", 0),
        (None, "2025-09-30", None),
    ],
)
def test_required_per_month(gap: int | None, as_of: str, expected: int | None) -> None:
    assert figures.required_per_month(gap, dt.date.fromisoformat(as_of)) == expected


def _kpi(cli, *args: str) -> dict:
    r = cli("kpi", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def _item(result: dict, code: str) -> dict:
    return next(i for i in result["indicators"] if i["code"] == code)


@pytest.fixture
def tree(db: None) -> dict:
    return make_units()


# (as_of, expected hi participants in C1, C2) for the spells below
SPELLS = [
    # inclusive start and end
    ("p1", "C1", "hi", "household", "2025-01-01", "2025-03-31"),
    # moved C1 → C2 on 2025-02-01 with an overlapping spell: the later start decides
    ("p2", "C1", "hi", "farmer", "2025-01-01", None),
    ("p2", "C2", "hi", "farmer", "2025-02-01", None),
    # open spell from mid-month
    ("p3", "C2", "hi", "student", "2025-03-15", None),
]


@pytest.mark.parametrize(
    ("as_of", "c1", "c2"),
    [
        ("2024-12-31", 0, 0),
        ("2025-01-01", 2, 0),  # start inclusive
        ("2025-01-31", 2, 0),
        ("2025-02-01", 1, 1),  # p2 now counted once, in C2
        ("2025-03-14", 1, 1),
        ("2025-03-15", 1, 2),
        ("2025-03-31", 1, 2),  # end inclusive
        ("2025-04-01", 0, 2),
    ],
)
def test_spells_cover_inclusive_and_latest_start_decides(cli, tree, as_of, c1, c2) -> None:
    spells(SPELLS, batch())
    res = _kpi(cli, "--as-of", as_of, "--by", "unit", "--unit", "O1")
    got = {r["unit"]: _item(r, "hi")["participants"] for r in res["rows"]}
    assert got == {"C1": c1, "C2": c2}
    total = _item(_kpi(cli, "--as-of", as_of), "hi")["participants"]
    assert total == c1 + c2


def test_tie_rule_later_batch_then_later_row(cli, tree) -> None:
    b1, b2 = batch(1), batch(2)
    # same person, same scheme, same start date, two units: the later batch decides
    spells([("t1", "C1", "ui", "employee", "2025-01-01", None, 9)], b1)
    spells([("t1", "C3", "ui", "employee", "2025-01-01", None, 1)], b2)
    # within one batch the later row decides
    spells(
        [
            ("t2", "C2", "ui", "employee", "2025-01-01", None, 5),
            ("t2", "C1", "ui", "employee", "2025-01-01", None, 3),
        ],
        b1,
    )
    res = _kpi(cli, "--as-of", "2025-06-30", "--by", "unit")
    got = {r["unit"]: _item(r, "ui")["participants"] for r in res["rows"]}
    assert got == {"O1": 1, "O2": 1}
    res = _kpi(cli, "--as-of", "2025-06-30", "--by", "unit", "--unit", "O1")
    got = {r["unit"]: _item(r, "ui")["participants"] for r in res["rows"]}
    assert got == {"C1": 0, "C2": 1}


def test_counts_stand_until_replaced_and_spells_take_precedence(cli, tree) -> None:
    counts(
        [
            ("2025-01-31", "C1", "si_voluntary", 100),
            ("2025-03-31", "C1", "si_voluntary", 130),
            # C2 has counts AND spells of si_voluntary: spells win, at every date
            ("2025-01-31", "C2", "si_voluntary", 999),
            # C3: grouped rows, and an ungrouped total from March
            ("2025-01-31", "C3", "si_voluntary", 7, "farmer"),
            ("2025-01-31", "C3", "si_voluntary", 3, "freelancer"),
            ("2025-03-31", "C3", "si_voluntary", 12, ""),
        ]
    )
    spells([("v1", "C2", "si_voluntary", "freelancer", "2025-06-01", None)], batch())
    cases = [
        ("2025-01-30", 0, 0, 0),
        ("2025-01-31", 100, 0, 10),
        ("2025-02-28", 100, 0, 10),  # stands until replaced
        ("2025-03-31", 130, 0, 12),  # the ungrouped row is the total
        ("2025-06-30", 130, 1, 12),
    ]
    for as_of, c1, c2, c3 in cases:
        res = _kpi(cli, "--as-of", as_of, "--by", "unit", "--unit", "O1")
        got = {r["unit"]: _item(r, "si_voluntary")["participants"] for r in res["rows"]}
        assert got == {"C1": c1, "C2": c2}, as_of
        res = _kpi(cli, "--as-of", as_of, "--unit", "C3")
        assert _item(res, "si_voluntary")["participants"] == c3, as_of
        res = _kpi(cli, "--as-of", as_of)
        assert _item(res, "si_voluntary")["participants"] == c1 + c2 + c3, as_of
    # by group: grouped counts and spells of that group
    res = _kpi(cli, "--as-of", "2025-06-30", "--by", "group")
    got = {r["group"]: _item(r, "si_voluntary")["participants"] for r in res["rows"]}
    assert got["farmer"] == 7 and got["freelancer"] == 3 + 1 and got["student"] == 0
    assert [r["group"] for r in res["rows"]][:3] == ["employee", "employer", "freelancer"]


def test_targets_summed_from_children_and_json_shape(cli, tree) -> None:
    targets(
        [
            (2025, "C1", "si_compulsory", 100),
            (2025, "C2", "si_compulsory", 50),
            (2025, "C3", "si_compulsory", 30),
            (2025, "O2", "si_compulsory", 40),  # own row wins over children's sum
            (2025, "KH", "hi_coverage", "95.0"),
            (2025, "O1", "hi_coverage", "90.5"),
            (2024, "C1", "si_compulsory", 5000),  # another year: ignored
        ]
    )
    population([(2025, "C1", 1000), (2025, "C2", 600), (2025, "C3", 400)])
    spells(
        [(f"e{i}", "C1", "si_compulsory", "employee", "2025-01-01", None) for i in range(120)]
        + [(f"h{i}", "C2", "hi", "household", "2025-01-01", None) for i in range(3)],
        batch(),
    )
    res = _kpi(cli, "--as-of", "2025-09-30")
    assert list(res) == ["as_of", "unit", "indicators"]
    assert res["as_of"] == "2025-09-30" and res["unit"] == "KH"
    assert [i["code"] for i in res["indicators"]] == [
        "si_compulsory",
        "si_voluntary",
        "ui",
        "hi",
        "hi_coverage",
    ]
    sc = _item(res, "si_compulsory")
    assert list(sc) == [
        "code",
        "participants",
        "target",
        "attainment_pct",
        "gap",
        "required_per_month",
    ]
    # target = 100 + 50 (O1 from its children) + 40 (O2's own row)
    assert sc == {
        "code": "si_compulsory",
        "participants": 120,
        "target": 190,
        "attainment_pct": 63.16,
        "gap": 70,
        "required_per_month": 24,
    }
    assert _item(res, "ui") == {
        "code": "ui",
        "participants": 0,
        "target": None,
        "attainment_pct": None,
        "gap": None,
        "required_per_month": None,
    }
    assert _item(res, "hi_coverage") == {
        "code": "hi_coverage",
        "participants": 3,
        "population": 2000,
        "coverage_pct": 0.15,
        "target_pct": 95.0,
    }
    # hi_coverage target never summed: C2 has none; O1 has its own
    res = _kpi(cli, "--as-of", "2025-09-30", "--unit", "C2")
    assert _item(res, "hi_coverage")["target_pct"] is None
    res = _kpi(cli, "--as-of", "2025-09-30", "--unit", "O1")
    assert _item(res, "hi_coverage")["target_pct"] == 90.5
    assert _item(res, "si_compulsory")["target"] == 150
    # no population → no hi_coverage item
    population([])
    res = _kpi(cli, "--as-of", "2024-09-30")
    assert "hi_coverage" not in [i["code"] for i in res["indicators"]]


def test_cli_errors_and_formats(cli, tree) -> None:
    spells([("a", "C1", "hi", "household", "2025-01-01", None)], batch())
    r = cli("kpi", "--as-of", "2025-13-01")
    assert r.code == 2 and "--as-of" in r.err
    r = cli("kpi")
    assert r.code == 2
    r = cli("kpi", "--as-of", "2025-09-30", "--unit", "NOPE")
    assert r.code == 1 and "NOPE" in r.err and r.out == ""
    r = cli("kpi", "--as-of", "2025-09-30", "--by", "nope")
    assert r.code == 2
    r = cli("kpi", "--as-of", "2025-09-30", "--format", "csv", "--by", "unit")
    assert r.code == 0
    lines = r.out.strip().splitlines()
    assert lines[0].startswith("unit,indicator,participants,target")
    assert "O1,hi,1,,,,,,," in lines
    r = cli("kpi", "--as-of", "2025-09-30", "--format", "table")
    assert r.code == 0 and "Người tham gia" in r.out
