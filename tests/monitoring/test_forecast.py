"""`ansinh kpi forecast` and `GET /api/forecast` (SPEC section 11) on series whose truth is
known: a yearly trend, a year-end peak and noise drawn from a known distribution."""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pytest
from django.test import Client

from ansinh.core.codes import SCHEME_CODES
from ansinh.geography.models import Unit
from ansinh.monitoring.services import snapshot_rebuild
from tests.monitoring.factories import counts, make_user, targets

# the year's shape on the log scale (January … December), relative to September
SHAPE = [-0.04, -0.04, -0.035, -0.03, -0.025, -0.02, -0.01, -0.005, 0.0, 0.05, 0.1, 0.25]
SIGMA = 0.01  # noise of each month-end on the log scale
GROWTH = 0.08  # a year, on the log scale
N_COMMUNES = 24
OFFICES = ("O1", "O2", "O3")
AS_OF = "2025-09-30"


def _month_ends(first: tuple[int, int], last: tuple[int, int]) -> list[dt.date]:
    out = []
    y, m = first
    while (y, m) <= last:
        nxt = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _units(n: int) -> list[str]:
    root = Unit.objects.create(code="KH", name="Tỉnh", level="province", path="KH/", depth=0)
    offices = {
        o: Unit.objects.create(
            code=o, name=f"Cơ sở {o}", level="office", parent=root, path=f"KH/{o}/", depth=1
        )
        for o in OFFICES
    }
    codes = []
    for i in range(n):
        o = offices[OFFICES[i % len(OFFICES)]]
        code = f"X{i:02d}"
        Unit.objects.create(
            code=code, name=f"Xã {i}", level="commune", parent=o, path=f"{o.path}{code}/", depth=2
        )
        codes.append(code)
    return codes


def _value(base: float, d: dt.date, rng: random.Random, amplitude: float) -> int:
    t = (d.year - 2025) + (d.month - 9) / 12
    return round(
        math.exp(math.log(base) + GROWTH * t + amplitude * SHAPE[d.month - 1] + rng.gauss(0, SIGMA))
    )


@pytest.fixture
def known(db: None) -> dict:
    """24 communes under 3 offices, 45 month-ends (Jan 2022 – Sep 2025) of every scheme, and the
    true 31 December 2025 of each (drawn from the same process, never loaded)."""
    rng = random.Random(11)
    codes = _units(N_COMMUNES)
    rows, truth, params = [], {}, {}
    for code in codes:
        for scheme in SCHEME_CODES:
            base = rng.uniform(300, 3000) * (20 if scheme == "hi" else 1)
            amp = rng.uniform(0.7, 1.3)
            params[(code, scheme)] = (base, amp)
            for d in _month_ends((2022, 1), (2025, 9)):
                rows.append((d.isoformat(), code, scheme, _value(base, d, rng, amp)))
            truth[(code, scheme)] = _value(base, dt.date(2025, 12, 31), rng, amp)
    counts(rows)
    # targets: some far above the truth, some just below, some well below
    trows = []
    for i, code in enumerate(codes):
        for scheme in SCHEME_CODES:
            factor = (1.3, 0.97, 0.8)[i % 3]
            trows.append((2025, code, scheme, round(truth[(code, scheme)] * factor)))
    targets(trows)
    snapshot_rebuild()
    return {"codes": codes, "truth": truth}


def _forecast(cli, *args: str) -> dict:
    r = cli("kpi", "forecast", "--year", "2025", "--as-of", AS_OF, *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_forecast_learns_the_peak_and_its_interval_holds(cli, known) -> None:
    by_office = {
        o: {row["unit"]: row for row in _forecast(cli, "--unit", o, "--by", "unit")["rows"]}
        for o in OFFICES
    }
    hits = total = 0
    errors = []
    p_far, p_low = [], []
    for i, code in enumerate(known["codes"]):
        row = by_office[OFFICES[i % len(OFFICES)]][code]
        for item in row["indicators"]:
            truth = known["truth"][(code, item["code"])]
            assert item["method"] == "seasonal" and item["history_months"] == 45
            assert item["interval"] == 80
            assert item["low"] <= item["forecast"] <= item["high"]
            total += 1
            hits += item["low"] <= truth <= item["high"]
            errors.append(abs(item["forecast"] - truth) / truth)
            # the December peak is learnt: far above September, near the truth
            assert item["forecast"] > item["participants"] * 1.15
            (p_far if i % 3 == 0 else p_low if i % 3 == 2 else []).append(item["p_meet_target"])
    # the 80 % interval holds about as often as it says (96 series)
    assert 0.65 <= hits / total <= 0.95, hits / total
    assert sum(errors) / len(errors) < 0.03
    # targets 30 % above the truth are out of reach; 20 % below, all but certain
    assert max(p_far) < 0.1 and min(p_low) > 0.9


def test_communes_add_up_to_offices_and_province(cli, known) -> None:
    province = _forecast(cli)
    assert province["year"] == 2025 and province["as_of"] == AS_OF and province["unit"] == "KH"
    assert [i["code"] for i in province["indicators"]] == list(SCHEME_CODES)
    top = {i["code"]: i["forecast"] for i in province["indicators"]}
    offices = _forecast(cli, "--by", "unit")["rows"]
    assert [r["unit"] for r in offices] == list(OFFICES)
    for scheme in SCHEME_CODES:
        office_sum = 0
        for row in offices:
            item = next(i for i in row["indicators"] if i["code"] == scheme)
            office_sum += item["forecast"]
            communes = _forecast(cli, "--unit", row["unit"], "--by", "unit")["rows"]
            assert item["forecast"] == sum(
                next(i for i in c["indicators"] if i["code"] == scheme)["forecast"]
                for c in communes
            )
        assert office_sum == top[scheme]


def test_short_history_uses_the_trend_and_says_so(cli, db: None) -> None:
    _units(2)
    rows = []
    for d in _month_ends((2025, 1), (2025, 9)):
        for k, code in enumerate(("X00", "X01")):
            rows.append((d.isoformat(), code, "hi", 1000 + 10 * d.month + k))
    counts(rows)
    targets([(2025, "X00", "hi", 1200)])
    snapshot_rebuild()
    data = _forecast(cli, "--unit", "X00")
    hi = next(i for i in data["indicators"] if i["code"] == "hi")
    assert (hi["method"], hi["history_months"]) == ("trend", 9)
    assert hi["participants"] == 1090 and 1115 <= hi["forecast"] <= 1125
    assert 0 <= hi["p_meet_target"] < 0.05
    vol = next(i for i in data["indicators"] if i["code"] == "si_voluntary")
    assert vol["participants"] == 0 and vol["target"] is None and vol["p_meet_target"] is None
    r = cli("kpi", "forecast", "--year", "2025", "--unit", "X00", "--format", "csv")
    assert r.code == 0 and r.out.startswith("indicator,participants,target,forecast,low,high")


def test_usage_and_refusals(cli, db: None) -> None:
    _units(1)
    assert cli("kpi", "forecast").code == 2  # --year is required
    assert cli("kpi", "forecast", "--year", "2025", "--by", "group").code == 2
    assert cli("kpi", "--year", "2025", "--as-of", AS_OF).code == 2  # without "forecast"
    r = cli("kpi", "forecast", "--year", "2024", "--as-of", AS_OF)
    assert r.code == 1 and "2024" in r.err and "Traceback" not in r.err
    r = cli("kpi", "forecast", "--year", "2025", "--unit", "NOPE")
    assert r.code == 1
    r = cli("kpi", "forecast", "--year", "2030", "--as-of", AS_OF)  # only up to next year
    assert r.code == 1 and "2026" in r.err


def test_api_returns_the_cli_json_within_scope(cli, known) -> None:
    expected = _forecast(cli, "--by", "unit")
    client = Client()
    assert client.get("/api/forecast", {"year": 2025}).status_code == 401
    client.force_login(make_user("t", "province", Unit.objects.get(code="KH")))
    r = client.get("/api/forecast", {"year": 2025, "as_of": AS_OF, "by": "unit"})
    assert r.status_code == 200 and r.json() == expected
    office = Client()
    office.force_login(make_user("o", "office", Unit.objects.get(code="O1")))
    assert office.get("/api/forecast", {"year": 2025, "unit": "O2"}).status_code == 404
    r = office.get("/api/forecast", {"year": 2025, "as_of": AS_OF})
    assert r.status_code == 200 and r.json()["unit"] == "O1"
    assert office.get("/api/forecast", {"year": 2024, "as_of": AS_OF}).status_code == 400
    assert office.get("/api/forecast", {"by": "group"}).status_code == 400


def test_viewer_small_cells(cli, db: None) -> None:
    _units(1)
    counts([(d.isoformat(), "X00", "si_voluntary", 3) for d in _month_ends((2025, 1), (2025, 9))])
    snapshot_rebuild()
    viewer = Client()
    viewer.force_login(make_user("v", "viewer", Unit.objects.get(code="X00")))
    r = viewer.get("/api/forecast", {"year": 2025, "as_of": AS_OF})
    vol = next(i for i in r.json()["indicators"] if i["code"] == "si_voluntary")
    assert vol["participants"] == "<5" and vol["forecast"] == "<5"


def test_dashboard_and_report_warn_early(cli, known) -> None:
    client = Client()
    client.force_login(make_user("t", "province", Unit.objects.get(code="KH")))
    html = client.get("/", {"as_of": AS_OF, "scheme": "hi"}).content.decode()
    # every card: the forecast, its interval and the chance of reaching the target
    province = {i["code"]: i for i in _forecast(cli)["indicators"]}
    assert 'data-forecast="hi"' in html and 'data-forecast-p="hi"' in html
    hi = province["hi"]
    low, high = (f"{v:,}".replace(",", ".") for v in (hi["low"], hi["high"]))
    assert f"({low}–{high})" in html
    # the early warning lists the communes whose target is 30 % above the truth, not the others
    table = html.split('id="at-risk"', 1)[1].split("</table>", 1)[0]
    assert 'data-unit="X00"' in table and 'data-unit="X02"' not in table
    # the chart carries the fan to December
    chart = json.loads(
        html.split('id="kpi-chart-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    )
    assert chart["dates"][-1] == "2025-12-31" and chart["forecast"][-1] == hi["forecast"]
    assert chart["low"][-1] == hi["low"] and chart["high"][-1] == hi["high"]
    r = cli("report", "progress", "--as-of", AS_OF, "--format", "text")
    assert r.code == 0, r.err
    assert "CẢNH BÁO SỚM" in r.out and "Xã 0 " in r.out and "DỰ BÁO CUỐI NĂM 2025" in r.out
