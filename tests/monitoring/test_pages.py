"""Dashboard pages through the HTTP client: scoping, numbers equal to `ansinh kpi`, queries."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from ansinh.accounts.access import SYSTEM
from ansinh.core import formats
from ansinh.monitoring.services import snapshot_rebuild
from tests.monitoring.factories import (
    batch,
    counts,
    make_units,
    make_user,
    population,
    spells,
    targets,
)

KPI_CELL = re.compile(r'data-kpi="([^"]+)"[^>]*>([^<]*)<')
GAP_CELL = re.compile(r'<dt>([^<]*)</dt><dd data-kpi="([^"]+\.gap)"[^>]*>([^<]*)<')
AHEAD, SHORT = "Vượt kế hoạch", "Còn thiếu"


@pytest.fixture
def data(db: None) -> dict:
    units = make_units()
    rows = []
    for i in range(30):
        rows.append(
            (f"e{i}", "C1" if i < 20 else "C3", "si_compulsory", "employee", "2025-01-05", None)
        )
    for i in range(12):
        rows.append(
            (f"h{i}", "C2", "hi", "household", "2025-02-10", None if i % 3 else "2025-08-31")
        )
    rows.append(("v1", "C3", "si_voluntary", "freelancer", "2025-03-01", None))
    spells(rows, batch())
    counts([("2025-06-30", "C3", "hi", 250), ("2025-06-30", "C1", "ui", 3, "employee")])
    targets(
        [
            (2025, "C1", "si_compulsory", 25),
            (2025, "C3", "si_compulsory", 8),
            (2025, "C2", "hi", 20),
            (2025, "C3", "hi", 300),
            (2025, "KH", "hi_coverage", "95.0"),
        ]
    )
    population([(2025, "C1", 500), (2025, "C2", 300), (2025, "C3", 400)])
    snapshot_rebuild()
    return units


def _cells(content: str) -> dict[str, str]:
    """The page's ``data-kpi`` cells; a card's gap is shown as a magnitude under "Còn thiếu"
    or "Vượt kế hoạch" (ahead of plan): read back with that sign, as `ansinh kpi` prints it."""
    cells = {k: html.unescape(v).strip() for k, v in KPI_CELL.findall(content)}
    for label, key, value in GAP_CELL.findall(content):
        assert label in (AHEAD, SHORT), label
        value = html.unescape(value).strip()
        assert not value.startswith(("-", "−")), (key, value)  # the label carries the sign
        cells[key] = "-" + value if label == AHEAD else value
    return cells


def _fmt(key: str, value) -> str:
    if value is None:
        return "—"
    if key.endswith("_pct"):
        return formats.fmt_pct(value, lang="vi")
    return formats.fmt_int(value, lang="vi")


def _expected(cli, unit: str, as_of: str) -> dict[str, str]:
    """The page's cells as `ansinh kpi` says they must read."""
    out: dict[str, str] = {}
    top = json.loads(cli("kpi", "--as-of", as_of, "--unit", unit).out)
    for item in top["indicators"]:
        for key, value in item.items():
            if key != "code":
                out[f"{item['code']}.{key}"] = _fmt(key, value)
    by_unit = json.loads(cli("kpi", "--as-of", as_of, "--unit", unit, "--by", "unit").out)
    for row in by_unit["rows"]:
        for item in row["indicators"]:
            for key in ("participants", "attainment_pct", "coverage_pct"):
                if key in item:
                    out[f"{row['unit']}.{item['code']}.{key}"] = _fmt(key, item[key])
    by_group = json.loads(cli("kpi", "--as-of", as_of, "--unit", unit, "--by", "group").out)
    for row in by_group["rows"]:
        for item in row["indicators"]:
            if item["code"] != "hi_coverage":
                out[f"{row['group']}.{item['code']}.participants"] = _fmt(
                    "participants", item["participants"]
                )
    return out


@pytest.mark.parametrize("as_of", ["2025-06-30", "2025-07-15"])  # snapshot and live
def test_every_number_on_the_page_equals_kpi(cli, data, as_of) -> None:
    client = Client()
    client.force_login(make_user("prov", "province", data["KH"]))
    r = client.get("/", {"as_of": as_of})
    assert r.status_code == 200
    cells = _cells(r.content.decode())
    expected = _expected(cli, "KH", as_of)
    # every number the page shows is one `ansinh kpi` prints (and the page shows most of them)
    for key, shown in cells.items():
        if key in expected:
            assert shown == expected[key], key
    shown_keys = set(cells) & set(expected)
    assert len(shown_keys) >= 40
    assert cells["si_compulsory.participants"] == "30"
    assert cells["hi.participants"] == "262"  # 250 counted in C3 + 12 spells in C2 (as of June)
    # independent check of one card
    assert cells["si_compulsory.attainment_pct"] == "90,91 %"  # 30 / 33


def test_unit_page_office_scope_and_drill_down(cli, data) -> None:
    client = Client()
    client.force_login(make_user("o1", "office", data["O1"]))
    r = client.get("/", {"as_of": "2025-09-30"})
    assert r.status_code == 200
    body = r.content.decode()
    # drill-down links keep the date being looked at
    assert "BHXH Nha Trang" in body and 'href="/units/C1/?as_of=2025-09-30"' in body
    assert 'href="/units/KH/"' not in body  # the province crumb is not a link for an office
    assert client.get("/units/C1/", {"as_of": "2025-09-30"}).status_code == 200
    assert client.get("/units/O2/").status_code == 404
    assert client.get("/units/KH/").status_code == 404
    assert client.get("/units/NOPE/").status_code == 404
    cells = _cells(client.get("/units/C2/", {"as_of": "2025-09-30"}).content.decode())
    expected = _expected(cli, "C2", "2025-09-30")
    assert cells["hi.participants"] == expected["hi.participants"] == "8"  # 4 lapsed on 31 Aug
    # C3 is ahead of its compulsory plan (10 of 8): "Vượt kế hoạch 2", kpi's gap -2
    prov = Client()
    prov.force_login(make_user("p1", "province", data["KH"]))
    body = prov.get("/units/C3/", {"as_of": "2025-09-30"}).content.decode()
    assert re.search(r'<dt>Vượt kế hoạch</dt><dd data-kpi="si_compulsory\.gap"[^>]*>2</dd>', body)
    cells, expected = _cells(body), _expected(cli, "C3", "2025-09-30")
    assert cells["si_compulsory.gap"] == expected["si_compulsory.gap"] == "-2"
    assert cells["hi.gap"] == expected["hi.gap"]


def test_viewer_sees_small_counts_suppressed(data) -> None:
    client = Client()
    client.force_login(make_user("v", "viewer", data["O2"]))
    cells = _cells(client.get("/", {"as_of": "2025-09-30"}).content.decode())
    assert cells["si_voluntary.participants"] == "<5"
    assert cells["si_voluntary.gap"] == "—"  # would give the small count away
    assert cells["si_compulsory.participants"] == "10"


def test_login_required_and_query_bound(data, django_assert_max_num_queries) -> None:
    anon = Client()
    r = anon.get("/")
    assert r.status_code == 302 and "/login/" in r["Location"]
    client = Client()
    client.force_login(make_user("admin1", "admin"))
    # 45 for the figures, about 12 more for the forecast (a fixed number: one read of the
    # month-end history for every unit, targets, participants, the fan)
    with django_assert_max_num_queries(58):
        r = client.get("/", {"as_of": "2025-06-30", "scheme": "si_compulsory"})
    assert r.status_code == 200
    assert 'id="kpi-chart-data"' in r.content.decode()
    chart = json.loads(
        re.search(
            r'id="kpi-chart-data" type="application/json">(.*?)</script>', r.content.decode(), re.S
        ).group(1)
    )
    # the history ends on the as-of date; the forecast fan goes on to December
    k = chart["dates"].index("2025-06-30")
    assert chart["participants"][k] == 30 and chart["participants"][k + 1 :] == [None] * 6
    assert chart["target"][k] == 33.0 and chart["dates"][-1] == "2025-12-31"
    # the x-axis as users read it: a month-end as the month, another day in full
    assert chart["labels"][k - 2 : k + 1] == ["T4/2025", "T5/2025", "T6/2025"]

    def upto(chart: dict, day: str) -> list[str]:
        return chart["labels"][: chart["dates"].index(day) + 1]

    assert upto(_chart(client, "2025-07-15"), "2025-07-15")[-2:] == ["T6/2025", "15/07/2025"]
    client.cookies["django_language"] = "en"
    assert upto(_chart(client, "2025-07-15"), "2025-07-15")[-2:] == ["Jun 2025", "15 Jul 2025"]


def _chart(client: Client, as_of: str) -> dict:
    body = client.get("/", {"as_of": as_of}).content.decode()
    found = re.search(r'id="kpi-chart-data" type="application/json">(.*?)</script>', body, re.S)
    assert found
    return json.loads(found.group(1))


def test_empty_database_and_bad_date(db: None) -> None:
    units = make_units()
    client = Client()
    client.force_login(make_user("p0", "province", units["KH"]))
    r = client.get("/")
    assert r.status_code == 200
    assert "Chưa có dữ liệu" in r.content.decode()
    r = client.get("/", {"as_of": "2025-02-30"})
    assert r.status_code == 200
    assert "Ngày không hợp lệ" in r.content.decode()


def test_figures_cached_per_data_version(data, tmp_path, django_assert_max_num_queries) -> None:
    """A dashboard or /api/kpi asked again costs no computation; an import (new data version)
    is seen at once; the cached figures of a province user are never a viewer's (and the
    other way round)."""
    prov = Client()
    prov.force_login(make_user("p1", "province", data["KH"]))
    viewer = Client()
    viewer.force_login(make_user("v", "viewer", data["O2"]))
    first = _cells(prov.get("/units/O2/", {"as_of": "2025-09-30"}).content.decode())
    with django_assert_max_num_queries(12):  # session, user, scope, version: no figures
        again = _cells(prov.get("/units/O2/", {"as_of": "2025-09-30"}).content.decode())
    assert again == first and first["si_voluntary.participants"] == "1"
    seen = _cells(viewer.get("/", {"as_of": "2025-09-30"}).content.decode())
    assert seen["si_voluntary.participants"] == "<5"
    api = prov.get("/api/kpi", {"unit": "O2", "as_of": "2025-09-30"}).json()
    assert api == prov.get("/api/kpi", {"unit": "O2", "as_of": "2025-09-30"}).json()
    assert viewer.get("/api/kpi", {"as_of": "2025-09-30"}).json() != api  # "<5" for the viewer
    # an import of four more voluntary members in C3 shows on the next request
    f = tmp_path / "more.csv"
    f.write_text(
        "person_id,unit_code,scheme,group,start_date\n"
        + "".join(f"x{i},C3,si_voluntary,freelancer,2025-08-0{i + 1}\n" for i in range(4)),
        encoding="utf-8",
    )
    from ansinh.imports.run import import_run

    assert import_run(kind="participations", path=f, actor=SYSTEM).created == 4
    after = _cells(prov.get("/units/O2/", {"as_of": "2025-09-30"}).content.decode())
    assert after["si_voluntary.participants"] == "5"
    seen = _cells(viewer.get("/", {"as_of": "2025-09-30"}).content.decode())
    assert seen["si_voluntary.participants"] == "5"
    api = prov.get("/api/kpi", {"unit": "O2", "as_of": "2025-09-30"}).json()
    vol = next(i for i in api["indicators"] if i["code"] == "si_voluntary")
    assert vol["participants"] == 5


@pytest.mark.django_db(transaction=True)
def test_data_as_of_kept_per_data_version(data, tmp_path, django_assert_num_queries) -> None:
    """ "Data as of" costs one query (the data version) once known; an import moves it at
    once. (Committed transactions: inside one, it is always computed afresh.)"""
    import datetime as dt

    from ansinh.imports.run import import_run
    from ansinh.monitoring import selectors

    first = selectors.data_as_of()
    assert first is not None
    with django_assert_num_queries(1):
        assert selectors.data_as_of() == first
    f = tmp_path / "later.csv"
    later = first + dt.timedelta(days=3)
    f.write_text(
        "person_id,unit_code,scheme,group,start_date\n"
        f"late1,C3,si_voluntary,freelancer,{later.isoformat()}\n",
        encoding="utf-8",
    )
    assert import_run(kind="participations", path=f, actor=SYSTEM).created == 1
    assert selectors.data_as_of() == later
