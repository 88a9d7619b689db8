"""The reports page: pick a date, a unit within scope, a language and a format; download."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ansinh.accounts.access import Actor, actor_root_unit
from ansinh.core.documents import KINDS, DocumentError, register_open
from ansinh.core.selectors import document_numbers, document_registers
from ansinh.geography.models import Unit
from ansinh.monitoring.selectors import data_as_of
from ansinh.reports.progress import build_progress
from ansinh.reports.selectors import (
    can_issue,
    can_open_registers,
    can_report,
    issuing_units,
    register_unit_codes,
    report_unit_get,
    report_units,
)
from ansinh.reports.services import (
    CONTENT_TYPES,
    FORMATS,
    report_filename,
    report_issue,
    report_render,
)
from ansinh.reports.tables import build_tables


def _default_date() -> dt.date:
    return data_as_of() or dt.date.today()


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


@login_required
def reports_page(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.user
    if not can_report(actor):
        raise Http404
    q = request.GET
    root = actor_root_unit(actor)
    current = "en" if (translation.get_language() or "vi").startswith("en") else "vi"
    lang: str = q.get("lang", "") if q.get("lang") in {"vi", "en"} else current
    fmt: str = q.get("format", "") if q.get("format") in FORMATS[:3] else "pdf"
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
            "can_issue": can_issue(actor),
            "can_registers": register_unit_codes(actor) is None or bool(register_unit_codes(actor)),
        },
    )


@login_required
@require_POST
def report_issue_view(request: HttpRequest) -> HttpResponse:
    """The report to sign (DOCX): numbered from the issuing unit's register unless a draft
    is asked for; a viewer may only take the draft."""
    actor: Actor = request.user
    if not can_report(actor):
        raise Http404
    p = request.POST
    draft = p.get("draft") == "1"
    if not draft and not can_issue(actor):
        raise Http404
    lang = p.get("lang") if p.get("lang") in {"vi", "en"} else "vi"
    as_of = _parse_date(p.get("as_of", ""))
    unit = report_unit_get(actor=actor, code=p.get("unit") or None)  # 404 outside scope
    back = f"/reports/?as_of={p.get('as_of', '')}&unit={unit.code}&lang={lang}"
    if as_of is None:
        messages.error(request, _("Ngày không hợp lệ (định dạng YYYY-MM-DD)."))
        return redirect(back)
    try:
        data, number = report_issue(
            unit=unit, as_of=as_of, lang=str(lang), actor=actor, draft=draft
        )
    except DocumentError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    response = HttpResponse(data, content_type=CONTENT_TYPES["docx"])
    name = report_filename(unit=unit, as_of=as_of, fmt="docx", number=number)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def documents_page(request: HttpRequest) -> HttpResponse:
    """The registers of outgoing documents and the numbers given: who issued what, when."""
    actor: Actor = request.user
    codes = register_unit_codes(actor)
    if codes is not None and not codes:
        raise Http404
    year_raw = request.GET.get("year", "")
    year = int(year_raw) if year_raw.isdigit() and 2000 <= int(year_raw) <= 2100 else None
    return render(
        request,
        "reports/documents.html",
        {
            "registers": document_registers(unit_codes=codes).select_related("unit"),
            "numbers": document_numbers(unit_codes=codes, year=year),
            "year": year,
            "kinds": [(k, str(v)) for k, v in KINDS.items()],
            "kind_labels": {k: str(v) for k, v in KINDS.items()},
            "can_open": can_open_registers(actor),
            "units": issuing_units() if can_open_registers(actor) else [],
        },
    )


@login_required
@require_POST
def register_open_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.user
    if not can_open_registers(actor):
        raise Http404
    unit = Unit.objects.filter(code=request.POST.get("unit", "")).first()
    if unit is None:
        messages.error(request, _("Chọn đơn vị ban hành."))
        return redirect("/documents/")
    try:
        register_open(
            actor=actor,
            unit=unit,
            kind=request.POST.get("kind", ""),
            symbol=request.POST.get("symbol", "") or "BHXH",
        )
    except DocumentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Đã mở sổ đăng ký văn bản %(k)s của %(u)s.")
            % {"k": request.POST.get("kind", ""), "u": unit.name},
        )
    return redirect("/documents/")
