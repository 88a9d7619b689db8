"""Files of the arrears app: call sheets / visit lists (XLSX, PDF) and reminder letters (DOCX).

Person data in these files is masked unless the caller passes it unmasked (and audited).
"""

from __future__ import annotations

import datetime as dt
import io
import pathlib
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from ansinh.core.formats import fmt_date, fmt_int


def sheet_columns() -> list[str]:
    return [
        _("STT"),
        _("Loại"),
        _("Đơn vị"),
        _("Mã số"),
        _("Họ tên / Đơn vị SDLĐ"),
        _("Điện thoại"),
        _("Hộ gia đình"),
        _("Loại bảo hiểm"),
        _("Ngày tham chiếu"),
        _("Phân công"),
        _("Kết quả gần nhất"),
        _("Ghi chú"),
    ]


def _sheet_values(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    out = []
    for i, r in enumerate(rows, 1):
        out.append(
            [
                str(i),
                str(r["kind_label"]),
                str(r["unit"]),
                str(r["code"]),
                str(r["name"]),
                str(r["phone"]),
                str(r["household"]),
                str(r["scheme_label"]),
                fmt_date(r["reference_date"]),
                str(r["assigned"]),
                str(r["last_outcome"]),
                "",
            ]
        )
    return out


def call_sheet_xlsx(*, title: str, rows: Sequence[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Danh sách")[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(sheet_columns())
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in _sheet_values(rows):
        ws.append(r)
    widths = [5, 16, 10, 16, 28, 14, 14, 16, 13, 16, 16, 24]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A4"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _dejavu() -> tuple[pathlib.Path, pathlib.Path]:
    import importlib.util

    # matplotlib's own data folder, found without importing matplotlib (slow to import)
    spec = importlib.util.find_spec("matplotlib")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if locations:
        base = pathlib.Path(locations[0]) / "mpl-data" / "fonts" / "ttf"
    else:  # pragma: no cover
        import matplotlib

        base = pathlib.Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return base / "DejaVuSans.ttf", base / "DejaVuSans-Bold.ttf"


def call_sheet_pdf(*, title: str, rows: Sequence[dict[str, Any]]) -> bytes:
    from fpdf import FPDF

    regular, bold = _dejavu()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_auto_page_break(auto=False, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    cols = sheet_columns()
    widths = (9, 34, 14, 24, 40, 22, 20, 22, 20, 22, 22, 28)
    line_h = 6

    def fit(text: str, width: float) -> str:
        if pdf.get_string_width(text) <= width - 2:
            return text
        while text and pdf.get_string_width(text + "…") > width - 2:
            text = text[:-1]
        return text + "…"

    def header() -> None:
        pdf.set_font("DejaVu", "B", 7)
        for c, w in zip(cols, widths, strict=True):
            pdf.cell(w, line_h, fit(c, w), border=1)
        pdf.ln(line_h)
        pdf.set_font("DejaVu", "", 8)

    header()
    bottom = pdf.h - pdf.b_margin
    for values in _sheet_values(rows):
        if pdf.get_y() + line_h > bottom:
            pdf.add_page()
            header()
        for v, w in zip(values, widths, strict=True):
            pdf.cell(w, line_h, fit(v, w), border=1)
        pdf.ln(line_h)
    return bytes(pdf.output())


# ---------------------------------------------------------------- reminder letter (DOCX)


def _agency(unit_name: str) -> tuple[str, str]:
    """(issuing agency line, place) from the province's name."""
    name = unit_name.strip()
    place = name
    for prefix in ("Tỉnh ", "tỉnh ", "Thành phố ", "TP "):
        if place.startswith(prefix):
            place = place[len(prefix) :]
    agency = (
        name.upper() if name.lower().startswith(("tỉnh", "thành phố")) else f"TỈNH {name.upper()}"
    )
    return _("BẢO HIỂM XÃ HỘI %(agency)s") % {"agency": agency}, place


def reminder_docx(
    *,
    province_name: str,
    employer: Any,
    as_of: dt.date,
    figures: dict[str, Any],
    periods: Sequence[dict[str, Any]],
    number: str = "",
) -> bytes:
    """THÔNG BÁO về việc chậm đóng BHXH, BHYT, BHTN in the administrative layout of
    Decree 30/2020/NĐ-CP (A4, Times New Roman 13 pt, margins 20/20/30/15 mm)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    agency, place = _agency(province_name)
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"  # type: ignore[attr-defined]
    style.font.size = Pt(13)  # type: ignore[attr-defined]

    def para(
        cell_or_doc: Any,
        text: str,
        *,
        bold: bool = False,
        italic: bool = False,
        center: bool = False,
        size: int | None = None,
    ) -> Any:
        p = cell_or_doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        run.italic = italic
        if size:
            run.font.size = Pt(size)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        return p

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.paragraphs[0].add_run(_("BẢO HIỂM XÃ HỘI VIỆT NAM")).font.size = Pt(12)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(left, agency, bold=True, center=True, size=12)
    para(left, _("Số: %(n)s/TB-BHXH") % {"n": number or "……"}, center=True)
    r0 = right.paragraphs[0].add_run(_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"))
    r0.bold = True
    r0.font.size = Pt(12)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, _("Độc lập - Tự do - Hạnh phúc"), bold=True, center=True)
    para(
        right,
        _("%(place)s, ngày %(d)02d tháng %(m)02d năm %(y)d")
        % {"place": place, "d": as_of.day, "m": as_of.month, "y": as_of.year},
        italic=True,
        center=True,
    )

    doc.add_paragraph()
    para(doc, _("THÔNG BÁO"), bold=True, center=True, size=14)
    para(doc, _("Về việc chậm đóng BHXH, BHYT, BHTN"), bold=True, center=True)
    doc.add_paragraph()
    para(doc, _("Kính gửi: %(name)s") % {"name": employer.name}, center=True)
    doc.add_paragraph()

    def body(text: str) -> None:
        p = doc.add_paragraph(text)
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(10)

    body(
        _(
            "Căn cứ Luật Bảo hiểm xã hội năm 2024; Luật Bảo hiểm y tế; Luật Việc làm và Nghị định "
            "số 274/2025/NĐ-CP của Chính phủ quy định chi tiết một số điều của Luật Bảo hiểm xã "
            "hội về chậm đóng, trốn đóng bảo hiểm xã hội bắt buộc, bảo hiểm thất nghiệp;"
        )
    )
    body(
        _(
            "Theo số liệu đối chiếu đến ngày %(date)s, đơn vị %(name)s (mã đơn vị %(code)s) "
            "chưa đóng đủ số tiền BHXH, BHYT, BHTN đã đến hạn, cụ thể như sau:"
        )
        % {"date": fmt_date(as_of, lang="vi"), "name": employer.name, "code": employer.code}
    )
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    hdr = [
        _("Kỳ đóng"),
        _("Hạn đóng"),
        _("Phải đóng (đồng)"),
        _("Còn nợ (đồng)"),
        _("Số tháng chậm"),
    ]
    for i, h in enumerate(hdr):
        table.rows[0].cells[i].text = h
        table.rows[0].cells[i].paragraphs[0].runs[0].bold = True
    for p in periods:
        cells = table.add_row().cells
        cells[0].text = f"{p['period']:%m/%Y}"
        cells[1].text = fmt_date(p["due_date"], lang="vi")
        cells[2].text = fmt_int(p["amount_due"], lang="vi")
        cells[3].text = fmt_int(p["overdue"], lang="vi")
        cells[4].text = str(p["months_overdue"])
    doc.add_paragraph()
    body(
        _("Tổng số tiền chậm đóng: %(amount)s đồng.")
        % {"amount": fmt_int(figures["overdue"], lang="vi")}
    )
    body(
        _(
            "Tiền lãi chậm đóng tính đến ngày %(date)s (0,03 %%/ngày trên số tiền chậm đóng và số "
            "ngày chậm đóng): %(interest)s đồng."
        )
        % {"date": fmt_date(as_of, lang="vi"), "interest": fmt_int(figures["interest"], lang="vi")}
    )
    body(
        _(
            "Đề nghị đơn vị khẩn trương nộp đủ số tiền còn nợ và tiền lãi chậm đóng vào tài khoản "
            "chuyên thu của cơ quan bảo hiểm xã hội để bảo đảm quyền lợi của người lao động. Quá "
            "thời hạn trên, cơ quan bảo hiểm xã hội sẽ phối hợp với các cơ quan có thẩm quyền xử "
            "lý theo quy định của pháp luật."
        )
    )
    body(_("Trường hợp đơn vị đã nộp, đề nghị bỏ qua thông báo này."))
    doc.add_paragraph()
    foot = doc.add_table(rows=1, cols=2)
    fl, fr = foot.rows[0].cells
    r1 = fl.paragraphs[0].add_run(_("Nơi nhận:"))
    r1.bold = True
    r1.italic = True
    r1.font.size = Pt(12)
    for line in (_("- Như trên;"), _("- Lưu: VT, QLT.")):
        para(fl, line, size=11)
    fr.paragraphs[0].add_run(_("GIÁM ĐỐC")).bold = True
    fr.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
