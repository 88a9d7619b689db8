from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.core.formats import parse_date, sheet_row
from ansinh.core.http import client_ip
from ansinh.core.models import AuditEvent
from ansinh.core.selectors import audit_choices, audit_list, health_report, job_get
from ansinh.core.services import audit_record


def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` while the database answers (503 otherwise), without login (SPEC section 5).
    ``?full=1``: JSON with the database, the job worker and the jobs waiting; 503 when the
    database or the worker is down."""
    report = health_report()
    if request.GET.get("full"):
        ok = report["database"] == "ok" and report["worker"] == "ok"
        return JsonResponse(report, status=200 if ok else 503)
    if report["database"] != "ok":
        return HttpResponse("database: error", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(actor=request.user, job_id=job_id)
    if job is None:
        raise Http404
    template = "core/job_fragment.html" if request.headers.get("HX-Request") else "core/job.html"
    return render(request, template, {"job": job})


AUDIT_PAGE_SIZE = 100
AUDIT_CSV_HEADER = ["at", "actor", "action", "object_type", "object_id", "ip", "before", "after"]


@login_required
def audit_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The audit log for admins: filter, page through, export as CSV. Read-only: the app has
    no form or endpoint that changes a row, and the model refuses updates and deletes."""
    if getattr(request.user, "role", "") != "admin":
        raise Http404
    text = {
        "action": request.GET.get("action", "").strip(),
        "actor_name": request.GET.get("actor", "").strip(),
        "object_type": request.GET.get("object_type", "").strip(),
        "object_id": request.GET.get("object_id", "").strip(),
    }
    date_from, date_to = _date_param(request, "from"), _date_param(request, "to")
    qs = audit_list(**text, date_from=date_from, date_to=date_to)
    filters = {**text, "date_from": date_from, "date_to": date_to}
    if request.GET.get("format") == "csv":
        audit_record(
            actor=request.user,
            action="audit.export",
            object_type="audit",
            after={k: str(v) for k, v in filters.items() if v},
            ip=client_ip(request),
        )
        return _audit_csv(qs)
    page = Paginator(qs, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "events": page.object_list,
            "q": request.GET,
            "query": query.urlencode(),
            "choices": audit_choices(),
        },
    )


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        messages.error(request, _("Ngày không hợp lệ: %(value)s") % {"value": raw})
        return None


class _Echo:
    def write(self, value: str) -> str:
        return value


def _audit_csv(qs: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(AUDIT_CSV_HEADER)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                sheet_row(
                    [
                        timezone.localtime(e.at).isoformat(timespec="seconds"),
                        e.actor_name,
                        e.action,
                        e.object_type,
                        e.object_id,
                        e.ip or "",
                        "" if e.before is None else json.dumps(e.before, ensure_ascii=False),
                        "" if e.after is None else json.dumps(e.after, ensure_ascii=False),
                    ]
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
