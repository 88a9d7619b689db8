"""The one document module (core/documents.py): header, number, recipients per level, the
Decree 30 page setup, in DOCX and PDF."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from types import SimpleNamespace
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn

from ansinh.arrears.exports import reminders_docx, reminders_pdf
from ansinh.core.documents import (
    DocHeader,
    Issuer,
    docx_bytes,
    docx_closing,
    docx_header,
    docx_new,
    issuer_of,
    number_text,
    pdf_closing,
    pdf_header,
    pdf_new,
    place_date,
    recipients_for,
    short_name,
    signer_title,
)


class U:
    def __init__(self, code: str, name: str, level: str) -> None:
        self.code, self.name, self.level = code, name, level


KH = U("56", "Tỉnh Khánh Hòa", "province")
NT = U("BHXH-NT", "BHXH cơ sở Nha Trang", "office")
C = U("22366", "Phường Nha Trang", "commune")


def test_place_date_and_number() -> None:
    assert place_date("Khánh Hòa", dt.date(2025, 2, 5)) == "Khánh Hòa, ngày 05 tháng 02 năm 2025"
    assert place_date("Khánh Hòa", dt.date(2025, 10, 19)) == "Khánh Hòa, ngày 19 tháng 10 năm 2025"
    assert place_date("Nha Trang", dt.date(2025, 3, 9)) == "Nha Trang, ngày 09 tháng 3 năm 2025"
    assert number_text("BC", 7) == "Số: 07/BC-BHXH"
    assert number_text("KH", 112) == "Số: 112/KH-BHXH"
    blank = number_text("TB", None)
    assert (
        blank.startswith("Số: ")
        and blank.endswith("/TB-BHXH")
        and not any(ch.isdigit() for ch in blank)
    )


def test_short_names_agree() -> None:
    # the copies used to differ ("TP. " vs "TP ")
    assert short_name("TP. Hồ Chí Minh") == short_name("TP Hồ Chí Minh") == "Hồ Chí Minh"
    assert short_name("Tỉnh Khánh Hòa") == "Khánh Hòa"
    assert short_name("BHXH cơ sở Nha Trang") == "Nha Trang"


def test_issuer_per_level() -> None:
    p = issuer_of([KH])
    assert (p.unit_code, p.governing, p.agency, p.place) == (
        "56",
        "BẢO HIỂM XÃ HỘI VIỆT NAM",
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
        "Khánh Hòa",
    )
    o = issuer_of([KH, NT, C])  # a commune's document is issued by its office
    assert (o.unit_code, o.governing, o.agency, o.plain) == (
        "BHXH-NT",
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
        "BẢO HIỂM XÃ HỘI CƠ SỞ NHA TRANG",
        "BHXH cơ sở Nha Trang",
    )


def test_recipients_right_for_the_level() -> None:
    province, office = issuer_of([KH]), issuer_of([KH, NT])
    for kind in ("KH", "BC"):
        own = recipients_for(province, kind)
        # a province does not send its own plan or report to itself
        assert not any("BHXH tỉnh" in r for r in own), own
        assert "Bảo hiểm xã hội Việt Nam (để báo cáo);" in own
        up = recipients_for(office, kind)
        assert up[0] == "BHXH tỉnh Khánh Hòa (để báo cáo);"
        assert own[-1] == up[-1] == "Lưu: VT."
    assert recipients_for(office, "TB") == ["Như trên;", "Lưu: VT, QLT."]


def test_docx_page_setup_header_and_closing() -> None:
    issuer = issuer_of([KH, NT])
    doc = docx_new()
    docx_header(
        doc,
        DocHeader(
            issuer=issuer, date=dt.date(2025, 10, 19), kind="KH", subject="Truyền thông", number=3
        ),
    )
    docx_closing(doc, recipients=recipients_for(issuer, "KH"), signer=signer_title())
    d = Document(io.BytesIO(docx_bytes(doc)))
    sec = d.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    margins = [sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin]
    assert [round(m.mm) for m in margins] == [20, 20, 30, 15]
    normal = d.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 13
    head = "\n".join(c.text for c in d.tables[0].rows[0].cells)
    for want in (
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
        "BẢO HIỂM XÃ HỘI CƠ SỞ NHA TRANG",
        "Số: 03/KH-BHXH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Khánh Hòa, ngày 19 tháng 10 năm 2025",
    ):
        assert want in head, want
    body = "\n".join(p.text for p in d.paragraphs)
    assert "KẾ HOẠCH" in body and "Truyền thông" in body
    closing = "\n".join(c.text for c in d.tables[-1].rows[0].cells)
    assert "Nơi nhận:" in closing and "GIÁM ĐỐC" in closing and "Lưu: VT." in closing


def test_pdf_header(monkeypatch: Any) -> None:
    issuer = Issuer(unit_code="56", level="province", province="Khánh Hòa", office="")
    pdf = pdf_new(title="t")
    pdf_header(pdf, DocHeader(issuer=issuer, date=dt.date(2025, 9, 30), kind="BC", subject="x"))
    pdf_closing(pdf, recipients=["Lưu: VT."], signer=signer_title())
    data = bytes(pdf.output())
    assert data.startswith(b"%PDF") and b"DejaVuSansBold" in data


def _letter(n_periods: int, number: int | str | None) -> dict[str, Any]:
    periods = [
        {
            "period": dt.date(2022 + i // 12, i % 12 + 1, 1),
            "due_date": dt.date(2022 + i // 12, i % 12 + 1, 28),
            "amount_due": 31_500_000,
            "overdue": 31_500_000,
            "months_overdue": n_periods - i,
            "interest": 283_500 * (n_periods - i),
        }
        for i in range(n_periods)
    ]
    return {
        "province_name": "Khánh Hòa",
        "employer": SimpleNamespace(name="Công ty TNHH Yến Sào", code="TA0123"),
        "as_of": dt.date(2026, 11, 30),
        "figures": {
            "overdue": 31_500_000 * n_periods,
            "interest": sum(p["interest"] for p in periods),
        },
        "periods": periods,
        "number": number,
    }


def _pdf_pages(data: bytes) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return text.split("\f")[:-1]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_pdf_pages_numbered_from_the_second_and_table_header_repeated() -> None:
    """Decree 30: page numbers centred at the top, none on a document's first page; letters
    in one file are numbered apart; a letter's table that runs onto the next page repeats its
    header there."""
    pages = _pdf_pages(reminders_pdf([_letter(40, 17), _letter(2, None)]))
    assert len(pages) >= 3
    first_lines = [p.strip().splitlines()[0].strip() for p in pages]
    assert first_lines[0].startswith("BẢO HIỂM XÃ HỘI")  # no number on page 1
    assert first_lines[1] == "2" and "Kỳ đóng" in pages[1] and "Hạn đóng" in pages[1]
    second = next(i for i, p in enumerate(pages) if i and "Kính gửi" in p)
    assert first_lines[second].startswith("BẢO HIỂM XÃ HỘI")  # letter 2 starts again
    numbers = [line for line in first_lines[:second] if line.isdigit()]
    assert numbers == [str(n) for n in range(2, second + 1)]


def test_docx_pages_numbered_and_each_letter_restarts() -> None:
    d = Document(io.BytesIO(reminders_docx([_letter(40, 17), _letter(2, None)])))
    assert len(d.sections) == 2
    for sec in d.sections:
        assert sec.different_first_page_header_footer
        num = sec._sectPr.find(qn("w:pgNumType"))
        assert num is not None and num.get(qn("w:start")) == "1"
    assert "PAGE" in d.sections[0].header._element.xml
    assert not d.sections[0].first_page_header.paragraphs[0].text
    # the second letter's header is the first one's (linked), not a second copy
    assert d.sections[1].header.is_linked_to_previous


def test_letter_number_written_by_hand_kept_in_docx_and_pdf() -> None:
    """A reminder numbered by hand from another register ("12a") reads the same in both."""
    d = Document(io.BytesIO(reminders_docx([_letter(1, "12a")])))
    assert "Số: 12a" in "\n".join(c.text for c in d.tables[0].rows[0].cells)
    d = Document(io.BytesIO(reminders_docx([_letter(1, 7)])))
    assert "Số: 07/TB-BHXH" in "\n".join(c.text for c in d.tables[0].rows[0].cells)
    if shutil.which("pdftotext"):
        assert "Số: 12a" in _pdf_pages(reminders_pdf([_letter(1, "12a")]))[0]
