"""Browser walk: an admin creates a login on /users/, the new user is sent to choose their own
password at the first login; the admin issues the numbered report DOCX from /reports/ and
finds it in the register on /documents/. Screenshots at 1366 px and 390 px land in
$ANSINH_SHOTS/ansinh-shots (default: the temp folder)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document

from tests.api.factories import PASSWORD, build_world


@pytest.fixture
def world(transactional_db: Any) -> Any:
    from ansinh.core.models import DocumentRegister

    w = build_world()
    DocumentRegister.objects.create(unit_id="KH", kind="BC")
    return w


def _no_overflow(pg: Any) -> None:
    """Nothing sticks out sideways (a phone must not scroll horizontally)."""
    wide = pg.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide


def test_admin_creates_a_login_and_issues_the_report(
    page: Any, login: Any, shot: Any, world: Any, browser: Any
) -> None:
    pg = page
    login(pg, "admin", PASSWORD)
    pg.click("footer >> text=Tài khoản đăng nhập")
    pg.wait_for_url("**/users/")
    pg.fill("#user-new input[name=username]", "moi.nhatrang")
    pg.select_option("#user-new select[name=role]", "office")
    pg.select_option("#user-new select[name=unit]", "O1")
    pg.fill("#user-new input[name=password1]", "12345678")
    pg.fill("#user-new input[name=password2]", "12345678")
    pg.click("#user-new button[type=submit]")
    assert "Mật khẩu này quá phổ biến." in pg.locator("#user-new").inner_text()
    pg.fill("#user-new input[name=password1]", "Nha-Trang-Bien-2025")
    pg.fill("#user-new input[name=password2]", "Nha-Trang-Bien-2025")
    pg.click("#user-new button[type=submit]")
    assert "Đã tạo tài khoản moi.nhatrang" in pg.locator(".messages").inner_text()
    assert "Chờ đổi mật khẩu" in pg.locator('tr[data-user="moi.nhatrang"]').inner_text()
    shot(pg, "users-1366")

    # the report to sign, issued from /reports/
    pg.goto(f"{pg.base}/reports/?as_of=2025-06-30")
    with pg.expect_download() as dl:
        pg.click("#issue button[type=submit]")
    data = open(dl.value.path(), "rb").read()
    head = "\n".join(c.text for c in Document(io.BytesIO(data)).tables[0].rows[0].cells)
    assert "Số: 01/BC-BHXH" in head
    pg.goto(f"{pg.base}/documents/")
    assert "01/BC-BHXH" in pg.locator("#numbers").inner_text()
    shot(pg, "documents-1366")

    # the new user at first login: sent to change the password, on a phone
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    phone = ctx.new_page()
    phone.set_default_timeout(15000)
    phone.goto(f"{pg.base}/login/")
    phone.fill("input[name=username]", "moi.nhatrang")
    phone.fill("input[name=password]", "Nha-Trang-Bien-2025")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/password/")
    assert phone.locator("#must-change").is_visible()
    _no_overflow(phone)
    shot(phone, "password-390")
    phone.fill("input[name=old_password]", "Nha-Trang-Bien-2025")
    phone.fill("input[name=password1]", "Hon-Tre-Vinh-Xanh-7")
    phone.fill("input[name=password2]", "Hon-Tre-Vinh-Xanh-7")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{pg.base}/")
    assert "Đã đổi mật khẩu." in phone.locator(".messages").inner_text()
    ctx.close()

    # the admin's pages on a phone
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.goto(f"{pg.base}/users/")
    shot(pg, "users-390")
    pg.goto(f"{pg.base}/reports/")
    shot(pg, "reports-390")
    assert not pg.js_errors
