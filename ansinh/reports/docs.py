"""Vietnamese administrative document layout (Decree 30/2020/NĐ-CP) for PDF (fpdf2) and DOCX
(python-docx), shared by the progress report, the plan DOCX and the reminder letters.

At the top left the governing agency and, below it in bold, the issuing agency (then the
number and symbol); at the top right the national motto in bold, then the place and date in
italics; then the kind of document in capitals and its subject. A4; margins top/bottom 20 mm,
left 30 mm, right 15 mm. PDFs embed DejaVu Sans (the TTF matplotlib ships; it covers every
Vietnamese diacritic). Usage::

    header = header_for_unit(unit, date=as_of, kind=_("BÁO CÁO"), subject=...)
    pdf = pdf_new(title=...)          # fonts registered as family FONT ("dejavu")
    pdf_header(pdf, header)
    ... pdf.set_font(FONT, size=11); pdf.multi_cell(0, 6, text) ...
    pdf_closing(pdf, recipients=[...], signer_title=_("GIÁM ĐỐC"))
    data = bytes(pdf.output())

    document = docx_new()
    docx_header(document, header)
    ... document.add_paragraph(...) ...
    docx_closing(document, recipients=[...], signer_title=...)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

FONT = "dejavu"
MARGIN_LEFT = 30.0
MARGIN_RIGHT = 15.0
MARGIN_TOP = 20.0
MARGIN_BOTTOM = 20.0


@dataclass
class DocHeader:
    governing: str  # BẢO HIỂM XÃ HỘI VIỆT NAM
    issuer: str  # BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA
    place: str  # Khánh Hòa
    date: dt.date
    kind: str  # BÁO CÁO, KẾ HOẠCH, THÔNG BÁO
    subject: str
    number: str = ""  # Số: 12/BC-BHXH


def font_paths() -> dict[str, Path]:
    """DejaVu Sans regular/bold/oblique/bold-oblique from matplotlib's data folder."""
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {
        "": base / "DejaVuSans.ttf",
        "B": base / "DejaVuSans-Bold.ttf",
        "I": base / "DejaVuSans-Oblique.ttf",
        "BI": base / "DejaVuSans-BoldOblique.ttf",
    }


def motto() -> tuple[str, str]:
    return _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), _("Độc lập - Tự do - Hạnh phúc")


def place_date(place: str, day: dt.date) -> str:
    """``Khánh Hòa, ngày 05 tháng 02 năm 2025`` — days below 10 and months 1 and 2 take a
    leading zero (Decree 30, appendix I)."""
    d = f"{day.day:02d}"
    m = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return _("%(place)s, ngày %(day)s tháng %(month)s năm %(year)s") % {
        "place": place,
        "day": d,
        "month": m,
        "year": day.year,
    }


def _strip_prefix(name: str) -> str:
    for prefix in ("Tỉnh ", "tỉnh ", "Thành phố ", "TP. "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def header_for_unit(
    unit: Any, *, date: dt.date, kind: str, subject: str, number: str = ""
) -> DocHeader:
    """The header a unit issues under: a province issues as BẢO HIỂM XÃ HỘI TỈNH … under
    BẢO HIỂM XÃ HỘI VIỆT NAM; an office or commune as its office under the province."""
    from ansinh.geography.selectors import unit_ancestors

    chain = unit_ancestors(unit=unit) or [unit]
    province = _strip_prefix(chain[0].name.strip())
    province_agency = (_("Bảo hiểm xã hội tỉnh %(name)s") % {"name": province}).upper()
    office = next((u for u in reversed(chain) if u.level == "office"), None)
    if unit.level == "province" or office is None:
        governing, issuer = _("BẢO HIỂM XÃ HỘI VIỆT NAM"), province_agency
    else:
        governing, issuer = province_agency, office.name.upper()
    return DocHeader(
        governing=governing,
        issuer=issuer,
        place=province,
        date=date,
        kind=kind,
        subject=subject,
        number=number,
    )


# ---------------------------------------------------------------- PDF (fpdf2)


def pdf_new(*, title: str = "", author: str = "ansinh") -> Any:
    """An A4 portrait FPDF with the Decree 30 margins and DejaVu Sans registered as ``FONT``;
    pages numbered at the bottom centre."""
    from fpdf import FPDF

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, size=8)
            self.set_text_color(110)
            self.cell(0, 6, str(self.page_no()), align="C")
            self.set_text_color(0)

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    for style, path in font_paths().items():
        pdf.add_font(FONT, style=style, fname=str(path))
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("ansinh")
    pdf.add_page()
    pdf.set_font(FONT, size=11)
    return pdf


def pdf_header(pdf: Any, header: DocHeader) -> None:
    """Write the two-column heading, the date line and the document kind and subject."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    left_w = width * 0.45
    right_w = width - left_w
    x0, y0 = pdf.l_margin, pdf.get_y()

    pdf.set_xy(x0, y0)
    pdf.set_font(FONT, size=9.5)
    pdf.multi_cell(left_w, 4.6, header.governing, align="C")
    pdf.set_x(x0)
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(left_w, 4.6, header.issuer, align="C")
    y_left = pdf.get_y()
    pdf.line(x0 + left_w * 0.35, y_left + 0.8, x0 + left_w * 0.65, y_left + 0.8)
    if header.number:
        pdf.set_xy(x0, y_left + 2.5)
        pdf.set_font(FONT, size=9.5)
        pdf.multi_cell(left_w, 4.6, header.number, align="C")
        y_left = pdf.get_y()

    line1, line2 = motto()
    pdf.set_xy(x0 + left_w, y0)
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(right_w, 4.6, line1, align="C")
    pdf.set_x(x0 + left_w)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(right_w, 4.6, line2, align="C")
    y_right = pdf.get_y()
    text_w = pdf.get_string_width(line2)
    cx = x0 + left_w + right_w / 2
    pdf.line(cx - text_w / 2, y_right + 0.8, cx + text_w / 2, y_right + 0.8)
    pdf.set_xy(x0 + left_w, y_right + 2.5)
    pdf.set_font(FONT, "I", 9.5)
    pdf.multi_cell(right_w, 4.6, place_date(header.place, header.date), align="C")
    y_right = pdf.get_y()

    pdf.set_y(max(y_left, y_right) + 7)
    pdf.set_x(x0)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(width, 6.5, header.kind.upper(), align="C")
    pdf.set_x(x0)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(width, 5.5, header.subject, align="C")
    y = pdf.get_y() + 1.5
    pdf.line(x0 + width * 0.4, y, x0 + width * 0.6, y)
    pdf.set_y(y + 5)
    pdf.set_font(FONT, size=11)


def pdf_closing(
    pdf: Any, *, recipients: list[str], signer_title: str, signer_name: str = ""
) -> None:
    """ "Nơi nhận:" at the bottom left and the signature block at the bottom right."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    if pdf.get_y() > pdf.h - pdf.b_margin - 45:
        pdf.add_page()
    pdf.ln(6)
    x0, y0 = pdf.l_margin, pdf.get_y()
    left_w = width * 0.5
    pdf.set_xy(x0, y0)
    pdf.set_font(FONT, "BI", 9.5)
    pdf.cell(left_w, 5, _("Nơi nhận:"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    for r in recipients:
        pdf.set_x(x0)
        pdf.multi_cell(left_w, 4.2, f"- {r}")
    pdf.set_xy(x0 + left_w, y0)
    pdf.set_font(FONT, "B", 10.5)
    pdf.multi_cell(width - left_w, 5, signer_title.upper(), align="C")
    if signer_name:
        pdf.set_xy(x0 + left_w, pdf.get_y() + 18)
        pdf.multi_cell(width - left_w, 5, signer_name, align="C")


# ---------------------------------------------------------------- DOCX (python-docx)


def docx_new() -> Any:
    """An A4 python-docx Document with the Decree 30 margins, Times New Roman 13 pt."""
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    return document


def _docx_par(
    cell_or_doc: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 13,
    center: bool = True,
    underline: bool = False,
) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = cell_or_doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.size = Pt(size)
    return p


def docx_header(document: Any, header: DocHeader) -> None:
    """The two-column heading (a borderless table), the date line, the kind and subject."""
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    _docx_par(left, header.governing, size=12)
    _docx_par(left, header.issuer, bold=True, size=12, underline=True)
    if header.number:
        _docx_par(left, header.number, size=13)
    line1, line2 = motto()
    _docx_par(right, line1, bold=True, size=12)
    _docx_par(right, line2, bold=True, size=13, underline=True)
    _docx_par(right, place_date(header.place, header.date), italic=True, size=13)
    _docx_par(document, "")
    _docx_par(document, header.kind.upper(), bold=True, size=14)
    _docx_par(document, header.subject, bold=True, size=14)
    _docx_par(document, "")


def docx_closing(
    document: Any, *, recipients: list[str], signer_title: str, signer_name: str = ""
) -> None:
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _docx_par(left, _("Nơi nhận:"), bold=True, italic=True, size=12, center=False)
    for r in recipients:
        _docx_par(left, f"- {r}", size=11, center=False)
    _docx_par(right, signer_title.upper(), bold=True, size=13)
    if signer_name:
        for _i in range(3):
            _docx_par(right, "")
        _docx_par(right, signer_name, bold=True, size=13)
