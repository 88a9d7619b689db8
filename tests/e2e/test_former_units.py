"""A former commune and its successor in a real browser (SPEC section 9): the page of a
commune in force until 30 June 2025 names it by its code and end date and links to the commune
of today that took it; that commune's page lists what it was formed from."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def province(transactional_db: None) -> None:
    from django.contrib.auth import get_user_model

    from ansinh.geography.models import Unit
    from ansinh.geography.services import units_official_load

    assert units_official_load(province="56", legacy=True) is not None
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
