"""Producing report files. Reports write nothing to the database: these are pure renders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ansinh.geography.models import Unit

FORMATS = ("text", "xlsx", "pdf")
CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
EXTENSIONS = {"text": "txt", "xlsx": "xlsx", "pdf": "pdf"}


def report_filename(*, unit: Unit, as_of: dt.date, fmt: str) -> str:
    return f"progress-{unit.code}-{as_of.isoformat()}.{EXTENSIONS[fmt]}"


def report_render(*, unit: Unit, as_of: dt.date, lang: str, fmt: str, actor: Any = None) -> bytes:
    """The progress report of ``unit`` at ``as_of`` in ``lang`` as bytes of ``fmt``. The unit
    must already have passed the actor's scope check (``reports.selectors.report_unit_get``)."""
    from ansinh.reports.progress import build_progress

    report = build_progress(unit=unit, as_of=as_of, actor=actor)
    if fmt == "xlsx":
        from ansinh.reports.render_xlsx import render_xlsx

        return render_xlsx(report, lang=lang)
    if fmt == "pdf":
        from ansinh.reports.render_pdf import render_pdf

        return render_pdf(report, lang=lang)
    from ansinh.reports.render_text import render_text

    return render_text(report, lang=lang).encode("utf-8")
