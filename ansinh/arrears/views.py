"""Pages of the arrears app: late contributions, employer detail, monthly review with reminder
letters, follow-up worklists. Thin: parse the request, call selectors/services, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ansinh.accounts.selectors import (
    actor_root_unit,
    allowed_units,
    can_see_people,
    mask_id,
    mask_name,
    mask_phone,
    unit_visible,
)
from ansinh.arrears import exports, selectors, services
from ansinh.arrears.models import FollowUp, FollowUpOutcome
from ansinh.core import codes
from ansinh.geography.models import Unit
from ansinh.geography.selectors import units_in_force


def _kind_labels() -> dict[str, str]:
    return {
        "hi_expiring": _("BHYT sắp hết hạn (30 ngày)"),
        "lapsed": _("Ngừng tham gia trong 90 ngày"),
        "household": _("Hộ gia đình còn thành viên chưa có BHYT"),
        "employer_overdue": _("Đơn vị chậm đóng"),
    }


def _kind_short() -> dict[str, str]:
    """Row labels (the column is narrow; the full label heads the filter and summary)."""
    return {
        "hi_expiring": _("Sắp hết hạn"),
        "lapsed": _("Ngừng tham gia"),
        "household": _("Hộ chưa đủ BHYT"),
        "employer_overdue": _("Chậm đóng"),
    }


def _outcome_labels() -> dict[str, str]:
    return {
        "called": _("Đã gọi điện"),
        "visited": _("Đã đến nhà"),
        "promised": _("Hẹn tham gia"),
        "registered": _("Đã đăng ký"),
        "refused": _("Từ chối"),
        "unreachable": _("Không liên lạc được"),
        "do_not_contact": _("Không liên hệ nữa"),
    }


def _as_of(request: HttpRequest) -> dt.date:
    raw = request.GET.get("as_of", "")
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    return selectors.contributions_as_of_default()


def _unit(request: HttpRequest) -> Unit:
    code = request.GET.get("unit", "")
    actor = request.user
    if code:
        unit = unit_visible(actor=actor, code=code)
        if unit is None:
            raise Http404
        return unit
    unit = actor_root_unit(actor)
    if unit is None:
        raise Http404
    return unit


def _units_menu(actor: Any) -> list[Unit]:
    return list(units_in_force(allowed_units(actor)).exclude(level="commune").order_by("path"))


def _money_short(value: int) -> str:
    """A card-sized amount: 141,30 tỷ / 12,35 triệu (the exact figure goes under it)."""
    from decimal import Decimal

    from ansinh.core.formats import fmt_dec

    if value >= 10**9:
        return _("%(n)s tỷ") % {"n": fmt_dec(Decimal(value) / 10**9, places=2)}
    if value >= 10**6:
        return _("%(n)s triệu") % {"n": fmt_dec(Decimal(value) / 10**6, places=2)}
    return ""  # small enough to show exactly


# ---------------------------------------------------------------- arrears pages


@login_required
def arrears_page(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.can_see_arrears(actor):
        raise Http404
    unit = _unit(request)
    as_of = _as_of(request)
    data = selectors.arrears(unit=unit, as_of=as_of, actor=actor)
    sort = request.GET.get("sort", "amount")
    employers = list(data["employers"])
    if sort == "age":
        employers.sort(key=lambda e: (-e["months_overdue"], -e["overdue"], e["code"]))
    shown = employers[:500]
    names = selectors.employer_names([e["code"] for e in shown])
    unit_names = dict(
        Unit.objects.filter(code__in={e["unit"] for e in shown}).values_list("code", "name")
    )
    for e in shown:
        e["name"] = names.get(e["code"], "")
        e["unit_name"] = unit_names.get(e["unit"], e["unit"])
    counts = dict.fromkeys(selectors.BUCKETS, 0)
    for e in data["employers"]:
        counts[e["bucket"]] += 1
    t = data["totals"]
    short = {"overdue": _money_short(t["overdue"]), "interest": _money_short(t["interest"])}
    buckets = [
        {"code": b, "label": label, "employers": counts[b], "overdue": t["buckets"][b]}
        for b, label in (
            ("lt3", _("Dưới 3 tháng")),
            ("3to6", _("Từ 3 đến dưới 6 tháng")),
            ("6to12", _("Từ 6 đến dưới 12 tháng")),
            ("ge12", _("Từ 12 tháng trở lên")),
        )
    ]
    trend = selectors.arrears_trend(unit=unit, as_of=as_of)
    chart = {
        "labels": [p["date"] for p in trend],
        "values": [p["pct"] for p in trend],
        "goal": selectors.ARREARS_GOAL_PCT,
        "label": _("Tỷ lệ nợ (%)"),
        "goal_label": _("Mục tiêu ≤ 2 %"),
    }
    return render(
        request,
        "arrears/arrears.html",
        {
            "unit": unit,
            "as_of": as_of,
            "data": data,
            "totals": t,
            "short": short,
            "buckets": buckets,
            "employers": shown,
            "more": len(employers) - len(shown),
            "sort": sort,
            "breakdown": selectors.arrears_breakdown(unit=unit, data=data),
            "trend": trend,
            "chart": chart,
            "goal": selectors.ARREARS_GOAL_PCT,
            "units": _units_menu(actor),
        },
    )


@login_required
def employer_page(request: HttpRequest, code: str) -> HttpResponse:
    employer = selectors.employer_get(actor=request.user, code=code)
    as_of = _as_of(request)
    rows = selectors.employer_contributions(employer=employer, as_of=as_of)
    totals = {
        "overdue": sum(r["overdue"] for r in rows),
        "interest": sum(r["interest"] for r in rows),
        "amount_due": sum(r["amount_due"] for r in rows),
    }
    return render(
        request,
        "arrears/employer.html",
        {
            "employer": employer,
            "as_of": as_of,
            "rows": rows,
            "totals": totals,
            "reminders": list(employer.reminders.order_by("-review_month")[:24]),
        },
    )


def _review_actor(request: HttpRequest) -> Any:
    if getattr(request.user, "role", None) not in {"admin", "province", "office"}:
        raise Http404
    return request.user


@login_required
def review_page(request: HttpRequest) -> HttpResponse:
    actor = _review_actor(request)
    unit = _unit(request)
    as_of = _as_of(request)
    rows = selectors.review_newly_overdue(unit=unit, as_of=as_of, actor=actor)
    review_month = as_of.replace(day=1)
    names = selectors.employer_names([r["code"] for r in rows])
    reminders = selectors.reminders_of(
        employers=[r["code"] for r in rows], review_month=review_month
    )
    for r in rows:
        r["name"] = names.get(r["code"], "")
        r["reminder"] = reminders.get(r["code"])
    sent = sum(1 for r in rows if r["reminder"] is not None and r["reminder"].sent_at)
    return render(
        request,
        "arrears/review.html",
        {
            "unit": unit,
            "as_of": as_of,
            "rows": rows,
            "sent": sent,
            "overdue": sum(r["overdue"] for r in rows),
            "in_window": as_of.day <= 10,
            "units": _units_menu(actor),
        },
    )


@login_required
def reminder_letter(request: HttpRequest, code: str, fmt: str = "docx") -> HttpResponse:
    actor = _review_actor(request)
    employer = selectors.employer_get(actor=actor, code=code)
    as_of = _as_of(request)
    periods = [
        r for r in selectors.employer_contributions(employer=employer, as_of=as_of) if r["overdue"]
    ]
    periods.sort(key=lambda r: r["period"])
    figures = selectors.employer_figures(employer=employer, as_of=as_of)
    reminder = services.reminder_create(
        actor=actor,
        employer=employer,
        review_month=as_of.replace(day=1),
        overdue=figures["overdue"],
        interest=figures["interest"],
    )
    root = actor_root_unit(None)
    render_letter = exports.reminder_pdf if fmt == "pdf" else exports.reminder_docx
    content = render_letter(
        province_name=root.name if root else "",
        employer=employer,
        as_of=as_of,
        figures=figures,
        periods=periods,
        number=str(reminder.pk),
    )
    ctype = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = (
        f'attachment; filename="thong-bao-cham-dong-{employer.code}-{as_of:%Y-%m}.{fmt}"'
    )
    return resp


@login_required
@require_POST
def reminder_sent(request: HttpRequest, code: str) -> HttpResponse:
    actor = _review_actor(request)
    employer = selectors.employer_get(actor=actor, code=code)
    as_of = _as_of(request) if request.GET.get("as_of") else None
    raw = request.POST.get("as_of", "")
    try:
        as_of = dt.date.fromisoformat(raw) if raw else as_of
    except ValueError:
        as_of = None
    if as_of is None:
        as_of = selectors.contributions_as_of_default()
    figures = selectors.employer_figures(employer=employer, as_of=as_of)
    reminder = services.reminder_create(
        actor=actor,
        employer=employer,
        review_month=as_of.replace(day=1),
        overdue=figures["overdue"],
        interest=figures["interest"],
    )
    services.reminder_mark_sent(actor=actor, reminder=reminder)
    messages.success(request, _("Đã ghi nhận gửi thông báo cho %(code)s.") % {"code": code})
    return redirect(f"/arrears/review/?as_of={as_of.isoformat()}")


# ---------------------------------------------------------------- worklists


def _worklist_actor(request: HttpRequest) -> Any:
    if not can_see_people(request.user) or not request.user.is_authenticated:
        raise Http404
    return request.user


def _worklist_rows(
    request: HttpRequest, actor: Any, *, limit: int = 1000
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "open")
    assigned = request.GET.get("assigned", "")
    unmask = request.GET.get("unmask") == "1"
    qs = selectors.followups_visible(actor=actor)
    unit_code = request.GET.get("unit", "")
    if unit_code:
        unit = unit_visible(actor=actor, code=unit_code)
        if unit is None:
            raise Http404
        qs = qs.filter(unit__path__startswith=unit.path)
    if kind in _kind_labels():
        qs = qs.filter(kind=kind)
    if status in ("open", "closed"):
        qs = qs.filter(status=status)
    if assigned == "me":
        qs = qs.filter(assigned_to=actor)
    elif assigned in codes.ORGS:
        qs = qs.filter(assigned_org=assigned)
    total = selectors.followup_count(qs=qs)
    rows = selectors.followup_rows(qs=qs, limit=limit)
    names = dict(
        Unit.objects.filter(code__in={r["unit"] for r in rows}).values_list("code", "name")
    )
    labels, short = _kind_labels(), _kind_short()
    outcome_labels = _outcome_labels()
    for r in rows:
        r["kind_label"] = labels.get(r["kind"], r["kind"])
        r["kind_short"] = short.get(r["kind"], r["kind"])
        r["scheme_label"] = codes.label(codes.SCHEMES, r["scheme"]) if r["scheme"] else ""
        r["last_outcome"] = outcome_labels.get(r["last_outcome"], r["last_outcome"])
        r["unit_name"] = names.get(r["unit"], "")
        if r["is_person"] and not unmask:
            r["code"] = mask_id(r["code"])
            r["name"] = mask_name(r["name"])
            r["phone"] = mask_phone(r["phone"])
    filters = {
        "kind": kind,
        "status": status,
        "assigned": assigned,
        "unmask": unmask,
        "unit": unit_code,
        "total": total,
    }
    return rows, filters


@login_required
def worklists_page(request: HttpRequest) -> HttpResponse:
    actor = _worklist_actor(request)
    rows, filters = _worklist_rows(request, actor, limit=500)
    person_ids = [r["person_id"] for r in rows if r["person_id"]]
    if person_ids:
        services.person_data_view_record(
            actor=actor, what="worklist", person_ids=person_ids, unmasked=filters["unmask"]
        )
    query = request.GET.copy()
    query.pop("unmask", None)
    summary = selectors.followup_summary(actor=actor)
    data_as_of = selectors.data_date()
    return render(
        request,
        "arrears/worklists.html",
        {
            "rows": rows,
            "filters": filters,
            "kinds": _kind_labels(),
            "summary": summary,
            "built": selectors.worklists_built(summary=summary, data=data_as_of),
            "orgs": codes.ORGS,
            "as_of": _as_of(request) if request.GET.get("as_of") else data_as_of,
            "query": query.urlencode(),
            "units": list(units_in_force(allowed_units(actor)).order_by("path")),
        },
    )


@login_required
def worklist_export(request: HttpRequest, fmt: str) -> HttpResponse:
    actor = _worklist_actor(request)
    rows, filters = _worklist_rows(request, actor, limit=20000)
    services.person_data_view_record(
        actor=actor,
        what=f"worklist.{fmt}",
        person_ids=[r["person_id"] for r in rows if r["person_id"]],
        unmasked=filters["unmask"],
    )
    title = _("Danh sách theo dõi, vận động") + (
        f" — {_kind_labels()[filters['kind']]}" if filters["kind"] in _kind_labels() else ""
    )
    if fmt == "xlsx":
        content = exports.call_sheet_xlsx(title=title, rows=rows)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "pdf":
        content = exports.call_sheet_pdf(title=title, rows=rows)
        ctype = "application/pdf"
    else:
        raise Http404
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="danh-sach-theo-doi.{fmt}"'
    return resp


@login_required
@require_POST
def worklists_sync(request: HttpRequest) -> HttpResponse:
    actor = _worklist_actor(request)
    if getattr(actor, "role", None) not in {"admin", "province"}:
        raise Http404
    raw = request.POST.get("as_of", "")
    try:
        as_of = dt.date.fromisoformat(raw)
    except ValueError:
        as_of = selectors.contributions_as_of_default()
    job = services.followup_sync_job_start(as_of=as_of, actor=actor)
    messages.success(
        request,
        _("Đang lập danh sách ngày %(d)s; trang sẽ cập nhật khi xong.")
        % {"d": as_of.strftime("%d/%m/%Y")},
    )
    return redirect(f"/jobs/{job.pk}/")


@login_required
def followup_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _worklist_actor(request)
    fu = selectors.followup_get(actor=actor, pk=pk)
    unmask = request.GET.get("unmask") == "1"
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "outcome":
                on = dt.date.fromisoformat(request.POST.get("on", ""))
                services.followup_record_outcome(
                    actor=actor,
                    followup=fu,
                    outcome=request.POST.get("outcome", ""),
                    on=on,
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Đã ghi nhận kết quả."))
            elif action == "assign":
                user = None
                uid = request.POST.get("user", "")
                if uid:
                    user = get_user_model().objects.filter(pk=uid).first()
                    if user is None:
                        raise ValueError(uid)
                services.followup_assign(
                    actor=actor, followup=fu, user=user, org=request.POST.get("org", "")
                )
                messages.success(request, _("Đã phân công."))
        except ValueError:
            messages.error(request, _("Dữ liệu không hợp lệ."))
        return redirect(f"/worklists/{fu.pk}/")
    detail = selectors.followup_detail(followup=fu)
    if detail["person"] is not None or detail["members"]:
        ids = [m["person"].person_id for m in detail["members"]]
        if detail["person"] is not None:
            ids.append(detail["person"].person_id)
        services.person_data_view_record(
            actor=actor, what=f"followup.{fu.pk}", person_ids=ids, unmasked=unmask
        )
    people = []
    if detail["person"] is not None:
        people.append({"person": detail["person"], "covered": None})
    people += detail["members"]
    shown = []
    for m in people:
        p = m["person"]
        shown.append(
            {
                "person_id": p.person_id if unmask else mask_id(p.person_id),
                "name": p.full_name if unmask else mask_name(p.full_name),
                "phone": p.phone if unmask else mask_phone(p.phone),
                "birth_year": p.birth_date.year if p.birth_date else None,
                "covered": m["covered"],
                "do_not_contact": p.do_not_contact,
            }
        )
    return render(
        request,
        "arrears/followup.html",
        {
            "fu": fu,
            "kind_label": _kind_labels().get(fu.kind, fu.kind),
            "unit_name": fu.unit.name,
            "people": shown,
            "unmask": unmask,
            "outcomes": list(fu.outcomes.select_related("by")),
            "outcome_choices": _outcome_labels(),
            "outcome_labels": _outcome_labels(),
            "staff": selectors.assignable_staff(actor=actor),
            "orgs": codes.ORGS,
            "today": dt.date.today(),
            "employer_name": fu.employer.name if fu.employer_id and fu.employer else "",
            "status_open": fu.status == FollowUp.Status.OPEN,
            "outcome_values": FollowUpOutcome.Outcome.values,
        },
    )
