"""The reports page: pick a date, a unit within scope, a language and a format; download."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.accounts.selectors import actor_root_unit
from ansinh.reports.selectors import can_report, report_unit_get, report_units
from ansinh.reports.services import CONTENT_TYPES, FORMATS, report_filename, report_render


def _default_date() -> dt.date:
    from ansinh.monitoring.selectors import data_as_of

    return data_as_of() or dt.date.today()


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    if not can_report(actor):
        raise Http404
    q = request.GET
    root = actor_root_unit(actor)
    current = "en" if (translation.get_language() or "vi").startswith("en") else "vi"
    lang: str = q.get("lang", "") if q.get("lang") in {"vi", "en"} else current
    fmt: str = q.get("format", "") if q.get("format") in FORMATS else "pdf"
    errors: list[str] = []
    as_of = _default_date()
    if q.get("as_of"):
        parsed = _parse_date(q["as_of"])
        if parsed is None:
            errors.append(_("Ngày không hợp lệ (định dạng YYYY-MM-DD)."))
        else:
            as_of = parsed
    action = q.get("action", "")
    unit = None
    if action or q.get("unit"):
        unit = report_unit_get(actor=actor, code=q.get("unit") or None)  # 404 outside scope
    if action == "download" and not errors and unit is not None:
        data = report_render(unit=unit, as_of=as_of, lang=lang, fmt=fmt, actor=actor)
        response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
        name = report_filename(unit=unit, as_of=as_of, fmt=fmt)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    preview = None
    if action == "preview" and not errors and unit is not None:
        from ansinh.reports.progress import build_progress
        from ansinh.reports.tables import build_tables

        report = build_progress(unit=unit, as_of=as_of, actor=actor)
        preview = [t for t in build_tables(report, current) if t.key in {"headline", "coverage"}]
    return render(
        request,
        "reports/index.html",
        {
            "units": report_units(actor=actor),
            "selected_unit": (unit.code if unit else (root.code if root else "")),
            "as_of": as_of,
            "lang": lang,
            "fmt": fmt,
            "formats": [("pdf", "PDF"), ("xlsx", "Excel (XLSX)"), ("text", _("Văn bản (TXT)"))],
            "errors": errors,
            "preview": preview,
            "preview_unit": unit if preview is not None else None,
        },
    )
