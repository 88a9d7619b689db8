"""Field capture on a phone (390 × 844): the QR code of a chip ID card read from a photo and
from the camera (Chromium's fake camera fed a video file), filling the attendee form."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from ansinh.outreach.models import Activity, Attendee
from tests.e2e.conftest import CHROMIUM
from tests.outreach.test_activities import make_world

QR = "056090012345|123456789|Nguyễn Văn Hùng|15031990|Nam|Thôn 3, xã Cam Lâm, Khánh Hòa|01012022"
PASSWORD = "Thu-Nghiem-2025"


def _qr_png(path: Path, text: str = QR) -> Path:
    segno.make(text, error="m").save(str(path), scale=8, border=4)
    return path


def _y4m(png: Path, out: Path, frames: int = 10) -> Path:
    """A short Y4M video (4:2:0) of the image, centred on a 640 × 480 white frame: what
    Chromium's fake camera plays with --use-file-for-fake-video-capture."""
    img = Image.open(png).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    img.thumbnail((280, 280))
    frame.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (320, 240)
    data = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with out.open("wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            f.write(b"FRAME\n" + data)
    return out


@pytest.fixture
def office(db: None) -> Any:
    world = make_world()
    user = world["office"]
    user.set_password(PASSWORD)
    user.save()
    return user


def _phone(browser: Any, base: str) -> Any:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    pg.base = base
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    return pg


def test_qr_from_photo_fills_and_checks_in(
    browser: Any,
    live_server: Any,
    office: Any,
    login: Callable[..., None],
    tmp_path: Path,
    shot: Callable[[Any, str], Path],
) -> None:
    pg = _phone(browser, live_server.url)
    login(pg, office.username, PASSWORD)
    pg.goto(f"{live_server.url}/activities/S1/")
    # an oversized photo: a clear message, nothing read
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * (10 * 1024 * 1024 + 1))
    pg.set_input_files("#qr-file", str(big))
    pg.wait_for_selector("#qr-status.error")
    assert "quá lớn" in pg.inner_text("#qr-status")
    # a photo of something else: said so
    pg.set_input_files("#qr-file", str(_qr_png(tmp_path / "url.png", "https://example.com")))
    expect(pg.locator("#qr-status")).to_contain_text("thẻ căn cước")
    # the card's QR code
    pg.set_input_files("#qr-file", str(_qr_png(tmp_path / "card.png")))
    expect(pg.locator("#id_person_id")).to_have_value("056090012345", timeout=15000)
    assert pg.input_value("#id_full_name") == "Nguyễn Văn Hùng"
    assert pg.input_value("#id_birth_date") == "1990-03-15"
    assert pg.input_value("#id_sex") == "male"
    assert "Cam Lâm" in pg.input_value("#id_address")
    pg.check("#id_consent")
    shot(pg, "field-qr-390")
    pg.click("#attendee-add button.primary")
    pg.wait_for_load_state("load")
    assert "Đã điểm danh Nguyễn Văn Hùng" in pg.inner_text("ul.messages")
    a = Attendee.objects.get(activity_id="S1", person_id="056090012345")
    assert a.source == "qr" and a.consent == "yes" and a.address.startswith("Thôn 3")
    # the page fits the phone
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    assert pg.js_errors == []
    pg.context.close()


def test_qr_from_camera(
    browser: Any,
    live_server: Any,
    office: Any,
    login: Callable[..., None],
    tmp_path: Path,
) -> None:
    video = _y4m(_qr_png(tmp_path / "card.png"), tmp_path / "card.y4m")
    if True:  # a browser of its own: the fake camera is a launch option
        b = browser.browser_type.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            ctx = b.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
            ctx.grant_permissions(["camera"], origin=live_server.url)
            pg = ctx.new_page()
            pg.set_default_timeout(30000)
            login(pg, office.username, PASSWORD)
            pg.goto(f"{live_server.url}/activities/S1/")
            pg.click("#qr-camera")
            expect(pg.locator("#id_person_id")).to_have_value("056090012345", timeout=30000)
            assert pg.input_value("#id_full_name") == "Nguyễn Văn Hùng"
            assert pg.is_visible("#qr-camera")  # the camera stopped once read
            assert not pg.is_visible("#qr-stop")
        finally:
            b.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_offline_capture_reload_then_sync_once(
    browser: Any,
    live_server: Any,
    office: Any,
    login: Callable[..., None],
    shot: Callable[[Any, str], Path],
) -> None:
    pg = _phone(browser, live_server.url)
    login(pg, office.username, PASSWORD)
    pg.goto(f"{live_server.url}/field/")
    # the service worker has kept the screen
    pg.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    pg.reload()
    pg.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 0")
    pg.context.set_offline(True)
    pg.reload()  # with no connection: the kept copy
    expect(pg.locator("#net-status")).to_contain_text("không có mạng")
    pg.select_option("#f-activity select[name=unit]", "C1")
    pg.select_option("#f-activity select[name=channel]", "door_to_door")
    pg.click("#start-activity")
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 1")
    for pid, name in [("0123456789", "Lê Văn A"), ("056090012345", "Nguyễn Văn Hùng")]:
        pg.fill("#f-attendee input[name=person_id]", pid)
        pg.fill("#f-attendee input[name=full_name]", name)
        pg.check("#f-attendee input[name=consent]")
        pg.click("#add-attendee")
        expect(pg.locator("#attendee-msg")).to_contain_text(name)
    # typed wrong, and a repeat: refused on the phone already
    pg.fill("#f-attendee input[name=person_id]", "abc")
    pg.fill("#f-attendee input[name=full_name]", "X")
    pg.click("#add-attendee")
    expect(pg.locator("#attendee-msg")).to_contain_text("12 chữ số")
    pg.fill("#f-attendee input[name=person_id]", "0123456789")
    pg.click("#add-attendee")
    expect(pg.locator("#attendee-msg")).to_contain_text("đã điểm danh")
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 3")
    pg.reload()  # still offline: the queue survives, the activity is still the current one
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 3")
    expect(pg.locator("#f-activity select[name=channel]")).to_have_value("door_to_door")
    assert not pg.is_visible("#start-activity")
    assert not Activity.objects.filter(date=dt.date.today(), channel="door_to_door").exists()
    shot(pg, "field-offline-390")
    pg.context.set_offline(False)
    pg.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 0", timeout=20000)
    acts = Activity.objects.filter(channel="door_to_door", unit_id="C1")
    assert acts.count() == 1
    code = acts.get().code
    assert Attendee.objects.filter(activity_id=code).count() == 2
    assert Attendee.objects.filter(activity_id=code, consent="yes").count() == 2
    expect(pg.locator("#queue li").first).to_contain_text(code)
    # a second sync sends nothing twice
    pg.click("#sync-now")
    pg.reload()
    expect(pg.locator("#pending-count")).to_have_text("chưa đồng bộ: 0")
    assert Attendee.objects.filter(activity_id=code).count() == 2
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.context.close()
