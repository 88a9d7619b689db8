"""The reports page: downloads through the test client, scoped per role."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import openpyxl
import pytest

from tests.reports.conftest import monthly

URL = "/reports/"


def make_user(username: str, role: str, unit: Any = None, org: str = "") -> Any:
    from ansinh.accounts.models import User

    return User.objects.create_user(
        username=username, password="x-Secret-42", role=role, unit=unit, org=org
    )


def test_page_needs_login(client: Any, province: Any) -> None:
    res = client.get(URL)
    assert res.status_code == 302 and "/login/" in res["Location"]


def test_page_form_lists_units_in_scope(client: Any, province: Any) -> None:
    client.force_login(make_user("o1", "office", province["O1"]))
    res = client.get(URL)
    assert res.status_code == 200
    html = res.content.decode()
    assert 'value="O1"' in html and 'value="C11"' in html and 'value="C12"' in html
    assert 'value="O2"' not in html and 'value="C21"' not in html and 'value="KH"' not in html


def test_download_pdf_and_xlsx_as_province(client: Any, province: Any, cli: Any) -> None:
    client.force_login(make_user("prov", "province", province["KH"]))
    res = client.get(
        URL,
        {"as_of": "2025-09-30", "unit": "KH", "lang": "vi", "format": "pdf", "action": "download"},
    )
    assert res.status_code == 200
    assert res["Content-Type"] == "application/pdf"
    assert 'filename="progress-KH-2025-09-30.pdf"' in res["Content-Disposition"]
    assert res.content.startswith(b"%PDF") and b"DejaVuSans" in res.content

    res = client.get(
        URL,
        {"as_of": "2025-09-30", "unit": "O2", "lang": "en", "format": "xlsx", "action": "download"},
    )
    assert res.status_code == 200
    import io

    wb = openpyxl.load_workbook(io.BytesIO(res.content))
    ws = wb.worksheets[0]
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=8)]
    figures = json.loads(cli("kpi", "--as-of", "2025-09-30", "--unit", "O2").out)
    by_code = {i["code"]: i for i in figures["indicators"]}
    assert [v[2] for v in values] == [
        by_code[s]["participants"] for s in ("si_compulsory", "si_voluntary", "ui", "hi")
    ]
    assert values[0][2] == monthly("C21", "si_compulsory", dt.date(2025, 9, 30))


def test_preview_shows_headline(client: Any, province: Any) -> None:
    client.force_login(make_user("adm", "admin"))
    res = client.get(URL, {"as_of": "2025-09-30", "unit": "C11", "action": "preview"})
    assert res.status_code == 200
    html = res.content.decode()
    # C11 compulsory SI: 1.200 participants against 1.000 planned = 120,00 %
    assert "1.200" in html and "120,00 %" in html


def test_other_unit_is_404(client: Any, province: Any) -> None:
    client.force_login(make_user("o1", "office", province["O1"]))
    ok = client.get(
        URL, {"as_of": "2025-09-30", "unit": "C12", "format": "text", "action": "download"}
    )
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")
    for code in ("O2", "C21", "KH", "MISSING"):
        res = client.get(
            URL, {"as_of": "2025-09-30", "unit": code, "format": "text", "action": "download"}
        )
        assert res.status_code == 404, code


def test_partner_gets_404(client: Any, province: Any) -> None:
    client.force_login(make_user("p", "partner", province["O1"], org="womens_union"))
    assert client.get(URL).status_code == 404
    res = client.get(URL, {"as_of": "2025-09-30", "unit": "O1", "action": "download"})
    assert res.status_code == 404


@pytest.fixture
def small_commune(province: Any) -> Any:
    from ansinh.geography.models import Unit
    from ansinh.registry.models import Count

    c13 = Unit.objects.create(
        code="C13",
        name="Xã Vĩnh Lương",
        level="commune",
        parent=province["O1"],
        path="KH/O1/C13/",
        depth=2,
    )
    Count.objects.create(
        as_of=dt.date(2025, 9, 30), unit=c13, scheme="si_voluntary", participants=3
    )
    Count.objects.create(as_of=dt.date(2025, 9, 30), unit=c13, scheme="hi", participants=120)
    return c13


def test_viewer_gets_small_counts_suppressed(client: Any, small_commune: Any, cli: Any) -> None:
    client.force_login(make_user("v", "viewer", small_commune))
    res = client.get(
        URL,
        {
            "as_of": "2025-09-30",
            "unit": "C13",
            "lang": "vi",
            "format": "text",
            "action": "download",
        },
    )
    assert res.status_code == 200
    text = res.content.decode()
    line = next(ln for ln in text.splitlines() if ln.startswith("BHXH tự nguyện"))
    assert "<5" in line and " 3 " not in f" {line} "
    hi = next(ln for ln in text.splitlines() if ln.startswith("Bảo hiểm y tế"))
    assert "120" in hi
    # the command line (no actor) sees the real count
    out = cli("report", "progress", "--as-of", "2025-09-30", "--unit", "C13").out
    line = next(ln for ln in out.splitlines() if ln.startswith("BHXH tự nguyện"))
    assert line[len("BHXH tự nguyện") :].split()[:2] == ["—", "3"]  # no target, 3 persons
