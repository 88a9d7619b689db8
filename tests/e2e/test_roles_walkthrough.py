"""A person opens the demo as each role: logs in over the real form, visits every page of the
navigation at desktop and phone width, and meets no error, no untranslated placeholder, the
page's key content, a 404 on another unit's page; the admin's dashboard shows the province's
September 2025 figures exactly as `ansinh kpi` computes them. Screenshots go to
$ANSINH_SHOTS/ansinh-shots (default: the temp folder)."""

from __future__ import annotations

import io
import json
import re
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest

from ansinh.core import formats
from ansinh.demo.load import DEMO_LOGINS
from tests.e2e.conftest import form_login

pytestmark = pytest.mark.browser

LOGINS = {d.username: d for d in DEMO_LOGINS}
ALL = {"/", "/imports/", "/plans/", "/activities/", "/funnel/", "/worklists/", "/arrears/",
       "/reports/", "/audit/"}  # fmt: skip
NAV = {
    "admin": ALL,
    "tinh": ALL - {"/audit/"},
    "coso.khanhson": ALL - {"/audit/"},
    "phunu": {"/", "/activities/", "/funnel/"},
    "xem.nhatrang": {"/", "/plans/", "/activities/", "/funnel/", "/arrears/", "/reports/"},
}
# what each page must show (its heading, at least)
KEY = {
    "/": "người tham gia",
    "/imports/": "Nhập dữ liệu",
    "/plans/": "Kế hoạch truyền thông",
    "/activities/": "Hoạt động truyền thông",
    "/funnel/": "Hiệu quả truyền thông",
    "/worklists/": "Danh sách theo dõi",
    "/arrears/": "Chậm đóng BHXH, BHYT, BHTN",
    "/reports/": "Báo cáo tiến độ",
    "/audit/": "Nhật ký truy cập",
}
# another unit's page (or a page the role may not open): the same 404 as a missing one
FORBIDDEN = {
    "admin": ["/units/KHONG-CO/", "/people/KHONG-CO/"],
    "tinh": ["/audit/", "/users/", "/units/KHONG-CO/"],
    "coso.khanhson": ["/units/BHXH-NT/", "/units/22366/", "/units/56/", "/audit/", "/users/"],
    "phunu": ["/people/5638000000/", "/arrears/", "/imports/", "/worklists/", "/reports/"],
    "xem.nhatrang": ["/units/56/", "/units/BHXH-NT/", "/units/22714/", "/people/5638000000/",
                     "/worklists/", "/imports/"],
}  # fmt: skip
# things that must never reach a user: template/gettext placeholders, Python leftovers
LEAKS = re.compile(
    r"%\(\w+\)[sd]|\{\{|\{%|\bNone\b|\bnan\b|Traceback|Server Error|\[object Object\]"
)


def _check_page(pg: Any, path: str, *, status: int = 200) -> dict[str, Any]:
    began = time.monotonic()
    response = pg.goto(pg.base + path)
    pg.wait_for_load_state("load")
    elapsed = time.monotonic() - began
    assert response is not None and response.status == status, (path, response.status)
    text = pg.inner_text("main")
    if status == 200:
        assert not LEAKS.findall(text), (path, LEAKS.findall(text))
        assert pg.inner_text("main h1").strip(), path
    return {"text": text, "elapsed": elapsed}


@pytest.mark.parametrize("username", list(NAV))
def test_role_walks_every_page(demo_page, shot, username) -> None:
    pg = demo_page
    login = LOGINS[username]
    form_login(pg, login.username, login.password)
    assert pg.url.rstrip("/") == pg.base.rstrip("/"), pg.url  # landed on the dashboard
    links = pg.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")
    assert set(links) == NAV[username]
    timings = {}
    for path in sorted(NAV[username]):
        page = _check_page(pg, path)
        assert KEY[path] in page["text"], path
        timings[path] = round(page["elapsed"], 2)
        slug = path.strip("/").replace("/", "-") or "dashboard"
        shot(pg, f"walk-{username}-{slug}")
    assert max(timings.values()) < 5, timings  # the demo on 2 shared cores; ~0.1–0.6 s alone
    for path in FORBIDDEN[username]:
        page = _check_page(pg, path, status=404)
        assert "Traceback" not in page["text"]
    assert pg.js_errors == []
    # the navigation on one line at desktop widths (1200 px and up), in both languages
    one_line = (
        "(() => { const a = [...document.querySelectorAll('header nav a')]; "
        "return new Set(a.map(e => Math.round(e.getBoundingClientRect().top))).size === 1 })()"
    )
    for width in (1280, 1200):
        pg.set_viewport_size({"width": width, "height": 900})
        for lang in ("vi", "en"):
            pg.context.add_cookies([{"name": "django_language", "value": lang, "url": pg.base}])
            pg.goto(pg.base + "/?as_of=2025-09-30")
            assert pg.evaluate(one_line), (username, width, lang)
    pg.context.add_cookies([{"name": "django_language", "value": "vi", "url": pg.base}])
    # the dashboard at phone width: nothing wider than the screen
    pg.set_viewport_size({"width": 390, "height": 844})
    _check_page(pg, "/?as_of=2025-09-30")
    wide = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    shot(pg, f"walk-{username}-phone")
    assert wide <= 1, f"the page is {wide}px wider than a phone"
    _every_page_fits_a_phone(pg, shot, username)


# at 390 px: no page wider than the screen, no table scrolling sideways inside, every table a
# stack of cards whose cells carry their column's label, the navigation behind the menu button
PHONE_CHECK = """() => ({
  wide: document.documentElement.scrollWidth - window.innerWidth,
  tables: [...document.querySelectorAll('main table')].map(t => ({
    id: t.id || t.className, cards: t.classList.contains('rt'),
    inner: t.scrollWidth - t.clientWidth,
    labelled: t.querySelectorAll('td[data-label]').length,
    cells: t.querySelectorAll('tbody td:not([colspan])').length})),
  out: [...document.querySelectorAll('main *')]
    .filter(e => !e.closest('thead') && e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map(e => e.tagName + '.' + e.className),
  nav: getComputedStyle(document.querySelector('header nav')).display,
})"""


def _every_page_fits_a_phone(pg: Any, shot: Any, username: str) -> None:
    for lang in ("vi", "en"):
        pg.context.add_cookies([{"name": "django_language", "value": lang, "url": pg.base}])
        for path in sorted(NAV[username]):
            _check_page(pg, path)
            got = pg.evaluate(PHONE_CHECK)
            where = (username, lang, path)
            assert got["wide"] <= 1 and not got["out"], (where, got["wide"], got["out"])
            assert got["nav"] == "none", where  # folded behind the menu button
            for t in got["tables"]:
                assert t["cards"] and t["inner"] <= 1, (where, t)
                if t["cells"]:
                    assert t["labelled"] > 0, (where, t)
            slug = path.strip("/").replace("/", "-") or "dashboard"
            shot(pg, f"phone-{username}-{lang}-{slug}")
    pg.click("header button.menu")
    assert pg.is_visible("header nav a[href='/activities/']")
    pg.context.add_cookies([{"name": "django_language", "value": "vi", "url": pg.base}])


def _cli(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """`ansinh ARGS` in-process (the demo site's database is the test database)."""
    from ansinh.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


GAP_LABELS = {"Còn thiếu": "", "Vượt kế hoạch": "-", "Gap": "", "Ahead of plan": "-"}


def _cells(pg: Any) -> dict[str, str]:
    """The ``data-kpi`` cells; a card's gap reads as a magnitude under "Còn thiếu" or "Vượt
    kế hoạch" (ahead of plan): read back with the sign its label says, as `ansinh kpi` has it."""
    cells: dict[str, str] = pg.eval_on_selector_all(
        "[data-kpi]",
        "els => Object.fromEntries(els.map(e => [e.dataset.kpi, e.textContent.trim()]))",
    )
    labels: dict[str, str] = pg.eval_on_selector_all(
        "dt + dd[data-kpi$='.gap']",
        "els => Object.fromEntries(els.map("
        "e => [e.dataset.kpi, e.previousElementSibling.textContent.trim()]))",
    )
    for key, label in labels.items():
        assert label in GAP_LABELS, label
        assert not cells[key].startswith(("-", "−")), (key, cells[key])  # the label says it
        cells[key] = GAP_LABELS[label] + cells[key]
    return cells


def test_new_admin_sees_the_september_figures_as_kpi_computes_them(demo_page, shot) -> None:
    pg = demo_page
    code, _out, err = _cli(
        "user", "add", "quantri", "--role", "admin", "--password-stdin",
        stdin="Quan-Tri-Khanh-Hoa-2025\n",
    )  # fmt: skip
    assert code == 0, err
    form_login(pg, "quantri", "Quan-Tri-Khanh-Hoa-2025")
    _check_page(pg, "/?as_of=2025-09-30")
    shot(pg, "admin-dashboard-2025-09-30")
    cells = _cells(pg)
    assert cells["si_compulsory.participants"] == "269.801"
    assert cells["si_compulsory.attainment_pct"] == "125,52 %"
    assert cells["hi_coverage.coverage_pct"] == "93,31 %"
    assert cells["hi_coverage.participants"] == "1.762.678"
    assert cells["si_compulsory.gap"].startswith("-")  # 125,52 %: shown as ahead of plan

    # every number of the page is the one `ansinh kpi` prints
    def fmt(key: str, value: Any) -> str:
        if value is None:
            return "—"
        return (
            formats.fmt_pct(value, lang="vi")
            if key.endswith("_pct")
            else (formats.fmt_int(value, lang="vi"))
        )

    expected: dict[str, str] = {}
    code, out, err = _cli("kpi", "--as-of", "2025-09-30", "--format", "json")
    assert code == 0, err
    for item in json.loads(out)["indicators"]:
        for key, value in item.items():
            if key != "code":
                expected[f"{item['code']}.{key}"] = fmt(key, value)
    code, out, err = _cli("kpi", "--as-of", "2025-09-30", "--by", "unit", "--format", "json")
    for row in json.loads(out)["rows"]:
        for item in row["indicators"]:
            for key in ("participants", "attainment_pct", "coverage_pct"):
                if key in item:
                    expected[f"{row['unit']}.{item['code']}.{key}"] = fmt(key, item[key])
    code, out, err = _cli("kpi", "--as-of", "2025-09-30", "--by", "group", "--format", "json")
    for row in json.loads(out)["rows"]:
        for item in row["indicators"]:
            if item["code"] != "hi_coverage":
                expected[f"{row['group']}.{item['code']}.participants"] = fmt(
                    "participants", item["participants"]
                )
    compared = {k: v for k, v in cells.items() if k in expected}
    assert len(compared) >= 100
    assert compared == {k: expected[k] for k in compared}

    # the child table is sorted by attainment of the chosen scheme (HI by default)
    order = pg.eval_on_selector_all("#children tbody tr", "rows => rows.map(r => r.dataset.unit)")
    pct = [
        float(cells[f"{u}.hi.attainment_pct"].replace(" %", "").replace(",", ".")) for u in order
    ]
    assert len(order) == 15 and pct == sorted(pct)  # the 15 grassroots offices
    # the chart: participants with the year's target as a line, drawn
    data = json.loads(pg.inner_text("#kpi-chart-data"))
    # twelve month-ends to September, then the forecast fan to December
    assert len(data["participants"]) == 15 and data["participants"][11] == 1_762_678
    assert data["participants"][12:] == [None] * 3 and data["target"][-1] == 1_813_455
    assert data["dates"][-1] == "2025-12-31" and data["low"][-1] <= data["forecast"][-1]
    assert pg.evaluate("document.getElementById('kpi-chart').width") > 0
    # the lagging communes and the group breakdown are there
    assert pg.locator("#lagging tbody tr").count() == 10
    assert pg.locator("#groups tbody tr").count() >= 8

    # drill down: province → office → commune, with the crumbs back up
    pg.click("#children a[href^='/units/BHXH-KS/']")
    pg.wait_for_load_state("load")
    assert "/units/BHXH-KS/" in pg.url and "as_of=2025-09-30" in pg.url
    assert "BHXH cơ sở Khánh Sơn" in pg.inner_text("main h1")
    first = pg.eval_on_selector("#children tbody tr a", "a => a.getAttribute('href')")
    pg.click(f"#children a[href^='{first.split('?')[0]}']")
    pg.wait_for_load_state("load")
    assert pg.inner_text("main h1").strip().endswith("· " + first.split("/")[2] + ")")
    crumbs = pg.inner_text("nav.crumbs")
    assert "Tỉnh Khánh Hòa" in crumbs and "BHXH cơ sở Khánh Sơn" in crumbs
    shot(pg, "admin-commune-2025-09-30")

    # the English switch keeps the date and formats numbers the English way
    pg.goto(pg.base + "/?as_of=2025-09-30")
    pg.click("header form.lang button")
    pg.wait_for_load_state("load")
    cells = _cells(pg)
    assert cells["si_compulsory.participants"] == "269,801"
    assert cells["hi_coverage.coverage_pct"] == "93.31%"
    assert cells["si_compulsory.gap"].startswith("-")
    card = pg.inner_text(".card[data-code='si_compulsory']")
    assert "Ahead of plan" in card and "Gap" not in card
    assert pg.js_errors == []


def test_unmask_is_audited_and_logout_works(demo_page, shot) -> None:
    pg = demo_page
    office = LOGINS["coso.khanhson"]
    form_login(pg, office.username, office.password)
    text = _check_page(pg, "/people/5638000000/")["text"]
    assert "*" in text and "được ghi nhật ký" in text
    pg.click("text=Hiện đầy đủ")
    pg.wait_for_load_state("load")
    assert "lượt xem này đã được ghi vào nhật ký" in pg.inner_text("main")
    shot(pg, "office-person-unmasked")
    pg.click("header form.inline button")  # Đăng xuất
    pg.wait_for_load_state("load")
    assert "/login/" in pg.url and "Bạn đã đăng xuất." in pg.inner_text("main")
    assert pg.goto(pg.base + "/people/5638000000/").url.startswith(pg.base + "/login/")
    admin = LOGINS["admin"]
    form_login(pg, admin.username, admin.password)
    page = _check_page(pg, f"/audit/?actor={office.username}&object_id=5638000000")
    rows = pg.locator("#audit tbody tr")
    assert rows.count() >= 1 and "person" in page["text"]
    shot(pg, "admin-audit-unmask")
    with pg.expect_download() as dl:
        pg.click("#audit-export")
    content = open(dl.value.path(), encoding="utf-8-sig").read()
    assert content.startswith("at,actor,action") and "5638000000" in content
