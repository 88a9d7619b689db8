"""The import page in a real browser (issue 16 items 4–6): an office's spreadsheet with a
form's title rows and Vietnamese headers goes in; a file that would cut the province's figures
is held back with its before/after table and imported only once confirmed; the batch is undone
from its page; a refused file stays in the history with its errors file. At 1366 and 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def province(transactional_db: None, settings: Any, tmp_path: Path) -> None:
    from tests.monitoring.factories import make_units, make_user

    settings.UPLOAD_DIR = tmp_path / "uploads"
    units = make_units()
    make_user("tinh", "province", units["KH"])


def _upload(pg: Any, base: str, kind_label: str, path: Path) -> None:
    pg.goto(f"{base}/imports/")
    pg.select_option("#id_kind", label=kind_label)
    pg.set_input_files("#id_file", str(path))
    pg.click("form.import-form button[type=submit]")
    pg.wait_for_load_state("networkidle")
    pg.wait_for_selector(".job-result", timeout=30000)


@pytest.mark.parametrize("width", [1366, 390])
def test_import_preview_confirm_undo(
    browser: Any,
    live_server: Any,
    province: None,
    login: Any,
    shot: Any,
    tmp_path: Path,
    width: int,
) -> None:
    from ansinh.registry.models import Spell

    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    login(pg, "tinh", "pw-tinh")

    first = tmp_path / "danh_sach.csv"
    rows = "".join(f"P{i},C1,Bảo hiểm y tế,household,01/0{1 + i % 9}/2025\n" for i in range(40))
    first.write_text(
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA,,,,\nDANH SÁCH NGƯỜI THAM GIA,,,,\n"
        "Mã số BHXH,Mã đơn vị,Loại hình bảo hiểm,Nhóm đối tượng,Từ ngày\n" + rows,
        encoding="utf-8",
    )
    _upload(pg, base, "Người tham gia (từng người)", first)
    text = pg.locator("#import-status").inner_text()
    assert "đã nhập — đọc 40 dòng, tạo mới 40" in text, text
    assert Spell.objects.count() == 40

    # a file that adds 8 to 40 (+20 %): held back, asked
    second = tmp_path / "them.csv"
    second.write_text(
        "person_id,unit_code,scheme,group,start_date\n"
        + "".join(f"Q{i},C2,hi,student,2025-02-01\n" for i in range(8)),
        encoding="utf-8",
    )
    _upload(pg, base, "Người tham gia (từng người)", second)
    assert "Chờ xác nhận" in pg.locator(".job-status").inner_text()
    table = pg.locator("table.preview").inner_text()
    assert "Bảo hiểm y tế" in table and "40" in table and "48" in table and "+20" in table
    assert Spell.objects.count() == 40
    shot(pg, f"import-confirm-{width}")
    pg.check("form.confirm-form input[name=confirm]")
    pg.click("form.confirm-form button[type=submit]")
    pg.wait_for_load_state("networkidle")
    pg.wait_for_selector(".job-result", timeout=30000)
    assert "đã nhập" in pg.locator(".job-result").inner_text()
    assert Spell.objects.count() == 48

    # undo it from the batch's page
    pg.click("text=Xem lần nhập (hoàn tác được)")
    pg.wait_for_load_state("networkidle")
    pg.click("form.undo-form button[type=submit]")
    pg.wait_for_load_state("networkidle")
    assert "Đã hoàn tác" in pg.locator(".batch-state").inner_text()
    assert Spell.objects.count() == 40

    # a refused file: the valid values by their names, in the history with its errors
    bad = tmp_path / "sai.csv"
    bad.write_text(
        "person_id,unit_code,scheme,group,start_date\nZ1,C1,bhyt,household,2025-13-01\n",
        encoding="utf-8",
    )
    _upload(pg, base, "Người tham gia (từng người)", bad)
    status = pg.locator("#import-status").inner_text()
    assert "Bảo hiểm y tế" in status and "hi_coverage" not in status
    assert "Bị từ chối" in status
    pg.goto(f"{base}/imports/")
    history = pg.locator("table.batches").inner_text()
    assert "sai.csv" in history and "Bị từ chối" in history and "Đã hoàn tác" in history
    shot(pg, f"import-history-{width}")
    assert not errors, errors
    ctx.close()
