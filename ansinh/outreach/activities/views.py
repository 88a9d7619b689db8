"""Pages of activities, attendees and the conversion funnel. Thin: forms, then selectors
and services; a record outside the user's scope answers 404."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ansinh.accounts.access import Actor, actor_org, actor_root_unit, mask_name, may, org_scoped
from ansinh.core import codes
from ansinh.core.formats import fmt_int
from ansinh.core.http import client_ip
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_root, units_in_force
from ansinh.outreach.activities import selectors as sel
from ansinh.outreach.activities.services import (
    ActivityInput,
    AttendeeInput,
    SyncDeleted,
    activity_create,
    activity_delete,
    activity_sync,
    activity_update,
    attendee_add,
    attendee_delete,
    attendee_problems,
    attendee_update,
    attendees_add_many,
    attendees_view,
)
from ansinh.outreach.funnel import funnel_breakdowns
from ansinh.outreach.identity import normalize_phone, parse_card_qr
from ansinh.outreach.models import Campaign

PAGE_SIZE = 50
BULK_MAX_BYTES = 2 * 1024 * 1024
BULK_COLUMNS = ("person_id", "full_name", "phone", "birth_date", "sex", "consent")
_SEX_WORDS = {"nam": "male", "male": "male", "nữ": "female", "nu": "female", "female": "female"}
_YES = {"1", "x", "có", "co", "yes", "y", "true", "đồng ý", "dong y"}


def _parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _unit_param(request: HttpRequest, actor: Actor) -> Unit | None:
    """The unit named by ``?unit=`` if visible to the actor (404 when not)."""
    code = (request.GET.get("unit") or "").strip()
    if not code:
        return None
    unit = sel.actor_units(actor).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def _home_unit(actor: Actor) -> Unit:
    unit = actor_root_unit(actor) or unit_root()
    if unit is None:
        raise Http404
    return unit


def _choices(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, codes.label(mapping, k)) for k in mapping]


# ---------------------------------------------------------------- forms


class PlanItemSelect(forms.Select):
    """Options carry the item's commune, channel, group, lead and planned reach, so that
    picking one fills the form (static/ansinh/field.js)."""

    items: dict[str, Any]

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        item = getattr(self, "items", {}).get(str(value))
        if item is not None:
            option["attrs"].update(
                {
                    "data-unit": item.unit_id,
                    "data-channel": item.channel,
                    "data-group": item.group,
                    "data-lead": item.lead_org,
                    "data-reach": item.planned_reach,
                    "data-month": item.month,
                }
            )
        return option


def _plan_item_label(item: Any) -> str:
    year, month = item.month.split("-")
    label = (
        f"{item.unit.name} · {month}/{year} · {codes.label(codes.CHANNELS, item.channel)}"
        f" · {codes.label(codes.GROUPS, item.group)}"
    )
    if item.plan.status != "approved":
        label += " (" + _("kế hoạch chưa duyệt") + ")"
    return label


class ActivityForm(forms.Form):
    field_order = ["plan_item", "unit", "date", "channel", "lead_org", "group"]
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
    plan_item = forms.ChoiceField(
        label=gettext_lazy("Theo mục kế hoạch (xã · tháng · hình thức)"),
        required=False,
        widget=PlanItemSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    confirm_duplicate = forms.BooleanField(
        label=gettext_lazy("Tôi đã kiểm tra, vẫn ghi nhận hoạt động này"), required=False
    )

    def _choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
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
        if org_scoped(actor):
            self.fields["lead_org"].initial = actor_org(actor)
            self.fields["lead_org"].help_text = _(
                "Tổ chức của bạn chủ trì, hoặc chọn đơn vị chủ trì khác và đánh dấu tổ chức "
                "của bạn trong phần phối hợp."
            )
        elif not may(actor, "see_all_units"):  # an office's own activities
            self.fields["lead_org"].initial = "si_office"
        self.fields["date"].initial = dt.date.today()
        items = sel.plan_item_choices(actor=actor)
        widget = cast(PlanItemSelect, self.fields["plan_item"].widget)
        widget.items = {str(i.pk): i for i in items}
        self._choice_field("plan_item").choices = [("", "—")] + [
            (str(i.pk), _plan_item_label(i)) for i in items
        ]
        self.fields["plan_item"].help_text = _(
            "Chọn mục kế hoạch thì xã, hình thức, nhóm và số người dự kiến được điền sẵn."
        )

    def initial_from_plan_item(self, item: Any) -> None:
        self.initial.update(
            {
                "plan_item": str(item.pk),
                "unit": item.unit_id,
                "channel": item.channel,
                "group": item.group,
                "lead_org": item.lead_org,
                "planned_reach": item.planned_reach,
                "coordinating_orgs": list(item.coordinating_orgs or []),
            }
        )

    def initial_from_activity(self, a: Any) -> None:
        self.initial.update(
            {
                "unit": a.unit_id,
                "date": a.date,
                "channel": a.channel,
                "lead_org": a.lead_org,
                "group": a.group,
                "coordinating_orgs": list(a.coordinating_orgs or []),
                "planned_reach": a.planned_reach,
                "reach": a.reach,
                "leads": a.leads,
                "registrations": a.registrations,
                "vssid_installs": a.vssid_installs,
                "cost": a.cost,
                "campaign": a.campaign_id or "",
                "plan_item": str(a.plan_item_id or ""),
                "note": a.note,
            }
        )


class AttendeeForm(forms.Form):
    person_id = forms.CharField(
        label=gettext_lazy("Số định danh (CCCD) hoặc mã số BHXH"),
        max_length=64,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Cần mã số người tham gia.")},
    )
    full_name = forms.CharField(
        label=gettext_lazy("Họ và tên"),
        max_length=200,
        error_messages={"required": gettext_lazy("Cần họ và tên.")},
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Ngày sinh"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sex = forms.ChoiceField(
        label=gettext_lazy("Giới tính"),
        required=False,
        choices=[("", "—"), ("male", gettext_lazy("Nam")), ("female", gettext_lazy("Nữ"))],
    )
    phone = forms.CharField(
        label=gettext_lazy("Số di động"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    address = forms.CharField(label=gettext_lazy("Địa chỉ"), max_length=300, required=False)
    consent = forms.BooleanField(
        label=gettext_lazy(
            "Người này đồng ý để cơ quan BHXH liên hệ tư vấn về BHXH, BHYT "
            "(Luật Bảo vệ dữ liệu cá nhân 2025)"
        ),
        required=False,
    )
    source = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in {"consent", "source"}:
                field.widget.attrs.setdefault("style", "width:100%")

    def to_input(self) -> AttendeeInput:
        cd = self.cleaned_data
        return AttendeeInput(
            person_id=(cd.get("person_id") or "").strip(),
            full_name=cd.get("full_name") or "",
            phone=normalize_phone(cd.get("phone") or ""),
            birth_date=cd.get("birth_date"),
            sex=cd.get("sex") or "",
            address=cd.get("address") or "",
            consent=bool(cd.get("consent")),
            source=cd.get("source") or "typed",
        )

    def clean(self) -> dict[str, Any]:
        """Every refusal at once (the service checks the same again)."""
        cd = super().clean() or {}
        for field, msgs in attendee_problems(self.to_input()).items():
            if field in self.fields and field not in self.errors:
                for m in msgs:
                    self.add_error(field, m)
        return cd


class BulkForm(forms.Form):
    rows = forms.CharField(
        label=gettext_lazy("Dán danh sách"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "style": "width:100%"}),
    )
    file = forms.FileField(label=gettext_lazy("Hoặc chọn tệp CSV"), required=False)

    def clean_file(self) -> Any:
        f = self.cleaned_data.get("file")
        if f is not None and f.size > BULK_MAX_BYTES:
            raise ValidationError(_("Tệp quá lớn (tối đa 2 MB)."))
        return f


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


def _save_activity(
    request: HttpRequest, form: ActivityForm, activity: Any = None
) -> tuple[HttpResponse | None, list[Any]]:
    """Create (or, given ``activity``, update) from a bound form; a redirect when saved,
    else the likely duplicates to show with the form."""
    actor = request.user
    if not form.is_valid():
        return None, []
    cd = form.cleaned_data
    unit = sel.actor_units(actor).get(code=cd["unit"])
    duplicates = list(
        sel.activity_duplicates(
            unit=unit,
            group=cd["group"] or "",
            channel=cd["channel"],
            date=cd["date"],
            lead_org=cd["lead_org"],
            exclude_code=activity.code if activity is not None else None,
        )
    )
    if duplicates and not cd["confirm_duplicate"]:
        return None, duplicates
    plan_item = None
    if cd["plan_item"]:
        plan_item = sel.plan_item_visible(actor=actor, item_id=int(cd["plan_item"]))
        if plan_item is None:
            form.add_error("plan_item", _("Không có mục kế hoạch này."))
            return None, []
    campaign = Campaign.objects.filter(code=cd["campaign"]).first() if cd["campaign"] else None
    fields = {
        "unit": unit,
        "channel": cd["channel"],
        "date": cd["date"],
        "lead_org": cd["lead_org"],
        "group": cd["group"] or "",
        "coordinating_orgs": cd["coordinating_orgs"],
        "planned_reach": cd["planned_reach"],
        "reach": cd["reach"],
        "leads": cd["leads"],
        "registrations": cd["registrations"],
        "vssid_installs": cd["vssid_installs"],
        "cost": cd["cost"],
        "note": cd["note"],
        "campaign": campaign,
        "plan_item": plan_item,
    }
    try:
        if activity is None:
            saved = activity_create(actor=actor, data=ActivityInput(**fields))
            done = _("Đã ghi nhận hoạt động %(code)s.")
        else:
            saved = activity_update(actor=actor, activity=activity, data=ActivityInput(**fields))
            done = _("Đã lưu hoạt động %(code)s.")
    except ValidationError as exc:
        _add_errors(form, exc)
        return None, []
    messages.success(request, done % {"code": saved.code})
    return redirect("activity_detail", code=saved.code), []


@login_required
def activity_new_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not sel.can_write(actor):
        raise Http404
    form = ActivityForm(request.POST or None, actor=actor)
    item_id = (request.GET.get("plan_item") or "").strip()
    if request.method != "POST" and item_id.isdigit():
        item = sel.plan_item_visible(actor=actor, item_id=int(item_id))
        if item is None:
            raise Http404
        form.initial_from_plan_item(item)
    duplicates: list[Any] = []
    if request.method == "POST":
        done, duplicates = _save_activity(request, form)
        if done is not None:
            return done
    return render(
        request,
        "outreach/activity_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "activity": None,
            "link_duplicates": not org_scoped(request.user),
        },
    )


def _editable_activity(request: HttpRequest, code: str) -> Any:
    activity = sel.activity_get(actor=request.user, code=code)
    if not sel.can_edit_activity(actor=request.user, activity=activity):
        raise Http404
    return activity


@login_required
def activity_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    activity = _editable_activity(request, code)
    form = ActivityForm(request.POST or None, actor=request.user)
    form.initial_from_activity(activity)
    duplicates: list[Any] = []
    if request.method == "POST":
        done, duplicates = _save_activity(request, form, activity)
        if done is not None:
            return done
    return render(
        request,
        "outreach/activity_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "activity": activity,
            "link_duplicates": not org_scoped(request.user),
        },
    )


@login_required
def activity_delete_view(request: HttpRequest, code: str) -> HttpResponse:
    activity = _editable_activity(request, code)
    if request.method == "POST":
        try:
            activity_delete(actor=request.user, activity=activity)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("activity_list")
        messages.success(request, _("Đã xóa hoạt động %(code)s.") % {"code": activity.code})
        return redirect("activity_list")
    return render(
        request,
        "outreach/confirm_delete.html",
        {
            "a": activity,
            "what": _("hoạt động %(code)s và danh sách người dự của nó") % {"code": activity.code},
            "back": reverse("activity_detail", args=[activity.code]),
        },
    )


def _detail(
    request: HttpRequest,
    activity: Any,
    *,
    form: AttendeeForm | None = None,
    bulk: BulkForm | None = None,
    bulk_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.user
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
            "can_edit": sel.can_edit_activity(actor=actor, activity=activity),
            "form": (form or AttendeeForm()) if can_add else None,
            "bulk": (bulk or BulkForm()) if can_add else None,
            "bulk_errors": bulk_errors or [],
            "bulk_columns": ", ".join(BULK_COLUMNS),
        },
        status=status,
    )


@login_required
def activity_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    return _detail(request, sel.activity_get(actor=request.user, code=code))


def _checked_in_message(data: AttendeeInput) -> str:
    return _("Đã điểm danh %(name)s (%(id)s).") % {"name": data.full_name, "id": data.person_id}


@login_required
@require_POST
def attendee_add_view(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    if not sel.can_add_attendee(actor=actor, activity=activity):
        raise Http404
    form = AttendeeForm(request.POST)
    if form.is_valid():
        data = form.to_input()
        try:
            attendee_add(actor=actor, activity=activity, data=data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _checked_in_message(data))
            return redirect(reverse("activity_detail", args=[activity.code]) + "#attendee-form")
    return _detail(request, activity, form=form, status=400)


@login_required
def attendee_edit_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    attendee = sel.attendee_get(actor=actor, activity=activity, pk=pk)
    initial = {
        "person_id": attendee.person_id,
        "full_name": attendee.full_name,
        "birth_date": attendee.birth_date,
        "sex": attendee.sex,
        "phone": attendee.phone,
        "address": attendee.address,
        "consent": attendee.consent == "yes",
    }
    form = AttendeeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            attendee_update(actor=actor, activity=activity, attendee=attendee, data=form.to_input())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu người dự."))
            return redirect("activity_detail", code=activity.code)
    # the form shows the person in full to whoever may correct them: audited
    attendees_view(actor=actor, activity=activity, unmask=True, ip=client_ip(request))
    return render(
        request,
        "outreach/attendee_form.html",
        {"a": activity, "form": form, "attendee": attendee},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def attendee_delete_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    attendee = sel.attendee_get(actor=actor, activity=activity, pk=pk)
    if request.method == "POST":
        try:
            attendee_delete(actor=actor, activity=activity, attendee=attendee)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Đã xóa người dự khỏi danh sách."))
        return redirect("activity_detail", code=activity.code)
    return render(
        request,
        "outreach/confirm_delete.html",
        {
            "a": activity,
            "what": _("người dự %(name)s") % {"name": mask_name(attendee.full_name)},
            "back": reverse("activity_detail", args=[activity.code]),
        },
    )


def _parse_bulk(text: str) -> tuple[list[tuple[int, AttendeeInput]], list[str]]:
    """Lines of a pasted sign-in sheet: the QR text of an ID card (a scanner gun types it),
    or columns person_id, full_name, phone, birth_date, sex, consent separated by a tab,
    a semicolon or a comma (a header line naming the columns is allowed)."""
    rows: list[tuple[int, AttendeeInput]] = []
    problems: list[str] = []
    columns = list(BULK_COLUMNS)
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        card = parse_card_qr(line) if "|" in line else None
        if card is not None:
            rows.append(
                (
                    n,
                    AttendeeInput(
                        person_id=card.person_id,
                        full_name=card.full_name,
                        birth_date=card.birth_date,
                        sex=card.sex,
                        address=card.address,
                        source="paste",
                    ),
                )
            )
            continue
        sep = "\t" if "\t" in line else ";" if ";" in line else ","
        cells = [c.strip() for c in next(csv.reader([line], delimiter=sep))]
        if not rows and not problems and cells and cells[0].lower() in BULK_COLUMNS:
            unknown = [c for c in cells if c.lower() not in BULK_COLUMNS]
            if unknown:
                problems.append(
                    _("Dòng %(line)s: cột không biết: %(cols)s.")
                    % {"line": n, "cols": ", ".join(unknown)}
                )
            columns = [c.lower() for c in cells]
            continue
        if len(cells) > len(columns):
            problems.append(
                _("Dòng %(line)s: có %(n)s cột, nhiều hơn %(m)s cột của danh sách.")
                % {"line": n, "n": len(cells), "m": len(columns)}
            )
            continue
        v = dict(zip(columns, cells, strict=False))
        birth = None
        if v.get("birth_date"):
            birth = _parse_birth(v["birth_date"])
            if birth is None:
                problems.append(
                    _("Dòng %(line)s, cột birth_date: ngày không hợp lệ (dd/mm/yyyy).")
                    % {"line": n}
                )
                continue
        sex_text = (v.get("sex") or "").lower()
        sex = _SEX_WORDS.get(sex_text, sex_text)
        rows.append(
            (
                n,
                AttendeeInput(
                    person_id=v.get("person_id", ""),
                    full_name=v.get("full_name", ""),
                    phone=v.get("phone", ""),
                    birth_date=birth,
                    sex=sex,
                    consent=(v.get("consent") or "").lower() in _YES,
                    source="paste",
                ),
            )
        )
    return rows, problems


def _parse_birth(text: str) -> dt.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d%m%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


@login_required
@require_POST
def attendee_bulk_view(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.user
    activity = sel.activity_get(actor=actor, code=code)
    if not sel.can_add_attendee(actor=actor, activity=activity):
        raise Http404
    bulk = BulkForm(request.POST, request.FILES)
    errors: list[str] = []
    if bulk.is_valid():
        text = bulk.cleaned_data["rows"] or ""
        upload = bulk.cleaned_data["file"]
        if upload is not None:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                errors.append(_("Tệp không phải văn bản UTF-8 (hãy lưu CSV dạng UTF-8)."))
        if not errors:
            rows, errors = _parse_bulk(text)
            if not errors:
                try:
                    n = attendees_add_many(actor=actor, activity=activity, rows=rows)
                except ValidationError as exc:
                    errors = list(exc.messages)
                else:
                    messages.success(request, _("Đã thêm %(n)s người dự.") % {"n": fmt_int(n)})
                    return redirect("activity_detail", code=activity.code)
    return _detail(request, activity, bulk=bulk, bulk_errors=errors, status=400)


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


# ---------------------------------------------------------------- offline capture


@login_required
def field_view(request: HttpRequest) -> HttpResponse:
    """The capture screen that works with no connection (static/ansinh/offline.js): the
    service worker keeps it, IndexedDB keeps what is captured until it syncs."""
    actor = request.user
    if not sel.can_write(actor):
        raise Http404
    units = list(
        units_in_force(sel.actor_units(actor)).filter(level=Unit.Level.COMMUNE).order_by("name")
    )
    return render(
        request,
        "outreach/field.html",
        {
            "units": units,
            "channels": _choices(codes.CHANNELS),
            "orgs": _choices(codes.ORGS),
            "groups": _choices(codes.GROUPS),
            "lead_default": getattr(actor, "org", "") or "si_office",
            "today": dt.date.today().isoformat(),
        },
    )


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    return int(value)


@login_required
@require_POST
def sync_view(request: HttpRequest) -> HttpResponse:
    """One activity captured offline, with its attendees, as JSON:
    ``{"client_id", "unit", "date", "channel", "lead_org", "group", "reach", …,
    "attendees": [{"client_id", "person_id", "full_name", "phone", "birth_date", "sex",
    "address", "consent", "source"}]}``. Answers ``{"code", "added", "already"}`` (200),
    ``{"error": …, "errors": [...]}`` (400), or 409 when the activity was deleted meanwhile.
    Sending the same again writes nothing new."""
    actor = request.user
    if not sel.can_write(actor):
        raise Http404
    try:
        body = json.loads(request.body.decode("utf-8"))
        client_id = uuid.UUID(str(body["client_id"]))
        unit = sel.actor_units(actor).filter(code=str(body.get("unit", ""))).first()
        date = dt.date.fromisoformat(str(body.get("date", "")))
        counts = {
            f: _int_or_none(body.get(f))
            for f in ("planned_reach", "reach", "leads", "registrations", "vssid_installs", "cost")
        }
        people = [
            AttendeeInput(
                person_id=str(p.get("person_id") or ""),
                full_name=str(p.get("full_name") or ""),
                phone=str(p.get("phone") or ""),
                birth_date=dt.date.fromisoformat(p["birth_date"]) if p.get("birth_date") else None,
                sex=str(p.get("sex") or ""),
                address=str(p.get("address") or ""),
                consent=bool(p.get("consent")),
                source=str(p.get("source") or "sync"),
                client_id=uuid.UUID(str(p["client_id"])) if p.get("client_id") else None,
            )
            for p in body.get("attendees") or []
        ]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return JsonResponse({"error": _("Dữ liệu gửi lên không đọc được.")}, status=400)
    if unit is None:
        return JsonResponse({"error": _("Đơn vị ngoài phạm vi của bạn.")}, status=400)
    fields = {
        "unit": unit,
        "date": date,
        "channel": str(body.get("channel") or ""),
        "lead_org": str(body.get("lead_org") or ""),
        "group": str(body.get("group") or ""),
        "note": str(body.get("note") or ""),
        **counts,
    }
    try:
        result = activity_sync(actor=actor, client_id=client_id, fields=fields, attendees=people)
    except SyncDeleted as exc:
        return JsonResponse(
            {
                "error": _(
                    "Hoạt động %(code)s đã bị xóa trên máy chủ sau khi bạn ghi; danh sách "
                    "này không được đồng bộ. Hãy ghi lại nếu hoạt động vẫn cần."
                )
                % {"code": exc.args[0]}
            },
            status=409,
        )
    except ValidationError as exc:
        return JsonResponse(
            {"error": _("Chưa đồng bộ được, cần sửa:"), "errors": exc.messages}, status=400
        )
    return JsonResponse(
        {"code": result.code, "added": result.added, "already": result.already}, status=200
    )


def service_worker_view(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the root so that it may keep the capture pages."""
    body = (Path(__file__).resolve().parents[2] / "static" / "ansinh" / "sw.js").read_text()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def manifest_view(request: HttpRequest) -> HttpResponse:
    """The web app manifest (installable on a phone), Vietnamese first."""
    data = {
        "name": _("ansinh · Ghi nhận hoạt động tại cơ sở"),
        "short_name": "ansinh",
        "lang": get_language() or "vi",
        "start_url": "/field/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": "/static/ansinh/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/ansinh/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")
