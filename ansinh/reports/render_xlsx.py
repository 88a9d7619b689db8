"""The progress report as an XLSX workbook (xlsxwriter): a sheet per section with real numbers
(number formats, not strings), frozen headers, column widths, and native Excel charts each on a
chart sheet of its own. Print-ready (``ansinh.core.sheets``): A4, landscape where wide, one page
wide, the header row repeated, margins, page numbers, wrapped text with row heights that fit."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.formats import fmt_date
from ansinh.core.sheets import row_height, xw_print_setup
from ansinh.reports.progress import SCHEMES, ProgressReport, scheme_label
from ansinh.reports.tables import Table, build_tables, plain, report_title

HEADER_ROW = 3  # 0-based: title, subtitle, blank, header


def sheet_names() -> dict[str, str]:
    return {
        "headline": _("Tổng hợp"),
        "coverage": _("Bao phủ BHYT"),
        "ranking": _("Xếp hạng đơn vị"),
        "behind": _("Xã phường còn thiếu"),
        "groups": _("Nhóm đối tượng"),
        "pace": _("Tiến độ cần đạt"),
        "forecast": _("Dự báo cuối năm"),
        "early_warning": _("Cảnh báo sớm"),
        "trend": _("Diễn biến"),
        "analysis": _("Đánh giá"),
    }


def _safe(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]


def render_xlsx(report: ProgressReport, *, lang: str = "vi") -> bytes:
    buf = io.BytesIO()
    with translation.override(lang):
        tables = build_tables(report, lang)
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
        wb.set_properties({"title": report_title(report, lang), "author": "ansinh"})
        f: dict[str, Any] = {
            "title": wb.add_format(
                {"bold": True, "font_size": 13, "text_wrap": True, "valign": "top"}
            ),
            "sub": wb.add_format(
                {"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"}
            ),
            "head": wb.add_format(
                {
                    "bold": True,
                    "bg_color": "#E2E9F3",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "vcenter",
                    "align": "center",
                }
            ),
            "text": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
            "int": wb.add_format({"num_format": "#,##0", "border": 1}),
            "num": wb.add_format({"num_format": "#,##0", "border": 1}),
            "signed": wb.add_format({"num_format": "+#,##0;-#,##0;0", "border": 1}),
            "pct": wb.add_format(
                {"num_format": '0.00"%"' if lang == "en" else '0.00" %"', "border": 1}
            ),
            "chance": wb.add_format(
                {"num_format": '0"%"' if lang == "en" else '0" %"', "border": 1}
            ),
            "month": wb.add_format({"num_format": "mm/yyyy", "border": 1, "align": "left"}),
            "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
            "note": wb.add_format(
                {"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"}
            ),
            "bold": wb.add_format({"bold": True}),
        }
        names = sheet_names()
        subtitle = _("Đơn vị: %(name)s (%(code)s) — số liệu đến ngày %(date)s") % {
            "name": report.unit.name,
            "code": report.unit.code,
            "date": fmt_date(report.as_of, lang=lang),
        }
        sheets: dict[str, Any] = {}
        text_paragraphs: list[tuple[str, list[str]]] = []
        for table in tables:
            if not table.header:
                text_paragraphs.append((table.title, table.paragraphs))
                continue
            ws = wb.add_worksheet(_safe(names.get(table.key, table.key)))
            sheets[table.key] = ws
            if table.key == "trend":
                widths = _trend_sheet(ws, report, f)
            else:
                widths = _table_sheet(ws, table, f)
            _titles(ws, widths, table.title, subtitle, f)
            xw_print_setup(ws, widths=widths, header_rows=(HEADER_ROW, HEADER_ROW))
        # two columns (the number, the text): LibreOffice does not scale a sheet of one
        # column to the page width
        ws = wb.add_worksheet(_safe(names["analysis"]))
        widths = [4.0, 88.0]
        ws.set_column(0, 0, widths[0])
        ws.set_column(1, 1, widths[1])
        _titles(ws, widths, report_title(report, lang), subtitle, f)
        row = 3
        for title, paragraphs in text_paragraphs:
            ws.merge_range(row, 0, row, 1, title, f["bold"])
            row += 1
            for n, para in enumerate(paragraphs, start=1):
                ws.write(row, 0, f"{n}.", f["wrap"])
                ws.write(row, 1, para, f["wrap"])
                ws.set_row(row, row_height(["", para], widths))
                row += 1
            row += 1
        xw_print_setup(ws, widths=widths, landscape=False)
        _headline_chart(wb, sheets["headline"], report)
        _trend_charts(wb, sheets["trend"], report)
        wb.close()
    return buf.getvalue()


def _titles(ws: Any, widths: list[float], title: str, subtitle: str, f: dict[str, Any]) -> None:
    """Title and subtitle merged across the table's columns and wrapped, so that printing (the
    used columns only) never cuts them."""
    last = max(len(widths) - 1, 0)
    total = sum(widths)
    for row, text, fmt, size in ((0, title, f["title"], 13), (1, subtitle, f["sub"], 11)):
        if last:
            ws.merge_range(row, 0, row, last, text, fmt)
        else:
            ws.write(row, 0, text, fmt)
        ws.set_row(row, row_height([text], [total], font_pt=size))


def _table_sheet(ws: Any, table: Table, f: dict[str, Any]) -> list[float]:
    widths: list[float] = []
    for c, h in enumerate(table.header):
        ws.write(HEADER_ROW, c, h, f["head"])
        kind = table.kinds[c]
        width = max(min(len(h), 24) * 0.9, 12 if kind != "text" else 14)
        if kind == "text":
            width = (
                max(width, *(len(str(r[c] or "")) + 2 for r in table.rows), 10)
                if table.rows
                else width
            )
        width = min(width, 40)
        widths.append(width)
        ws.set_column(c, c, width)
    ws.set_row(HEADER_ROW, row_height(table.header, widths))
    for r, row in enumerate(table.rows, start=HEADER_ROW + 1):
        ws.set_row(r, row_height([v if isinstance(v, str) else "" for v in row], widths))
        for c, (value, kind) in enumerate(zip(row, table.kinds, strict=True)):
            if value is None:
                ws.write_blank(r, c, None, f["text"])
            elif isinstance(value, str):
                ws.write_string(r, c, value, f["text"])
            else:
                ws.write_number(r, c, plain(value), f.get(kind, f["int"]))
    ws.freeze_panes(HEADER_ROW + 1, 0)
    if table.note:
        at = HEADER_ROW + len(table.rows) + 2
        if len(widths) > 1:
            ws.merge_range(at, 0, at, len(widths) - 1, table.note, f["note"])
        else:
            ws.write(at, 0, table.note, f["note"])
        ws.set_row(at, row_height([table.note], [sum(widths)]))
    return widths


def _trend_sheet(ws: Any, report: ProgressReport, f: dict[str, Any]) -> list[float]:
    """Month-ends down, participants per scheme, then the year's target per scheme (the
    constant line of the charts)."""
    header = [_("Cuối tháng")]
    header += [scheme_label(s) for s in SCHEMES]
    header += [_("Kế hoạch %(s)s") % {"s": scheme_label(s)} for s in SCHEMES]
    widths = [12.0 if c == 0 else 14.0 for c in range(len(header))]
    for c, h in enumerate(header):
        ws.write(HEADER_ROW, c, h, f["head"])
        ws.set_column(c, c, widths[c])
    ws.set_row(HEADER_ROW, row_height(header, widths))
    dates = [d for d, _n in report.trend.get(SCHEMES[0], [])]
    by_code = report.scheme_by_code
    for r, d in enumerate(dates, start=HEADER_ROW + 1):
        ws.write_datetime(r, 0, d, f["month"])
        for c, s in enumerate(SCHEMES, start=1):
            value = report.count(dict(report.trend.get(s, [])).get(d, 0))
            if isinstance(value, str):
                ws.write_string(r, c, value, f["text"])
            else:
                ws.write_number(r, c, value or 0, f["int"])
            target = by_code[s].target
            if target is None:
                ws.write_blank(r, c + len(SCHEMES), None, f["text"])
            else:
                ws.write_number(r, c + len(SCHEMES), target, f["int"])
    ws.freeze_panes(HEADER_ROW + 1, 1)
    return widths


def _chart_sheet(wb: Any, name: str, chart: Any) -> None:
    """A chart on a chart sheet of its own: printed as one landscape A4 page, never cut."""
    cs = wb.add_chartsheet(_safe(name))
    cs.set_chart(chart)
    cs.set_paper(9)
    cs.set_landscape()


def _headline_chart(wb: Any, ws: Any, report: ProgressReport) -> None:
    """Clustered columns: the year's target and the participants, per scheme."""
    name = ws.get_name()
    first, last = HEADER_ROW + 1, HEADER_ROW + len(report.schemes)
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": [name, HEADER_ROW, 1],
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 1, last, 1],
            "fill": {"color": "#C0392B"},
        }
    )
    chart.add_series(
        {
            "name": [name, HEADER_ROW, 2],
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 2, last, 2],
            "fill": {"color": "#1F5FA8"},
        }
    )
    chart.set_title({"name": _("Số người tham gia so với kế hoạch năm")})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    _chart_sheet(wb, _("Biểu đồ kế hoạch"), chart)


def _trend_charts(wb: Any, ws: Any, report: ProgressReport) -> None:
    """One line chart per scheme: participants at each month-end and the year's target."""
    name = ws.get_name()
    n = len(report.trend.get(SCHEMES[0], []))
    if not n:
        return
    first, last = HEADER_ROW + 1, HEADER_ROW + n
    for i, s in enumerate(SCHEMES):
        col = 1 + i
        chart = wb.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": [name, HEADER_ROW, col],
                "categories": [name, first, 0, last, 0],
                "values": [name, first, col, last, col],
                "line": {"color": "#1F5FA8", "width": 2},
                "marker": {"type": "circle", "size": 4},
            }
        )
        if report.scheme_by_code[s].target is not None:
            chart.add_series(
                {
                    "name": [name, HEADER_ROW, col + len(SCHEMES)],
                    "categories": [name, first, 0, last, 0],
                    "values": [name, first, col + len(SCHEMES), last, col + len(SCHEMES)],
                    "line": {"color": "#C0392B", "dash_type": "dash", "width": 1.5},
                }
            )
        chart.set_title({"name": scheme_label(s)})
        chart.set_x_axis({"num_format": "mm/yyyy", "date_axis": True})
        chart.set_y_axis({"num_format": "#,##0"})
        chart.set_legend({"position": "bottom"})
        _chart_sheet(wb, _("Biểu đồ %(s)s") % {"s": scheme_label(s)}, chart)
