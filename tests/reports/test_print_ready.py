"""Print-ready XLSX: each export opened in LibreOffice and printed to PDF (one conversion per
kind of export): A4, one page wide (no column cut: the last column's heading is on every page
that has the first's), the header repeated on every page, and a page count that matches what
the workbook holds (a chart on a page of its own, never cut)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl

from tests.libreoffice import page_size_mm, page_texts, to_pdf

AS_OF = "2025-09-30"


def _a4(pdf: Path, *, landscape: bool) -> None:
    w, h = page_size_mm(pdf)
    assert sorted((round(w), round(h))) == [210, 297], (w, h)
    assert (w > h) == landscape, (w, h)


def test_report_xlsx_prints_a_page_per_sheet(cli: Any, province: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    assert cli("report", "progress", "--as-of", AS_OF, "--format", "xlsx", "-o", str(out)).code == 0
    wb = openpyxl.load_workbook(out)
    charts = [ws for ws in wb.chartsheets]
    assert len(charts) == 5  # the headline chart and one trend chart per scheme, own sheets
    for ws in wb.worksheets:
        setup = ws.page_setup  # fitToWidth 1 is the default, left out of the file
        assert setup.paperSize == 9 and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    pdf = to_pdf(out.read_bytes(), "bao-cao.xlsx", tmp_path)
    pages = page_texts(pdf)
    # the small province's tables each fit one page; each chart is one page
    assert len(pages) == len(wb.sheetnames), [p[:60] for p in pages]
    # no column cut: each table's first and last headings on its page
    for first, last in (
        ("Chỉ tiêu", "Cần/tháng"),
        ("Hạng", "Bình quân"),
        ("Xã, phường", "Cần/tháng"),
        ("Cuối tháng", "Kế hoạch Bảo hiểm y tế"),
    ):
        assert any(first in p and last in p for p in pages), (first, last)
    # the analysis's text is not cut at the page's edges
    analysis = next(p for p in pages if "Đánh giá" in p)
    assert "Kết quả phát triển người tham gia BHXH, BHYT đến ngày 30/09/2025" in analysis
    assert "Cập nhật số liệu người tham gia, hoạt động truyền thông trước ngày 05 tháng sau." in (
        analysis
    )


def test_plan_xlsx_header_on_every_page(cli: Any, tmp_path: Path) -> None:
    from tests.outreach.plan_fixtures import make_data

    make_data()
    out = tmp_path / "kh.xlsx"
    res = cli(
        "plan", "build", "--year", "2025", "--as-of", AS_OF, "--format", "xlsx", "-o", str(out)
    )
    assert res.code == 0, res.err
    ws = openpyxl.load_workbook(out).worksheets[0]
    # a wrapped cell's row is as tall as its text (not the default height)
    tall = [r for r in range(5, ws.max_row) if (ws.row_dimensions[r].height or 15) > 15]
    assert tall, "no row was given the height of its wrapped text"
    pdf = to_pdf(out.read_bytes(), "ke-hoach.xlsx", tmp_path)
    _a4(pdf, landscape=True)
    pages = page_texts(pdf)
    items = [p for p in pages if "Hình thức" in p]
    assert len(items) >= 2  # the items run over several pages …
    for p in items:  # … each with the header row, the last column included
        assert "STT" in p and "Kinh phí (đồng)" in p, p[:200]


def test_call_sheet_xlsx_fits_the_width(tmp_path: Path) -> None:
    from ansinh.arrears.exports import call_sheet_xlsx

    rows = [
        {
            "kind_label": "Thẻ BHYT sắp hết hạn",
            "unit": "22366",
            "code": f"56{i:010d}",
            "name": "Ng*** V** A",
            "phone": "09******78",
            "household": "HGD-001",
            "scheme_label": "Bảo hiểm y tế",
            "reference_date": dt.date(2025, 10, 15),
            "assigned": "Nguyễn Thị Cán Bộ Thu",
            "last_outcome": "Đã gọi, hẹn gia hạn vào tuần sau tại điểm thu",
            "address": "Tổ dân phố 3, đường Nguyễn Thị Minh Khai",
            "village": "Tổ 3",
        }
        for i in range(150)
    ]
    data = call_sheet_xlsx(title="Danh sách gọi điện", rows=rows)
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws.print_title_rows == "$3:$3"
    pdf = to_pdf(data, "goi-dien.xlsx", tmp_path)
    _a4(pdf, landscape=True)
    pages = page_texts(pdf)
    # one page wide: a page per ~25 rows, not a column strip per page (166 pages before)
    assert 3 <= len(pages) <= 12, len(pages)
    for p in pages:
        assert "STT" in p and "Ghi chú" in p, p[:200]
