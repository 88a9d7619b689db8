"""The progress report as the DOCX an office edits and signs (DOMAIN.md section 7; Decree 30
layout from ``ansinh.core.documents``): governing and issuing agency, the number from the
issuing unit's register (blank in a draft), the motto, place and date, BÁO CÁO and its
subject; the headline table per scheme (plan, this month, % of plan, change on last month and
on the same month last year), HI coverage, the analysis, the units behind, the tasks for the
next month; recipients and the signature block."""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.documents import (
    TEXT_WIDTH_MM,
    DocHeader,
    Issuer,
    docx_bytes,
    docx_closing,
    docx_header,
    docx_new,
    docx_par,
    docx_table,
    recipients_for,
    signer_title,
)
from ansinh.core.formats import fmt_date
from ansinh.reports.progress import ProgressReport
from ansinh.reports.tables import Table, build_tables, fmt_cell, report_title

# column widths (mm) of the tables, each adding up to the 165 mm of text width
MM: dict[str, list[float]] = {
    "headline": [33, 19, 20, 19, 18, 18, 18, 20],
    "coverage": [27, 30, 27, 27, 27, 27],
    "behind": [14, 33, 27, 19, 20, 16, 18, 18],
}
SIZES = {"headline": 10, "coverage": 10.5, "behind": 10}
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII"]


def _table(document: object, table: Table, lang: str) -> None:
    widths = MM.get(table.key) or [TEXT_WIDTH_MM / len(table.header)] * len(table.header)
    docx_table(
        document,
        table.header,
        [
            # "113,64 %" is never broken before its sign
            [
                fmt_cell(v, k, lang).replace(" %", "\u00a0%")
                for v, k in zip(row, table.kinds, strict=True)
            ]
            for row in table.rows
        ],
        mm=widths,
        aligns=["left" if k == "text" else "right" for k in table.kinds],
        size=SIZES.get(table.key, 10),
    )
    if table.note:
        docx_par(document, table.note, italic=True, size=11, space_after=6)
    else:
        docx_par(document, "", size=6, space_after=0)


def report_subject(report: ProgressReport, lang: str) -> str:
    return report_title(report, lang)


def render_docx(
    report: ProgressReport,
    *,
    issuer: Issuer,
    lang: str = "vi",
    number: int | None = None,
    symbol: str = "BHXH",
    day: dt.date | None = None,
) -> bytes:
    """The report to sign. ``number`` None is a draft (the number left blank)."""
    with translation.override(lang):
        tables = {t.key: t for t in build_tables(report, lang)}
        header = DocHeader(
            issuer=issuer,
            date=day or dt.date.today(),
            kind="BC",
            subject=report_subject(report, lang),
            number=number,
            symbol=symbol,
        )
        document = docx_new()
        docx_header(document, header)
        docx_par(
            document,
            _(
                "%(agency)s báo cáo kết quả phát triển người tham gia BHXH, BHYT của %(unit)s "
                "đến ngày %(date)s như sau:"
            )
            % {
                "agency": issuer.plain,
                "unit": report.unit.name,
                "date": fmt_date(report.as_of, lang=lang),
            },
            indent=True,
        )
        sections: list[tuple[str, list[str]]] = [
            (_("Kết quả thực hiện kế hoạch năm %(year)s") % {"year": report.year}, ["headline"]),
        ]
        if "coverage" in tables:
            sections[0][1].append("coverage")
        sections += [
            (_("Đánh giá"), ["analysis"]),
            (_("Các xã, phường còn thiếu nhiều nhất so với kế hoạch"), ["behind"]),
            (_("Nhiệm vụ trọng tâm tháng tới"), ["tasks"]),
        ]
        for i, (title, keys) in enumerate(sections):
            docx_par(
                document, f"{ROMAN[i]}. {title.upper()}", bold=True, space_before=6, space_after=4
            )
            for key in keys:
                table = tables[key]
                if key == "coverage":
                    docx_par(document, table.title + ":", italic=True, space_after=2)
                if table.rows:
                    _table(document, table, lang)
                elif table.note:
                    docx_par(document, table.note, indent=True)
                for n, para in enumerate(table.paragraphs, start=1):
                    prefix = f"{n}. " if key == "tasks" else "- "
                    docx_par(document, prefix + para, indent=True)
        docx_par(
            document,
            _(
                "Trên đây là báo cáo kết quả phát triển người tham gia đến ngày %(date)s của %(agency)s."
            )
            % {"date": fmt_date(report.as_of, lang=lang), "agency": issuer.plain},
            indent=True,
        )
        docx_closing(document, recipients=recipients_for(issuer, "BC"), signer=signer_title())
        return docx_bytes(document)
