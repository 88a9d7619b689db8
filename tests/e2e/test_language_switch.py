"""The language switch in a real browser: an English-configured browser still gets Vietnamese
first; the header button turns the pages (and their number formats) to English before and
after logging in, the choice survives logging out and in, and the button turns it back."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def province(transactional_db: None) -> None:
    from ansinh.monitoring.services import snapshot_rebuild
    from tests.monitoring.factories import counts, make_units, make_user, population, targets

    units = make_units()
    counts([("2025-09-30", "C1", "si_compulsory", 269801), ("2025-09-30", "C1", "hi", 1762678)])
    targets([(2025, "C1", "si_compulsory", 214950), (2025, "KH", "hi_coverage", "95.0")])
    population([(2025, "C1", 1889000)])
    snapshot_rebuild()
    make_user("tinh", "province", units["KH"])


def _card(pg: Any, key: str) -> str:
    return str(pg.locator(f'[data-kpi="{key}"]').first.inner_text()).strip()


def test_switch_to_english_and_back(
    browser: Any, live_server: Any, province: None, shot: Any
) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url

    pg.goto(f"{base}/login/")
    assert pg.locator("html").get_attribute("lang") == "vi"  # whatever the browser says
    assert pg.locator("h1").inner_text() == "Đăng nhập"
    pg.click("button[name=language][value=en]")
    pg.wait_for_load_state("networkidle")
    assert pg.locator("html").get_attribute("lang") == "en"
    assert pg.locator("h1").inner_text() == "Log in"

    pg.fill("input[name=username]", "tinh")
    pg.fill("input[name=password]", "pw-tinh")
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")
    pg.goto(f"{base}/?as_of=2025-09-30")
    pg.wait_for_load_state("networkidle")
    nav = pg.locator("header nav").inner_text()
    assert "Dashboard" in nav and "Outreach" in nav and "Arrears" in nav and "Tổng quan" not in nav
    assert pg.locator("header nav a[href='/plans/']").get_attribute("title") == "Communication plan"
    assert _card(pg, "si_compulsory.participants") == "269,801"
    assert _card(pg, "si_compulsory.attainment_pct") == "125.52%"
    assert _card(pg, "hi_coverage.coverage_pct") == "93.31%"
    shot(pg, "language-en-dashboard")

    # log out and in again: still English
    pg.click("header form.inline button")
    pg.wait_for_load_state("networkidle")
    pg.goto(f"{base}/login/")
    assert pg.locator("h1").inner_text() == "Log in"
    pg.fill("input[name=username]", "tinh")
    pg.fill("input[name=password]", "pw-tinh")
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")
    pg.goto(f"{base}/?as_of=2025-09-30")
    assert "Log out" in pg.locator("header").inner_text()

    # and back to Vietnamese from a logged-in page, staying on that page
    pg.click("button[name=language][value=vi]")
    pg.wait_for_load_state("networkidle")
    assert pg.url.endswith("/?as_of=2025-09-30")
    assert pg.locator("html").get_attribute("lang") == "vi"
    assert _card(pg, "si_compulsory.participants") == "269.801"
    assert _card(pg, "hi_coverage.coverage_pct") == "93,31 %"
    assert "Đăng xuất" in pg.locator("header").inner_text()
    shot(pg, "language-vi-dashboard")
    assert errors == []
    ctx.close()
