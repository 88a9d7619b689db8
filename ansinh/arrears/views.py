"""Pages of the arrears app: late contributions, employer detail, monthly review with reminder
letters, follow-up worklists. Thin: parse the request, call selectors/services, render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ansinh.accounts.access import (
    Actor,
    actor_root_unit,
    allowed_units,
    can_see_arrears,
    can_see_people,
    mask_id,
    mask_name,
    mask_phone,
    may,
    unit_visible,
)
from ansinh.arrears import exports, reminders, selectors, services
from ansinh.arrears import figures as arrears_figures
from ansinh.arrears.models import FollowUp, FollowUpOutcome, OutboxMessage
from ansinh.core import codes, words
from ansinh.core.documents import DocumentError, issuer_of, number_issue, number_of
from ansinh.core.formats import fmt_chart_date, fmt_dec
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors, unit_root, units_in_force


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


def _units_menu(actor: Actor) -> list[Unit]:
    """The units to choose from: offices and the province for a province-wide login (the
    communes are reached from the breakdown); every unit of its scope otherwise (an office and
    its communes, or a viewer's own commune). Former units (before 1 July 2025) are not
    offered."""
    units = units_in_force(allowed_units(actor))
    if may(actor, "see_all_units"):
        units = units.exclude(level="commune")
    return list(units.order_by("path"))


def _money_short(value: int) -> str:
    """A card-sized amount: 141,30 tỷ / 12,35 triệu (the exact figure goes under it)."""
    if value >= 10**9:
        return _("%(n)s tỷ") % {"n": fmt_dec(Decimal(value) / 10**9, places=2)}
    if value >= 10**6:
        return _("%(n)s triệu") % {"n": fmt_dec(Decimal(value) / 10**6, places=2)}
    return ""  # small enough to show exactly


# ---------------------------------------------------------------- arrears pages


@login_required
def arrears_page(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not can_see_arrears(actor):
        raise Http404
    unit = _unit(request)
    as_of = _as_of(request)
    data = arrears_figures.arrears(unit=unit, as_of=as_of, actor=actor)
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
        e["oldest_label"] = exports.period_label(e["oldest_period"])
    counts = dict.fromkeys(arrears_figures.BUCKETS, 0)
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
    trend = arrears_figures.arrears_trend(unit=unit, as_of=as_of)
    for p in trend:
        p["day"] = dt.date.fromisoformat(p["date"])
        p["label"] = fmt_chart_date(p["day"])
    chart = {
        "labels": [p["label"] for p in trend],
        "values": [p["pct"] for p in trend],
        # the amount overdue at each month-end (bars): defined every month, also in January
        # and February when the year's ratio has little or nothing to divide by
        "amounts": [round(p["overdue"] / 10**6, 1) for p in trend],
        "amount_label": _("Số tiền chậm đóng (triệu đồng)"),
        "goal": selectors.ARREARS_GOAL_PCT,
        "label": _("Tỷ lệ nợ (%)"),
        "goal_label": _("Mục tiêu ≤ 2 %"),
    }
    split = arrears_figures.interest_split(unit=unit, as_of=as_of, actor=actor)
    since_paid = sum(r["since_paid"] for r in split)
    interest_note = {
        "on_overdue": t["interest"] - since_paid,
        "since_paid": since_paid,
        "employers_paid_late": sum(1 for r in split if r["since_paid"]),
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
            "interest_note": interest_note,
            "can_review": may(actor, "work_followups"),
            "quarter": selectors.current_quarter(as_of),
            "goal": selectors.ARREARS_GOAL_PCT,
            "units": _units_menu(actor),
        },
    )


@login_required
def employer_page(request: HttpRequest, code: str) -> HttpResponse:
    employer = selectors.employer_get(actor=request.user, code=code)
    as_of = _as_of(request)
    rows = arrears_figures.employer_contributions(employer=employer, as_of=as_of)
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
    if not may(request.user, "work_followups"):
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
        r["oldest_label"] = exports.period_label(r["oldest_period"])
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


def _letter_kwargs(*, actor: Actor, employer: Any, as_of: dt.date) -> dict[str, Any]:
    """The arguments of ``exports.letter_texts`` for one employer at ``as_of``. Reads only (a
    GET never writes): the letter carries the number its reminder of the month was issued
    with (the issuer's register, or the one recorded by hand), else it is a draft with the
    number left blank — issuing is the POST of ``reminder_sent``."""
    rows = arrears_figures.employer_contributions(employer=employer, as_of=as_of)
    periods = sorted((r for r in rows if r["overdue"]), key=lambda r: r["period"])
    late = sorted(
        (r for r in rows if not r["overdue"] and r["interest"]), key=lambda r: r["period"]
    )
    figures = {
        "overdue": sum(r["overdue"] for r in rows),
        "interest": sum(r["interest"] for r in rows),
    }
    reminder = selectors.reminder_of_month(employer=employer, month=as_of.replace(day=1))
    number: int | str | None = None
    if reminder is not None:
        given = number_of(ref_type="reminder", ref_id=str(reminder.pk))
        number = given.number if given is not None else (reminder.number or None)
    root = unit_root()
    return {
        "province_name": root.name if root else "",
        "employer": employer,
        "as_of": as_of,
        "figures": figures,
        "periods": periods,
        "late_periods": late,
        "number": number,
        "issuer": issuer_of(unit_ancestors(unit=employer.unit)),
    }


@login_required
def reminder_letter(request: HttpRequest, code: str, fmt: str = "docx") -> HttpResponse:
    actor = _review_actor(request)
    employer = selectors.employer_get(actor=actor, code=code)
    as_of = _as_of(request)
    kwargs = _letter_kwargs(actor=actor, employer=employer, as_of=as_of)
    render_letter = exports.reminder_pdf if fmt == "pdf" else exports.reminder_docx
    content = render_letter(**kwargs)
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
    figures = arrears_figures.employer_figures(employer=employer, as_of=as_of)
    typed = request.POST.get("number", "").strip()
    back = f"/arrears/review/?as_of={as_of.isoformat()}"
    try:
        # the reminder of the month, its number (the one typed from another register, else the
        # next of the issuer's register of notices, TB, given once per reminder) and its
        # sending: all or nothing
        with transaction.atomic():
            reminder = services.reminder_create(
                actor=actor,
                employer=employer,
                review_month=as_of.replace(day=1),
                overdue=figures["overdue"],
                interest=figures["interest"],
            )
            if not typed:
                given = number_issue(
                    actor=actor,
                    issuer=issuer_of(unit_ancestors(unit=employer.unit)),
                    kind="TB",
                    subject=f"Thông báo chậm đóng BHXH, BHYT, BHTN: {employer.name} "
                    f"({employer.code}), tháng {as_of:%m/%Y}",
                    year=as_of.year,
                    ref_type="reminder",
                    ref_id=str(reminder.pk),
                )
                typed = str(given.number)
            services.reminder_mark_sent(actor=actor, reminder=reminder, number=typed)
    except DocumentError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except ValueError:
        messages.error(request, _("Số văn bản dài quá 40 ký tự."))
        return redirect(back)
    messages.success(request, _("Đã ghi nhận gửi thông báo cho %(code)s.") % {"code": code})
    return redirect(back)


# ---------------------------------------------------------------- worklists


def _worklist_actor(request: HttpRequest) -> Any:
    if not can_see_people(request.user) or not request.user.is_authenticated:
        raise Http404
    return request.user


PAGE_SIZE = 100


def _int_param(raw: str, *, low: int, high: int) -> int | None:
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _worklist_rows(
    request: HttpRequest, actor: Actor, *, limit: int = PAGE_SIZE, paged: bool = True
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of the worklist the request's filters select (one page of ``PAGE_SIZE`` for
    the page, everything up to ``limit`` for the exports), masked unless ``unmask=1``."""
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "open")
    assigned = request.GET.get("assigned", "")
    village = request.GET.get("village", "").strip()
    group = request.GET.get("group", "")
    group = group if group in codes.GROUPS else ""
    due = _int_param(request.GET.get("due", ""), low=0, high=366)
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
    villages = selectors.followup_villages(qs=qs.filter(status="open"))
    if status in ("open", "closed"):
        qs = qs.filter(status=status)
    data_as_of = selectors.data_date()
    due_from = _as_of(request) if request.GET.get("as_of") else data_as_of
    qs = selectors.followup_filter(
        qs=qs,
        actor=actor,
        village=village,
        group=group,
        due_days=due,
        as_of=due_from,
        assigned=assigned,
    )
    total = selectors.followup_count(qs=qs)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = _int_param(request.GET.get("page", "1"), low=1, high=10**6) or 1
    page = min(page, pages)
    offset = (page - 1) * PAGE_SIZE if paged else 0
    rows = selectors.followup_rows(qs=qs, limit=limit, offset=offset)
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
        r["tel"] = ""
        if r["is_person"] and not unmask:
            r["code"] = mask_id(r["code"])
            r["name"] = mask_name(r["name"])
            r["phone"] = mask_phone(r["phone"])
            r["address"] = "***" if r["address"] else ""
        elif r["phone"]:
            # a number to dial: digits and a leading + only
            r["tel"] = "".join(c for c in r["phone"] if c.isdigit() or c == "+")
    filters = {
        "kind": kind,
        "status": status,
        "assigned": assigned,
        "unmask": unmask,
        "unit": unit_code,
        "village": village,
        "group": group,
        "due": "" if due is None else due,
        "total": total,
        "page": page,
        "pages": pages,
        "first": offset + 1 if rows else 0,
        "last": offset + len(rows),
        "villages": villages,
        "as_of": data_as_of,
    }
    return rows, filters


@login_required
def worklists_page(request: HttpRequest) -> HttpResponse:
    actor = _worklist_actor(request)
    rows, filters = _worklist_rows(request, actor)
    person_ids = [r["person_id"] for r in rows if r["person_id"]]
    if person_ids:
        services.person_data_view_record(
            actor=actor, what="worklist", person_ids=person_ids, unmasked=filters["unmask"]
        )
    query = request.GET.copy()
    query.pop("unmask", None)
    query.pop("page", None)
    # the exports and the pages keep every filter, the unmask included (audited alike)
    full = query.copy()
    if filters["unmask"]:
        full["unmask"] = "1"
    summary = selectors.followup_summary(actor=actor)
    data_as_of = filters["as_of"]
    staff = selectors.assignable_staff(actor=actor)
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
            "groups": codes.GROUPS,
            "as_of": _as_of(request) if request.GET.get("as_of") else data_as_of,
            "query": query.urlencode(),
            "full_query": full.urlencode(),
            "here": request.get_full_path(),
            "units": list(units_in_force(allowed_units(actor)).order_by("path")),
            "staff": staff,
            "staff_options": [(f"u{u.pk}", selectors.staff_label(u)) for u in staff],
            "quick_outcomes": _quick_outcomes(),
            "today": dt.date.today(),
            "can_write": may(actor, "work_followups"),
        },
    )


def _quick_outcomes() -> list[tuple[str, str]]:
    """The outcomes one tap records from the list (the rest on the entry's page)."""
    labels = _outcome_labels()
    return [(k, labels[k]) for k in ("called", "unreachable", "promised", "registered")]


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after a form: the worklist page it came from (a local path only)."""
    nxt = request.POST.get("next", "")
    if nxt.startswith("/worklists/") and "//" not in nxt and "\\" not in nxt:
        return nxt
    return default


@login_required
@require_POST
def worklists_assign(request: HttpRequest) -> HttpResponse:
    """Assign the ticked entries of a worklist page to one officer or organisation."""
    actor = _worklist_actor(request)
    user = None
    uid = request.POST.get("user", "")
    org = request.POST.get("org", "")
    back = _back(request, "/worklists/")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    if uid:
        user = get_user_model().objects.filter(pk=uid if uid.isdigit() else 0).first()
        if user is None:
            messages.error(request, _("Không có cán bộ này."))
            return redirect(back)
    if not ids:
        messages.error(request, _("Chưa chọn mục nào."))
        return redirect(back)
    entries = list(selectors.followups_visible(actor=actor).filter(pk__in=ids))
    try:
        n = services.followup_assign_many(actor=actor, followups=entries, user=user, org=org)
    except ValueError:
        messages.error(request, _("Không phân công được cho cán bộ hoặc tổ chức này."))
        return redirect(back)
    messages.success(request, _("Đã phân công %(n)s mục.") % {"n": n})
    return redirect(back)


@login_required
def worklist_export(request: HttpRequest, fmt: str) -> HttpResponse:
    actor = _worklist_actor(request)
    if fmt not in ("xlsx", "pdf"):
        raise Http404
    rows, filters = _worklist_rows(request, actor, limit=20000, paged=False)
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
    else:
        content = exports.call_sheet_pdf(title=title, rows=rows)
        ctype = "application/pdf"
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="danh-sach-theo-doi.{fmt}"'
    return resp


@login_required
@require_POST
def worklists_sync(request: HttpRequest) -> HttpResponse:
    actor = _worklist_actor(request)
    if not may(actor, "manage_arrears"):
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
            elif action == "opt_out" and fu.person_id:
                reminders.person_opt_out(actor=actor, person_id=fu.person_id)
                messages.success(request, _("Đã ghi nhận: người này không nhận tin nhắn nữa."))
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
        return redirect(_back(request, f"/worklists/{fu.pk}/"))
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
                "tel": "".join(c for c in p.phone if c.isdigit() or c == "+") if unmask else "",
                "address": p.address if unmask else ("***" if p.address else ""),
                "village": p.village,
                "birth_year": p.birth_date.year if p.birth_date else None,
                "covered": m["covered"],
                "do_not_contact": p.do_not_contact,
                "consent": p.consent,
                "opted_out_at": p.opted_out_at,
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
            "staff": selectors.assignable_staff(actor=actor, unit=fu.unit),
            "orgs": codes.ORGS,
            "today": dt.date.today(),
            "quick_outcomes": _quick_outcomes(),
            "messages_sent": [
                {
                    "created_at": m.created_at,
                    "channel": reminders.CHANNELS.get(m.channel, m.channel),
                    "state": m.state,
                    "reason": words.shown(m.reason),
                }
                for m in fu.messages.order_by("-pk")[:20]
            ],
            "state_labels": _state_labels(),
            "employer_name": fu.employer.name if fu.employer_id and fu.employer else "",
            "status_open": fu.status == FollowUp.Status.OPEN,
            "outcome_values": FollowUpOutcome.Outcome.values,
        },
    )


# ---------------------------------------------------------------- legal steps, lists, interest


def _legal_rows(
    request: HttpRequest, actor: Actor, unit: Unit, as_of: dt.date
) -> tuple[list[dict[str, Any]], str]:
    state = request.GET.get("state", "")
    rows = selectors.legal_states(unit=unit, as_of=as_of, actor=actor)
    if state in selectors.LEGAL_STATES:
        rows = [r for r in rows if r["state"] == state]
    else:
        state = ""
    details = selectors.employer_details([r["code"] for r in rows])
    labels = exports.state_labels()
    for r in rows:
        r.update(details.get(r["code"], {}))
        r["state_label"] = labels[r["state"]]
        r["oldest_label"] = exports.period_label(r["oldest_period"])
    return rows, state


@login_required
def legal_page(request: HttpRequest) -> HttpResponse:
    """Each overdue employer's legal step (late → written reminder → evading), the form that
    records a written reminder (date, number) and the letters in bulk."""
    actor = _review_actor(request)
    unit = _unit(request)
    as_of = _as_of(request)
    rows, state = _legal_rows(request, actor, unit, as_of)
    counts = dict.fromkeys(selectors.LEGAL_STATES, 0)
    for r in selectors.legal_states(unit=unit, as_of=as_of, actor=actor) if state else rows:
        counts[r["state"]] += 1
    return render(
        request,
        "arrears/legal.html",
        {
            "unit": unit,
            "as_of": as_of,
            "rows": rows,
            "state": state,
            "states": exports.state_labels(),
            "counts": counts,
            "units": _units_menu(actor),
            "today": dt.date.today(),
            "quarter": selectors.current_quarter(as_of),
        },
    )


@login_required
@require_POST
def legal_record(request: HttpRequest, code: str) -> HttpResponse:
    actor = _review_actor(request)
    employer = selectors.employer_get(actor=actor, code=code)
    back = request.POST.get("next", "")
    if not back.startswith("/arrears/legal/") or "//" in back:
        back = "/arrears/legal/"
    try:
        sent_on = dt.date.fromisoformat(request.POST.get("sent_on", ""))
    except ValueError:
        messages.error(request, _("Ngày gửi văn bản không hợp lệ."))
        return redirect(back)
    figures = arrears_figures.employer_figures(employer=employer, as_of=sent_on)
    try:
        services.legal_reminder_record(
            actor=actor,
            employer=employer,
            sent_on=sent_on,
            number=request.POST.get("number", ""),
            overdue=figures["overdue"],
            interest=figures["interest"],
        )
    except ValueError as exc:
        if str(exc) == "sent_on":
            messages.error(request, _("Ngày gửi văn bản không được sau hôm nay."))
        else:
            messages.error(request, _("Cần ghi số văn bản (tối đa 40 ký tự), ví dụ 12/TB-BHXH."))
        return redirect(back)
    messages.success(
        request, _("Đã ghi nhận văn bản đôn đốc gửi %(code)s.") % {"code": employer.code}
    )
    return redirect(back)


@login_required
def letters_bulk(request: HttpRequest, fmt: str) -> HttpResponse:
    """The reminder letters of many employers in one file: the ticked ones (``codes``), else
    every employer of the list (unit, date, legal step)."""
    actor = _review_actor(request)
    if fmt not in ("docx", "pdf"):
        raise Http404
    unit = _unit(request)
    as_of = _as_of(request)
    rows, _state = _legal_rows(request, actor, unit, as_of)
    wanted = set(request.GET.getlist("codes"))
    if wanted:
        rows = [r for r in rows if r["code"] in wanted]
    if not rows:
        messages.error(request, _("Không có đơn vị nào để lập thông báo."))
        return redirect(f"/arrears/legal/?unit={unit.code}&as_of={as_of.isoformat()}")
    employers = {
        e.code: e
        for e in selectors.employers_visible(actor=actor).filter(code__in=[r["code"] for r in rows])
    }
    letters = [
        _letter_kwargs(actor=actor, employer=employers[r["code"]], as_of=as_of)
        for r in rows
        if r["code"] in employers
    ]
    if fmt == "pdf":
        content = exports.reminders_pdf(letters)
        ctype = "application/pdf"
    else:
        content = exports.reminders_docx(letters)
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = (
        f'attachment; filename="thong-bao-cham-dong-{unit.code}-{as_of:%Y-%m-%d}.{fmt}"'
    )
    return resp


@login_required
def employers_export(request: HttpRequest) -> HttpResponse:
    """The late employers of a unit at a date as XLSX (figures of SPEC section 8, legal step)."""
    actor = request.user
    if not can_see_arrears(actor):
        raise Http404
    unit = _unit(request)
    as_of = _as_of(request)
    rows, _state = _legal_rows(request, actor, unit, as_of)
    content = exports.late_employers_xlsx(
        title=_("Đơn vị chậm đóng BHXH, BHYT, BHTN · %(u)s") % {"u": unit.name},
        as_of=as_of,
        rows=rows,
    )
    resp = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = (
        f'attachment; filename="don-vi-cham-dong-{unit.code}-{as_of:%Y-%m-%d}.xlsx"'
    )
    return resp


def _offenders(request: HttpRequest) -> tuple[Any, Unit, dict[str, Any]]:
    actor = request.user
    if not can_see_arrears(actor):
        raise Http404
    unit = _unit(request)
    quarter = request.GET.get("quarter", "") or selectors.current_quarter(
        selectors.contributions_as_of_default()
    )
    try:
        data = selectors.offenders(unit=unit, quarter=quarter, actor=actor)
    except ValueError:
        raise Http404 from None
    return actor, unit, data


@login_required
def offenders_page(request: HttpRequest) -> HttpResponse:
    """The quarterly list of late and evading employers to publish (before the 15th of the
    quarter's first month)."""
    actor, unit, data = _offenders(request)
    labels = exports.state_labels()
    for r in data["rows"]:
        r["state_label"] = labels[r["state"]]
    first = data["first_day"]
    quarters = []
    for back in range(-1, 8):
        m = first.month - 3 * back
        y = first.year + (m - 1) // 12
        m = (m - 1) % 12 + 1
        quarters.append(f"{y}-Q{(m - 1) // 3 + 1}")
    return render(
        request,
        "arrears/offenders.html",
        {
            "unit": unit,
            "data": data,
            "units": _units_menu(actor),
            "quarters": quarters,
            "send_by": data["deadline"],
            "late": data["deadline"] < dt.date.today(),
        },
    )


@login_required
def offenders_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _actor, unit, data = _offenders(request)
    if fmt == "xlsx":
        content = exports.offenders_xlsx(data)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "docx":
        root = unit_root()
        content = exports.offenders_docx(data, province_name=root.name if root else "")
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        raise Http404
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = (
        f'attachment; filename="danh-sach-cham-dong-{unit.code}-{data["quarter"]}.{fmt}"'
    )
    return resp


@login_required
def interest_page(request: HttpRequest) -> HttpResponse:
    """Where the interest comes from: on the amounts still owed, and on periods paid in full
    but late (SPEC section 8 counts both, so a unit can show interest with nothing overdue)."""
    actor = request.user
    if not can_see_arrears(actor):
        raise Http404
    unit = _unit(request)
    as_of = _as_of(request)
    rows = arrears_figures.interest_split(unit=unit, as_of=as_of, actor=actor)
    details = selectors.employer_details([r["code"] for r in rows[:500]])
    for r in rows[:500]:
        r.update(details.get(r["code"], {}))
    return render(
        request,
        "arrears/interest.html",
        {
            "unit": unit,
            "as_of": as_of,
            "rows": rows[:500],
            "more": max(len(rows) - 500, 0),
            "total": sum(r["interest"] for r in rows),
            "on_overdue": sum(r["on_overdue"] for r in rows),
            "since_paid": sum(r["since_paid"] for r in rows),
            "units": _units_menu(actor),
        },
    )


# ---------------------------------------------------------------- outbox (reminders)


def _outbox_actor(request: HttpRequest) -> Any:
    if not may(request.user, "work_followups"):
        raise Http404
    return request.user


def _state_labels() -> dict[str, str]:
    return {
        "queued": _("Chờ gửi"),
        "sending": _("Đang gửi"),
        "sent": _("Đã gửi"),
        "failed": _("Lỗi"),
        "skipped": _("Không gửi"),
    }


@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """The outbox: every message with its state and reason, the forms that queue reminders and
    the button that sends them (a background job)."""
    actor = _outbox_actor(request)
    unmask = request.GET.get("unmask") == "1"
    qs = reminders.outbox_visible(actor=actor)
    counts = reminders.outbox_counts(qs=qs)
    state = request.GET.get("state", "")
    if state in OutboxMessage.State.values:
        qs = qs.filter(state=state)
    total = qs.count()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(_int_param(request.GET.get("page", "1"), low=1, high=10**6) or 1, pages)
    rows = list(
        qs.select_related("employer", "unit").order_by("-pk")[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE
        ]
    )
    person_ids = [m.person_id for m in rows if m.person_id]
    if person_ids:
        services.person_data_view_record(
            actor=actor, what="outbox", person_ids=person_ids, unmasked=unmask
        )
    states, kinds, channels = _state_labels(), reminders.KINDS, reminders.CHANNELS
    shown = []
    for m in rows:
        masked = bool(m.person_id) and not unmask
        recipient = m.recipient
        if masked and recipient:
            recipient = mask_phone(recipient) if "@" not in recipient else "***@***"
        shown.append(
            {
                "id": m.pk,
                "created_at": m.created_at,
                "kind": kinds.get(m.kind, m.kind),
                "channel": channels.get(m.channel, m.channel),
                "who": mask_id(m.person_id) if masked else (m.person_id or m.employer_id),
                "recipient": recipient,
                "body": "" if masked else m.body,
                "state": m.state,
                "state_label": states.get(m.state, m.state),
                "retrying": m.state == "queued" and bool(m.reason),
                "reason": words.shown(m.reason),
                "attempts": m.attempts,
                "sent_at": m.sent_at,
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "arrears/outbox.html",
        {
            "rows": shown,
            "counts": counts,
            "state": state,
            "states": states,
            "kinds": kinds,
            "channels": channels,
            "total": total,
            "page": page,
            "pages": pages,
            "query": query.urlencode(),
            "unmask": unmask,
            "units": list(
                units_in_force(allowed_units(actor)).exclude(level="commune").order_by("path")
            ),
            "can_edit_templates": may(actor, "manage_arrears"),
        },
    )


@login_required
@require_POST
def outbox_queue(request: HttpRequest) -> HttpResponse:
    actor = _outbox_actor(request)
    kind = request.POST.get("kind", "")
    channel = request.POST.get("channel", "")
    unit = None
    code = request.POST.get("unit", "")
    if code:
        unit = unit_visible(actor=actor, code=code)
        if unit is None:
            raise Http404
    raw = request.POST.get("amount", "").replace(".", "").replace(",", "").replace(" ", "")
    if raw and not raw.isdigit():
        messages.error(request, _("Số tiền phải là số nguyên (đồng), ví dụ 1.263.600."))
        return redirect("/outbox/")
    if kind not in reminders.KINDS or channel not in reminders.CHANNELS:
        messages.error(request, _("Chọn loại tin và kênh gửi."))
        return redirect("/outbox/")
    try:
        as_of = (
            dt.date.fromisoformat(request.POST.get("as_of", ""))
            if request.POST.get("as_of")
            else None
        )
    except ValueError:
        as_of = None
    result = reminders.outbox_queue(
        actor=actor,
        kind=kind,
        channel=channel,
        unit=unit,
        amount=int(raw) if raw else None,
        as_of=as_of,
    )
    messages.success(
        request,
        _("Đã đưa %(q)s tin vào hàng đợi; %(s)s tin không gửi (xem lý do); %(a)s tin đã có.")
        % {"q": result["queued"], "s": result["skipped"], "a": result["already"]},
    )
    return redirect("/outbox/")


@login_required
@require_POST
def outbox_send(request: HttpRequest) -> HttpResponse:
    actor = _outbox_actor(request)
    job = reminders.outbox_send_job_start(actor=actor)
    messages.success(request, _("Đang gửi các tin chờ gửi; trang sẽ cập nhật khi xong."))
    return redirect(f"/jobs/{job.pk}/")


@login_required
@require_POST
def outbox_requeue(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _outbox_actor(request)
    message = reminders.outbox_visible(actor=actor).filter(pk=pk).first()
    if message is None:
        raise Http404
    reminders.outbox_requeue(actor=actor, message=message)
    return redirect("/outbox/?state=queued")


@login_required
def outbox_templates(request: HttpRequest) -> HttpResponse:
    """The words of each reminder on each channel (admin, province)."""
    actor = _outbox_actor(request)
    if not may(actor, "manage_arrears"):
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            reminders.template_save(
                actor=actor,
                kind=request.POST.get("kind", ""),
                channel=request.POST.get("channel", ""),
                subject=request.POST.get("subject", ""),
                body=request.POST.get("body", ""),
                zns_template_id=request.POST.get("zns_template_id", ""),
            )
        except ValueError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Đã lưu mẫu tin."))
            return redirect("/outbox/templates/")
    forms = []
    for kind, kind_label in reminders.KINDS.items():
        for channel, channel_label in reminders.CHANNELS.items():
            words = reminders.template_for(kind=kind, channel=channel)
            if request.method == "POST" and (
                request.POST.get("kind"),
                request.POST.get("channel"),
            ) == (kind, channel):
                words = {
                    "subject": request.POST.get("subject", ""),
                    "body": request.POST.get("body", ""),
                    "zns_template_id": request.POST.get("zns_template_id", ""),
                }
            forms.append(
                {
                    "kind": kind,
                    "channel": channel,
                    "label": f"{kind_label} · {channel_label}",
                    **words,
                }
            )
    return render(
        request,
        "arrears/outbox_templates.html",
        {
            "forms": forms,
            "error": error,
            "placeholders": ["{" + p + "}" for p in reminders.PLACEHOLDERS],
        },
        status=400 if error else 200,
    )
