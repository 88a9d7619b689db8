"""Browser walk of an office user through a worklist (assign, record an outcome, export the
call sheet as XLSX and PDF and check the masking inside the files) and through the arrears
pages (aging table, employers by amount and by age, the trend against the ≤ 2 % goal, the
monthly review with its letters and the record that one was sent). Screenshots land in
$ANSINH_SHOTS/ansinh-shots (default: the temp folder)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ansinh.accounts.access import SYSTEM
from tests.arrears.factories import d, make_units, make_user

D = d("2025-09-30")


@pytest.fixture
def world(transactional_db: Any) -> dict[str, Any]:
    from ansinh.arrears.models import Contribution, Employer
    from ansinh.arrears.services import followup_sync
    from ansinh.registry.models import Person, Spell

    units = make_units()
    people = [
        ("P01", "Nguyễn Văn An", "0901234567", "2025-10-30", "C1"),
        ("P02", "Trần Thị Bình", "0912345678", "2025-10-15", "C2"),
        ("P03", "Lê Hoàng Cường", "0987654321", "2025-10-02", "C3"),  # another office
    ]
    for pid, name, phone, end, unit in people:
        person = Person.objects.create(person_id=pid, full_name=name, phone=phone)
        Spell.objects.create(
            person=person,
            scheme="hi",
            group="household",
            unit_id=unit,
            start_date=d("2024-11-01"),
            end_date=d(end),
        )
    Employer.objects.create(code="E1", name="Công ty TNHH Biển Xanh", unit_id="C1")
    Employer.objects.create(code="E2", name="Công ty CP Hải Đăng", unit_id="C2")
    Employer.objects.create(code="E3", name="HTX Cam Ranh", unit_id="C3")
    for month in range(1, 9):
        period = dt.date(2025, month, 1)
        # E1 pays until May, then stops; E2 pays everything but August; E3 never pays
        e1_paid = month <= 5
        Contribution.objects.create(
            employer_id="E1",
            period=period,
            amount_due=12_000_000,
            amount_paid=12_000_000 if e1_paid else 0,
            paid_on=dt.date(2025, month + 1, 20) if e1_paid else None,
        )
        Contribution.objects.create(
            employer_id="E2",
            period=period,
            amount_due=30_000_000,
            amount_paid=0 if month == 8 else 30_000_000,
            paid_on=None if month == 8 else dt.date(2025, month + 1, 10),
        )
        Contribution.objects.create(employer_id="E3", period=period, amount_due=5_000_000)
    followup_sync(as_of=D, actor=SYSTEM)
    office = make_user("nhatrang", "office", units["O1"])
    make_user("canbo", "office", units["C1"])
    return {"units": units, "office": office}


def _shot_ok(pg: Any, shot: Any, name: str) -> Path:
    path = shot(pg, name)
    assert path.stat().st_size > 10_000
    return path


def test_office_worklist_assign_outcome_export(page: Any, login: Any, shot: Any, world) -> None:
    from openpyxl import load_workbook

    from ansinh.arrears.models import FollowUp

    pg = page
    login(pg, "nhatrang", "pw-nhatrang")
    pg.goto(f"{pg.base}/worklists/?kind=hi_expiring")
    rows = pg.locator("#worklist tbody tr[data-id]")
    assert rows.count() == 2  # P01, P02; P03 belongs to the other office
    body = pg.locator("#worklist").inner_text()
    assert "Nguyễn Văn An" not in body and "Ng*** V** A" in body and "09******67" in body
    _shot_ok(pg, shot, "worklist-hi-expiring")

    # open the entry of P01 (expires 30 Oct: day 30), assign it to a colleague
    fu = FollowUp.objects.get(person_id="P01")
    pg.click(f'#worklist tr[data-id="{fu.pk}"] a')
    pg.wait_for_load_state("networkidle")
    assert "Ng*** V** A" in pg.locator("#people").inner_text()
    pg.select_option('form:has(input[value="assign"]) select[name="user"]', label="canbo")
    pg.click('form:has(input[value="assign"]) button')
    pg.wait_for_load_state("networkidle")
    assert "Đã phân công" in pg.content()
    # record an outcome with its date: one button per outcome
    pg.fill('input[name="on"]', "2025-10-03")
    pg.fill('input[name="note"]', "Hẹn gia hạn thẻ tuần sau")
    pg.click('form:has(input[value="outcome"]) button[value="promised"]')
    pg.wait_for_load_state("networkidle")
    history = pg.locator("#outcomes").inner_text()
    assert "03/10/2025" in history and "Hẹn tham gia" in history and "nhatrang" in history
    _shot_ok(pg, shot, "worklist-entry")
    fu.refresh_from_db()
    assert fu.assigned_to.username == "canbo" and fu.status == "open"

    # back to the list: assigned and last outcome shown; export the call sheet
    pg.goto(f"{pg.base}/worklists/?kind=hi_expiring")
    row = pg.locator(f'#worklist tr[data-id="{fu.pk}"]').inner_text()
    assert "canbo" in row and "Hẹn tham gia" in row
    with pg.expect_download() as dl:
        pg.click("text=Danh sách gọi điện (XLSX)")
    xlsx = Path(dl.value.path())
    ws = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert len(values) == 2
    cells = " ".join(str(v) for r in values for v in r if v is not None)
    assert "Ng*** V** A" in cells and "09******67" in cells
    assert "Nguyễn Văn An" not in cells and "0901234567" not in cells and "Lê Hoàng" not in cells
    with pg.expect_download() as dl:
        pg.click("text=Danh sách đến nhà (PDF)")
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "Ng*** V** A" in text and "Tr*** T** B" in text
        assert "Nguyễn Văn An" not in text and "0901234567" not in text
    assert pg.js_errors == []


def test_arrears_pages_and_monthly_review(page: Any, login: Any, shot: Any, world) -> None:
    from ansinh.arrears.models import Reminder

    pg = page
    login(pg, "nhatrang", "pw-nhatrang")
    pg.goto(f"{pg.base}/arrears/?as_of=2025-10-05")
    pg.wait_for_function("document.querySelector('#arrears-trend').height > 0")
    pg.wait_for_timeout(400)  # the chart's animation
    aging = pg.locator("#aging").inner_text()
    # E1: June–August unpaid (June is 3 months overdue on 5 Oct), E2: August (1 month)
    assert "36.000.000" in aging and "30.000.000" in aging
    employers = pg.locator("#employers tbody tr")
    assert employers.count() == 2 and "E1" in employers.nth(0).inner_text()
    assert "HTX Cam Ranh" not in pg.content()
    _shot_ok(pg, shot, "arrears")
    pg.click("text=theo tuổi nợ")
    pg.wait_for_load_state("networkidle")
    assert "E1" in pg.locator("#employers tbody tr").nth(0).inner_text()
    pg.goto(f"{pg.base}/arrears/?as_of=2025-09-30&sort=amount")
    # E2's August is not overdue yet on 30 Sep; E1's June and July are
    assert pg.locator("#employers tbody tr").count() == 1

    pg.goto(f"{pg.base}/arrears/review/?as_of=2025-10-05")
    review = pg.locator("#review").inner_text()
    assert "E2" in review and "E1" not in review  # E1 was overdue a month ago already
    with pg.expect_download() as dl:
        pg.click('#review tr[data-code="E2"] >> text=Thông báo (DOCX)')
    assert Path(dl.value.path()).read_bytes()[:2] == b"PK"
    with pg.expect_download() as dl:
        pg.click('#review tr[data-code="E2"] >> text=PDF')
    assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")
    pg.click('#review tr[data-code="E2"] button')
    pg.wait_for_load_state("networkidle")
    sent = pg.locator('#review tr[data-code="E2"]').inner_text()
    assert dt.date.today().strftime("%d/%m/%Y") in sent
    assert "đã gửi thông báo: 1" in pg.locator("#review-summary").inner_text()
    _shot_ok(pg, shot, "arrears-review")
    rem = Reminder.objects.get(employer_id="E2")
    assert rem.sent_by.username == "nhatrang" and rem.overdue == 30_000_000
    assert pg.js_errors == []
