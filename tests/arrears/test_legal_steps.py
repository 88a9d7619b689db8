"""The legal steps for late employers (issue 20 item 3, DOMAIN.md section 4): late → written
reminder (date, number) → evading 60 days on; the quarterly list to publish (DOCX, XLSX);
letters in bulk; the XLSX of late employers; the interest of periods since paid; Vietnamese
dates; the viewer's unit list. The figures stay those of SPEC section 8."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from ansinh.accounts.access import SYSTEM
from ansinh.arrears import figures, selectors
from ansinh.arrears.models import Contribution, Employer, Reminder
from ansinh.core.models import AuditEvent

from .factories import d, make_units, make_user


@pytest.fixture
def world(db):
    units = make_units()
    Employer.objects.create(code="E1", name="Công ty A", unit_id="C1", tax_code="0101")
    Employer.objects.create(code="E2", name="Công ty B", unit_id="C2")
    Employer.objects.create(code="E3", name="Công ty C", unit_id="C3")
    # E1: June unpaid (due 31 Jul), July paid in full on time
    Contribution.objects.create(employer_id="E1", period=d("2025-06-01"), amount_due=10_000_000)
    Contribution.objects.create(
        employer_id="E1",
        period=d("2025-07-01"),
        amount_due=10_000_000,
        amount_paid=10_000_000,
        paid_on=d("2025-08-20"),
    )
    # E2: nothing owed now, but two periods paid late: interest only "since paid"
    Contribution.objects.create(
        employer_id="E2",
        period=d("2025-01-01"),
        amount_due=20_000_000,
        amount_paid=20_000_000,
        paid_on=d("2025-04-01"),  # due 28 Feb: 32 days late → 192,000
    )
    Contribution.objects.create(
        employer_id="E2",
        period=d("2025-03-01"),
        amount_due=5_000_000,
        amount_paid=5_000_000,
        paid_on=d("2025-05-10"),  # due 30 Apr: 10 days late → 15,000
    )
    # E3 (another office): August unpaid
    Contribution.objects.create(employer_id="E3", period=d("2025-08-01"), amount_due=3_000_000)
    return units


def states(unit, day: str) -> dict[str, str]:
    return {
        r["code"]: r["state"] for r in selectors.legal_states(unit=unit, as_of=d(day), actor=SYSTEM)
    }


def test_late_reminded_evading(world, client) -> None:
    kh = world["KH"]
    assert states(kh, "2025-08-05") == {"E1": "late"}
    office = make_user("nt", "office", world["O1"])
    client.force_login(office)
    # bad input: no number, a date in the future → nothing written, said why
    r = client.post(
        "/arrears/legal/E1/reminded", {"sent_on": "2025-08-10", "number": " "}, follow=True
    )
    assert "Cần ghi số văn bản" in r.content.decode() and not Reminder.objects.exists()
    r = client.post(
        "/arrears/legal/E1/reminded", {"sent_on": "2999-01-01", "number": "1/TB"}, follow=True
    )
    assert "không được sau hôm nay" in r.content.decode() and not Reminder.objects.exists()
    r = client.post(
        "/arrears/legal/E1/reminded",
        {"sent_on": "2025-08-10", "number": "12/TB-BHXH", "next": "/arrears/legal/?unit=O1"},
    )
    assert r.status_code == 302 and r["Location"] == "/arrears/legal/?unit=O1"
    rem = Reminder.objects.get()
    assert (rem.sent_on, rem.number, rem.sent_by) == (d("2025-08-10"), "12/TB-BHXH", office)
    ev = AuditEvent.objects.get(action="reminder.sent")
    assert ev.after == {"sent_on": "2025-08-10", "number": "12/TB-BHXH"}
    # another office's employer: 404 like a missing one
    assert (
        client.post("/arrears/legal/E3/reminded", {"sent_on": "2025-09-10", "number": "1"})
    ).status_code == 404
    assert states(kh, "2025-08-09") == {"E1": "late"}  # before the reminder
    assert states(kh, "2025-10-09") == {"E1": "reminded", "E3": "late"}  # day 60
    assert states(kh, "2025-10-10") == {"E1": "evading", "E3": "late"}  # day 61
    row = next(
        r
        for r in selectors.legal_states(unit=kh, as_of=d("2025-10-10"), actor=SYSTEM)
        if r["code"] == "E1"
    )
    assert (row["reminder_on"], row["reminder_number"], row["evading_from"]) == (
        d("2025-08-10"),
        "12/TB-BHXH",
        d("2025-10-10"),
    )
    page = client.get("/arrears/legal/?as_of=2025-10-10").content.decode()
    assert (
        'data-code="E1" data-state="evading"' in page and "ngày 10/08/2025, số 12/TB-BHXH" in page
    )
    assert 'data-code="E3"' not in page
    assert (
        client.get("/arrears/legal/?as_of=2025-10-10&state=late")
        .content.decode()
        .count('data-state="')
        == 0
    )
    # the debt the reminder named is paid; a later one is only late again
    c = Contribution.objects.get(employer_id="E1", period=d("2025-06-01"))
    c.amount_paid, c.paid_on = 10_000_000, d("2025-10-01")
    c.save()
    Contribution.objects.create(employer_id="E1", period=d("2025-08-01"), amount_due=1_000_000)
    assert states(kh, "2025-10-20")["E1"] == "late"
    # a viewer does not see the legal page
    client.force_login(make_user("v", "viewer", world["C1"]))
    assert client.get("/arrears/legal/").status_code == 404


def test_quarterly_list_and_exports(world, client) -> None:
    assert selectors.quarter_of("2025-Q4") == (d("2025-10-01"), d("2025-09-30"), d("2025-10-14"))
    assert selectors.current_quarter(d("2025-10-01")) == "2025-Q4"
    assert selectors.current_quarter(d("2025-12-31")) == "2025-Q4"
    assert selectors.current_quarter(d("2026-01-01")) == "2026-Q1"
    Reminder.objects.create(
        employer_id="E1",
        review_month=d("2025-08-01"),
        overdue=10_000_000,
        interest=0,
        sent_on=d("2025-08-10"),
        number="12/TB-BHXH",
    )
    client.force_login(make_user("p", "province"))
    page = client.get("/arrears/offenders/?quarter=2025-Q4").content.decode()
    assert "hạn cuối 14/10/2025" in page and "tại ngày 30/09/2025" in page
    # E3's August falls due on 30 Sep itself: not late that day
    assert 'data-code="E1"' in page and 'data-code="E3"' not in page and "Trốn đóng" not in page
    q1 = client.get("/arrears/offenders/?quarter=2026-Q1").content.decode()
    assert "Trốn đóng" in q1  # E1 on 31 Dec: more than 60 days after the reminder
    assert client.get("/arrears/offenders/?quarter=2025-Q5").status_code == 404
    x = client.get("/arrears/offenders.xlsx?quarter=2026-Q1")
    ws = load_workbook(io.BytesIO(x.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    e1 = next(r for r in rows if r[1] == "Công ty A")
    assert e1[2] == "0101" and e1[4] == 10_000_000 and e1[5] == 5 and e1[6].startswith("Trốn")
    doc = Document(io.BytesIO(client.get("/arrears/offenders.docx?quarter=2026-Q1").content))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "DANH SÁCH" in text and "quý I năm 2026" in text and "31/12/2025" in text
    assert "Công ty A" in cells and "10.000.000" in cells
    # the late employers as XLSX: the figures of SPEC section 8, with the legal step
    x = client.get("/arrears/employers.xlsx?as_of=2025-12-31")
    ws = load_workbook(io.BytesIO(x.content)).active
    got = {r[0]: r for r in ([c.value for c in row] for row in ws.iter_rows(min_row=4))}
    data = figures.arrears(unit=world["KH"], as_of=d("2025-12-31"), actor=SYSTEM)
    assert set(got) == {e["code"] for e in data["employers"]}
    for e in data["employers"]:
        assert (got[e["code"]][4], got[e["code"]][5]) == (e["overdue"], e["interest"])
    assert got["E1"][6] == "06/2025" and got["E1"][11] == "12/TB-BHXH"


def test_letters_in_bulk_and_interest_of_paid_periods(world, client) -> None:
    client.force_login(make_user("p", "province"))
    r = client.get("/arrears/letters.docx?as_of=2025-10-10")
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.count("Kính gửi:") == 2 and "Công ty A" in text and "Công ty C" in text
    only = Document(
        io.BytesIO(client.get("/arrears/letters.docx?as_of=2025-10-10&codes=E3").content)
    )
    assert "\n".join(p.text for p in only.paragraphs).count("Kính gửi:") == 1
    pdf = client.get("/arrears/letters.pdf?as_of=2025-10-10")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # downloading letters writes nothing (a GET never writes): they are drafts until issued
    assert Reminder.objects.filter(review_month=d("2025-10-01")).count() == 0
    # E2 owes nothing and has 207,000 interest from periods paid late (SPEC section 8)
    split = {
        r["code"]: r
        for r in figures.interest_split(unit=world["KH"], as_of=d("2025-09-30"), actor=SYSTEM)
    }
    assert split["E2"] == {
        "code": "E2",
        "unit": "C2",
        "on_overdue": 0,
        "since_paid": 207_000,
        "interest": 207_000,
        "periods_paid_late": 2,
        "first_paid_late": d("2025-01-01"),
        "last_paid_late": d("2025-03-01"),
    }
    data = figures.arrears(unit=world["KH"], as_of=d("2025-09-30"), actor=SYSTEM)
    assert sum(r["interest"] for r in split.values()) == data["totals"]["interest"]
    c2 = client.get("/arrears/?unit=C2&as_of=2025-09-30").content.decode()
    assert "Không còn nợ: toàn bộ là lãi của các kỳ đã nộp đủ nhưng nộp sau hạn" in c2
    assert "/arrears/interest/?as_of=2025-09-30&unit=C2" in c2
    why = client.get("/arrears/interest/?as_of=2025-09-30&unit=C2").content.decode()
    assert 'data-code="E2"' in why and "207.000" in why and "01/2025 – 03/2025" in why
    # E1's letter on 30 Sep: June's 10,000,000 for 61 days = 183,000; July paid on time
    letter = Document(
        io.BytesIO(client.get("/arrears/review/E1/letter.docx?as_of=2025-09-30").content)
    )
    body = "\n".join(p.text for p in letter.paragraphs)
    assert "183.000 đồng" in body and "đã nộp muộn" not in body


def test_letter_splits_interest_of_a_short_debt(world, client) -> None:
    """A one-month debt beside big interest: the letter tells the interest on the debt and
    that of the periods paid late, which together are SPEC section 8's figure."""
    Contribution.objects.create(employer_id="E2", period=d("2025-08-01"), amount_due=1_000_000)
    client.force_login(make_user("p", "province"))
    fig = figures.employer_figures(employer=Employer.objects.get(code="E2"), as_of=d("2025-10-10"))
    # August: 1,000,000 × 0.0003 × 10 days = 3,000; paid late: 207,000
    assert fig == {"overdue": 1_000_000, "interest": 210_000}
    letter = Document(
        io.BytesIO(client.get("/arrears/review/E2/letter.docx?as_of=2025-10-10").content)
    )
    body = "\n".join(p.text for p in letter.paragraphs)
    cells = [c.text for t in letter.tables for row in t.rows for c in row.cells]
    assert "210.000 đồng, gồm 3.000 đồng trên số tiền còn nợ" in body
    assert "207.000 đồng của các kỳ đã nộp đủ nhưng nộp sau hạn" in body
    assert {"01/2025", "01/04/2025", "32", "192.000", "03/2025", "15.000"} <= set(cells)


def test_dates_and_unit_lists(world, client) -> None:
    client.force_login(make_user("p", "province"))
    html = client.get("/arrears/?as_of=2025-09-30").content.decode()
    assert "31/08/2025" in html and "2025-08-31" not in html.split('id="arrears-trend-data"')[0]
    assert ">06/2025<" in html and ">2025-06<" not in html
    assert "T8/2025" in html.split('id="arrears-trend-data"')[1]  # chart labels
    # a viewer of one commune has that commune to choose; an office its communes
    client.force_login(make_user("v", "viewer", world["C1"]))
    v = client.get("/arrears/?as_of=2025-09-30").content.decode()
    menu = v.split('<select name="unit">')[1].split("</select>")[0]
    assert 'value="C1"' in menu
    client.force_login(make_user("o", "office", world["O1"]))
    o = client.get("/arrears/?as_of=2025-09-30").content.decode()
    menu = o.split('<select name="unit">')[1].split("</select>")[0]
    assert 'value="O1"' in menu and 'value="C1"' in menu and 'value="C2"' in menu
    assert 'value="O2"' not in menu
