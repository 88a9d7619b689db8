"""Acceptance: a province office's units, population, targets and monthly counts loaded with
``ansinh import``; every figure of ``ansinh kpi`` (json, csv, table; whole, ``--by unit``,
``--by group``; province, office, district, commune) and of ``GET /api/kpi`` compared key by key
with the independent computation of ``oracle.py`` (SPEC section 3)."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.acceptance.conftest import Server, Site
from tests.acceptance.files import csv_text, write_csv
from tests.acceptance.oracle import SCHEMES, World, diff, normalise

PROVINCE = "56"
# code, name, level, parent, valid_from, valid_to
UNITS = [
    ("22333", "Phường Nha Trang", "commune", "BHXH-NT", "2025-07-01", ""),
    ("22334", "Phường Bắc Nha Trang", "commune", "BHXH-NT", "2025-07-01", ""),
    ("22335", "Xã Nam Nha Trang", "commune", "BHXH-NT", "2025-07-01", ""),
    ("BHXH-NT", "BHXH cơ sở Nha Trang", "office", PROVINCE, "2025-07-01", ""),
    ("BHXH-CR", "BHXH cơ sở Cam Ranh", "office", PROVINCE, "", ""),
    # codes are case-sensitive: another office whose code differs only in case
    ("bhxh-cr", "BHXH cơ sở Cam Lâm", "office", PROVINCE, "", ""),
    ("22400", "Phường Cam Ranh", "commune", "BHXH-CR", "", ""),
    ("22401", "Xã Cam Hiệp", "commune", "BHXH-CR", "", ""),
    ("22402", "Xã Cam Lập", "commune", "BHXH-CR", "", ""),  # no population, no target
    ("22403", "Xã Cam Hải", "commune", "bhxh-cr", "", ""),
    ("22999", "Đặc khu Trường Sa", "commune", PROVINCE, "", ""),  # directly under the province
    # the district level abolished on 1 July 2025, with its communes, for history
    ("568", "Huyện Diên Khánh", "district", PROVINCE, "1976-01-01", "2025-06-30"),
    ("22500", "Thị trấn Diên Khánh", "commune", "568", "", "2025-06-30"),
    ("22501", "Xã Diên An", "commune", "568", "", "2025-06-30"),
    (PROVINCE, "Khánh Hòa", "province", "", "", ""),
]
COMMUNES = [u[0] for u in UNITS if u[2] == "commune"]
COUNT_DATES = [
    "2024-12-31",
    "2025-01-31",
    "2025-02-28",
    "2025-03-15",  # not a month-end
    "2025-03-31",
    "2025-04-30",
    "2025-05-31",
    "2025-06-30",
    "2025-07-31",
    "2025-08-31",
    "2025-09-30",
]
AS_OF = [
    "2024-06-30",  # before any data
    "2024-12-31",
    "2025-01-15",  # between count dates
    "2025-03-15",
    "2025-03-20",
    "2025-06-30",
    "2025-07-01",
    "2025-09-30",
    "2025-10-17",
    "2025-11-30",  # one month left
    "2025-12-15",  # December: the gap itself
    "2025-12-31",
    "2026-02-10",  # no target, no population for the year
]


def build() -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(56)
    units = [
        dict(code=c, name=n, level=lv, parent_code=p, valid_from=vf, valid_to=vt)
        for c, n, lv, p, vf, vt in UNITS
    ]
    population = [dict(year=2025, unit_code=PROVINCE, population=150_000, group="")]
    population += [
        dict(year=2025, unit_code=c, population=rnd.randint(8_000, 30_000), group="")
        for c in ("22333", "22334", "22335", "22400", "22401", "22403")
    ]
    population += [
        dict(year=2025, unit_code="22999", population=20_000, group=""),
        dict(year=2025, unit_code="22333", population=3_000, group="farmer"),
        dict(year=2025, unit_code="22334", population=1_000, group="farmer"),
        dict(year=2025, unit_code="22333", population=2_000, group="student"),
        dict(year=2024, unit_code="22500", population=11_000, group=""),
        dict(year=2024, unit_code="22501", population=9_000, group=""),
        dict(year=2024, unit_code="22400", population=12_345, group=""),
    ]
    targets: list[dict[str, Any]] = []
    for c in ("22333", "22334", "22335", "22400", "22401", "22403"):
        for s, lo, hi in (
            ("si_compulsory", 500, 4_000),
            ("si_voluntary", 50, 900),
            ("ui", 400, 3_500),
            ("hi", 5_000, 25_000),
        ):
            targets.append(dict(year=2025, unit_code=c, indicator=s, target=rnd.randint(lo, hi)))
        targets.append(dict(year=2025, unit_code=c, indicator="hi_coverage", target="93.5"))
    targets += [
        # 25101 / 20000 = 125.505 % -> 125.51 half-up (a float would give 125.5)
        dict(year=2025, unit_code="22999", indicator="si_voluntary", target=20_000),
        dict(year=2025, unit_code="22999", indicator="ui", target=40_000),  # 1 -> 0.0025 %
        dict(year=2025, unit_code="22999", indicator="si_compulsory", target="300"),
        # the office's own row wins over its communes' sum; hi_coverage is never summed
        dict(year=2025, unit_code="BHXH-NT", indicator="si_voluntary", target=2_500),
        dict(year=2025, unit_code=PROVINCE, indicator="si_compulsory", target=21_495),
        dict(year=2025, unit_code=PROVINCE, indicator="hi_coverage", target="95.0"),
        dict(year=2024, unit_code="22500", indicator="hi", target=9_000),
        dict(year=2024, unit_code="22501", indicator="hi", target=7_000),
        dict(year=2024, unit_code=PROVINCE, indicator="si_voluntary", target=1_000),
    ]
    counts: list[dict[str, Any]] = []
    level = {(c, s): rnd.randint(100, 3_000) for c in COMMUNES for s in SCHEMES}
    for day in COUNT_DATES:
        for c in COMMUNES:
            if c in ("22500", "22501") and day > "2025-06-30":
                continue  # abolished: their last counts stand
            if c == "22335" and day > "2025-05-31":
                continue  # late reporter: May's counts stand
            for s in SCHEMES:
                if c == "22402" and s == "ui":
                    continue  # nobody covered: participants 0
                level[(c, s)] = max(0, level[(c, s)] + rnd.randint(-40, 90))
                n = level[(c, s)]
                if (c, day) == ("22999", "2025-09-30"):
                    n = {"si_voluntary": 25_101, "ui": 1, "hi": 18_001}.get(s, n)  # .xx5 cases
                if c == "22401" and s == "hi":
                    # grouped rows only: the total is their sum
                    counts.append(
                        dict(as_of=day, unit_code=c, scheme=s, group="farmer", participants=n // 3)
                    )
                    counts.append(
                        dict(
                            as_of=day,
                            unit_code=c,
                            scheme=s,
                            group="household",
                            participants=n - n // 3,
                        )
                    )
                    continue
                counts.append(dict(as_of=day, unit_code=c, scheme=s, group="", participants=n))
                if c == "22400" and s == "hi":
                    # an ungrouped total with a breakdown of part of it
                    counts.append(
                        dict(as_of=day, unit_code=c, scheme=s, group="farmer", participants=n // 4)
                    )
                    counts.append(
                        dict(as_of=day, unit_code=c, scheme=s, group="student", participants=n // 5)
                    )
    return {"units": units, "population": population, "targets": targets, "counts": counts}


COLUMNS = {
    "units": ["code", "name", "level", "parent_code", "valid_from", "valid_to"],
    # columns in another order, an unknown column
    "population": ["unit_code", "group", "population", "year", "note"],
    "targets": ["indicator", "year", "unit_code", "target"],
    "counts": ["unit_code", "as_of", "scheme", "group", "participants"],
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, World]]:
    site = Site(tmp_path_factory.mktemp("kpi"))
    try:
        data = build()
        world = World()
        kinds = ("units", "population", "targets", "counts")
        paths = {
            kind: write_csv(
                site.home / f"{kind}.csv", data[kind], COLUMNS[kind], bom=kind == "counts"
            )
            for kind in kinds
        }
        # the first through the installed console script on a home that does not exist yet,
        # the others in one process (a Django start costs seconds on the shared machine)
        first = site.run("import", "units", str(paths["units"]), lang="en")
        rest = site.many([(["import", k, str(paths[k])], {"ANSINH_LANG": "en"}) for k in kinds[1:]])
        for kind, r in zip(kinds, [first, *rest], strict=True):
            assert r.code == 0, (kind, r.out, r.err)
            n = len(data[kind])
            assert r.out == f"{kind}: {n} rows read, {n} created, 0 updated, 0 unchanged\n"
            if kind == "population":
                assert "note" in r.err  # the unknown column is warned about
            world.load(kind, data[kind])
        site.prefetch(ALL_CALLS)
        yield site, world
    finally:
        site.drop()


UNITS_BY = {
    None: (None, "BHXH-NT", "BHXH-CR", "bhxh-cr", "568", "22999", "22401"),
    "unit": (None, "BHXH-CR", "bhxh-cr", "568"),
    "group": (None, "568", "22401"),
}
CASES = [(day, unit, by) for day in AS_OF for by, units in UNITS_BY.items() for unit in units]


def _args(day: str, unit: str | None, by: str | None, fmt: str = "json") -> list[str]:
    args = ["kpi", "--as-of", day, "--format", fmt]
    if unit:
        args += ["--unit", unit]
    if by:
        args += ["--by", by]
    return args


ROUNDING_CALLS = [
    _args("2025-09-30", "22999", None),
    _args("2025-12-15", "22999", None),
    _args("2025-06-30", "22402", None),
    _args("2026-02-10", None, None),
]
FORMAT_CALLS = [
    _args("2025-09-30", unit, by, fmt)
    for unit, by in ((None, None), ("BHXH-CR", "unit"), ("22400", "group"))
    for fmt in ("json", "csv", "table")
]
API_CASES = [
    ("2025-09-30", None, None),
    ("2025-03-20", "BHXH-NT", "unit"),
    ("2025-12-15", "22999", None),
    ("2025-09-30", "568", "group"),
    ("2025-09-30", None, "unit"),
]
USER_CALLS = [
    ["user", "add", "acc-admin", "--role", "admin"],
    ["user", "add", "acc-cr", "--role", "office", "--unit", "BHXH-CR"],
    ["user", "token", "acc-admin"],
    ["user", "token", "acc-cr"],
]
ALL_CALLS = [
    *(_args(*c) for c in CASES),
    *ROUNDING_CALLS,
    *FORMAT_CALLS,
    *(_args(*c) for c in API_CASES),
    *USER_CALLS,
]


def test_kpi_json_matches_independent_figures(loaded: tuple[Site, World]) -> None:
    site, world = loaded
    results = site.many([_args(*c) for c in CASES])
    problems: list[str] = []
    for (day, unit, by), res in zip(CASES, results, strict=True):
        got = normalise(res.json())
        want = normalise(world.kpi(day=dt.date.fromisoformat(day), unit=unit, by=by))
        problems += [f"{day} {unit} {by}: {p}" for p in diff(got, want)]
    assert not problems, "\n".join(problems[:40])


def test_kpi_rounding_pace_and_nulls(loaded: tuple[Site, World]) -> None:
    """The hand-made cases, spelled out (so that a wrong oracle cannot hide them)."""
    site, _world = loaded
    sep, dec, late, y26 = (r.json() for r in site.many(ROUNDING_CALLS))
    items = {i["code"]: i for i in sep["indicators"]}
    assert items["si_voluntary"]["attainment_pct"] == 125.51
    assert (
        items["si_voluntary"]["gap"] == -5_101 and items["si_voluntary"]["required_per_month"] == 0
    )
    assert items["ui"]["attainment_pct"] == 0.0 and items["ui"]["gap"] == 39_999
    assert items["ui"]["required_per_month"] == 13_333  # ceil(39999 / 3)
    assert items["hi"]["target"] is None and items["hi"]["attainment_pct"] is None
    assert items["hi_coverage"]["coverage_pct"] == 90.01  # 18001 / 20000 = 90.005 %
    assert items["hi_coverage"]["population"] == 20_000
    assert items["hi_coverage"]["target_pct"] is None
    dec_items = {i["code"]: i for i in dec["indicators"]}
    assert dec_items["ui"]["required_per_month"] == dec_items["ui"]["gap"] > 0
    codes = [i["code"] for i in late["indicators"]]
    assert codes == list(SCHEMES)  # no population: no hi_coverage
    ui = late["indicators"][2]
    assert ui == {
        "code": "ui",
        "participants": 0,
        "target": None,
        "attainment_pct": None,
        "gap": None,
        "required_per_month": None,
    }
    assert all(i.get("target") is None for i in y26["indicators"])
    assert [i["code"] for i in y26["indicators"]] == list(SCHEMES)


def test_kpi_csv_and_table_carry_the_same_figures(loaded: tuple[Site, World]) -> None:
    site, world = loaded
    res = site.many(FORMAT_CALLS)
    for i in range(0, len(res), 3):
        js, cs, tb = res[i].json(), res[i + 1].csv(), res[i + 2]
        assert tb.code == 0, tb.err
        blocks = (
            [("", js["indicators"])]
            if "indicators" in js
            else [(r.get("unit") or r.get("group"), r["indicators"]) for r in js["rows"]]
        )
        flat = [(key, item) for key, items in blocks for item in items]
        assert len(cs) == len(flat)
        table_lines = [ln for ln in tb.out.splitlines()[2:] if ln.strip()]
        assert len(table_lines) == len(flat)
        for (key, item), row, line in zip(flat, cs, table_lines, strict=True):
            assert row["indicator"] == item["code"]
            if key:
                assert key in row.values()
            for field, value in item.items():
                if field == "code":
                    continue
                assert row[field] == ("" if value is None else str(value)), (field, row, item)
            assert item["code"] in line.split()
            # the table writes numbers the Vietnamese way (1.762.678; 93,31)
            if item.get("participants") is not None:
                assert f"{item['participants']:,}".replace(",", ".") in line.split()
            if item.get("attainment_pct") is not None:
                pct = f"{item['attainment_pct']:,.2f}"
                assert pct.replace(",", "_").replace(".", ",").replace("_", ".") in line.split()


def test_api_kpi_is_the_cli_json(loaded: tuple[Site, World]) -> None:
    site, world = loaded
    users = site.many(USER_CALLS)
    assert [u.code for u in users] == [0, 0, 0, 0], [u.err for u in users]
    token, office_token = users[2].out.strip(), users[3].out.strip()
    assert token and office_token and token != office_token
    cases = API_CASES
    cli = site.many([_args(d, u, b) for d, u, b in cases])
    server = Server(site)
    try:
        for (day, unit, by), c in zip(cases, cli, strict=True):
            query = (
                f"as_of={day}"
                + (f"&unit={unit}" if unit else f"&unit={PROVINCE}")
                + (f"&by={by}" if by else "")
            )
            status, body = server.get(f"/api/kpi?{query}", token)
            assert status == 200, body[:300]
            assert json.loads(body) == c.json()
            want = normalise(world.kpi(day=dt.date.fromisoformat(day), unit=unit, by=by))
            assert not diff(normalise(json.loads(body)), want)
        # without unit=: the admin's scope is the province, as the CLI's default
        status, body = server.get("/api/kpi?as_of=2025-09-30", token)
        assert status == 200 and json.loads(body) == cli[0].json()
        assert server.get("/api/kpi?as_of=2025-09-30")[0] == 401
        # an office sees its own unit; another unit answers 404 like a missing one
        status, body = server.get("/api/kpi?as_of=2025-09-30&unit=22401", office_token)
        assert status == 200 and json.loads(body)["unit"] == "22401"
        missing = server.get("/api/kpi?as_of=2025-09-30&unit=NOPE", office_token)
        other = server.get("/api/kpi?as_of=2025-09-30&unit=BHXH-NT", office_token)
        assert missing[0] == other[0] == 404

        # an import through the API (a job), then the figures through the API again
        rows = [
            dict(as_of="2025-09-30", unit_code="22402", scheme="si_compulsory", participants=7),
            dict(as_of="2025-10-31", unit_code="22333", scheme="hi", participants=5_000),
        ]
        text = csv_text(rows, ["as_of", "unit_code", "scheme", "participants"])
        status, body = server.post_file("/api/imports/counts", token, "counts.csv", text.encode())
        assert status == 200, body[:300]
        job = json.loads(body)["job"]
        deadline = time.monotonic() + 120
        while True:
            status, body = server.get(f"/api/jobs/{job}", token)
            state = json.loads(body)
            if state["status"] not in ("queued", "running") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert state["status"] == "done", state
        assert state["result"]["created"] == 1 and state["result"]["updated"] == 1
        world.load("counts", [{**r, "group": ""} for r in rows])
        for day, unit, by in [("2025-09-30", None, "unit"), ("2025-10-31", "BHXH-NT", None)]:
            query = f"as_of={day}&unit={unit or PROVINCE}" + (f"&by={by}" if by else "")
            status, body = server.get(f"/api/kpi?{query}", token)
            want = normalise(world.kpi(day=dt.date.fromisoformat(day), unit=unit, by=by))
            assert status == 200 and not diff(normalise(json.loads(body)), want)
    finally:
        server.stop()
