"""The progress report as an A4 PDF in the Decree 30 layout, DejaVu Sans embedded."""

from __future__ import annotations

import io
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.documents import PDF_FONT as FONT
from ansinh.core.documents import (
    DocHeader,
    issuer_of,
    pdf_closing,
    pdf_header,
    pdf_new,
    recipients_for,
    signer_title,
)
from ansinh.core.formats import fmt_date
from ansinh.geography.selectors import unit_ancestors
from ansinh.reports import charts
from ansinh.reports.progress import ProgressReport
from ansinh.reports.tables import Table, build_tables, fmt_cell, report_title

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

# relative column widths per table (text columns wider)
WIDTHS: dict[str, tuple[float, ...]] = {
    "headline": (2.4, 1.2, 1.3, 1.2, 1.2, 1.3, 1.2, 1.5),
    "coverage": (1, 1, 1, 1, 1, 1),
    "ranking": (0.7, 0.9, 2.6, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2),
    "behind": (0.9, 2.2, 1.9, 1.1, 1.1, 1.1, 1.0, 1.1),
    "groups": (2.4, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    "pace": (1, 1, 1.2, 1.2, 1.2, 1.2),
    "trend": (1, 1.2, 1.2, 1.2, 1.2),
    "forecast": (2.0, 1.2, 1.2, 1.2, 1.2, 1.2, 1.3),
    "early_warning": (0.9, 2.4, 1.9, 1.1, 1.1, 1.0, 1.1, 1.1),
}
FONT_SIZES = {
    "groups": 6.5,
    "ranking": 7.5,
    "behind": 7.5,
    "headline": 7.5,
    "forecast": 7.5,
    "early_warning": 7.5,
}


def _fit_widths(
    pdf: Any, table: Table, weights: tuple[float, ...], size: float, lang: str
) -> tuple[tuple[float, ...], float]:
    """Column widths (mm) and heading size such that no word is broken across lines: a column
    narrower than its longest word (a code such as ``BHXH-NHA``, an English heading such as
    ``Participants``) takes the room from columns that have some to spare; where even that is
    not enough, the headings get a smaller type."""
    pad = 2 * 1.0 + 0.6  # horizontal padding of both sides, plus a margin for rounding
    total = float(pdf.epw)
    base = [total * w / sum(weights) for w in weights]
    pdf.set_font(FONT, size=size)
    data_need = [
        max(
            (
                pdf.get_string_width(word)
                for row in table.rows
                for word in fmt_cell(row[i], table.kinds[i], lang).split()
            ),
            default=0.0,
        )
        + pad
        for i in range(len(weights))
    ]
    head_size = size
    while True:
        pdf.set_font(FONT, "B", head_size)
        need = [
            max(d, max((pdf.get_string_width(w) + pad for w in h.split()), default=0.0))
            for d, h in zip(data_need, table.header, strict=True)
        ]
        if sum(need) <= total or head_size <= 5:
            break
        head_size -= 0.5
    pdf.set_font(FONT, size=size)
    short = sum(max(n - b, 0.0) for n, b in zip(need, base, strict=True))
    spare = sum(max(b - n, 0.0) for n, b in zip(need, base, strict=True))
    if short <= 0 or spare <= 0:
        return tuple(base), head_size
    take = min(1.0, short / spare)
    widths = tuple(n if n >= b else b - (b - n) * take for n, b in zip(need, base, strict=True))
    return widths, head_size


def _table(pdf: object, table: Table, lang: str) -> None:
    # imported here, as core.documents.pdf_new imports fpdf: it takes seconds to import
    from fpdf.fonts import FontFace

    size = FONT_SIZES.get(table.key, 8)
    pdf.set_font(FONT, size=size)  # type: ignore[attr-defined]
    aligns = tuple("LEFT" if k == "text" else "RIGHT" for k in table.kinds)
    widths, head_size = _fit_widths(
        pdf, table, WIDTHS.get(table.key) or tuple(1.0 for _h in table.header), size, lang
    )
    with pdf.table(  # type: ignore[attr-defined]
        col_widths=widths,
        text_align=aligns,
        line_height=size * 0.55,
        padding=(0.8, 1.0),
        headings_style=FontFace(emphasis="BOLD", fill_color=(226, 233, 243), size_pt=head_size),
        cell_fill_color=(246, 248, 251),
        cell_fill_mode="ROWS",
        borders_layout="SINGLE_TOP_LINE",
        num_heading_rows=1,
        align="LEFT",
        width=pdf.epw,  # type: ignore[attr-defined]
    ) as t:
        head = t.row()
        for h in table.header:
            head.cell(h, align="CENTER")
        for row in table.rows:
            r = t.row()
            for value, kind in zip(row, table.kinds, strict=True):
                r.cell(fmt_cell(value, kind, lang))


def render_pdf(report: ProgressReport, *, lang: str = "vi") -> bytes:
    with translation.override(lang):
        tables = build_tables(report, lang)
        title = report_title(report, lang)
        issuer = issuer_of(unit_ancestors(unit=report.unit))
        header = DocHeader(issuer=issuer, date=report.as_of, kind="BC", subject=title)
        pdf = pdf_new(title=title)
        pdf_header(pdf, header)
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(
            0,
            5,
            _("Đơn vị báo cáo: %(name)s (%(code)s). Số liệu đến hết ngày %(date)s.")
            % {
                "name": report.unit.name,
                "code": report.unit.code,
                "date": fmt_date(report.as_of, lang=lang),
            },
        )
        pdf.ln(2)
        width = pdf.w - pdf.l_margin - pdf.r_margin
        for i, table in enumerate(tables):
            if pdf.get_y() > pdf.h - pdf.b_margin - 30:
                pdf.add_page()
            pdf.set_font(FONT, "B", 10.5)
            pdf.multi_cell(0, 6, f"{ROMAN[i]}. {table.title.upper()}")
            pdf.ln(1)
            if table.rows:
                _table(pdf, table, lang)
            for n, para in enumerate(table.paragraphs, start=1):
                pdf.set_font(FONT, size=10)
                prefix = f"{n}. " if table.key == "tasks" else "- "
                pdf.multi_cell(0, 5, prefix + para, align="J")
                pdf.ln(0.8)
            if table.note:
                pdf.set_font(FONT, "I", 8)
                pdf.multi_cell(0, 4.2, table.note)
            if table.key == "headline":
                pdf.ln(2)
                pdf.image(io.BytesIO(charts.attainment_chart(report, lang)), w=width)
            if table.key == "trend":
                pdf.ln(2)
                if pdf.get_y() > pdf.h - pdf.b_margin - width * 4.8 / 7.2:
                    pdf.add_page()
                pdf.image(io.BytesIO(charts.trend_chart(report, lang)), w=width)
            pdf.ln(3)
        pdf_closing(
            pdf,
            recipients=recipients_for(issuer, "BC"),
            signer=signer_title(),
        )
        return bytes(pdf.output())
