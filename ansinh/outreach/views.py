"""Pages of communication plans, their calendar and exports, and campaigns (thin: forms,
selectors and services)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ansinh.accounts.access import may
from ansinh.core import codes
from ansinh.core.documents import number_of
from ansinh.outreach import exports, selectors, services
from ansinh.outreach.models import Plan
from ansinh.outreach.planning import PlanError, default_as_of, latest_data_year


def _choices(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, codes.label(mapping, k)) for k in mapping]


class PlanNewForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Đơn vị"))
    year = forms.IntegerField(label=gettext_lazy("Năm kế hoạch"), min_value=2000, max_value=2100)
    as_of = forms.DateField(
        label=gettext_lazy("Số liệu đến ngày"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(Any, self.fields["unit"]).choices = [
            (u.code, f"{'— ' * u.depth}{u.name} ({u.code})") for u in units
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("year") and data.get("as_of") and data["as_of"].year > data["year"]:
            raise forms.ValidationError(_("Ngày số liệu không được sau năm kế hoạch."))
        return data


class ItemEditForm(forms.Form):
    month = forms.ChoiceField(label=gettext_lazy("Tháng"))
    lead_org = forms.ChoiceField(label=gettext_lazy("Đơn vị chủ trì"))
    coordinating_orgs = forms.MultipleChoiceField(
        label=gettext_lazy("Đơn vị phối hợp"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sessions = forms.IntegerField(label=gettext_lazy("Số buổi"), min_value=1, max_value=100000)
    note = forms.CharField(label=gettext_lazy("Ghi chú"), required=False, max_length=300)

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(Any, self.fields["month"]).choices = [
            (f"{plan.year:04d}-{m:02d}", _("Tháng %(m)s/%(y)s") % {"m": m, "y": plan.year})
            for m in range(1, 13)
        ]
        cast(Any, self.fields["lead_org"]).choices = _choices(codes.ORGS)
        cast(Any, self.fields["coordinating_orgs"]).choices = _choices(codes.ORGS)


class ItemAddForm(ItemEditForm):
    unit = forms.ChoiceField(label=gettext_lazy("Xã, phường"))
    channel = forms.ChoiceField(label=gettext_lazy("Hình thức"))
    group = forms.ChoiceField(label=gettext_lazy("Nhóm đối tượng"))
    schemes = forms.MultipleChoiceField(
        label=gettext_lazy("Chế độ"), widget=forms.CheckboxSelectMultiple
    )

    field_order = ["unit", "month", "channel", "group", "schemes", "lead_org"]

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, plan=plan, **kwargs)
        cast(Any, self.fields["unit"]).choices = [
            (u.code, f"{u.name} ({u.code})") for u in selectors.plan_item_units(plan=plan)
        ]
        cast(Any, self.fields["channel"]).choices = _choices(codes.CHANNELS)
        cast(Any, self.fields["group"]).choices = _choices(codes.GROUPS)
        cast(Any, self.fields["schemes"]).choices = _choices(codes.SCHEMES)


class CampaignForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Mã chiến dịch"), max_length=64)
    name = forms.CharField(label=gettext_lazy("Tên chiến dịch"), max_length=300)
    start = forms.DateField(
        label=gettext_lazy("Từ ngày"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"})
    )
    lead_org = forms.ChoiceField(label=gettext_lazy("Đơn vị chủ trì"))
    budget = forms.IntegerField(label=gettext_lazy("Kinh phí (đồng)"), min_value=0, initial=0)
    units = forms.MultipleChoiceField(
        label=gettext_lazy("Địa bàn (để trống: toàn tỉnh)"), required=False
    )

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(Any, self.fields["lead_org"]).choices = _choices(codes.ORGS)
        cast(Any, self.fields["units"]).choices = [(u.code, f"{u.name} ({u.code})") for u in units]


def _plan_or_404(request: HttpRequest, plan_id: int) -> Plan:
    plan = selectors.plan_get(actor=request.user, plan_id=plan_id)
    if plan is None:
        raise Http404
    return plan


def _can_create(user: Any) -> bool:
    return may(user, "edit_plans")


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    if not may(request.user, "see_plans"):
        raise Http404
    try:
        year = int(request.GET.get("year", "") or 0) or None
    except ValueError:
        year = None
    status = request.GET.get("status", "")
    plans = list(selectors.plan_list(actor=request.user, year=year, status=status)[:500])
    return render(
        request,
        "outreach/plan_list.html",
        {
            "plans": plans,
            "q": request.GET,
            "statuses": Plan.Status.choices,
            "can_create": _can_create(request.user),
        },
    )


def _default_as_of() -> dt.date:
    """The latest date with data (its year is the plan's year), else today."""
    return default_as_of(latest_data_year())


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    if not _can_create(request.user):
        raise Http404
    units = selectors.plan_unit_choices(actor=request.user)
    if request.method == "POST":
        form = PlanNewForm(request.POST, units=units)
        if form.is_valid():
            unit = next(u for u in units if u.code == form.cleaned_data["unit"])
            try:
                plan = services.plan_create_draft(
                    actor=request.user,
                    unit=unit,
                    year=form.cleaned_data["year"],
                    as_of=form.cleaned_data["as_of"],
                )
            except PlanError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Đã lập dự thảo kế hoạch phiên bản %(v)s với %(n)s hoạt động.")
                    % {"v": plan.version, "n": plan.items.count()},
                )
                return redirect("plan_detail", plan_id=plan.pk)
    else:
        as_of = _default_as_of()
        own = getattr(request.user, "unit", None)
        form = PlanNewForm(
            units=units,
            initial={
                "year": as_of.year,
                "as_of": as_of,
                "unit": own.code if own else (units[0].code if units else ""),
            },
        )
    return render(request, "outreach/plan_new.html", {"form": form})


def _detail_context(request: HttpRequest, plan: Plan, **extra: Any) -> dict[str, Any]:
    commune = request.GET.get("unit", "")
    return {
        "plan": plan,
        "s": selectors.plan_summary(plan=plan, commune=commune),
        "commune": commune,
        "can_edit": services.can_edit(request.user, plan),
        "can_approve": services.can_approve(request.user, plan),
        "awaits_other": plan.status == Plan.Status.SUBMITTED
        and plan.submitted_by_id is not None
        and plan.submitted_by_id == request.user.pk,
        "can_submit": services.can_edit(request.user, plan),
        "can_version": may(request.user, "edit_plans")
        and plan.status in (Plan.Status.APPROVED, Plan.Status.SUBMITTED),
        "schemes": codes.SCHEME_CODES,
        "add_form": extra.pop("add_form", None)
        or ItemAddForm(plan=plan, initial=_add_initial(plan)),
        **extra,
    }


def _add_initial(plan: Plan) -> dict[str, Any]:
    month = min(plan.as_of.month + 1, 12) if plan.as_of.year == plan.year else 1
    return {"month": f"{plan.year:04d}-{month:02d}", "sessions": 1, "lead_org": "si_office"}


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    return render(request, "outreach/plan_detail.html", _detail_context(request, plan))


def _refused(request: HttpRequest, plan: Plan, exc: PlanError, **extra: Any) -> HttpResponse:
    if exc.status == 404:
        raise Http404
    messages.error(request, str(exc))
    return render(
        request,
        "outreach/plan_detail.html",
        _detail_context(request, plan, **extra),
        status=exc.status,
    )


def _item_fields(d: dict[str, Any]) -> dict[str, Any]:
    """The fields of a plan item that both adding and editing it set, from a cleaned form."""
    return {
        "month": d["month"],
        "lead_org": d["lead_org"],
        "coordinating_orgs": d["coordinating_orgs"],
        "sessions": d["sessions"],
        "note": d.get("note") or "",
    }


@login_required
@require_POST
def plan_item_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    form = ItemAddForm(request.POST, plan=plan)
    if not form.is_valid():
        if not services.can_edit(request.user, plan):
            return _refused(request, plan, PlanError(_("Kế hoạch này không sửa được."), status=403))
        messages.error(request, _("Hãy sửa các ô được đánh dấu."))
        return render(
            request,
            "outreach/plan_detail.html",
            _detail_context(request, plan, add_form=form),
            status=400,
        )
    d = form.cleaned_data
    try:
        services.plan_item_add(
            actor=request.user,
            plan=plan,
            unit_code=d["unit"],
            channel=d["channel"],
            group=d["group"],
            schemes=d["schemes"],
            **_item_fields(d),
        )
    except PlanError as exc:
        return _refused(request, plan, exc, add_form=form)
    messages.success(request, _("Đã thêm hoạt động."))
    return redirect("plan_detail", plan_id=plan.pk)


@login_required
def plan_item_edit(request: HttpRequest, plan_id: int, item_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    item = selectors.plan_item_get(plan=plan, item_id=item_id)
    if item is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = ItemEditForm(request.POST, plan=plan)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.plan_item_update(
                    actor=request.user,
                    item=item,
                    **_item_fields(d),
                )
            except PlanError as exc:
                if exc.status == 404:
                    raise Http404 from None
                form.add_error(None, str(exc))
                status = exc.status
            else:
                messages.success(request, _("Đã lưu hoạt động."))
                return redirect(f"/plans/{plan.pk}/?unit={item.unit_id}#u-{item.unit_id}")
        else:
            status = 400
    else:
        form = ItemEditForm(
            plan=plan,
            initial={
                "month": item.month,
                "lead_org": item.lead_org,
                "coordinating_orgs": item.coordinating_orgs,
                "sessions": item.sessions,
                "note": item.note,
            },
        )
    return render(
        request,
        "outreach/plan_item.html",
        {
            "plan": plan,
            "item": item,
            "form": form,
            "can_edit": services.can_edit(request.user, plan),
        },
        status=status,
    )


@login_required
@require_POST
def plan_item_delete(request: HttpRequest, plan_id: int, item_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    item = selectors.plan_item_get(plan=plan, item_id=item_id)
    if item is None:
        raise Http404
    try:
        services.plan_item_remove(actor=request.user, item=item)
    except PlanError as exc:
        return _refused(request, plan, exc)
    messages.success(request, _("Đã xóa hoạt động."))
    return redirect("plan_detail", plan_id=plan.pk)


@login_required
@require_POST
def plan_action(request: HttpRequest, plan_id: int, action: str) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    comment = request.POST.get("comment", "")
    try:
        if action == "submit":
            services.plan_submit(actor=request.user, plan=plan)
            messages.success(request, _("Đã trình kế hoạch để BHXH tỉnh duyệt."))
        elif action == "approve":
            services.plan_approve(
                actor=request.user,
                plan=plan,
                comment=comment,
                confirm_warnings=request.POST.get("confirm_warnings") == "1",
            )
            messages.success(request, _("Đã duyệt kế hoạch."))
        elif action == "return":
            services.plan_return(actor=request.user, plan=plan, comment=comment)
            messages.success(request, _("Đã trả lại kế hoạch để chỉnh sửa."))
        elif action == "new-version":
            new = services.plan_new_version(actor=request.user, plan=plan)
            messages.success(
                request, _("Đã tạo phiên bản %(v)s (dự thảo) để điều chỉnh.") % {"v": new.version}
            )
            return redirect("plan_detail", plan_id=new.pk)
        else:
            raise Http404
    except PlanError as exc:
        return _refused(request, plan, exc)
    return redirect("plan_detail", plan_id=plan.pk)


@login_required
def plan_calendar(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    return render(
        request,
        "outreach/plan_calendar.html",
        {"plan": plan, "cal": selectors.plan_calendar(plan=plan)},
    )


@login_required
def plan_export(request: HttpRequest, plan_id: int, fmt: str) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    data = selectors.plan_as_dict(plan=plan)
    s = selectors.plan_summary(plan=plan)
    meta = exports.PlanMeta.from_draft(
        unit=plan.unit,
        data=data,
        version=plan.version,
        status=plan.status,
        day=(plan.decided_at or plan.created_at).date(),
        warnings=s["warnings"],
        number=number_of(ref_type="plan", ref_id=str(plan.pk))
        if plan.status == Plan.Status.APPROVED
        else None,
    )
    name = f"ke-hoach-{plan.unit_id}-{plan.year}-v{plan.version}.{fmt}"
    if fmt == "xlsx":
        content = exports.plan_xlsx(data, meta=meta)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "docx":
        content = exports.plan_docx(data, meta=meta)
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        raise Http404
    resp = HttpResponse(content, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not may(request.user, "see_plans"):
        raise Http404
    can_create = _can_create(request.user)
    units = selectors.plan_unit_choices(actor=request.user)
    form = CampaignForm(units=units)
    status = 200
    if request.method == "POST":
        if not can_create:
            raise Http404
        form = CampaignForm(request.POST, units=units)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.campaign_create(
                    actor=request.user,
                    code=d["code"],
                    name=d["name"],
                    start=d["start"],
                    end=d["end"],
                    lead_org=d["lead_org"],
                    budget=d["budget"],
                    unit_codes=d["units"],
                )
            except PlanError as exc:
                form.add_error(None, str(exc))
                status = 400
            else:
                messages.success(request, _("Đã tạo chiến dịch %(c)s.") % {"c": d["code"]})
                return redirect("campaign_list")
        else:
            status = 400
    return render(
        request,
        "outreach/campaign_list.html",
        {
            "campaigns": selectors.campaign_list(actor=request.user),
            "form": form,
            "can_create": can_create,
        },
        status=status,
    )
