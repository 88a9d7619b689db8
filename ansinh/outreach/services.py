"""Writes of communication plans and campaigns (each atomic and audited).

The workflow of a plan: ``draft`` (or ``returned``) → ``submitted`` → ``approved`` or
``returned``. Only a draft or a returned plan may be edited; an approved plan is locked and
changes go into a new version (``plan_new_version``). Offices, the province and admins edit;
only the province and admins approve or return.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_user, may, unit_visible
from ansinh.core import codes
from ansinh.core.documents import DocumentError, issuer_of, number_issue
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors
from ansinh.outreach.items import PlannedItem
from ansinh.outreach.models import Campaign, Plan, PlanItem
from ansinh.outreach.planning import PlanError, channel_rates, item_figures, plan_compute

EDITABLE = frozenset({Plan.Status.DRAFT, Plan.Status.RETURNED})


def can_edit(actor: Actor, plan: Plan) -> bool:
    return may(actor, "edit_plans") and plan.status in EDITABLE


def can_approve(actor: Actor, plan: Plan) -> bool:
    """An admin or province user other than the one who submitted the plan (four eyes)."""
    return (
        may(actor, "approve_plans")
        and plan.status == Plan.Status.SUBMITTED
        and not _is_submitter(actor, plan)
    )


def _is_submitter(actor: Actor, plan: Plan) -> bool:
    pk = getattr(actor, "pk", None)
    return pk is not None and plan.submitted_by_id == pk


def _require_editor(actor: Actor) -> None:
    if not may(actor, "edit_plans"):
        raise PlanError(_("Vai trò của bạn không được sửa kế hoạch."), status=403)


def _require_editable(actor: Actor, plan: Plan) -> None:
    _require_editor(actor)
    if plan.status not in EDITABLE:
        if plan.status == Plan.Status.APPROVED:
            raise PlanError(
                _(
                    "Kế hoạch đã được duyệt nên không sửa được; hãy tạo phiên bản mới để điều"
                    " chỉnh."
                ),
                status=403,
            )
        raise PlanError(
            _("Kế hoạch đang chờ duyệt nên không sửa được; chờ duyệt hoặc trả lại."), status=403
        )


def _item_snapshot(item: PlanItem) -> dict[str, Any]:
    """An item as the audit log records it: its SPEC section 6 fields, without the note."""
    snapshot = PlannedItem.from_model(item).as_json()
    snapshot.pop("note", None)
    return snapshot


def _overlap_message(*, unit: str, month: str, channel: str, group: str) -> str:
    return _(
        "Đã có hoạt động “%(channel)s” cho nhóm “%(group)s” tại %(unit)s trong tháng %(month)s;"
        " mỗi xã, nhóm đối tượng và hình thức chỉ có một hoạt động một tháng — hãy sửa hoạt"
        " động đó thay vì thêm mới."
    ) % {
        "channel": codes.label(codes.CHANNELS, channel),
        "group": codes.label(codes.GROUPS, group),
        "unit": unit,
        "month": month,
    }


def _check_overlap(*, plan: Plan, unit: str, month: str, channel: str, group: str, pk: Any) -> None:
    clash = PlanItem.objects.filter(
        plan=plan, unit_id=unit, month=month, channel=channel, group=group
    )
    if pk is not None:
        clash = clash.exclude(pk=pk)
    if clash.exists():
        raise PlanError(_overlap_message(unit=unit, month=month, channel=channel, group=group))


def _check_item_fields(
    *,
    plan: Plan,
    month: str,
    lead_org: str,
    coordinating_orgs: list[str],
    sessions: int,
) -> list[str]:
    try:
        y, m = (int(x) for x in month.split("-"))
    except ValueError:
        raise PlanError(_("Tháng không hợp lệ “%(m)s”") % {"m": month}) from None
    if y != plan.year or not 1 <= m <= 12:
        raise PlanError(
            _("Tháng %(m)s không thuộc năm kế hoạch %(y)s") % {"m": month, "y": plan.year}
        )
    if lead_org not in codes.ORGS:
        raise PlanError(_("Đơn vị chủ trì không hợp lệ “%(o)s”") % {"o": lead_org})
    if sessions < 1:
        raise PlanError(_("Số buổi phải từ 1 trở lên"))
    coord = []
    for org in coordinating_orgs:
        if org not in codes.ORGS:
            raise PlanError(_("Đơn vị phối hợp không hợp lệ “%(o)s”") % {"o": org})
        if org != lead_org and org not in coord:
            coord.append(org)
    return coord


def plan_create_draft(*, actor: Actor, unit: Unit, year: int, as_of: dt.date) -> Plan:
    """Draft the plan of ``unit`` for ``year`` from the gaps at ``as_of`` and save it as the
    next version (status draft) with its items."""
    _require_editor(actor)
    if unit_visible(actor=actor, code=unit.code) is None:
        raise PlanError(_("Không có đơn vị mã “%(code)s”") % {"code": unit.code}, status=404)
    items, by_unit, warnings = plan_compute(unit=unit, year=year, as_of=as_of)
    with transaction.atomic():
        last = (
            Plan.objects.select_for_update()
            .filter(unit=unit, year=year)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        plan = Plan.objects.create(
            unit=unit,
            year=year,
            version=(last or 0) + 1,
            as_of=as_of,
            warnings=warnings,
            gaps={r["unit"]: r["gaps"] for r in by_unit},
            created_by=actor_user(actor),
        )
        PlanItem.objects.bulk_create(
            [PlanItem(plan=plan, **it.model_fields()) for it in items],
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="plan.create",
            object_type="plan",
            object_id=str(plan.pk),
            after={
                "unit": unit.code,
                "year": year,
                "version": plan.version,
                "as_of": as_of.isoformat(),
                "items": len(items),
            },
        )
    return plan


def plan_item_add(
    *,
    actor: Actor,
    plan: Plan,
    unit_code: str,
    month: str,
    channel: str,
    group: str,
    schemes: list[str],
    lead_org: str,
    coordinating_orgs: list[str],
    sessions: int,
    note: str = "",
) -> PlanItem:
    """Add an item to an editable plan; expected registrations and cost follow the channel's
    rate and cost."""
    _require_editable(actor, plan)
    unit = Unit.objects.filter(code=unit_code, path__startswith=plan.unit.path).first()
    if unit is None:
        raise PlanError(_("Đơn vị “%(u)s” không thuộc địa bàn của kế hoạch") % {"u": unit_code})
    if channel not in codes.CHANNELS:
        raise PlanError(_("Hình thức không hợp lệ “%(c)s”") % {"c": channel})
    if group not in codes.GROUPS:
        raise PlanError(_("Nhóm đối tượng không hợp lệ “%(g)s”") % {"g": group})
    bad = [s for s in schemes if s not in codes.SCHEMES]
    if bad or not schemes:
        raise PlanError(_("Hãy chọn ít nhất một chế độ hợp lệ"))
    coord = _check_item_fields(
        plan=plan,
        month=month,
        lead_org=lead_org,
        coordinating_orgs=coordinating_orgs,
        sessions=sessions,
    )
    _check_overlap(plan=plan, unit=unit.code, month=month, channel=channel, group=group, pk=None)
    rate = channel_rates(unit=unit, until=plan.as_of)[channel]
    try:
        with transaction.atomic():
            item = PlanItem.objects.create(
                plan=plan,
                unit=unit,
                month=month,
                channel=channel,
                group=group,
                schemes=[s for s in codes.SCHEME_CODES if s in schemes],
                lead_org=lead_org,
                coordinating_orgs=coord,
                sessions=sessions,
                note=note[:300],
                **item_figures(channel=channel, sessions=sessions, rate=rate),
            )
            audit_record(
                actor=actor,
                action="plan.item_add",
                object_type="plan",
                object_id=str(plan.pk),
                after=_item_snapshot(item),
            )
    except IntegrityError:
        raise PlanError(
            _overlap_message(unit=unit.code, month=month, channel=channel, group=group)
        ) from None
    return item


def plan_item_update(
    *,
    actor: Actor,
    item: PlanItem,
    month: str,
    lead_org: str,
    coordinating_orgs: list[str],
    sessions: int,
    note: str | None = None,
) -> PlanItem:
    """Move an item to another month, change its lead, partners or sessions."""
    plan = item.plan
    _require_editable(actor, plan)
    coord = _check_item_fields(
        plan=plan,
        month=month,
        lead_org=lead_org,
        coordinating_orgs=coordinating_orgs,
        sessions=sessions,
    )
    _check_overlap(
        plan=plan,
        unit=item.unit_id,
        month=month,
        channel=item.channel,
        group=item.group,
        pk=item.pk,
    )
    before = _item_snapshot(item)
    if sessions != item.sessions:
        rate = channel_rates(unit=item.unit, until=plan.as_of)[item.channel]
        for k, v in item_figures(channel=item.channel, sessions=sessions, rate=rate).items():
            setattr(item, k, v)
    item.month, item.lead_org, item.coordinating_orgs, item.sessions = (
        month,
        lead_org,
        coord,
        sessions,
    )
    if note is not None:
        item.note = note[:300]
    try:
        with transaction.atomic():
            item.save()
            audit_record(
                actor=actor,
                action="plan.item_update",
                object_type="plan",
                object_id=str(plan.pk),
                before=before,
                after=_item_snapshot(item),
            )
    except IntegrityError:
        raise PlanError(
            _overlap_message(unit=item.unit_id, month=month, channel=item.channel, group=item.group)
        ) from None
    return item


def plan_item_remove(*, actor: Actor, item: PlanItem) -> None:
    plan = item.plan
    _require_editable(actor, plan)
    with transaction.atomic():
        before = _item_snapshot(item)
        item.delete()
        audit_record(
            actor=actor,
            action="plan.item_remove",
            object_type="plan",
            object_id=str(plan.pk),
            before=before,
        )


def _transition(
    *,
    actor: Actor,
    plan: Plan,
    to: str,
    action: str,
    comment: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Plan:
    before = {"status": plan.status, "comment": plan.comment}
    with transaction.atomic():
        plan.status = to
        now = timezone.now()
        if to == Plan.Status.SUBMITTED:
            plan.submitted_at = now
            plan.submitted_by = actor_user(actor)
        else:
            plan.decided_by = actor_user(actor)
            plan.decided_at = now
        if comment is not None:
            plan.comment = comment
        plan.save()
        audit_record(
            actor=actor,
            action=action,
            object_type="plan",
            object_id=str(plan.pk),
            before=before,
            after={"status": plan.status, "comment": plan.comment, **(extra or {})},
        )
    return plan


def plan_submit(*, actor: Actor, plan: Plan) -> Plan:
    _require_editable(actor, plan)
    if not plan.items.exists():
        raise PlanError(_("Kế hoạch chưa có hoạt động nào nên chưa trình được."))
    return _transition(actor=actor, plan=plan, to=Plan.Status.SUBMITTED, action="plan.submit")


def _require_approver(actor: Actor, plan: Plan) -> None:
    if not may(actor, "approve_plans"):
        raise PlanError(_("Chỉ BHXH tỉnh duyệt hoặc trả lại kế hoạch."), status=403)
    if plan.status != Plan.Status.SUBMITTED:
        raise PlanError(_("Chỉ duyệt hoặc trả lại kế hoạch đang chờ duyệt."), status=403)


def plan_approve(
    *, actor: Actor, plan: Plan, comment: str = "", confirm_warnings: bool = False
) -> Plan:
    """Approve a submitted plan: by an admin or province user other than its submitter (four
    eyes); a plan that carries warnings only with ``confirm_warnings``, which the audit row
    records with the warnings confirmed. Approving issues it, so it takes the next number of
    the year from the issuing unit's register of plans (KH); refused, with nothing changed,
    where that register is not open."""
    _require_approver(actor, plan)
    if _is_submitter(actor, plan):
        raise PlanError(
            _(
                "Bạn đã trình kế hoạch này nên không tự duyệt được: một người khác của BHXH tỉnh"
                " phải duyệt (nguyên tắc bốn mắt)."
            ),
            status=403,
        )
    warnings = list(plan.warnings or [])
    if warnings and not confirm_warnings:
        raise PlanError(
            _(
                "Kế hoạch còn %(n)s cảnh báo. Hãy đọc các cảnh báo và đánh dấu xác nhận nếu vẫn"
                " duyệt."
            )
            % {"n": len(warnings)},
            status=409,
        )
    extra = {"warnings_confirmed": len(warnings)} if warnings else {}
    with transaction.atomic():
        unit = Unit.objects.get(code=plan.unit_id)
        try:
            number_issue(
                actor=actor,
                issuer=issuer_of(unit_ancestors(unit=unit)),
                kind="KH",
                subject=_(
                    "Kế hoạch truyền thông phát triển người tham gia BHXH, BHYT năm %(y)s "
                    "(%(u)s, phiên bản %(v)s)"
                )
                % {"y": plan.year, "u": unit.name, "v": plan.version},
                year=timezone.localdate().year,
                ref_type="plan",
                ref_id=str(plan.pk),
            )
        except DocumentError as exc:
            raise PlanError(str(exc)) from None
        return _transition(
            actor=actor,
            plan=plan,
            to=Plan.Status.APPROVED,
            action="plan.approve",
            comment=comment,
            extra=extra,
        )


def plan_return(*, actor: Actor, plan: Plan, comment: str) -> Plan:
    _require_approver(actor, plan)
    if not comment.strip():
        raise PlanError(_("Hãy ghi lý do trả lại để đơn vị chỉnh sửa."))
    return _transition(
        actor=actor,
        plan=plan,
        to=Plan.Status.RETURNED,
        action="plan.return",
        comment=comment.strip(),
    )


def plan_new_version(*, actor: Actor, plan: Plan) -> Plan:
    """Copy a plan (normally an approved one) into the next version, as a draft."""
    _require_editor(actor)
    with transaction.atomic():
        last = (
            Plan.objects.select_for_update()
            .filter(unit_id=plan.unit_id, year=plan.year)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        new = Plan.objects.create(
            unit_id=plan.unit_id,
            year=plan.year,
            version=(last or 0) + 1,
            as_of=plan.as_of,
            campaign=plan.campaign,
            warnings=plan.warnings,
            gaps=plan.gaps,
            created_by=actor_user(actor),
        )
        PlanItem.objects.bulk_create(
            [
                PlanItem(plan=new, **PlannedItem.from_model(it).model_fields())
                for it in plan.items.all()
            ],
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="plan.new_version",
            object_type="plan",
            object_id=str(new.pk),
            after={"from": plan.pk, "version": new.version},
        )
    return new


def campaign_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    start: dt.date,
    end: dt.date,
    lead_org: str,
    budget: int,
    unit_codes: list[str],
) -> Campaign:
    """A campaign (the October–December peak campaign is one like any other)."""
    _require_editor(actor)
    code = code.strip()
    if not code or not name.strip():
        raise PlanError(_("Hãy nhập mã và tên chiến dịch"))
    if end < start:
        raise PlanError(_("Ngày kết thúc phải sau ngày bắt đầu"))
    if lead_org not in codes.ORGS:
        raise PlanError(_("Đơn vị chủ trì không hợp lệ “%(o)s”") % {"o": lead_org})
    if budget < 0:
        raise PlanError(_("Kinh phí không được âm"))
    if Campaign.objects.filter(code=code).exists():
        raise PlanError(_("Đã có chiến dịch mã “%(c)s”") % {"c": code})
    units = [u for c in unit_codes if (u := unit_visible(actor=actor, code=c)) is not None]
    if len(units) != len(set(unit_codes)):
        raise PlanError(_("Có đơn vị không thuộc phạm vi của bạn"))
    with transaction.atomic():
        campaign = Campaign.objects.create(
            code=code, name=name.strip(), start=start, end=end, lead_org=lead_org, budget=budget
        )
        campaign.units.set(units)
        audit_record(
            actor=actor,
            action="campaign.create",
            object_type="campaign",
            object_id=code,
            after={
                "name": campaign.name,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "lead_org": lead_org,
                "budget": budget,
                "units": sorted(u.code for u in units),
            },
        )
    return campaign
