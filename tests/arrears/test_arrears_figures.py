"""SPEC section 8 through the CLI, against an independent computation in the test."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from ansinh.arrears.models import Contribution, Employer

from .factories import d, make_units


def _due(period: dt.date) -> dt.date:
    y, m = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def expected(
    rows: list[tuple[str, str, dt.date, int, int, dt.date | None]], D: dt.date, unit: str
) -> dict:
    """rows: (employer, unit, period, amount_due, amount_paid, paid_on) — a plain re-reading of
    SPEC section 8 with Decimal arithmetic, independent of the product's SQL."""
    per: dict[str, dict] = {}
    due_ytd = 0
    total_interest = 0
    for emp, u, period, amount_due, amount_paid, paid_on in rows:
        due = _due(period)
        paid = amount_paid if paid_on is not None and paid_on <= D else 0
        outstanding = max(amount_due - paid, 0)
        is_overdue = outstanding > 0 and D > due
        raw = Decimal(outstanding) * Decimal("0.0003") * max((D - due).days, 0)
        if paid and paid_on is not None and paid_on > due:
            raw += Decimal(paid) * Decimal("0.0003") * (paid_on - due).days
        interest = int(raw.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        total_interest += interest
        if period.year == D.year and due <= D:
            due_ytd += amount_due
        e = per.setdefault(emp, {"unit": u, "overdue": 0, "interest": 0, "oldest": None})
        e["interest"] += interest
        if is_overdue:
            e["overdue"] += outstanding
            if e["oldest"] is None or period < e["oldest"]:
                e["oldest"] = period
    employers = []
    buckets = {"lt3": 0, "3to6": 0, "6to12": 0, "ge12": 0}
    for code, e in per.items():
        if not e["overdue"]:
            continue
        mo = (D.year - e["oldest"].year) * 12 + (D.month - e["oldest"].month) - 1
        b = "lt3" if mo < 3 else "3to6" if mo < 6 else "6to12" if mo < 12 else "ge12"
        buckets[b] += e["overdue"]
        employers.append(
            {
                "code": code,
                "unit": e["unit"],
                "overdue": e["overdue"],
                "interest": e["interest"],
                "oldest_period": e["oldest"].strftime("%Y-%m"),
                "months_overdue": mo,
                "bucket": b,
            }
        )
    employers.sort(key=lambda x: (-x["overdue"], x["code"]))
    overdue = sum(x["overdue"] for x in employers)
    pct = (
        float((Decimal(overdue) * 100 / Decimal(due_ytd)).quantize(Decimal("0.01"), ROUND_HALF_UP))
        if due_ytd
        else None  # documented choice (docs/arrears.md): undefined before anything is due
    )
    return {
        "as_of": D.isoformat(),
        "unit": unit,
        "totals": {
            "employers": len(employers),
            "overdue": overdue,
            "interest": total_interest,
            "due_ytd": due_ytd,
            "arrears_pct": pct,
            "buckets": buckets,
        },
        "employers": employers,
    }


EDGE_ROWS = [
    # employer, unit, period, due, paid, paid_on
    ("E_ONTIME", "C1", d("2025-07-01"), 10_000_000, 10_000_000, d("2025-08-15")),
    ("E_LATEFULL", "C1", d("2025-06-01"), 8_000_000, 8_000_000, d("2025-08-20")),
    ("E_PARTIAL", "C2", d("2025-05-01"), 10_000_000, 4_000_000, d("2025-07-10")),
    ("E_AFTER", "C2", d("2025-07-01"), 6_000_000, 6_000_000, d("2025-10-05")),
    ("E_DUE_D", "C3", d("2025-08-01"), 5_000_000, 0, None),
    ("E_M2", "C3", d("2025-06-01"), 1_000_000, 0, None),
    ("E_M3", "C1", d("2025-05-01"), 2_000_000, 0, None),
    ("E_M5", "C1", d("2025-03-01"), 2_100_000, 0, None),
    ("E_M6", "C2", d("2025-02-01"), 2_200_000, 0, None),
    ("E_M11", "C2", d("2024-09-01"), 2_300_000, 0, None),
    ("E_M12", "C3", d("2024-08-01"), 2_400_000, 0, None),
    ("E_M12", "C3", d("2025-04-01"), 700_000, 0, None),
    ("E_PREVYEAR", "C3", d("2024-12-01"), 3_000_000, 1_000_000, d("2025-01-31")),
    ("E_HALF", "C1", d("2025-08-01"), 1_500, 0, None),  # 1500 × 0.0003 × 10 days = 4.5 → 5
    ("E_ONTIME", "C1", d("2025-01-01"), 9_000_000, 9_000_000, d("2025-02-28")),
    ("E_ONTIME", "C1", d("2025-09-01"), 9_000_000, 0, None),  # due 31 Oct: not in due_ytd
]


def _load(rows: list[tuple]) -> None:
    for emp in {r[0]: r[1] for r in rows}.items():
        Employer.objects.get_or_create(code=emp[0], defaults={"name": emp[0], "unit_id": emp[1]})
    Contribution.objects.bulk_create(
        [
            Contribution(
                employer_id=r[0], period=r[2], amount_due=r[3], amount_paid=r[4], paid_on=r[5]
            )
            for r in rows
        ]
    )


@pytest.mark.django_db
def test_edge_cases_match_independent_computation(cli) -> None:
    make_units()
    _load(EDGE_ROWS)
    for D in ("2025-09-30", "2025-10-10", "2025-08-31", "2025-01-15", "2026-02-28"):
        res = cli("arrears", "--as-of", D)
        assert res.code == 0, res.err
        got = json.loads(res.out)
        assert got == expected(EDGE_ROWS, d(D), "KH"), D
        assert list(got) == ["as_of", "unit", "totals", "employers"]
        assert list(got["totals"]) == [
            "employers",
            "overdue",
            "interest",
            "due_ytd",
            "arrears_pct",
            "buckets",
        ]


@pytest.mark.django_db
def test_edge_cases_hand_checked_values(cli) -> None:
    make_units()
    _load(EDGE_ROWS)
    got = json.loads(cli("arrears", "--as-of", "2025-09-30").out)
    by = {e["code"]: e for e in got["employers"]}
    assert "E_ONTIME" not in by and "E_LATEFULL" not in by and "E_DUE_D" not in by
    # paid late in full: 8,000,000 × 0.0003 × 20 days (31 Jul → 20 Aug)
    assert got["totals"]["interest"] >= 48_000
    # partial: 6,000,000 outstanding × 92 days (30 Jun → 30 Sep) + 4,000,000 × 10 days
    assert by["E_PARTIAL"] == {
        "code": "E_PARTIAL",
        "unit": "C2",
        "overdue": 6_000_000,
        "interest": 165_600 + 12_000,
        "oldest_period": "2025-05",
        "months_overdue": 3,
        "bucket": "3to6",
    }
    # paid after D: still overdue at D, 30 days late
    assert by["E_AFTER"]["overdue"] == 6_000_000 and by["E_AFTER"]["interest"] == 54_000
    assert by["E_AFTER"]["months_overdue"] == 1 and by["E_AFTER"]["bucket"] == "lt3"
    assert [
        by[c]["months_overdue"] for c in ("E_M2", "E_M3", "E_M5", "E_M6", "E_M11", "E_M12")
    ] == [2, 3, 5, 6, 11, 12]
    assert [by[c]["bucket"] for c in ("E_M2", "E_M3", "E_M5", "E_M6", "E_M11", "E_M12")] == [
        "lt3",
        "3to6",
        "3to6",
        "6to12",
        "6to12",
        "ge12",
    ]
    # two overdue periods: the oldest decides the bucket, both amounts count
    assert by["E_M12"]["overdue"] == 3_100_000 and by["E_M12"]["oldest_period"] == "2024-08"
    # previous year: 2,000,000 left after a payment on its due date (no interest on the paid part)
    assert by["E_PREVYEAR"]["overdue"] == 2_000_000
    assert by["E_PREVYEAR"]["interest"] == 145_200  # 2,000,000 × 0.0003 × 242 days
    # half-up rounding: 4.5 → 5 (not banker's 4); due 30 Sep, so at 10 Oct: 10 days
    got_oct = json.loads(cli("arrears", "--as-of", "2025-10-10").out)
    assert {e["code"]: e for e in got_oct["employers"]}["E_HALF"]["interest"] == 5
    # due_ytd: periods Jan..Aug 2025 (Sep due 31 Oct, 2024 periods excluded)
    assert got["totals"]["due_ytd"] == sum(
        r[3] for r in EDGE_ROWS if r[2].year == 2025 and r[2].month <= 8
    )
    # January: nothing of the year due yet → ratio null (documented choice), arrears remain
    jan = json.loads(cli("arrears", "--as-of", "2025-01-15").out)
    assert jan["totals"]["due_ytd"] == 0 and jan["totals"]["arrears_pct"] is None
    assert jan["totals"]["overdue"] > 0


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_contributions_match(cli, seed: int) -> None:
    make_units()
    rng = random.Random(seed)
    rows = []
    for i in range(40):
        emp = f"G{i:03d}"
        unit = rng.choice(["C1", "C2", "C3"])
        for k in range(rng.randint(1, 14)):
            period = dt.date(2024, 6, 1) + dt.timedelta(days=31 * k)
            period = period.replace(day=1)
            due_amt = rng.choice([0, 1_500, 999_999, 12_345_678, rng.randint(1, 50_000_000)])
            kind = rng.random()
            if kind < 0.3:
                rows.append((emp, unit, period, due_amt, 0, None))
            else:
                paid = due_amt if kind < 0.7 else rng.randint(0, due_amt)
                paid_on = _due(period) + dt.timedelta(days=rng.randint(-40, 200))
                rows.append((emp, unit, period, due_amt, paid, paid_on if paid else None))
    # unique (employer, period)
    rows = list({(r[0], r[2]): r for r in rows}.values())
    _load(rows)
    for D in ("2025-03-31", "2025-06-15", "2025-07-31", "2025-12-31"):
        got = json.loads(cli("arrears", "--as-of", D).out)
        assert got == expected(rows, d(D), "KH")
        sub = json.loads(cli("arrears", "--as-of", D, "--unit", "O1").out)
        assert sub == expected([r for r in rows if r[1] in ("C1", "C2")], d(D), "O1")


@pytest.mark.django_db
def test_csv_table_and_errors(cli) -> None:
    make_units()
    _load(EDGE_ROWS)
    res = cli("arrears", "--as-of", "2025-09-30", "--unit", "C3", "--format", "csv")
    assert res.code == 0
    rows = list(csv.DictReader(io.StringIO(res.out)))
    exp = expected([r for r in EDGE_ROWS if r[1] == "C3"], d("2025-09-30"), "C3")
    assert [r["code"] for r in rows] == [e["code"] for e in exp["employers"]]
    assert rows[0]["overdue"] == str(exp["employers"][0]["overdue"])
    res = cli("arrears", "--as-of", "2025-09-30", "--format", "table")
    assert res.code == 0 and "E_PARTIAL" in res.out
    assert cli("arrears", "--as-of", "2025-13-01").code == 2
    assert cli("arrears").code == 2
    bad = cli("arrears", "--as-of", "2025-09-30", "--unit", "NOPE")
    assert bad.code == 1 and "NOPE" in bad.err and bad.out == ""
