"""SPEC section 6: properties of the draft plan, through ``ansinh plan build``."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from typing import Any

import pytest

from ansinh.core import codes
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Person, Spell
from ansinh.targets.models import Target
from tests.outreach.plan_fixtures import AS_OF, FIGURES, gaps, make_data

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "unit",
    "month",
    "channel",
    "group",
    "schemes",
    "lead_org",
    "coordinating_orgs",
    "sessions",
    "planned_reach",
    "expected_registrations",
    "cost",
}


def build(cli: Any, *args: str, year: str = "2025") -> dict[str, Any]:
    res = cli("plan", "build", "--year", year, *args)
    assert res.code == 0, res.err
    return json.loads(res.out)


def expected_by(items: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for it in items:
        for s in it["schemes"]:
            out[(it["unit"], s)] += it["expected_registrations"]
    return out


WARNING = re.compile(
    r"^(?P<unit>\S+) (?P<scheme>si_compulsory|si_voluntary|ui|hi): "
    r"(needs (?P<n>\d+) sessions a week|gap (?P<gap>\d+) but no month left in \d{4})$"
)


def check_draft(
    data: dict[str, Any],
    *,
    year: int,
    as_of: dt.date,
    unit: str,
    gaps_: dict[str, dict[str, int]],
    rates: dict[str, float] | None = None,
) -> None:
    """SPEC section 6, checked independently of the builder."""
    rates = rates or {}
    assert set(data) == {"year", "as_of", "unit", "items", "by_unit", "warnings"}
    assert (data["year"], data["as_of"], data["unit"]) == (year, as_of.isoformat(), unit)
    first = as_of.month + 1 if as_of.year == year else 1
    allowed = {f"{year:04d}-{m:02d}" for m in range(first, 13)} if as_of.year <= year else set()
    items = data["items"]
    for it in items:
        assert set(it) == ITEM_KEYS
        assert it["month"] in allowed, it
        # exactly one lead, never also a partner
        assert isinstance(it["lead_org"], str) and it["lead_org"] in codes.ORG_CODES
        assert it["lead_org"] not in it["coordinating_orgs"]
        assert all(o in codes.ORG_CODES for o in it["coordinating_orgs"])
        assert it["channel"] in codes.CHANNEL_CODES and it["group"] in codes.GROUP_CODES
        assert it["schemes"] and all(s in codes.SCHEME_CODES for s in it["schemes"])
        assert it["sessions"] >= 1
        rate = rates.get(it["channel"], codes.CHANNELS[it["channel"]][1])
        assert it["expected_registrations"] == math.floor(it["sessions"] * rate + 1e-9)
        assert it["cost"] == it["sessions"] * codes.CHANNELS[it["channel"]][2]
        assert it["planned_reach"] >= it["expected_registrations"]
    # no overlap: never two items with the same commune, group, channel and month
    keys = [(i["unit"], i["month"], i["channel"], i["group"]) for i in items]
    assert len(keys) == len(set(keys))
    # every positive gap covered; nothing planned for a scheme that is ahead
    got = expected_by(items)
    for commune, schemes in gaps_.items():
        for scheme, gap in schemes.items():
            if gap > 0 and allowed:
                assert got[(commune, scheme)] >= gap, (commune, scheme, gap)
            elif gap <= 0:
                assert got[(commune, scheme)] == 0, (commune, scheme)
    # by_unit: every commune, its gaps (schemes with a target) and the expected sums
    rows = {r["unit"]: r for r in data["by_unit"]}
    for r in data["by_unit"]:
        assert set(r) == {"unit", "gaps", "expected"}
        assert r["expected"] == {s: got[(r["unit"], s)] for s in r["gaps"]}
    for commune, schemes in gaps_.items():
        assert rows[commune]["gaps"] == schemes
    # warnings: the SPEC's wording, one per commune and scheme at most, only for positive gaps
    seen = set()
    for w in data["warnings"]:
        m = WARNING.match(w)
        assert m, w
        key = (m["unit"], m["scheme"])
        assert key not in seen
        seen.add(key)
        assert gaps_[m["unit"]][m["scheme"]] > 0
        if not allowed:
            assert int(m["gap"]) == gaps_[m["unit"]][m["scheme"]]
    if not allowed:  # nothing can be planned: every positive gap is named
        assert items == []
        assert seen == {(c, s) for c, v in gaps_.items() for s, g in v.items() if g > 0}


def test_draft_covers_every_gap_in_the_months_left(cli: Any) -> None:
    make_data()
    data = build(cli, "--as-of", AS_OF.isoformat())
    check_draft(data, year=2025, as_of=AS_OF, unit="KH", gaps_=gaps())
    assert data["items"]
    assert {r["unit"] for r in data["by_unit"]} == {"C11", "C12", "C13", "C21"}
    rows = {r["unit"]: r for r in data["by_unit"]}
    assert rows["C11"]["gaps"] == {"si_compulsory": 80, "ui": 50, "si_voluntary": 59, "hi": 300}
    # the large gap (2,000 HI in three months, for 10,000 residents) is beyond reach
    assert any(w.startswith("C13 hi: needs ") for w in data["warnings"])
    # the small ones are not
    assert not any(w.startswith(("C21", "C12")) for w in data["warnings"])
    # the same draft, deterministic
    assert build(cli, "--as-of", AS_OF.isoformat()) == data


def test_channels_fit_the_groups(cli: Any) -> None:
    make_data()
    data = build(cli, "--as-of", AS_OF.isoformat())
    by_scheme: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for it in data["items"]:
        for s in it["schemes"]:
            by_scheme[s].add((it["channel"], it["group"]))
    # employment schemes at enterprises; voluntary SI with the self-employed or farmers;
    # HI with households and pupils
    assert {g for _c, g in by_scheme["si_compulsory"]} <= {"employer", "employee", "household"}
    assert ("enterprise_dialogue", "employer") in by_scheme["si_compulsory"]
    assert {g for _c, g in by_scheme["si_voluntary"]} <= {
        "freelancer",
        "business_owner",
        "farmer",
        "household",
    }
    assert ("door_to_door", "household") in by_scheme["hi"]
    assert ("conference", "student") in by_scheme["hi"]
    # C11 is a ward (Phường): the self-employed; C13 a rural commune (Xã)
    c11 = {(i["channel"], i["group"]) for i in data["items"] if i["unit"] == "C11"}
    assert ("conference", "freelancer") in c11 and ("conference", "farmer") not in c11
    # one launch ceremony per commune with a large gap, in its first peak month
    launches = [i for i in data["items"] if i["channel"] == "launch_ceremony"]
    assert sorted(i["unit"] for i in launches) == ["C11", "C13"]
    assert all(i["month"] == "2025-10" and i["sessions"] == 1 for i in launches)


def test_peak_months_weigh_more(cli: Any) -> None:
    make_data()
    as_of = dt.date(2025, 3, 31)
    data = build(cli, "--as-of", as_of.isoformat())
    # no count before June: the gap is the whole target
    targets = {c: {s: t for s, (t, _p) in v.items()} for c, v in FIGURES.items()}
    check_draft(data, year=2025, as_of=as_of, unit="KH", gaps_=targets)
    months = {i["month"] for i in data["items"]}
    assert "2025-04" in months and "2025-12" in months
    per: dict[tuple[str, str], int] = defaultdict(int)
    streams: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for it in data["items"]:
        per[(it["unit"], it["month"])] += it["sessions"]
        streams[(it["unit"], it["channel"], it["group"])][int(it["month"][5:])] = it["sessions"]
    for commune in FIGURES:
        peak = [per[(commune, f"2025-{m}")] for m in ("10", "11", "12")]
        rest = [per[(commune, f"2025-{m:02d}")] for m in range(4, 10)]
        assert min(peak) >= max(rest), commune
        assert sum(peak) / 3 > sum(rest) / 6, commune
    # within every stream (commune, channel, group) too
    for key, by_month in streams.items():
        peak_n = [by_month.get(m, 0) for m in (10, 11, 12)]
        rest_n = [by_month.get(m, 0) for m in range(4, 10)]
        assert min(peak_n) >= max(rest_n), key


def test_history_rates_replace_defaults(cli: Any) -> None:
    make_data({"C11": {"si_voluntary": (100, 40)}, "C21": {"si_voluntary": (100, 40)}})
    base = build(cli, "--as-of", "2025-09-30")
    check_draft(
        base,
        year=2025,
        as_of=AS_OF,
        unit="KH",
        gaps_={"C11": {"si_voluntary": 60}, "C21": {"si_voluntary": 60}},
    )
    # office O1 has a history: five small groups, each bringing exactly one person in (the
    # person was not covered on the activity's date, joins 10 days later); an attendee who
    # is nobody known adds an attendee but no evidence
    for k in range(5):
        day = dt.date(2025, 5, 1 + k)
        Activity.objects.create(
            code=f"H{k}", unit_id="C11", channel="small_group", date=day, lead_org="womens_union"
        )
        Person.objects.create(person_id=f"P{k}")
        Spell.objects.create(
            person_id=f"P{k}",
            scheme="si_voluntary",
            group="freelancer",
            unit_id="C11",
            start_date=day + dt.timedelta(days=10),
        )
        Attendee.objects.create(activity_id=f"H{k}", person_id=f"P{k}")
        Attendee.objects.create(activity_id=f"H{k}", person_id=f"X{k}")
    # office O2 has four: too few to replace the default
    for k in range(4):
        Activity.objects.create(
            code=f"J{k}", unit_id="C21", channel="small_group", date=dt.date(2025, 5, 1 + k),
            lead_org="womens_union",
        )  # fmt: skip
        Person.objects.create(person_id=f"Q{k}")  # known, never joins
        Attendee.objects.create(activity_id=f"J{k}", person_id=f"Q{k}")
    hist = build(cli, "--as-of", "2025-09-30")
    sg = [i for i in hist["items"] if i["channel"] == "small_group"]
    assert {i["unit"] for i in sg} == {"C11", "C21"}
    for it in sg:
        rate = 1.0 if it["unit"] == "C11" else 1.5
        assert it["expected_registrations"] == math.floor(it["sessions"] * rate), it
    assert all(e >= 60 for r in hist["by_unit"] for e in r["expected"].values())
    # history before as_of only: a plan drafted as of April has no history yet
    april = build(cli, "--as-of", "2025-04-30")
    assert all(
        i["expected_registrations"] == math.floor(i["sessions"] * 1.5)
        for i in april["items"]
        if i["channel"] == "small_group"
    )


def test_unit_scope(cli: Any) -> None:
    make_data()
    office = build(cli, "--as-of", "2025-09-30", "--unit", "O2")
    check_draft(office, year=2025, as_of=AS_OF, unit="O2", gaps_={"C21": gaps()["C21"]})
    assert [r["unit"] for r in office["by_unit"]] == ["C21"]
    assert {i["unit"] for i in office["items"]} == {"C21"}
    commune = build(cli, "--as-of", "2025-09-30", "--unit", "C11")
    check_draft(commune, year=2025, as_of=AS_OF, unit="C11", gaps_={"C11": gaps()["C11"]})
    whole = build(cli, "--as-of", "2025-09-30", "--unit", "KH")
    assert [i for i in whole["items"] if i["unit"] == "C11"] == commune["items"]


def test_no_month_left_in_december(cli: Any) -> None:
    make_data()
    as_of = dt.date(2025, 12, 15)
    dec = build(cli, "--as-of", as_of.isoformat(), "--unit", "O2")
    check_draft(dec, year=2025, as_of=as_of, unit="O2", gaps_={"C21": gaps()["C21"]})
    assert dec["items"] == []
    assert dec["warnings"] == [
        "C21 si_compulsory: gap 1 but no month left in 2025",
        "C21 si_voluntary: gap 3 but no month left in 2025",
    ]
    assert dec["by_unit"] == [
        {
            "unit": "C21",
            "gaps": {"si_compulsory": 1, "si_voluntary": 3},
            "expected": {"si_compulsory": 0, "si_voluntary": 0},
        }
    ]


def test_as_of_before_the_year(cli: Any) -> None:
    """Next year's plan from this year's participants: all twelve months, next year's targets."""
    make_data()
    Target.objects.create(year=2026, unit_id="C21", indicator="si_voluntary", target=400)
    Target.objects.create(year=2026, unit_id="C21", indicator="hi", target=10)
    data = build(cli, "--as-of", "2025-12-31", "--unit", "C21", year="2026")
    # participants on 2025-12-31: the counts of 2025-09-30 stand (57 and none for HI)
    check_draft(
        data,
        year=2026,
        as_of=dt.date(2025, 12, 31),
        unit="C21",
        gaps_={"C21": {"si_voluntary": 343, "hi": 10}},
    )
    months = {i["month"] for i in data["items"]}
    assert "2026-01" in months and "2026-12" in months
    res = cli("plan", "build", "--year", "2025", "--as-of", "2026-01-01")
    assert res.code == 2 and "2026-01-01" in res.err and "Traceback" not in res.err


def test_zero_gap_and_unit_without_targets(cli: Any) -> None:
    make_data({"C11": {"si_voluntary": (100, 100), "hi": (50, 60)}})
    data = build(cli, "--as-of", "2025-09-30")
    check_draft(
        data,
        year=2025,
        as_of=AS_OF,
        unit="KH",
        gaps_={"C11": {"si_voluntary": 0, "hi": -10}, "C12": {}, "C13": {}, "C21": {}},
    )
    assert data["items"] == [] and data["warnings"] == []
    lone = build(cli, "--as-of", "2025-09-30", "--unit", "C13")
    assert lone == {
        "year": 2025,
        "as_of": "2025-09-30",
        "unit": "C13",
        "items": [],
        "by_unit": [{"unit": "C13", "gaps": {}, "expected": {}}],
        "warnings": [],
    }


def test_cli_refusals(cli: Any) -> None:
    make_data()
    res = cli("plan", "build", "--year", "2024", "--as-of", "2025-01-01")
    assert res.code == 2 and "2025-01-01" in res.err and "Traceback" not in res.err
    res = cli("plan", "build", "--year", "2025", "--as-of", "2025-13-01")
    assert res.code == 2 and "Traceback" not in res.err
    res = cli("plan", "build", "--year", "2025", "--unit", "NOPE")
    assert res.code == 1 and "NOPE" in res.err
    res = cli("plan", "build", "--year", "2025", "--format", "pdf")
    assert res.code == 2


def test_cli_exports_open(cli: Any, tmp_path: Any) -> None:
    import docx
    import openpyxl

    make_data()
    out = tmp_path / "p.xlsx"
    res = cli(
        "plan",
        "build",
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        "--format",
        "xlsx",
        "-o",
        str(out),
    )
    assert res.code == 0, res.err
    data = build(cli, "--as-of", "2025-09-30")
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.cell(4, 1).value == "STT" and ws.cell(4, 4).value == "Hình thức"
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(data["items"])
    assert sum(r[11] for r in rows) == sum(i["cost"] for i in data["items"])

    out = tmp_path / "p.docx"
    res = cli(
        "plan",
        "build",
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        "--format",
        "docx",
        "-o",
        str(out),
    )
    assert res.code == 0, res.err
    d = docx.Document(str(out))
    text = "\n".join(p.text for p in d.paragraphs)
    for heading in (
        "KẾ HOẠCH",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "II. CHỈ TIÊU, ĐỐI TƯỢNG",
        "III. NỘI DUNG, HÌNH THỨC",
        "IV. KINH PHÍ",
        "V. TỔ CHỨC THỰC HIỆN",
    ):
        assert heading in text
    assert d.styles["Normal"].font.name == "Times New Roman"
    activities = d.tables[2]
    assert len(activities.rows) == 1 + len(data["items"]) + 1  # header, items, total
    assert activities.rows[-1].cells[
        -1
    ].text == f"{sum(i['cost'] for i in data['items']):,}".replace(",", ".")
    header = "\n".join(c.text for c in d.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header and "Số:" in header
