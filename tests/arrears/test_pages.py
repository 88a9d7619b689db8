"""Arrears pages through the test client: scoping (404 for another unit), figures shown,
monthly review with the DOCX reminder letter and the record that it was sent."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest

from ansinh.arrears.models import Contribution, Employer, Reminder
from ansinh.core.models import AuditEvent, DocumentNumber, DocumentRegister

from .factories import d, make_units, make_user


@pytest.fixture
def world(db):
    units = make_units()
    Employer.objects.create(code="E1", name="Công ty TNHH Biển Xanh", unit_id="C1")
    Employer.objects.create(code="E2", name="Công ty CP Hải Đăng", unit_id="C2")
    Employer.objects.create(code="E3", name="HTX Cam Ranh", unit_id="C3")
    # E1: June unpaid (overdue since 1 Aug); E2: August unpaid (overdue from 1 Oct);
    # E3: July unpaid (another office)
    Contribution.objects.create(employer_id="E1", period=d("2025-06-01"), amount_due=12_000_000)
    Contribution.objects.create(
        employer_id="E1",
        period=d("2025-05-01"),
        amount_due=10_000_000,
        amount_paid=10_000_000,
        paid_on=d("2025-06-30"),
    )
    Contribution.objects.create(employer_id="E2", period=d("2025-08-01"), amount_due=3_000_000)
    Contribution.objects.create(employer_id="E3", period=d("2025-07-01"), amount_due=5_000_000)
    return units


def test_arrears_page_office_scope(world, client) -> None:
    client.force_login(make_user("nt", "office", world["O1"]))
    r = client.get("/arrears/?as_of=2025-10-05")
    assert r.status_code == 200
    html = r.content.decode()
    # E1 12,000,000 + E2 3,000,000 overdue; E3 belongs to O2
    # precise: the employer rows (a bare "E3" may occur in the CSRF token)
    emp_rows = html.split('id="employers"')[1].split("</table>")[0]
    assert 'href="/arrears/employers/E1/' in emp_rows
    assert 'href="/arrears/employers/E3/' not in html and "HTX Cam Ranh" not in html
    assert "15.000.000" in html
    # interest: E1 12,000,000 × 0.0003 × 66 days (31 Jul → 5 Oct) = 237,600; E2 5 days = 4,500
    assert "242.100" in html
    # due_ytd: May 10,000,000 + June 12,000,000 + Aug 3,000,000 (due by 30 Sep) → 60 %
    assert "60,00 %" in html
    chart = json.loads(
        html.split('id="arrears-trend-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["values"][-1] == 60.0 and chart["goal"] == 2.0 and len(chart["labels"]) == 12
    assert 'src="/static/vendor/chartjs/chart.umd.js"' in html and "<script>" not in html
    assert client.get("/arrears/?unit=O2").status_code == 404
    assert client.get("/arrears/?unit=C3").status_code == 404
    assert client.get("/arrears/employers/E3/").status_code == 404
    assert client.get("/arrears/employers/NOPE/").status_code == 404
    detail = client.get("/arrears/employers/E1/?as_of=2025-10-05").content.decode()
    assert "Công ty TNHH Biển Xanh" in detail and "237.600" in detail and "31/07/2025" in detail
    by_age = client.get("/arrears/?as_of=2025-10-05&sort=age").content.decode()
    emp_table = by_age.split('id="employers"')[1]
    assert emp_table.index("E1") < emp_table.index("E2")


def test_arrears_page_roles(world, client) -> None:
    client.force_login(make_user("p", "partner", world["O1"], org="womens_union"))
    assert client.get("/arrears/").status_code == 404
    assert client.get("/arrears/employers/E1/").status_code == 404
    client.force_login(make_user("v", "viewer", world["O2"]))
    r = client.get("/arrears/?as_of=2025-10-05")
    assert r.status_code == 200 and "5.000.000" in r.content.decode()
    assert client.get("/arrears/review/").status_code == 404
    client.force_login(make_user("adm", "province"))
    html = client.get("/arrears/?as_of=2025-10-05").content.decode()
    breakdown = html.split('id="breakdown"')[1].split("</table>")[0]
    assert "O1" in breakdown and "O2" in breakdown
    assert "20.000.000" in html  # 12 + 3 + 5 million
    assert client.get("/arrears/", follow=False).status_code == 200
    client.logout()
    assert client.get("/arrears/").status_code == 302


def test_monthly_review_and_letter(world, client) -> None:
    from docx import Document

    office = make_user("nt", "office", world["O1"])
    client.force_login(office)
    r = client.get("/arrears/review/?as_of=2025-10-05")
    html = r.content.decode()
    table = html.split('id="review"')[1]
    # E2 became overdue on 1 Oct; E1 was already overdue on 5 Sep; E3 is another office's
    assert 'data-code="E2"' in table and 'data-code="E1"' not in table
    assert 'data-code="E3"' not in table and "HTX Cam Ranh" not in table
    letter = client.get("/arrears/review/E2/letter.docx?as_of=2025-10-05")
    assert letter.status_code == 200
    doc = Document(io.BytesIO(letter.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "THÔNG BÁO" in text and "Về việc chậm đóng BHXH, BHYT, BHTN" in text
    assert "3.000.000 đồng" in text and "4.500 đồng" in text  # 3,000,000 × 0.0003 × 5 days
    assert "274/2025/NĐ-CP" in text and "0,03 %/ngày" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells and "ngày 05 tháng 10 năm 2025" in cells
    assert "08/2025" in cells and "30/09/2025" in cells
    assert "Tiền lãi chậm đóng tính đến ngày" in text
    # the header of the one document module: E2's office issues it; before it is issued the
    # letter is a draft (number blank), and a GET writes nothing
    assert "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA" in cells and "BẢO HIỂM XÃ HỘI CƠ SỞ NHA TRANG" in cells
    assert "Số: 01/TB-BHXH" not in cells
    assert not Reminder.objects.exists() and not DocumentNumber.objects.exists()
    # issuing it (recorded as sent) takes the next number of the office's register
    assert client.post("/arrears/review/E2/sent", {"as_of": "2025-10-05"}).status_code == 302
    letter = client.get("/arrears/review/E2/letter.docx?as_of=2025-10-05")
    doc = Document(io.BytesIO(letter.content))
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Số: 01/TB-BHXH" in cells
    # the same letter as PDF (fpdf2, DejaVu): text checked with pdftotext where installed
    pdf = client.get("/arrears/review/E2/letter.pdf?as_of=2025-10-05")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].endswith('E2-2025-10.pdf"')
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout.decode()
        flat = " ".join(out.split())
        for want in (
            "THÔNG BÁO",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "ngày 05 tháng 10 năm 2025",
            "Kính gửi: Công ty CP Hải Đăng",
            "274/2025/NĐ-CP",
            "0,03 %/ngày",
            "3.000.000 đồng",
            "4.500 đồng",
            "08/2025",
            "30/09/2025",
            "Số: 01/TB-BHXH",  # the same reminder keeps its number
        ):
            assert want in flat, want
    # one reminder per employer and review month, one number, however often downloaded
    assert Reminder.objects.filter(employer_id="E2").count() == 1
    assert DocumentNumber.objects.filter(ref_type="reminder").count() == 1
    rem = Reminder.objects.get(employer_id="E2")
    assert (rem.review_month, rem.overdue, rem.interest, rem.number) == (
        d("2025-10-01"),
        3_000_000,
        4_500,
        "1",
    )
    assert rem.sent_at is not None and rem.sent_by_id == office.pk
    assert AuditEvent.objects.filter(action="reminder.sent", object_id="E2").count() == 1
    assert client.post("/arrears/review/E2/sent", {"as_of": "2025-10-05"}).status_code == 302
    assert DocumentNumber.objects.filter(ref_type="reminder").count() == 1
    assert client.post("/arrears/review/E3/sent", {"as_of": "2025-10-05"}).status_code == 404
    assert client.get("/arrears/review/E3/letter.docx?as_of=2025-10-05").status_code == 404
    late = client.get("/arrears/review/?as_of=2025-10-20").content.decode()
    assert "10 ngày đầu tháng" in late


def test_letter_refused_without_register(world, client) -> None:
    """A letter of an office whose register of notices is not open: refused with a message
    saying how to open it, and nothing written (no reminder, no number)."""
    client.force_login(make_user("nt", "office", world["O1"]))
    DocumentRegister.objects.filter(unit_id="O1", kind="TB").delete()
    r = client.post("/arrears/review/E2/sent", {"as_of": "2025-10-05"}, follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and "chưa mở sổ đăng ký văn bản loại TB" in html
    assert not Reminder.objects.exists() and not DocumentNumber.objects.exists()
