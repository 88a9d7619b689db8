"""Print-ready spreadsheets: every XLSX the product writes prints on A4 (landscape where the
table is wide), one page wide, its header rows repeated on every page, with margins, page
numbers, wrapped text and row heights that fit the wrapped text (LibreOffice and Excel keep a
row's stored height, so a row left at the default height shows only the first line of a
wrapped cell and the next row covers the rest). LibreOffice does not scale a sheet of a single
column to the page width: give a text sheet two columns (a number and the text).

``xlsxwriter`` sheets: :func:`xw_print_setup`; ``openpyxl`` sheets: :func:`op_print_setup`;
both use :func:`row_height` for the heights.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

A4 = 9  # the paper size code of A4 in SpreadsheetML
LINE_PT = 15.0  # one line of 11 pt text
# a sheet wider than this (in character units, the sum of its column widths) prints landscape
PORTRAIT_MAX_WIDTH = 95.0
MARGINS_IN = {"left": 0.5, "right": 0.4, "top": 0.6, "bottom": 0.6}  # inches
FOOTER = "&C&P / &N"  # page N / of M at the bottom centre


def lines_needed(text: Any, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a little
    narrower than nominal: bold headings and capitals run wider than ``0``)."""
    if text is None:
        return 1
    usable = max(int(width * 0.97) - 1, 4)
    lines = 0
    for part in str(text).split("\n"):
        lines += max(len(textwrap.wrap(part, usable, break_long_words=True)) or 1, 1)
    return max(lines, 1)


def row_height(values: Sequence[Any], widths: Sequence[float], *, font_pt: float = 11) -> float:
    """The height (points) of a row whose cells wrap in columns of ``widths``."""
    lines = max(
        (lines_needed(v, w) for v, w in zip(values, widths, strict=False) if v is not None),
        default=1,
    )
    return math.ceil(lines * LINE_PT * font_pt / 11 + 2)


def landscape_for(widths: Sequence[float]) -> bool:
    return sum(widths) > PORTRAIT_MAX_WIDTH


def xw_print_setup(
    ws: Any,
    *,
    widths: Sequence[float],
    header_rows: tuple[int, int] | None = None,
    landscape: bool | None = None,
) -> None:
    """A4, orientation by width (or as given), one page wide and as many tall as needed,
    ``header_rows`` (first, last; 0-based) repeated, margins, centred, page numbers."""
    ws.set_paper(A4)
    if landscape_for(widths) if landscape is None else landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    ws.set_margins(**MARGINS_IN)
    ws.center_horizontally()
    ws.set_footer(FOOTER)


def op_print_setup(
    ws: Any,
    *,
    header_row: int | None = None,
    first_data_row: int | None = None,
    landscape: bool | None = None,
) -> None:
    """The same for an openpyxl sheet: ``header_row`` (1-based) repeated; rows from
    ``first_data_row`` (default: after the header) get wrapped text and heights that fit."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    widths = [
        float(ws.column_dimensions[get_column_letter(c)].width or 8.43)
        for c in range(1, ws.max_column + 1)
    ]
    ws.page_setup.paperSize = A4
    wide = landscape_for(widths) if landscape is None else landscape
    ws.page_setup.orientation = "landscape" if wide else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    for side, inches in MARGINS_IN.items():
        setattr(ws.page_margins, side, inches)
    ws.oddFooter.center.text = "&P / &N"
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
        head = [c.value for c in ws[header_row]]
        ws.row_dimensions[header_row].height = row_height(head, widths)
    start = first_data_row or ((header_row or 0) + 1)
    for r in range(start, ws.max_row + 1):
        cells = ws[r]
        for cell in cells:
            cell.alignment = Alignment(
                wrap_text=True, vertical="top", horizontal=cell.alignment.horizontal
            )
        ws.row_dimensions[r].height = row_height([c.value for c in cells], widths)
