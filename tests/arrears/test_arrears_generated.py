"""SPEC section 8 end to end: generated employers and contributions loaded through the real
import CLI, then `ansinh arrears` (json, csv, --unit) and `GET /api/arrears` compared with an
independent pure-Python reading of the SPEC (``expected`` in test_arrears_figures.py, Decimal
arithmetic, no product code)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
import random
from pathlib import Path

import pytest

from .factories import d, make_units, make_user
from .test_arrears_figures import _due, expected

Row = tuple[str, str, dt.date, int, int, dt.date | None]

EMPLOYER_UNITS = ["C1", "C2", "C3", "O1"]  # O1: an employer filed directly under an office


def _months(first: dt.date, n: int) -> list[dt.date]:
    out = []
    y, m = first.year, first.month
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def generate(seed: int, n_employers: int = 60) -> list[Row]:
    """Employers with 1–27 monthly rows from Nov 2023 to Jan 2026 and every payment pattern:
    never paid, on time, on the due date, late (1–400 days), partly, more than due, before the
    period, zero due."""
    rng = random.Random(seed)
    periods = _months(dt.date(2023, 11, 1), 27)
    rows: list[Row] = []
    for i in range(n_employers):
        emp = f"G{seed}{i:03d}"
        unit = rng.choice(EMPLOYER_UNITS)
        start = rng.randrange(len(periods))
        for period in periods[start : start + rng.randint(1, 27)]:
            due = _due(period)
            amount = rng.choice(
                [0, 1, 1_500, 3_333, 999_999, 12_345_678, rng.randint(1, 900_000_000)]
            )
            pattern = rng.choice(
                ["unpaid", "ontime", "on_due", "late", "very_late", "partial", "over", "early"]
            )
            if pattern == "unpaid" or amount == 0 and rng.random() < 0.5:
                rows.append((emp, unit, period, amount, 0, None))
                continue
            paid, paid_on = amount, due
            if pattern == "ontime":
                paid_on = due - dt.timedelta(days=rng.randint(1, 25))
            elif pattern == "late":
                paid_on = due + dt.timedelta(days=rng.randint(1, 60))
            elif pattern == "very_late":
                paid_on = due + dt.timedelta(days=rng.randint(61, 400))
            elif pattern == "partial":
                paid = rng.randint(0, amount)
                paid_on = due + dt.timedelta(days=rng.randint(-20, 120))
            elif pattern == "over":
                paid = amount + rng.randint(1, 5_000_000)
                paid_on = due + dt.timedelta(days=rng.randint(-10, 30))
            elif pattern == "early":
                paid_on = period - dt.timedelta(days=rng.randint(0, 40))
            rows.append((emp, unit, period, amount, paid, paid_on if paid else None))
    return rows


def as_of_dates(rng: random.Random) -> list[dt.date]:
    """Due dates themselves (not overdue yet), the days after, month ends of February (leap and
    not) and December→January, New Year, and random days."""
    fixed = [
        "2024-02-29",
        "2024-03-01",
        "2024-12-31",
        "2025-01-01",
        "2025-01-31",  # due date of 2024-12
        "2025-02-01",
        "2025-02-28",  # due date of 2025-01
        "2025-03-01",
        "2025-09-30",
        "2025-10-01",
        "2025-12-31",
        "2026-01-31",
        "2026-03-15",
    ]
    out = [d(s) for s in fixed]
    for _ in range(5):
        out.append(dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 820)))
    return out


def write_files(folder: Path, rows: list[Row]) -> tuple[Path, Path]:
    emp = folder / "employers.csv"
    con = folder / "contributions.csv"
    units = {r[0]: r[1] for r in rows}
    emp.write_text(
        "code,name,unit_code\n" + "".join(f"{c},Công ty {c},{u}\n" for c, u in units.items()),
        encoding="utf-8",
    )
    lines = ["employer_code,period,amount_due,amount_paid,paid_on"]
    for e, _u, period, due, paid, paid_on in rows:
        lines.append(
            f"{e},{period:%Y-%m},{due},{paid or ''},{paid_on.isoformat() if paid_on else ''}"
        )
    con.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return emp, con


def subtree(rows: list[Row], unit: str) -> list[Row]:
    below = {"KH": {"C1", "C2", "C3", "O1"}, "O1": {"C1", "C2", "O1"}, "C3": {"C3"}}[unit]
    return [r for r in rows if r[1] in below]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_generated_through_import_match_independent(cli, client, tmp_path, seed: int) -> None:
    make_units()
    rows = generate(seed)
    emp, con = write_files(tmp_path, rows)
    assert cli("import", "employers", str(emp)).code == 0
    res = cli("import", "contributions", str(con))
    assert res.code == 0, res.err
    # the generator covers every case the SPEC distinguishes
    kinds = {
        "overpaid": any(r[4] > r[3] for r in rows),
        "partial": any(0 < r[4] < r[3] for r in rows),
        "late": any(r[5] and r[5] > _due(r[2]) for r in rows),
        "unpaid": any(r[4] == 0 and r[3] > 0 for r in rows),
        "zero_due": any(r[3] == 0 for r in rows),
    }
    assert all(kinds.values()), kinds
    client.force_login(make_user("adm", "admin"))
    rng = random.Random(seed)
    seen_buckets: set[str] = set()
    for D in as_of_dates(rng):
        for unit in ("KH", "O1", "C3"):
            want = expected(subtree(rows, unit), D, unit)
            got = json.loads(cli("arrears", "--as-of", D.isoformat(), "--unit", unit).out)
            assert got == want, (D, unit)
            seen_buckets |= {e["bucket"] for e in got["employers"]}
        api = client.get(f"/api/arrears?as_of={D.isoformat()}&unit=KH")
        assert api.status_code == 200 and api.json() == expected(rows, D, "KH"), D
    assert seen_buckets == {"lt3", "3to6", "6to12", "ge12"}
    # CSV: the employers of the JSON, same order, same figures
    D = "2025-09-30"
    out = cli("arrears", "--as-of", D, "--format", "csv").out
    got_csv = list(csv.DictReader(io.StringIO(out)))
    want = expected(rows, d(D), "KH")["employers"]
    assert [r["code"] for r in got_csv] == [e["code"] for e in want]
    assert [int(r["overdue"]) for r in got_csv] == [e["overdue"] for e in want]
    assert [int(r["interest"]) for r in got_csv] == [e["interest"] for e in want]
    assert [r["bucket"] for r in got_csv] == [e["bucket"] for e in want]


@pytest.mark.django_db
def test_one_unpaid_period_across_its_life(cli) -> None:
    """Period 2024-12 (due 31 Jan 2025), 1,000,000 unpaid: overdue from 1 Feb; months overdue
    and bucket at each boundary; interest grows by 300 a day."""
    from ansinh.arrears.models import Contribution, Employer

    make_units()
    Employer.objects.create(code="E", name="E", unit_id="C1")
    Contribution.objects.create(employer_id="E", period=d("2024-12-01"), amount_due=1_000_000)
    cases = [
        ("2025-01-30", None, None, 0),
        ("2025-01-31", None, None, 0),  # on the due date: not overdue, no interest
        ("2025-02-01", 1, "lt3", 300),
        ("2025-03-31", 2, "lt3", 300 * 59),
        ("2025-04-01", 3, "3to6", 300 * 60),  # 2 → 3 months
        ("2025-06-30", 5, "3to6", 300 * 150),
        ("2025-07-01", 6, "6to12", 300 * 151),  # 5 → 6
        ("2025-12-31", 11, "6to12", 300 * 334),
        ("2026-01-01", 12, "ge12", 300 * 335),  # 11 → 12
    ]
    for D, months, bucket, interest in cases:
        got = json.loads(cli("arrears", "--as-of", D).out)
        assert got["totals"]["interest"] == interest, D
        if months is None:
            assert got["employers"] == [] and got["totals"]["overdue"] == 0, D
            continue
        (e,) = got["employers"]
        assert (e["months_overdue"], e["bucket"], e["oldest_period"]) == (
            months,
            bucket,
            "2024-12",
        ), D
        assert got["totals"]["buckets"][bucket] == 1_000_000
    # the period of December counts in 2024's due_ytd only: nothing of 2025 is due on 1 Feb
    feb = json.loads(cli("arrears", "--as-of", "2025-02-01").out)
    assert feb["totals"]["due_ytd"] == 0 and feb["totals"]["arrears_pct"] is None


@pytest.mark.django_db
def test_february_month_end_and_payment_days(cli) -> None:
    from ansinh.arrears.models import Contribution, Employer

    make_units()
    Employer.objects.create(code="F", name="F", unit_id="C2")
    # 2024-01 is due on 29 Feb 2024 (leap year), 2025-01 on 28 Feb 2025
    Contribution.objects.create(employer_id="F", period=d("2024-01-01"), amount_due=2_000_000)
    Contribution.objects.create(
        employer_id="F",
        period=d("2025-01-01"),
        amount_due=2_000_000,
        amount_paid=2_000_000,
        paid_on=d("2025-03-03"),  # 3 days late
    )
    assert calendar.isleap(2024)
    on_due = json.loads(cli("arrears", "--as-of", "2024-02-29").out)
    assert on_due["employers"] == [] and on_due["totals"]["interest"] == 0
    after = json.loads(cli("arrears", "--as-of", "2024-03-01").out)
    assert after["employers"][0]["months_overdue"] == 1 and after["totals"]["interest"] == 600
    # at 2 Mar 2025 the 2025-01 row is overdue (paid the next day); on 3 Mar it is paid late
    before_pay = json.loads(cli("arrears", "--as-of", "2025-03-02").out)
    row_2025 = 2_000_000 * 3 * 2 // 10_000  # 2 days late so far
    old = 2_000_000 * 3 * (d("2025-03-02") - d("2024-02-29")).days // 10_000
    assert before_pay["totals"]["interest"] == old + row_2025
    assert before_pay["totals"]["overdue"] == 4_000_000
    paid_day = json.loads(cli("arrears", "--as-of", "2025-03-03").out)
    assert paid_day["totals"]["overdue"] == 2_000_000  # paid_on = D counts as paid
    old3 = 2_000_000 * 3 * (d("2025-03-03") - d("2024-02-29")).days // 10_000
    assert paid_day["totals"]["interest"] == old3 + 1_800  # 3 days on the paid amount
    # due_ytd on 3 Mar 2025: January 2025 (due 28 Feb) only
    assert paid_day["totals"]["due_ytd"] == 2_000_000


@pytest.mark.django_db
def test_ratio_rounds_half_up(cli) -> None:
    from ansinh.arrears.models import Contribution, Employer

    make_units()
    Employer.objects.create(code="R", name="R", unit_id="C1")
    Employer.objects.create(code="S", name="S", unit_id="C1")
    # overdue 1,000 of 800,000 due this year → 0.125 % → 0.13 (banker's rounding gives 0.12)
    Contribution.objects.create(employer_id="R", period=d("2025-03-01"), amount_due=1_000)
    Contribution.objects.create(
        employer_id="S",
        period=d("2025-03-01"),
        amount_due=799_000,
        amount_paid=799_000,
        paid_on=d("2025-04-10"),
    )
    got = json.loads(cli("arrears", "--as-of", "2025-06-30").out)
    assert got["totals"]["due_ytd"] == 800_000 and got["totals"]["arrears_pct"] == 0.13
    table = cli("arrears", "--as-of", "2025-06-30", "--format", "table").out
    assert "0,13" in table and "R" in table  # Vietnamese decimal comma
    assert "30/06/2025" in table and "2025-06-30" not in table  # the day as it is written
