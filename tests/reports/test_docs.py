"""The Decree 30 document helpers shared by reports, plans and letters."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from ansinh.reports.docs import (
    docx_closing,
    docx_header,
    docx_new,
    header_for_unit,
    pdf_closing,
    pdf_header,
    pdf_new,
    place_date,
)


def test_place_date_leading_zeros() -> None:
    assert place_date("Khánh Hòa", dt.date(2025, 2, 5)) == "Khánh Hòa, ngày 05 tháng 02 năm 2025"
    assert place_date("Khánh Hòa", dt.date(2025, 10, 19)) == "Khánh Hòa, ngày 19 tháng 10 năm 2025"
    assert place_date("Nha Trang", dt.date(2025, 3, 9)) == "Nha Trang, ngày 09 tháng 3 năm 2025"


def test_header_for_province_and_office(province: Any) -> None:
    h = header_for_unit(province["KH"], date=dt.date(2025, 9, 30), kind="BÁO CÁO", subject="x")
    assert (h.governing, h.issuer, h.place) == (
        "BẢO HIỂM XÃ HỘI VIỆT NAM",
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
        "Khánh Hòa",
    )
    h = header_for_unit(province["C11"], date=dt.date(2025, 9, 30), kind="KẾ HOẠCH", subject="x")
    assert (h.governing, h.issuer) == ("BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA", "BHXH CƠ SỞ NHA TRANG")


def test_docx_and_pdf_headers(province: Any) -> None:
    from docx import Document

    h = header_for_unit(
        province["KH"], date=dt.date(2025, 10, 19), kind="Kế hoạch", subject="Truyền thông"
    )
    doc = docx_new()
    docx_header(doc, h)
    docx_closing(doc, recipients=["Như trên", "Lưu: VT"], signer_title="Giám đốc")
    buf = io.BytesIO()
    doc.save(buf)
    text = "\n".join(p.text for p in Document(io.BytesIO(buf.getvalue())).paragraphs)
    cells = "\n".join(
        c.text
        for t in Document(io.BytesIO(buf.getvalue())).tables
        for row in t.rows
        for c in row.cells
    )
    assert "KẾ HOẠCH" in text and "Truyền thông" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells and "Độc lập - Tự do - Hạnh phúc" in cells
    assert "Khánh Hòa, ngày 19 tháng 10 năm 2025" in cells and "GIÁM ĐỐC" in cells
    pdf = pdf_new(title="t")
    pdf_header(pdf, h)
    pdf_closing(pdf, recipients=["Lưu: VT"], signer_title="Giám đốc")
    data = bytes(pdf.output())
    assert data.startswith(b"%PDF") and b"DejaVuSansBold" in data
