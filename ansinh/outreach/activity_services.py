"""Writes of activities and attendees: keyword-only, atomic, audited (DESIGN.md rules 1–2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ansinh.core.codes import CHANNEL_CODES, GROUP_CODES, ORG_CODES
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.outreach.activity_selectors import actor_units, can_add_attendee, can_write
from ansinh.outreach.models import Activity, Attendee, Campaign, PlanItem

_COUNT_FIELDS = ("planned_reach", "reach", "leads", "registrations", "vssid_installs", "cost")


def _new_code(*, unit: Unit, date: dt.date) -> str:
    stem = f"{unit.code}-{date:%Y%m%d}-"
    taken = set(Activity.objects.filter(code__startswith=stem).values_list("code", flat=True))
    n = 1
    while f"{stem}{n:02d}" in taken:
        n += 1
    return f"{stem}{n:02d}"


def _snapshot(activity: Activity) -> dict[str, Any]:
    return {
        "unit": activity.unit_id,
        "channel": activity.channel,
        "date": activity.date.isoformat(),
        "lead_org": activity.lead_org,
        "group": activity.group,
        "coordinating_orgs": list(activity.coordinating_orgs or []),
        "campaign": activity.campaign_id,
        "plan_item": activity.plan_item_id,
        **{f: getattr(activity, f) for f in _COUNT_FIELDS},
    }


def activity_create(
    *,
    actor: Any,
    unit: Unit,
    channel: str,
    date: dt.date,
    lead_org: str,
    group: str = "",
    coordinating_orgs: Sequence[str] = (),
    planned_reach: int | None = None,
    reach: int | None = None,
    leads: int | None = None,
    registrations: int | None = None,
    vssid_installs: int | None = None,
    cost: int | None = None,
    note: str = "",
    campaign: Campaign | None = None,
    plan_item: PlanItem | None = None,
    code: str | None = None,
) -> Activity:
    """Record an activity held. The unit must be within the actor's scope; a partner records
    activities its organisation leads, or ones where it coordinates. Raises ValidationError
    (nothing written) on any refused field."""
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not can_write(actor) and actor is not None:
        raise ValidationError(_("Bạn không có quyền ghi nhận hoạt động."))
    if not actor_units(actor).filter(code=unit.code).exists():
        bad("unit", _("Đơn vị ngoài phạm vi của bạn."))
    if channel not in CHANNEL_CODES:
        bad("channel", _("Hình thức không hợp lệ."))
    if lead_org not in ORG_CODES:
        bad("lead_org", _("Đơn vị chủ trì không hợp lệ."))
    if group and group not in GROUP_CODES:
        bad("group", _("Nhóm đối tượng không hợp lệ."))
    coordinating = [c for c in dict.fromkeys(coordinating_orgs) if c]
    if any(c not in ORG_CODES for c in coordinating):
        bad("coordinating_orgs", _("Đơn vị phối hợp không hợp lệ."))
    coordinating = [c for c in coordinating if c != lead_org]
    if getattr(actor, "role", None) == "partner":
        org = getattr(actor, "org", "")
        if lead_org != org and org not in coordinating:
            bad(
                "lead_org",
                _("Tổ chức của bạn phải chủ trì hoặc phối hợp hoạt động này."),
            )
    counts = {
        "planned_reach": planned_reach,
        "reach": reach,
        "leads": leads,
        "registrations": registrations,
        "vssid_installs": vssid_installs,
        "cost": cost,
    }
    for f, value in counts.items():
        if value is not None and value < 0:
            bad(f, _("Không được âm."))
    if plan_item is not None and not actor_units(actor).filter(code=plan_item.unit_id).exists():
        bad("plan_item", _("Mục kế hoạch ngoài phạm vi của bạn."))
    if code and Activity.objects.filter(code=code).exists():
        bad("code", _("Mã hoạt động đã có."))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        activity = Activity.objects.create(
            code=code or _new_code(unit=unit, date=date),
            unit=unit,
            channel=channel,
            date=date,
            lead_org=lead_org,
            group=group,
            coordinating_orgs=coordinating,
            planned_reach=planned_reach,
            reach=reach,
            leads=leads,
            registrations=registrations,
            vssid_installs=vssid_installs,
            cost=cost,
            note=note,
            campaign=campaign,
            plan_item=plan_item,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="activity.create",
            object_type="activity",
            object_id=activity.code,
            after=_snapshot(activity),
        )
    return activity


def attendee_add(
    *, actor: Any, activity: Activity, person_id: str, full_name: str = "", phone: str = ""
) -> Attendee:
    """Add an attendee (a known person or a prospect) to an activity the actor may manage."""
    person_id = person_id.strip()
    if actor is not None and not can_add_attendee(actor=actor, activity=activity):
        raise ValidationError(_("Bạn không có quyền thêm người dự hoạt động này."))
    if not person_id:
        raise ValidationError({"person_id": [_("Cần mã số người tham gia.")]})
    if Attendee.objects.filter(activity=activity, person_id=person_id).exists():
        raise ValidationError({"person_id": [_("Người này đã có trong danh sách.")]})
    with transaction.atomic():
        attendee = Attendee.objects.create(
            activity=activity,
            person_id=person_id[:64],
            full_name=full_name.strip()[:200],
            phone=phone.strip()[:32],
        )
        audit_record(
            actor=actor,
            action="attendee.add",
            object_type="activity",
            object_id=activity.code,
            after={"person_id": attendee.person_id},
        )
    return attendee


def attendees_view(*, actor: Any, activity: Activity, unmask: bool, ip: str | None = None) -> None:
    """Record that the actor looked at the attendee list of an activity, masked
    (``attendee.view``) or in full (``attendee.unmask``): every view of person data is
    audited (SPEC 4)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="attendee.unmask" if unmask else "attendee.view",
            object_type="activity",
            object_id=activity.code,
            ip=ip,
        )
