"""The progress report as plain text (stdout of ``ansinh report progress``)."""

from __future__ import annotations

import textwrap

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.formats import fmt_date
from ansinh.reports.progress import ProgressReport
from ansinh.reports.tables import Table, build_tables, fmt_cell, report_title

WIDTH = 100


def _table_lines(table: Table, lang: str) -> list[str]:
    if not table.rows:
        return []
    cells = [
        [fmt_cell(v, k, lang) for v, k in zip(row, table.kinds, strict=True)] for row in table.rows
    ]
    widths = [
        max(len(table.header[i]), *(len(r[i]) for r in cells)) for i in range(len(table.header))
    ]
    lines = [
        "  ".join(h.ljust(widths[i]) for i, h in enumerate(table.header)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for r in cells:
        lines.append(
            "  ".join(
                c.ljust(widths[i]) if table.kinds[i] == "text" else c.rjust(widths[i])
                for i, c in enumerate(r)
            ).rstrip()
        )
    return lines


def render_text(report: ProgressReport, *, lang: str = "vi") -> str:
    with translation.override(lang):
        tables = build_tables(report, lang)
        out = [
            _("BÁO CÁO"),
            report_title(report, lang).upper(),
            _("Đơn vị: %(name)s (%(code)s) — số liệu đến ngày %(date)s")
            % {
                "name": report.unit.name,
                "code": report.unit.code,
                "date": fmt_date(report.as_of, lang=lang),
            },
            "",
        ]
        roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII"]
        for i, table in enumerate(tables):
            out.append(f"{roman[i]}. {table.title.upper()}")
            out.extend(_table_lines(table, lang))
            for n, para in enumerate(table.paragraphs, start=1):
                prefix = f"{n}. " if table.key == "tasks" else "- "
                out.extend(
                    textwrap.wrap(
                        para, WIDTH, initial_indent=prefix, subsequent_indent=" " * len(prefix)
                    )
                )
            if table.note:
                out.extend(textwrap.wrap(table.note, WIDTH))
            out.append("")
        return "\n".join(out).rstrip() + "\n"
