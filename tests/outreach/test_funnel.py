"""The conversion funnel (SPEC section 7) against an independent plain-Python computation."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from ansinh.accounts.access import SYSTEM
from ansinh.geography.models import Unit
from ansinh.outreach.funnel import conversion_rates, funnel, funnel_breakdowns, plan_vs_done
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Person, Spell

D = dt.date


def _unit(code: str, level: str, parent: Unit | None) -> Unit:
    path = (parent.path if parent else "") + code + "/"
    return Unit.objects.create(
        code=code,
        name=f"Unit {code}",
        level=level,
        parent=parent,
        path=path,
        depth=path.count("/") - 1,
    )


def make_tree() -> dict[str, Unit]:
    kh = _unit("KH", "province", None)
    o1 = _unit("O1", "office", kh)
    o2 = _unit("O2", "office", kh)
    return {
        "KH": kh,
        "O1": o1,
        "O2": o2,
        "C1": _unit("C1", "commune", o1),
        "C2": _unit("C2", "commune", o1),
        "C3": _unit("C3", "commune", o2),
    }


def act(code: str, unit: str, day: dt.date, channel: str = "conference", **kw: Any) -> Activity:
    kw.setdefault("lead_org", "si_office")
    return Activity.objects.create(code=code, unit_id=unit, date=day, channel=channel, **kw)


def spell(pid: str, scheme: str, start: dt.date, end: dt.date | None = None) -> Spell:
    Person.objects.get_or_create(person_id=pid)
    return Spell.objects.create(
        person_id=pid,
        scheme=scheme,
        group="freelancer",
        unit_id="C1",
        start_date=start,
        end_date=end,
    )


def attend(code: str, *pids: str) -> None:
    for pid in pids:
        Attendee.objects.create(activity_id=code, person_id=pid)


# ---------------------------------------------------------------- independent reference


@dataclass
class RefAct:
    code: str
    unit_path: str
    date: dt.date
    channel: str
    lead_org: str
    group: str
    planned_reach: int | None
    reach: int | None
    registrations: int | None
    cost: int | None


def reference(
    unit_path: str, date_from: dt.date, date_to: dt.date, by: str
) -> list[dict[str, Any]]:
    """The funnel computed in plain Python, straight from the SPEC's words."""
    paths = dict(Unit.objects.values_list("code", "path"))
    acts = {
        a.code: RefAct(
            a.code,
            paths[a.unit_id],
            a.date,
            a.channel,
            a.lead_org,
            a.group,
            a.planned_reach,
            a.reach,
            a.registrations,
            a.cost,
        )
        for a in Activity.objects.all()
    }
    attendees = list(Attendee.objects.values_list("activity_id", "person_id"))
    spells: dict[str, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for pid, scheme, start, end in Spell.objects.values_list(
        "person_id", "scheme", "start_date", "end_date"
    ):
        spells[pid].append((scheme, start, end))

    # candidates per (person, scheme): (start, activity)
    cands: dict[tuple[str, str], list[tuple[dt.date, RefAct]]] = defaultdict(list)
    for code, pid in attendees:
        a = acts[code]
        for scheme, start, _end in spells[pid]:
            days = (start - a.date).days
            if not 1 <= days <= 90:
                continue
            covered = any(
                s == scheme and st <= a.date and (en is None or en >= a.date)
                for s, st, en in spells[pid]
            )
            if not covered:
                cands[(pid, scheme)].append((start, a))
    credited: dict[str, int] = defaultdict(int)
    for items in cands.values():
        earliest = min(start for start, _ in items)
        winner = max((a for start, a in items if start == earliest), key=lambda a: (a.date, a.code))
        credited[winner.code] += 1

    n_att: dict[str, int] = defaultdict(int)
    for code, _pid in attendees:
        n_att[code] += 1

    field = {"channel": "channel", "org": "lead_org", "group": "group"}[by]
    rows: dict[str, dict[str, Any]] = {}
    for a in acts.values():
        if not (date_from <= a.date <= date_to and a.unit_path.startswith(unit_path)):
            continue
        key = getattr(a, field)
        r = rows.setdefault(
            key,
            {
                "key": key,
                "activities": 0,
                "planned_reach": 0,
                "reach": 0,
                "attendees": 0,
                "registrations_reported": 0,
                "converted": 0,
                "cost": 0,
            },
        )
        r["activities"] += 1
        r["planned_reach"] += a.planned_reach or 0
        r["reach"] += a.reach or 0
        r["attendees"] += n_att[a.code]
        r["registrations_reported"] += a.registrations or 0
        r["converted"] += credited[a.code]
        r["cost"] += a.cost or 0
    out = []
    for key in sorted(rows):
        r = rows[key]
        r["conversion_pct"] = (
            float(
                (Decimal(r["converted"]) * 100 / Decimal(r["attendees"])).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
            )
            if r["attendees"]
            else 0
        )
        r["cost_per_conversion"] = (
            int((Decimal(r["cost"]) / Decimal(r["converted"])).quantize(0, ROUND_HALF_UP))
            if r["converted"]
            else None
        )
        out.append(r)
    return out


# ---------------------------------------------------------------- hand-made edge cases


@pytest.fixture
def edge(db: None) -> dict[str, Unit]:
    units = make_tree()
    a_date = D(2025, 3, 10)
    act("A1", "C1", a_date, "conference", group="freelancer", cost=1_000_000, registrations=3)
    act("A2", "C2", D(2025, 4, 20), "small_group", lead_org="womens_union", group="farmer")
    act("A3", "C3", D(2025, 3, 12), "conference")  # outside O1
    act("A4", "C1", D(2025, 6, 5), "booth")  # after --to (2025-05-31)
    act("A0", "C1", D(2025, 1, 5), "door_to_door")  # before --from (2025-02-01)
    # day offsets from A1
    spell("p_day0", "hi", a_date)  # starts the same day: covered on A's date → no
    spell("p_day1", "hi", a_date + dt.timedelta(days=1))  # yes
    spell("p_day90", "hi", a_date + dt.timedelta(days=90))  # yes
    spell("p_day91", "hi", a_date + dt.timedelta(days=91))  # no
    # covered at the activity date by an older open spell → no
    spell("p_cov", "hi", D(2024, 1, 1))
    spell("p_cov", "hi", D(2025, 3, 20))
    # lapsed before the activity (ended the day before) → converts
    spell("p_lapsed", "hi", D(2024, 1, 1), D(2025, 3, 9))
    spell("p_lapsed", "hi", D(2025, 4, 1))
    # two schemes → counts twice
    spell("p_two", "hi", D(2025, 3, 15))
    spell("p_two", "si_voluntary", D(2025, 3, 25))
    # attended A1 and A2; joins after both → last touch A2
    spell("p_last", "hi", D(2025, 5, 1))
    # attended A1 and A2 but joined between them → A1 (A2 after the start)
    spell("p_between", "hi", D(2025, 4, 1))
    # attended A1 and A4; joins after A4 (after --to) → last touch A4, outside the range
    spell("p_after", "hi", D(2025, 6, 6))  # 88 days after A1, 1 day after A4
    # attended A1 only; joins after --to but within 90 days → counted for A1
    spell("p_late", "si_voluntary", D(2025, 6, 1))
    # attended A0 (before --from) and A1; earliest start is 2025-02-01 (A0 only) → A0
    spell("p_early", "hi", D(2025, 2, 1))
    spell("p_early", "hi", D(2025, 3, 20))
    attend(
        "A1",
        "p_day0",
        "p_day1",
        "p_day90",
        "p_day91",
        "p_cov",
        "p_lapsed",
        "p_two",
        "p_last",
        "p_between",
        "p_after",
        "p_late",
        "p_early",
        "prospect",  # no person record, never converts
    )
    attend("A2", "p_last", "p_between")
    attend("A3", "p_day1")  # other office: an attendee, but A3 is outside O1
    attend("A4", "p_after")
    attend("A0", "p_early")
    return units


def test_edge_cases_by_channel(edge: dict[str, Unit]) -> None:
    got = funnel(unit=edge["O1"], date_from=D(2025, 2, 1), date_to=D(2025, 5, 31), actor=SYSTEM)
    rows = {r["key"]: r for r in got["rows"]}
    assert got["from"] == "2025-02-01" and got["to"] == "2025-05-31"
    assert got["unit"] == "O1" and got["by"] == "channel"
    assert sorted(rows) == ["conference", "small_group"]  # A0/A4 out of range, A3 other office
    conf = rows["conference"]
    # A1: p_day1, p_day90, p_lapsed, p_two×2, p_between, p_late = 7
    assert conf["converted"] == 7
    assert conf["attendees"] == 13
    assert conf["activities"] == 1
    assert conf["conversion_pct"] == 53.85  # 7/13 = 53.846…
    assert conf["cost"] == 1_000_000 and conf["cost_per_conversion"] == 142857
    assert conf["registrations_reported"] == 3
    sg = rows["small_group"]
    assert sg["converted"] == 1 and sg["attendees"] == 2  # p_last
    assert sg["conversion_pct"] == 50.0
    assert sg["cost"] == 0 and sg["cost_per_conversion"] == 0
    assert got["rows"] == reference("KH/O1/", D(2025, 2, 1), D(2025, 5, 31), "channel")


def test_edge_cases_province_and_other_breakdowns(edge: dict[str, Unit]) -> None:
    for by in ("channel", "org", "group"):
        for lo, hi in ((D(2025, 1, 1), D(2025, 12, 31)), (D(2025, 3, 10), D(2025, 3, 10))):
            got = funnel(unit=edge["KH"], date_from=lo, date_to=hi, by=by, actor=SYSTEM)
            assert got["rows"] == reference("KH/", lo, hi, by), (by, lo, hi)
    # the whole year: A4 gets p_after, A0 gets p_early, A3 gets p_day1? no: covered? p_day1's
    # spell starts 2025-03-11, one day before A3 (2025-03-12) → covered at A3 → A1 keeps it
    year = funnel(unit=edge["KH"], date_from=D(2025, 1, 1), date_to=D(2025, 12, 31), actor=SYSTEM)
    rows = {r["key"]: r for r in year["rows"]}
    assert rows["booth"]["converted"] == 1
    assert rows["door_to_door"]["converted"] == 1
    assert rows["conference"]["converted"] == 7  # A1 7, A3 0
    groups = funnel(
        unit=edge["KH"], date_from=D(2025, 1, 1), date_to=D(2025, 12, 31), by="group", actor=SYSTEM
    )
    assert [r["key"] for r in groups["rows"]] == ["", "farmer", "freelancer"]


def test_empty_range(edge: dict[str, Unit]) -> None:
    got = funnel(unit=edge["KH"], date_from=D(2020, 1, 1), date_to=D(2020, 12, 31), actor=SYSTEM)
    assert got["rows"] == []


def test_conversion_rates(edge: dict[str, Unit]) -> None:
    rates = conversion_rates(unit=edge["O1"], until=D(2025, 6, 1))
    # O1 before June: A0 door_to_door (1 conversion), A1 conference (7), A2 small_group (1)
    assert rates == {"conference": 7.0, "door_to_door": 1.0, "small_group": 1.0}
    # O2 has one conference (A3: 0 conversions); no fallback to other offices' history
    assert conversion_rates(unit=edge["O2"], until=D(2025, 12, 31)) == {"conference": 0.0}
    assert conversion_rates(unit=edge["KH"], until=D(2024, 1, 1)) == {}
    # a channel needs min_activities observable activities to count as history
    assert conversion_rates(unit=edge["O1"], until=D(2025, 6, 1), min_activities=2) == {}
    # an activity whose attendees are all unknown persons is no evidence
    act("A5", "C2", D(2025, 5, 1), "booth")
    attend("A5", "nobody-1", "nobody-2")
    act("A6", "C2", D(2025, 5, 2), "livestream")  # no attendance list
    assert "booth" not in conversion_rates(unit=edge["O1"], until=D(2025, 6, 1))
    assert "livestream" not in conversion_rates(unit=edge["O1"], until=D(2025, 6, 1))


# ---------------------------------------------------------------- generated data


def test_random_data_matches_reference(db: None) -> None:
    rng = random.Random(20251019)
    make_tree()
    communes = ["C1", "C2", "C3"]
    channels = ["conference", "small_group", "door_to_door", "booth"]
    orgs = ["si_office", "womens_union", "youth_union"]
    groups = ["", "freelancer", "farmer"]
    base = D(2025, 1, 1)
    for i in range(30):
        act(
            f"R{i:02d}",
            rng.choice(communes),
            base + dt.timedelta(days=rng.randrange(0, 240)),
            rng.choice(channels),
            lead_org=rng.choice(orgs),
            group=rng.choice(groups),
            planned_reach=rng.choice([None, 20, 50]),
            reach=rng.choice([None, 10, 40]),
            registrations=rng.choice([None, 0, 2, 5]),
            cost=rng.choice([None, 300_000, 1_000_000]),
        )
    # same-date ties between two activities
    act("T1", "C1", D(2025, 5, 1), "booth")
    act("T2", "C1", D(2025, 5, 1), "conference")
    codes = list(Activity.objects.values_list("code", flat=True))
    for p in range(80):
        pid = f"P{p:03d}"
        for code in rng.sample(codes, rng.randrange(0, 4)):
            Attendee.objects.create(activity_id=code, person_id=pid)
        for _ in range(rng.randrange(0, 3)):
            start = base + dt.timedelta(days=rng.randrange(-60, 330))
            end = rng.choice([None, start + dt.timedelta(days=rng.randrange(0, 120))])
            Person.objects.get_or_create(person_id=pid)
            Spell.objects.get_or_create(
                person_id=pid,
                scheme=rng.choice(["hi", "si_voluntary"]),
                start_date=start,
                unit_id="C1",
                defaults={"group": "freelancer", "end_date": end},
            )
    Attendee.objects.create(activity_id="T1", person_id="TIE")
    Attendee.objects.create(activity_id="T2", person_id="TIE")
    spell("TIE", "hi", D(2025, 5, 10))
    total = 0
    for unit_path, code in (("KH/", "KH"), ("KH/O1/", "O1"), ("KH/O1/C2/", "C2")):
        for lo, hi in ((D(2025, 1, 1), D(2025, 12, 31)), (D(2025, 3, 1), D(2025, 5, 31))):
            unit = Unit.objects.get(code=code)
            together = funnel_breakdowns(unit=unit, date_from=lo, date_to=hi, actor=SYSTEM)
            for by in ("channel", "org", "group"):
                got = funnel(unit=unit, date_from=lo, date_to=hi, by=by, actor=SYSTEM)
                want = reference(unit_path, lo, hi, by)
                assert got["rows"] == want, (code, lo, hi, by)
                assert together[by] == got
                total += sum(r["converted"] for r in want)
            assert together["plan_vs_done"] == plan_vs_done(
                unit=unit, date_from=lo, date_to=hi, actor=SYSTEM
            )
    assert total > 0  # the generated data did produce conversions
    # the tie goes to the higher code on the same date (T2 > T1)
    tie = funnel(
        unit=Unit.objects.get(code="KH"),
        date_from=D(2025, 5, 1),
        date_to=D(2025, 5, 1),
        actor=SYSTEM,
    )
    by_key = {r["key"]: r for r in tie["rows"]}
    assert by_key["conference"]["converted"] >= 1


# ---------------------------------------------------------------- the command line


def test_cli_json(edge: dict[str, Unit], cli: Any) -> None:
    res = cli("outreach", "funnel", "--from", "2025-02-01", "--to", "2025-05-31", "--unit", "O1")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert list(data) == ["from", "to", "unit", "by", "rows"]
    assert data["rows"] == reference("KH/O1/", D(2025, 2, 1), D(2025, 5, 31), "channel")
    assert list(data["rows"][0]) == [
        "key",
        "activities",
        "planned_reach",
        "reach",
        "attendees",
        "registrations_reported",
        "converted",
        "conversion_pct",
        "cost",
        "cost_per_conversion",
    ]


def test_cli_default_unit_and_by_org_csv(edge: dict[str, Unit], cli: Any) -> None:
    res = cli(
        "outreach",
        "funnel",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--by",
        "org",
        "--format",
        "csv",
    )
    assert res.code == 0, res.err
    lines = res.out.strip().splitlines()
    assert lines[0].startswith("key,activities,planned_reach")
    want = reference("KH/", D(2025, 1, 1), D(2025, 12, 31), "org")
    assert [ln.split(",")[0] for ln in lines[1:]] == [r["key"] for r in want]
    table = cli(
        "outreach", "funnel", "--from", "2025-01-01", "--to", "2025-12-31", "--format", "table"
    )
    assert table.code == 0 and "conference" in table.out


def test_cli_usage_errors(edge: dict[str, Unit], cli: Any) -> None:
    res = cli("outreach", "funnel", "--from", "2025-06-01", "--to", "2025-05-31")
    assert res.code == 2 and res.err.strip() and "Traceback" not in res.err
    res = cli("outreach", "funnel", "--from", "2025-13-01", "--to", "2025-05-31")
    assert res.code == 2
    res = cli("outreach", "funnel", "--from", "2025-01-01")
    assert res.code == 2
    res = cli("outreach", "funnel", "--from", "2025-01-01", "--to", "2025-05-31", "--unit", "XX")
    assert res.code == 1 and "XX" in res.err
    res = cli("outreach", "funnel", "--from", "2025-01-01", "--to", "2025-05-31", "--by", "x")
    assert res.code == 2


def test_activity_conversions(edge: dict[str, Unit]) -> None:
    from ansinh.outreach.conversions import activity_conversions

    got = activity_conversions(activity=Activity.objects.get(code="A1"))
    assert got == {
        "p_day1": [("hi", D(2025, 3, 11))],
        "p_day90": [("hi", D(2025, 6, 8))],
        "p_lapsed": [("hi", D(2025, 4, 1))],
        "p_two": [("hi", D(2025, 3, 15)), ("si_voluntary", D(2025, 3, 25))],
        "p_between": [("hi", D(2025, 4, 1))],
        "p_late": [("si_voluntary", D(2025, 6, 1))],
    }
    assert activity_conversions(activity=Activity.objects.get(code="A2")) == {
        "p_last": [("hi", D(2025, 5, 1))]
    }
    assert activity_conversions(activity=Activity.objects.get(code="A3")) == {}
