"""The one document module (core/documents.py): header, number, recipients per level, the
Decree 30 page setup, in DOCX and PDF."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from docx import Document

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
