"""A former commune and its successor in a real browser (SPEC section 9): the page of a
commune in force until 30 June 2025 names it by its code and end date and links to the commune
of today that took it; that commune's page lists what it was formed from."""

from __future__ import annotations

from typing import Any

import pytest

from ansinh.accounts.access import SYSTEM

pytestmark = pytest.mark.browser


@pytest.fixture
def province(transactional_db: None) -> None:
    from django.contrib.auth import get_user_model

    from ansinh.geography.models import Unit
    from ansinh.geography.services import units_official_load

    assert units_official_load(province="56", legacy=True, actor=SYSTEM) is not None
    get_user_model().objects.create_user(
        username="tinh", password="pw-tinh", role="province", unit=Unit.objects.get(code="56")
    )


def test_former_commune_links_to_its_successor_and_back(
    page: Any, login: Any, province: None, shot: Any
) -> None:
    login(page, "tinh", "pw-tinh")
    page.goto(f"{page.base}/units/22411@2025/")
    assert page.locator("h1").inner_text().strip() == (
        "Phường Cam Phúc Bắc (Xã, phường · 22411 (đến 30/06/2025))"
    )
    assert "đến 30/06/2025" in page.locator("#unit-successors").inner_text()
    shot(page, "former-commune")
    page.click("#unit-successors a:has-text('Phường Bắc Cam Ranh')")
    page.wait_for_load_state("load")
    assert page.url.endswith("/units/22411/")
    text = page.locator("#unit-predecessors").inner_text()
    for name in ("Phường Cam Phúc Bắc", "Phường Cam Nghĩa", "Xã Cam Thành Nam"):
        assert name in text
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "successor-commune-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("#unit-predecessors a:has-text('Phường Cam Nghĩa')")
    page.wait_for_load_state("load")
    assert "22408 (đến 30/06/2025)" in page.locator("h1").inner_text()
    assert page.js_errors == []


def test_trend_reads_across_the_reorganisation(
    page: Any, login: Any, province: None, tmp_path: Any, shot: Any
) -> None:
    """Last year's counts keyed by the former communes, loaded through the import page's
    service, show in the trend of today's commune."""
    from ansinh.imports.run import import_run

    f = tmp_path / "counts.csv"
    f.write_text(
        "as_of,unit_code,scheme,participants\n"
        "2024-12-31,22411,hi,100\n2024-12-31,22408,hi,50\n2024-12-31,22468,hi,30\n"
        "2025-09-30,22411,hi,200\n",
        encoding="utf-8",
    )
    assert not import_run(kind="counts", path=f, actor=SYSTEM).refused
    login(page, "tinh", "pw-tinh")
    page.goto(f"{page.base}/units/22411/?as_of=2025-09-30&scheme=hi")
    chart = page.evaluate("JSON.parse(document.getElementById('kpi-chart-data').textContent)")
    points = dict(zip(chart["dates"], chart["participants"], strict=True))
    assert points["2024-12-31"] == 180 and points["2025-06-30"] == 180
    assert points["2025-09-30"] == 200
    assert page.locator('[data-kpi="hi.participants"]').first.inner_text().strip() == "200"
    shot(page, "trend-across-reorganisation")
    assert page.js_errors == []
