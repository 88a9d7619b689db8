"""Facts of before 1 July 2025 keyed by the former communes count in today's communes (SPEC
section 9, issue 16 item 2): a unit code is read by the fact's date, a former commune's counts,
population and targets count in each successor times its share, a person's spell in the
successor with the largest share. Through the CLI and the HTTP client."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ansinh.geography.models import Unit
from ansinh.registry.models import Count

pytestmark = pytest.mark.django_db


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _kpi(cli, as_of: str, unit: str | None = None, *extra: str) -> dict:
    args = ["kpi", "--as-of", as_of, "--format", "json", *extra]
    if unit:
        args += ["--unit", unit]
    r = cli(*args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def _hi(data: dict) -> dict:
    return next(i for i in data["indicators"] if i["code"] == "hi")


def _load(cli, tmp_path: Path, kind: str, text: str) -> None:
    r = cli("import", kind, str(_write(tmp_path / f"{kind}.csv", text)))
    assert r.code == 0, r.err


@pytest.fixture
def legacy(cli) -> None:
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0, r.err


COUNTS = (
    "as_of,unit_code,scheme,participants\n"
    "2024-12-31,22411,hi,100\n"  # Phường Cam Phúc Bắc until 30/06/2025 -> Bắc Cam Ranh
    "2024-12-31,22408,hi,50\n"  # Phường Cam Nghĩa -> Bắc Cam Ranh
    "2024-12-31,22468,hi,30\n"  # Xã Cam Thành Nam -> Bắc Cam Ranh
    "2024-12-31,22435,hi,101\n"  # Xã Cam Hiệp Bắc, divided (main successor 22708)
    "2024-12-31,22438,hi,7\n"  # Xã Cam Hiệp Nam, divided (main successor 22453)
    "2025-09-30,22411,hi,200\n"  # Phường Bắc Cam Ranh (today's unit)
    "2025-07-31,22708,hi,90\n"  # Xã Cam Lâm (today's unit)
)


def test_a_code_is_read_by_the_date_and_counts_in_the_successors(
    cli, tmp_path: Path, legacy: None
) -> None:
    _load(cli, tmp_path, "counts", COUNTS)
    stored = dict(Count.objects.values_list("unit_id", "participants").filter(scheme="hi"))
    assert stored["22411@2025"] == 100 and stored["22408@2025"] == 50
    assert Count.objects.get(unit_id="22411", as_of=dt.date(2025, 9, 30)).participants == 200
    # Bắc Cam Ranh took Cam Phúc Bắc, Cam Nghĩa and Cam Thành Nam whole
    assert _hi(_kpi(cli, "2024-12-31", "22411"))["participants"] == 180
    assert _hi(_kpi(cli, "2025-06-30", "22411"))["participants"] == 180  # a count stands
    # ... until today's commune has a count of its own, which replaces it
    assert _hi(_kpi(cli, "2025-07-31", "22411"))["participants"] == 180
    assert _hi(_kpi(cli, "2025-09-30", "22411"))["participants"] == 200
    assert _hi(_kpi(cli, "2025-07-15", "22708"))["participants"] == 101
    assert _hi(_kpi(cli, "2025-07-31", "22708"))["participants"] == 90
    # a divided former commune: by default the whole to the main successor
    assert _hi(_kpi(cli, "2024-12-31", "22708"))["participants"] == 101
    assert _hi(_kpi(cli, "2024-12-31", "22453"))["participants"] == 7
    assert _hi(_kpi(cli, "2024-12-31"))["participants"] == 288
    # the former unit keeps its own figure
    assert _hi(_kpi(cli, "2024-12-31", "22411@2025"))["participants"] == 100


def test_shares_round_half_up_with_the_difference_to_the_largest(
    cli, tmp_path: Path, legacy: None
) -> None:
    _load(cli, tmp_path, "counts", COUNTS)
    _load(
        cli,
        tmp_path,
        "successors",
        "legacy_code,successor_code,share\n"
        "22435,22708,0.5\n22435,22453,0.3\n22435,22435,0.2\n"
        "22438,22453,0.5\n22438,22435,0.25\n22438,22708,0.25\n",
    )
    # 101: 50.5 -> 51, 30.3 -> 30, 20.2 -> 20; 7: 3.5 -> 4, 1.75 -> 2, 1.75 -> 2 (8: the
    # successor with the largest share gives one back: 3)
    want = {"22708": 51 + 2, "22453": 30 + 3, "22435": 20 + 2}
    for code, n in want.items():
        assert _hi(_kpi(cli, "2024-12-31", code))["participants"] == n, code
    by_unit = _kpi(cli, "2024-12-31", None, "--by", "unit")
    rows = {r["unit"]: _hi(r)["participants"] for r in by_unit["rows"]}
    assert {c: rows[c] for c in want} == want
    assert sum(rows.values()) == 288 == _hi(_kpi(cli, "2024-12-31"))["participants"]


def test_snapshot_month_before_and_live_agree(cli, tmp_path: Path, legacy: None) -> None:
    from ansinh.monitoring.selectors import leaf_rows, series_all

    _load(cli, tmp_path, "counts", COUNTS)
    _load(
        cli,
        tmp_path,
        "participations",
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P1,22408,hi,household,2024-01-01,2025-05-31\n"
        "P2,22435,hi,household,2024-01-01,2025-03-31\n"
        "P3,22411,hi,household,2024-06-01,\n",
    )
    for code in ("56", "22411", "22708"):
        unit = Unit.objects.get(code=code)
        for day in (
            dt.date(2024, 12, 31),
            dt.date(2025, 1, 15),
            dt.date(2025, 5, 31),
            dt.date(2025, 7, 15),
            dt.date(2025, 7, 31),
            dt.date(2025, 8, 20),
            dt.date(2025, 9, 30),
        ):

            def totals(rows: list) -> dict:
                out: dict = {}
                for r in rows:
                    if r.in_total:
                        out[r.scheme] = out.get(r.scheme, 0) + r.participants
                return out

            assert totals(leaf_rows(unit=unit, as_of=day)) == totals(
                leaf_rows(unit=unit, as_of=day, live=True)
            ), (code, day)
        series = series_all(unit=unit, months=12, as_of=dt.date(2025, 9, 30))["hi"]
        for d, n in series:
            live = sum(
                r.participants
                for r in leaf_rows(unit=unit, as_of=d, live=True)
                if r.in_total and r.scheme == "hi"
            )
            assert n == live, (code, d)
    before = [_kpi(cli, d, u) for d in ("2024-12-31", "2025-01-15") for u in ("22411", "22708")]
    assert cli("kpi", "--rebuild").code == 0
    assert [
        _kpi(cli, d, u) for d in ("2024-12-31", "2025-01-15") for u in ("22411", "22708")
    ] == before


def test_spells_count_in_the_successor_with_the_largest_share(
    cli, tmp_path: Path, legacy: None
) -> None:
    _load(
        cli,
        tmp_path,
        "participations",
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P1,22408,hi,household,2024-01-01,2025-05-31\n"  # Cam Nghĩa (ended before July)
        "P2,22435,hi,household,2024-01-01,2025-03-31\n"  # Cam Hiệp Bắc, divided
        "P3,22411,hi,household,2024-06-01,\n"  # open: read on the day of the import
        "P4,22411,hi,household,2024-01-01,2025-06-30\n",  # Cam Phúc Bắc
    )
    from ansinh.registry.models import Spell

    units = dict(Spell.objects.values_list("person_id", "unit_id"))
    assert units == {"P1": "22408@2025", "P2": "22435@2025", "P3": "22411", "P4": "22411@2025"}
    assert _hi(_kpi(cli, "2024-12-31", "22411"))["participants"] == 3
    assert _hi(_kpi(cli, "2024-12-31", "22708"))["participants"] == 1
    assert _hi(_kpi(cli, "2025-07-31", "22411"))["participants"] == 1
    # shares set: 22453 now has the largest share of Cam Hiệp Bắc, and takes its persons
    _load(
        cli,
        tmp_path,
        "successors",
        "legacy_code,successor_code,share\n22435,22453,0.6\n22435,22708,0.4\n",
    )
    assert _hi(_kpi(cli, "2024-12-31", "22708"))["participants"] == 0
    assert _hi(_kpi(cli, "2024-12-31", "22453"))["participants"] == 1
    assert _hi(_kpi(cli, "2024-12-31"))["participants"] == 4


def test_population_and_targets_of_former_communes(cli, tmp_path: Path, legacy: None) -> None:
    _load(cli, tmp_path, "counts", COUNTS)
    _load(
        cli,
        tmp_path,
        "population",
        "year,unit_code,population\n2024,22411,1000\n2024,22408,500\n2024,22468,301\n"
        "2025,22411,2000\n",
    )
    _load(
        cli,
        tmp_path,
        "targets",
        "year,unit_code,indicator,target\n2024,22411,hi,90\n2024,22408,hi,60\n"
        "2024,22435,hi,101\n2025,22411,hi,210\n",
    )
    from ansinh.targets.models import Target

    assert set(Target.objects.values_list("unit_id", "year")) == {
        ("22411@2025", 2024),
        ("22408@2025", 2024),
        ("22435@2025", 2024),
        ("22411", 2025),
    }
    data = _kpi(cli, "2024-12-31", "22411")
    cov = next(i for i in data["indicators"] if i["code"] == "hi_coverage")
    assert cov["population"] == 1801 and cov["participants"] == 180
    assert cov["coverage_pct"] == 9.99  # 180 / 1801
    assert _hi(data)["target"] == 150
    assert _hi(_kpi(cli, "2024-12-31", "22708"))["target"] == 101
    assert _hi(_kpi(cli, "2024-12-31"))["target"] == 251
    data = _kpi(cli, "2025-09-30", "22411")
    assert _hi(data)["target"] == 210
    assert next(i for i in data["indicators"] if i["code"] == "hi_coverage")["population"] == 2000


def test_codes_out_of_their_time_are_refused(cli, tmp_path: Path, legacy: None) -> None:
    f = _write(
        tmp_path / "bad.csv",
        "as_of,unit_code,scheme,participants\n"
        "2024-12-31,22411,hi,100\n"  # 2: fine
        "2025-09-30,22411@2025,hi,5\n"  # 3: a former unit after 30/06/2025
        "2024-12-31,569,hi,5\n"  # 4: a former district (no successor)
        "2025-09-30,22408,hi,5\n",  # 5: 22408 is no unit of today
    )
    r = cli("import", "counts", str(f))
    assert r.code == 1
    assert "dòng 3, cột unit_code: đơn vị này chỉ còn hiệu lực đến hết 30/06/2025" in r.err
    assert "dòng 4, cột unit_code: trước 01/07/2025 mã này là một tỉnh hay huyện cũ" in r.err
    assert "dòng 5, cột unit_code: không có đơn vị mã này" in r.err
    assert not Count.objects.exists()
    p = _write(
        tmp_path / "p.csv",
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P1,22408,hi,household,2025-08-01,\n",  # open: read today, and 22408 is gone
    )
    r = cli("import", "participations", str(p))
    assert r.code == 1 and "dòng 2, cột unit_code: không có đơn vị mã này" in r.err


def test_without_legacy_codes_mean_todays_units(cli, tmp_path: Path) -> None:
    assert cli("units", "official", "--province", "56").code == 0
    _load(cli, tmp_path, "counts", "as_of,unit_code,scheme,participants\n2024-12-31,22411,hi,100\n")
    assert Count.objects.get().unit_id == "22411"
    assert _hi(_kpi(cli, "2024-12-31", "22411"))["participants"] == 100


def test_dashboard_trend_reads_across_the_reorganisation(
    client, cli, tmp_path: Path, legacy: None
) -> None:
    from django.contrib.auth import get_user_model

    _load(cli, tmp_path, "counts", COUNTS)
    user = get_user_model().objects.create_user(
        username="tinh", password="pw", role="province", unit=Unit.objects.get(code="56")
    )
    client.force_login(user)
    page = client.get("/units/22411/?as_of=2025-09-30&scheme=hi").content.decode()
    start = page.index('id="kpi-chart-data"')
    chart = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    points = dict(zip(chart["dates"], chart["participants"], strict=True))
    assert points["2024-12-31"] == 180 and points["2025-06-30"] == 180
    assert points["2025-07-31"] == 180 and points["2025-09-30"] == 200


def test_report_compares_with_the_same_month_last_year(cli, tmp_path: Path, legacy: None) -> None:
    _load(
        cli,
        tmp_path,
        "counts",
        "as_of,unit_code,scheme,participants\n"
        "2024-09-30,22411,hi,100\n2024-09-30,22408,hi,50\n2024-09-30,22468,hi,30\n"
        "2025-09-30,22411,hi,200\n",
    )
    r = cli("report", "progress", "--as-of", "2025-09-30", "--unit", "22411", "--format", "text")
    assert r.code == 0, r.err
    line = next(x for x in r.out.splitlines() if x.startswith("Bảo hiểm y tế "))
    # participants 200; against the month before (180, last year's count standing) and the
    # same month last year (180: Cam Phúc Bắc, Cam Nghĩa and Cam Thành Nam on 30/09/2024)
    assert line.split()[4:9] == ["—", "200", "—", "+20", "+20"]
    assert "cùng kỳ năm trước: 30/09/2024" in r.out


def test_worklists_put_persons_of_former_communes_in_todays(
    cli, tmp_path: Path, legacy: None
) -> None:
    from ansinh.arrears.models import FollowUp

    _load(
        cli,
        tmp_path,
        "participations",
        "person_id,unit_code,scheme,group,start_date,end_date,household_id\n"
        "P1,22408,hi,household,2024-01-01,2025-06-20,H1\n"  # Cam Nghĩa: lapsed in June
        "P2,22411,hi,household,2024-01-01,,H1\n"  # covered today in Bắc Cam Ranh
        "P3,22435,si_voluntary,freelancer,2024-01-01,2025-06-25,\n",  # divided, main 22708
    )
    r = cli("worklists", "sync", "--as-of", "2025-08-15")
    assert r.code == 0, r.err
    units = {(f.kind, f.person_id or f.household_id): f.unit_id for f in FollowUp.objects.all()}
    assert units[("lapsed", "P1")] == "22411"
    assert units[("lapsed", "P3")] == "22708"
    assert units[("household", "H1")] == "22411"
    assert not any("@" in u for u in units.values())
