"""Producing report files. Text, XLSX and PDF are pure renders; the DOCX to sign is issued:
it takes the next number of the year from the issuing unit's register of documents
(``ansinh.core.documents``), in the same transaction as the render, unless it is a draft."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone, translation

from ansinh.accounts.access import Actor
from ansinh.core.documents import issuer_of, number_issue
from ansinh.core.models import DocumentNumber
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors
from ansinh.reports.progress import build_progress
from ansinh.reports.render_docx import render_docx
from ansinh.reports.render_text import render_text
from ansinh.reports.tables import report_title

FORMATS = ("text", "xlsx", "pdf", "docx")
CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {"text": "txt", "xlsx": "xlsx", "pdf": "pdf", "docx": "docx"}


def report_filename(
    *, unit: Unit, as_of: dt.date, fmt: str, number: DocumentNumber | None = None
) -> str:
    if fmt == "docx":
        tail = f"-so-{number.number:02d}-{number.year}" if number is not None else "-du-thao"
        return f"bao-cao-{unit.code}-{as_of.isoformat()}{tail}.docx"
    return f"progress-{unit.code}-{as_of.isoformat()}.{EXTENSIONS[fmt]}"


def report_render(*, unit: Unit, as_of: dt.date, lang: str, fmt: str, actor: Actor) -> bytes:
    """The progress report of ``unit`` at ``as_of`` in ``lang`` as bytes of ``fmt``. The unit
    must already have passed the actor's scope check (``reports.selectors.report_unit_get``).
    ``docx`` here is the draft (no number); ``report_issue`` gives the numbered one."""
    if fmt == "docx":
        return report_issue(unit=unit, as_of=as_of, lang=lang, actor=actor, draft=True)[0]
    report = build_progress(unit=unit, as_of=as_of, actor=actor)
    # the XLSX and PDF renderers load matplotlib (charts): only when one is asked for
    if fmt == "xlsx":
        from ansinh.reports.render_xlsx import render_xlsx

        return render_xlsx(report, lang=lang)
    if fmt == "pdf":
        from ansinh.reports.render_pdf import render_pdf

        return render_pdf(report, lang=lang)
    return render_text(report, lang=lang).encode("utf-8")


def report_issue(
    *,
    unit: Unit,
    as_of: dt.date,
    lang: str,
    actor: Actor,
    draft: bool = False,
    day: dt.date | None = None,
) -> tuple[bytes, DocumentNumber | None]:
    """The report to sign as DOCX. Unless ``draft``, the next number of the year is given from
    the issuing unit's register of BC documents (refused with ``DocumentError`` where that
    register is not open) and the document carries it; the number and the render are one
    transaction, so a failed render gives no number away."""
    day = day or timezone.localdate()
    issuer = issuer_of(unit_ancestors(unit=unit))
    report = build_progress(unit=unit, as_of=as_of, actor=actor)
    if draft:
        return render_docx(report, issuer=issuer, lang=lang, day=day), None
    with translation.override("vi"):
        subject = f"{report_title(report, 'vi')} ({unit.name})"
    with transaction.atomic():
        given = number_issue(actor=actor, issuer=issuer, kind="BC", subject=subject, year=day.year)
        data = render_docx(
            report,
            issuer=issuer,
            lang=lang,
            number=given.number,
            symbol=given.register.symbol,
            day=day,
        )
    return data, given
