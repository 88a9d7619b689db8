"""Pages of activities, attendees and the conversion funnel. Thin: forms, then selectors
and services; a record outside the user's scope answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ansinh.accounts.selectors import actor_root_unit
from ansinh.core import codes
from ansinh.core.http import client_ip
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_root, units_in_force
from ansinh.outreach import activity_selectors as sel
from ansinh.outreach.activity_services import activity_create, attendee_add, attendees_view
from ansinh.outreach.funnel import funnel_breakdowns
from ansinh.outreach.models import Campaign

PAGE_SIZE = 50


def _parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _unit_param(request: HttpRequest, actor: Any) -> Unit | None:
    """The unit named by ``?unit=`` if visible to the actor (404 when not)."""
    code = (request.GET.get("unit") or "").strip()
    if not code:
        return None
    unit = sel.actor_units(actor).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def _home_unit(actor: Any) -> Unit:
    unit = actor_root_unit(actor) or unit_root()
    if unit is None:
        raise Http404
    return unit


def _choices(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, codes.label(mapping, k)) for k in mapping]


# ---------------------------------------------------------------- forms


class ActivityForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Xã, phường"))
    date = forms.DateField(
        label=gettext_lazy("Ngày"), widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(label=gettext_lazy("Hình thức"))
    lead_org = forms.ChoiceField(label=gettext_lazy("Đơn vị chủ trì"))
    group = forms.ChoiceField(label=gettext_lazy("Nhóm đối tượng"), required=False)
    coordinating_orgs = forms.MultipleChoiceField(
        label=gettext_lazy("Đơn vị phối hợp"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    planned_reach = forms.IntegerField(
        label=gettext_lazy("Số người dự kiến"), min_value=0, required=False
    )
    reach = forms.IntegerField(label=gettext_lazy("Số người tiếp cận"), min_value=0, required=False)
    leads = forms.IntegerField(label=gettext_lazy("Số người quan tâm"), min_value=0, required=False)
    registrations = forms.IntegerField(
        label=gettext_lazy("Số người đăng ký"), min_value=0, required=False
    )
    vssid_installs = forms.IntegerField(
        label=gettext_lazy("Số lượt cài VssID"), min_value=0, required=False
    )
    cost = forms.IntegerField(label=gettext_lazy("Kinh phí (đồng)"), min_value=0, required=False)
    campaign = forms.ChoiceField(label=gettext_lazy("Đợt cao điểm"), required=False)
    plan_item = forms.IntegerField(
        label=gettext_lazy("Mục kế hoạch (số)"), min_value=1, required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_duplicate = forms.BooleanField(
        label=gettext_lazy("Tôi đã kiểm tra, vẫn ghi nhận hoạt động này"), required=False
    )

    def _choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        units = list(units_in_force(sel.actor_units(actor)).order_by("path"))
        self._choice_field("unit").choices = [(u.code, f"{u.code} — {u.name}") for u in units]
        communes = [u.code for u in units if u.level == "commune"]
        if communes:
            self.fields["unit"].initial = communes[0]
        for name, field in self.fields.items():
            if name not in {"coordinating_orgs", "confirm_duplicate"}:
                field.widget.attrs.setdefault("style", "width:100%")
        self._choice_field("channel").choices = _choices(codes.CHANNELS)
        orgs = _choices(codes.ORGS)
        self._choice_field("lead_org").choices = orgs
        self._choice_field("coordinating_orgs").choices = orgs
        self._choice_field("group").choices = [("", "—"), *_choices(codes.GROUPS)]
        self._choice_field("campaign").choices = [("", "—")] + [
            (c.code, f"{c.code} — {c.name}") for c in sel.campaign_choices()
        ]
        if getattr(actor, "role", None) == "partner":
            self.fields["lead_org"].initial = actor.org
            self.fields["lead_org"].help_text = _(
                "Tổ chức của bạn chủ trì, hoặc chọn đơn vị chủ trì khác và đánh dấu tổ chức "
                "của bạn trong phần phối hợp."
            )
        elif getattr(actor, "role", None) == "office":
            self.fields["lead_org"].initial = "si_office"
        self.fields["date"].initial = dt.date.today()


class AttendeeForm(forms.Form):
    person_id = forms.CharField(label=gettext_lazy("Mã số BHXH / CCCD"), max_length=64)
    full_name = forms.CharField(label=gettext_lazy("Họ và tên"), max_length=200, required=False)
    phone = forms.CharField(label=gettext_lazy("Điện thoại"), max_length=32, required=False)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            for msg in errs:
                form.add_error(field if field in form.fields else None, msg)
    else:
        for msg in exc.messages:
            form.add_error(None, msg)


# ---------------------------------------------------------------- pages


@login_required
def activity_list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    unit = _unit_param(request, actor)
    date_from = _parse_date(request.GET.get("from"))
    date_to = _parse_date(request.GET.get("to"))
    channel = request.GET.get("channel", "")
    if channel not in codes.CHANNELS:
        channel = ""
    qs = sel.activity_list(
        actor=actor, date_from=date_from, date_to=date_to, channel=channel, unit=unit
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page.object_list:
        a.cells = sel.activity_cells(actor=actor, activity=a)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "outreach/activity_list.html",
        {
            "page": page,
            "activities": page.object_list,
            "channels": _choices(codes.CHANNELS),
            "f": {
                "from": date_from.isoformat() if date_from else "",
                "to": date_to.isoformat() if date_to else "",
                "channel": channel,
                "unit": unit.code if unit else "",
            },
            "query": query.urlencode(),
            "can_write": sel.can_write(actor),
        },
    )


@login_required
def activity_new_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not sel.can_write(actor):
        raise Http404
    form = ActivityForm(request.POST or None, actor=actor)
    duplicates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        unit = sel.actor_units(actor).get(code=cd["unit"])
        duplicates = list(
            sel.activity_duplicates(
                unit=unit,
                group=cd["group"] or "",
                channel=cd["channel"],
                date=cd["date"],
                lead_org=cd["lead_org"],
            )
        )
        if not duplicates or cd["confirm_duplicate"]:
            plan_item = None
            if cd["plan_item"]:
                plan_item = sel.plan_item_visible(actor=actor, item_id=cd["plan_item"])
                if plan_item is None:
                    form.add_error("plan_item", _("Không có mục kế hoạch này."))
            campaign = (
                Campaign.objects.filter(code=cd["campaign"]).first() if cd["campaign"] else None
            )
            if not form.errors:
                try:
                    activity = activity_create(
                        actor=actor,
                        unit=unit,
                        channel=cd["channel"],
                        date=cd["date"],
                        lead_org=cd["lead_org"],
                        group=cd["group"] or "",
                        coordinating_orgs=cd["coordinating_orgs"],
                        planned_reach=cd["planned_reach"],
                        reach=cd["reach"],
                        leads=cd["leads"],
                        registrations=cd["registrations"],
                        vssid_installs=cd["vssid_installs"],
                        cost=cd["cost"],
                        note=cd["note"],
                        campaign=campaign,
                        plan_item=plan_item,
                    )
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    messages.success(
                        request, _("Đã ghi nhận hoạt động %(code)s.") % {"code": activity.code}
                    )
                    return redirect("activity_detail", code=activity.code)
            duplicates = []
    return render(
        request,
        "outreach/activity_form.html",
        {"form": form, "duplicates": duplicates},
    )


@login_required
def activity_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    see = sel.can_see_attendees(actor=actor, activity=activity)
    unmask = see and request.GET.get("unmask") == "1" and sel.can_unmask(actor)
    attendees = sel.activity_attendees(actor=actor, activity=activity, unmask=unmask)
    if attendees:
        attendees_view(actor=actor, activity=activity, unmask=unmask, ip=client_ip(request))
    can_add = sel.can_add_attendee(actor=actor, activity=activity)
    return render(
        request,
        "outreach/activity_detail.html",
        {
            "a": activity,
            "cells": sel.activity_cells(actor=actor, activity=activity),
            "see_attendees": see,
            "attendees": attendees,
            "unmasked": unmask,
            "can_unmask": see and sel.can_unmask(actor),
            "show_conversions": sel.can_unmask(actor),
            "can_add": can_add,
            "form": AttendeeForm() if can_add else None,
        },
    )


@login_required
@require_POST
def attendee_add_view(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    if not sel.can_add_attendee(actor=actor, activity=activity):
        raise Http404
    form = AttendeeForm(request.POST)
    if form.is_valid():
        try:
            attendee_add(actor=actor, activity=activity, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Đã thêm người dự."))
            return redirect("activity_detail", code=activity.code)
    attendees = sel.activity_attendees(actor=actor, activity=activity)
    if attendees:
        attendees_view(actor=actor, activity=activity, unmask=False, ip=client_ip(request))
    return render(
        request,
        "outreach/activity_detail.html",
        {
            "a": activity,
            "cells": sel.activity_cells(actor=actor, activity=activity),
            "see_attendees": True,
            "attendees": attendees,
            "unmasked": False,
            "can_unmask": sel.can_unmask(actor),
            "show_conversions": sel.can_unmask(actor),
            "can_add": True,
            "form": form,
        },
        status=400,
    )


@login_required
def funnel_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    unit = _unit_param(request, actor) or _home_unit(actor)
    date_to = _parse_date(request.GET.get("to"))
    if date_to is None:
        latest = sel.scoped_activities(actor).aggregate(m=Max("date"))["m"]
        date_to = latest or dt.date.today()
    date_from = _parse_date(request.GET.get("from")) or date_to.replace(month=1, day=1)
    error = ""
    if date_from > date_to:
        error = _("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
        date_from, date_to = date_to, date_from
    data = funnel_breakdowns(unit=unit, date_from=date_from, date_to=date_to, actor=actor)
    sections = [
        {"by": by, "title": title, "rows": data[by]["rows"]}
        for by, title in (
            ("channel", _("Theo hình thức")),
            ("org", _("Theo đơn vị chủ trì")),
            ("group", _("Theo nhóm đối tượng")),
        )
    ]
    plan_rows = data["plan_vs_done"]
    total = data["total"]
    units = units_in_force(sel.actor_units(actor)).order_by("path")
    return render(
        request,
        "outreach/funnel.html",
        {
            "unit": unit,
            "units": units,
            "date_from": date_from,
            "date_to": date_to,
            "sections": sections,
            "plan_rows": plan_rows,
            "total": total,
            "error": error,
        },
    )
