"""Writes of activities and attendees: keyword-only, atomic, audited (DESIGN.md rules 1–2)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_org, actor_user, org_scoped
from ansinh.core.codes import CHANNEL_CODES, GROUP_CODES, ORG_CODES
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit
from ansinh.outreach.activities.selectors import (
    actor_units,
    can_add_attendee,
    can_edit_activity,
    can_edit_attendee,
    can_write,
)
from ansinh.outreach.identity import SEXES, id_problem, normalize_phone, phone_problem
from ansinh.outreach.models import Activity, Attendee, Campaign, PlanItem

_COUNT_FIELDS = ("planned_reach", "reach", "leads", "registrations", "vssid_installs", "cost")


@dataclass(frozen=True)
class ActivityInput:
    """What is said of an activity held: ``activity_create`` and ``activity_update`` take the
    same fields, checked the same way."""

    unit: Unit
    channel: str
    date: dt.date
    lead_org: str
    group: str = ""
    coordinating_orgs: Sequence[str] = ()
    planned_reach: int | None = None
    reach: int | None = None
    leads: int | None = None
    registrations: int | None = None
    vssid_installs: int | None = None
    cost: int | None = None
    note: str = ""
    campaign: Campaign | None = None
    plan_item: PlanItem | None = None

    @classmethod
    def of(cls, activity: Activity) -> ActivityInput:
        """The fields an activity holds now."""
        return cls(
            unit=activity.unit,
            channel=activity.channel,
            date=activity.date,
            lead_org=activity.lead_org,
            group=activity.group,
            coordinating_orgs=activity.coordinating_orgs or [],
            note=activity.note,
            campaign=activity.campaign,
            plan_item=activity.plan_item,
            **{f: getattr(activity, f) for f in _COUNT_FIELDS},
        )

    def counts(self) -> dict[str, int | None]:
        return {f: getattr(self, f) for f in _COUNT_FIELDS}


def _new_code(*, unit: Unit, date: dt.date) -> str:
    stem = f"{unit.code}-{date:%Y%m%d}-"
    taken = set(Activity.all_objects.filter(code__startswith=stem).values_list("code", flat=True))
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
    actor: Actor,
    data: ActivityInput,
    code: str | None = None,
    client_id: uuid.UUID | None = None,
) -> Activity:
    """Record an activity held. The unit must be within the actor's scope; a partner records
    activities its organisation leads, or ones where it coordinates. Raises ValidationError
    (nothing written) on any refused field."""
    if not can_write(actor):
        raise ValidationError(_("Bạn không có quyền ghi nhận hoạt động."))
    errors, coordinating = _check_activity_fields(actor=actor, data=data)

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if code and Activity.all_objects.filter(code=code).exists():
        bad("code", _("Mã hoạt động đã có."))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        activity = Activity.objects.create(
            code=code or _new_code(unit=data.unit, date=data.date),
            unit=data.unit,
            channel=data.channel,
            date=data.date,
            lead_org=data.lead_org,
            group=data.group,
            coordinating_orgs=coordinating,
            **data.counts(),
            note=data.note,
            campaign=data.campaign,
            plan_item=data.plan_item,
            client_id=client_id,
            created_by=actor_user(actor),
        )
        audit_record(
            actor=actor,
            action="activity.create",
            object_type="activity",
            object_id=activity.code,
            after=_snapshot(activity),
        )
    return activity


def _check_activity_fields(
    *, actor: Actor, data: ActivityInput
) -> tuple[dict[str, list[str]], list[str]]:
    """The refusals of an activity's fields (by field) and its cleaned coordinating orgs."""
    unit, channel, lead_org, group = data.unit, data.channel, data.lead_org, data.group
    coordinating_orgs, counts, plan_item = data.coordinating_orgs, data.counts(), data.plan_item
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

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
    if org_scoped(actor):
        org = actor_org(actor)
        if lead_org != org and org not in coordinating:
            bad("lead_org", _("Tổ chức của bạn phải chủ trì hoặc phối hợp hoạt động này."))
    for f, value in counts.items():
        if value is not None and value < 0:
            bad(f, _("Không được âm."))
    if plan_item is not None and not actor_units(actor).filter(code=plan_item.unit_id).exists():
        bad("plan_item", _("Mục kế hoạch ngoài phạm vi của bạn."))
    return errors, coordinating


def activity_update(
    *,
    actor: Actor,
    activity: Activity,
    data: ActivityInput,
) -> Activity:
    """Correct an activity, or close it with its results (reach, leads, registrations,
    VssID installs, cost). Same checks as :func:`activity_create`; one audit row with the
    before and after. Raises ValidationError (nothing written)."""
    if not can_edit_activity(actor=actor, activity=activity):
        raise ValidationError(_("Bạn không có quyền sửa hoạt động này."))
    errors, coordinating = _check_activity_fields(actor=actor, data=data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().filter(code=activity.code).first()
        if locked is None:
            raise ValidationError(_("Hoạt động này đã bị xóa."))
        before = _snapshot(locked)
        locked.unit = data.unit
        locked.channel = data.channel
        locked.date = data.date
        locked.lead_org = data.lead_org
        locked.group = data.group
        locked.coordinating_orgs = coordinating
        for f, value in data.counts().items():
            setattr(locked, f, value)
        locked.note = data.note
        locked.campaign = data.campaign
        locked.plan_item = data.plan_item
        locked.save()
        audit_record(
            actor=actor,
            action="activity.update",
            object_type="activity",
            object_id=locked.code,
            before=before,
            after=_snapshot(locked),
        )
    return locked


def activity_delete(*, actor: Actor, activity: Activity) -> None:
    """Delete an activity softly: it and its attendees leave every list and figure, the rows
    stay (with ``deleted_at``) for the audit trail. One audit row."""
    if not can_edit_activity(actor=actor, activity=activity):
        raise ValidationError(_("Bạn không có quyền xóa hoạt động này."))
    now = timezone.now()
    with transaction.atomic():
        n = Activity.objects.filter(code=activity.code).update(deleted_at=now)
        if not n:
            raise ValidationError(_("Hoạt động này đã bị xóa."))
        attendees = Attendee.objects.filter(activity_id=activity.code).update(deleted_at=now)
        audit_record(
            actor=actor,
            action="activity.delete",
            object_type="activity",
            object_id=activity.code,
            before={**_snapshot(activity), "attendees": attendees},
        )


@dataclass(frozen=True)
class AttendeeInput:
    """One attendee as typed, scanned or pasted."""

    person_id: str
    full_name: str = ""
    phone: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    address: str = ""
    consent: bool = False
    source: str = "typed"
    client_id: uuid.UUID | None = None


def attendee_problems(data: AttendeeInput) -> dict[str, list[str]]:
    """The refusals of one attendee's fields, by field (empty when fine)."""
    errors: dict[str, list[str]] = {}
    if not data.person_id:
        errors["person_id"] = [_("Cần mã số người tham gia.")]
    else:
        problem = id_problem(data.person_id, birth_date=data.birth_date, sex=data.sex)
        if problem:
            errors["person_id"] = [problem]
    if not data.full_name:
        errors["full_name"] = [_("Cần họ và tên.")]
    problem = phone_problem(data.phone)
    if problem:
        errors["phone"] = [problem]
    if data.sex and data.sex not in SEXES:
        errors["sex"] = [_("Giới tính không hợp lệ.")]
    if data.birth_date is not None and not (
        dt.date(1900, 1, 1) <= data.birth_date <= dt.date.today()
    ):
        errors["birth_date"] = [_("Ngày sinh không hợp lệ.")]
    return errors


def _clean_input(data: AttendeeInput) -> AttendeeInput:
    return AttendeeInput(
        person_id=data.person_id.strip(),
        full_name=" ".join(data.full_name.split())[:200],
        phone=normalize_phone(data.phone),
        birth_date=data.birth_date,
        sex=data.sex.strip(),
        address=" ".join(data.address.split())[:300],
        consent=bool(data.consent),
        source=data.source if data.source in ("typed", "qr", "paste", "sync") else "typed",
        client_id=data.client_id,
    )


def _attendee_fields(data: AttendeeInput, *, now: dt.datetime) -> dict[str, Any]:
    return {
        "full_name": data.full_name,
        "phone": data.phone,
        "birth_date": data.birth_date,
        "sex": data.sex,
        "address": data.address,
        "consent": "yes" if data.consent else "no",
        "consent_at": now if data.consent else None,
        "source": data.source,
    }


def _save_attendee(
    *, actor: Actor, activity: Activity, data: AttendeeInput, now: dt.datetime
) -> Attendee:
    """Write one checked attendee (a row deleted before comes back); the caller holds the
    transaction and has refused a repeat check-in."""
    fields = _attendee_fields(data, now=now)
    added_by = actor_user(actor)
    old = Attendee.all_objects.filter(activity=activity, person_id=data.person_id).first()
    if old is not None:  # deleted earlier: checked in again
        for k, v in fields.items():
            setattr(old, k, v)
        old.deleted_at = None
        old.added_by = added_by
        if data.client_id is not None:
            old.client_id = data.client_id
        old.save()
        return old
    return Attendee.objects.create(
        activity=activity,
        person_id=data.person_id,
        client_id=data.client_id,
        added_by=added_by,
        **fields,
    )


def attendee_add(*, actor: Actor, activity: Activity, data: AttendeeInput) -> Attendee:
    """Check one person in to an activity the actor may manage: a valid ID (12-digit CCCD in
    agreement with the birth date and sex, or a 10-digit SI code), a name, a mobile number if
    any, the consent to be contacted recorded. A repeat check-in of the same person is
    refused. Raises ValidationError (nothing written)."""
    if not can_add_attendee(actor=actor, activity=activity):
        raise ValidationError(_("Bạn không có quyền thêm người dự hoạt động này."))
    data = _clean_input(data)
    errors = attendee_problems(data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if not Activity.objects.select_for_update().filter(code=activity.code).exists():
            raise ValidationError(_("Hoạt động này đã bị xóa."))
        if Attendee.objects.filter(activity=activity, person_id=data.person_id).exists():
            raise ValidationError(
                {
                    "person_id": [
                        _("Người này đã điểm danh ở hoạt động này rồi, không cần thêm lại.")
                    ]
                }
            )
        attendee = _save_attendee(actor=actor, activity=activity, data=data, now=timezone.now())
        audit_record(
            actor=actor,
            action="attendee.add",
            object_type="activity",
            object_id=activity.code,
            after={"person_id": attendee.person_id, "consent": attendee.consent},
        )
    return attendee


def attendee_update(
    *, actor: Actor, activity: Activity, attendee: Attendee, data: AttendeeInput
) -> Attendee:
    """Correct an attendee's details (same checks as :func:`attendee_add`); one audit row."""
    if not can_edit_attendee(actor=actor, activity=activity, attendee=attendee):
        raise ValidationError(_("Bạn không có quyền sửa người dự này."))
    data = _clean_input(data)
    errors = attendee_problems(data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if (
            data.person_id != attendee.person_id
            and Attendee.all_objects.filter(activity=activity, person_id=data.person_id).exists()
        ):
            raise ValidationError(
                {
                    "person_id": [
                        _("Người này đã điểm danh ở hoạt động này rồi, không cần thêm lại.")
                    ]
                }
            )
        before = {"person_id": attendee.person_id, "consent": attendee.consent}
        now = timezone.now()
        fields = _attendee_fields(data, now=now)
        if attendee.consent == "yes" and data.consent:
            fields["consent_at"] = attendee.consent_at  # consent kept: its date too
        fields["source"] = attendee.source
        n = Attendee.objects.filter(pk=attendee.pk).update(person_id=data.person_id, **fields)
        if not n:
            raise ValidationError(_("Người dự này đã bị xóa."))
        audit_record(
            actor=actor,
            action="attendee.update",
            object_type="activity",
            object_id=activity.code,
            before=before,
            after={"person_id": data.person_id, "consent": data.consent},
        )
    attendee.refresh_from_db()
    return attendee


def attendee_delete(*, actor: Actor, activity: Activity, attendee: Attendee) -> None:
    """Take an attendee off the list (soft: the row stays with ``deleted_at``); audited."""
    if not can_edit_attendee(actor=actor, activity=activity, attendee=attendee):
        raise ValidationError(_("Bạn không có quyền xóa người dự này."))
    with transaction.atomic():
        n = Attendee.objects.filter(pk=attendee.pk).update(deleted_at=timezone.now())
        if not n:
            raise ValidationError(_("Người dự này đã bị xóa."))
        audit_record(
            actor=actor,
            action="attendee.delete",
            object_type="activity",
            object_id=activity.code,
            before={"person_id": attendee.person_id},
        )


def attendees_add_many(
    *, actor: Actor, activity: Activity, rows: Sequence[tuple[int, AttendeeInput]]
) -> int:
    """Check in a list of attendees (a sign-in sheet pasted or uploaded): all of them or, on
    any refusal, none. ``rows`` are (line number, data). Raises ValidationError whose
    messages name the line. Returns the number added."""
    if not can_add_attendee(actor=actor, activity=activity):
        raise ValidationError(_("Bạn không có quyền thêm người dự hoạt động này."))
    problems: list[str] = []
    cleaned: list[AttendeeInput] = []
    seen: dict[str, int] = {}
    present = set(Attendee.objects.filter(activity=activity).values_list("person_id", flat=True))
    for line, raw in rows:
        data = _clean_input(raw)
        for field, msgs in attendee_problems(data).items():
            for m in msgs:
                problems.append(
                    _("Dòng %(line)s, cột %(col)s: %(msg)s")
                    % {"line": line, "col": field, "msg": m}
                )
        if data.person_id in seen:
            problems.append(
                _("Dòng %(line)s: trùng với dòng %(first)s.")
                % {"line": line, "first": seen[data.person_id]}
            )
        elif data.person_id in present:
            problems.append(
                _("Dòng %(line)s: người này đã điểm danh ở hoạt động này rồi.") % {"line": line}
            )
        seen.setdefault(data.person_id, line)
        cleaned.append(data)
    if not cleaned and not problems:
        problems.append(_("Danh sách trống."))
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    with transaction.atomic():
        if not Activity.objects.select_for_update().filter(code=activity.code).exists():
            raise ValidationError(_("Hoạt động này đã bị xóa."))
        for data in cleaned:
            _save_attendee(actor=actor, activity=activity, data=data, now=now)
        audit_record(
            actor=actor,
            action="attendee.add_many",
            object_type="activity",
            object_id=activity.code,
            after={"count": len(cleaned), "consent": sum(d.consent for d in cleaned)},
        )
    return len(cleaned)


def attendees_view(
    *, actor: Actor, activity: Activity, unmask: bool, ip: str | None = None
) -> None:
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


@dataclass
class SyncResult:
    """What a sync did: the activity's code, attendees written, and those already there."""

    code: str
    created_activity: bool
    added: int
    already: list[str]


class SyncDeleted(Exception):
    """The activity was deleted on the server after the phone captured it."""


def activity_sync(
    *,
    actor: Actor,
    client_id: uuid.UUID,
    fields: dict[str, Any],
    attendees: Sequence[AttendeeInput],
) -> SyncResult:
    """Write an activity captured offline with its attendees, exactly once: the activity and
    each attendee carry an id made by the phone, so a sync sent again (the answer lost on a
    weak line) writes nothing new. An attendee already checked in (by another phone) is
    reported, not refused. Any invalid field refuses the whole sync (ValidationError,
    nothing written); an activity deleted meanwhile raises SyncDeleted."""
    existing = Activity.all_objects.filter(client_id=client_id).first()
    if existing is not None and existing.deleted_at is not None:
        raise SyncDeleted(existing.code)
    problems: list[str] = []
    cleaned = [_clean_input(a) for a in attendees]
    for n, data in enumerate(cleaned, start=1):
        for msgs in attendee_problems(data).values():
            for m in msgs:
                problems.append(
                    _("Người thứ %(n)s (%(id)s): %(msg)s")
                    % {"n": n, "id": data.person_id or "—", "msg": m}
                )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        created = existing is None
        if existing is None:
            activity = activity_create(
                actor=actor, data=ActivityInput(**fields), client_id=client_id
            )
        else:
            activity = existing
            if not can_add_attendee(actor=actor, activity=activity):
                raise ValidationError(_("Bạn không có quyền thêm người dự hoạt động này."))
            # results recorded on the phone after an earlier sync (the activity closed later)
            results = {
                f: fields[f]
                for f in ("reach", "leads", "registrations", "vssid_installs", "cost")
                if fields.get(f) is not None and fields[f] != getattr(activity, f)
            }
            if results and can_edit_activity(actor=actor, activity=activity):
                activity = activity_update(
                    actor=actor,
                    activity=activity,
                    data=replace(ActivityInput.of(activity), **results),
                )
        ids = [a.client_id for a in cleaned if a.client_id is not None]
        known_ids = set(
            Attendee.all_objects.filter(client_id__in=ids).values_list("client_id", flat=True)
        )
        present = set(
            Attendee.objects.filter(activity=activity).values_list("person_id", flat=True)
        )
        added = 0
        already: list[str] = []
        now = timezone.now()
        for data in cleaned:
            if data.client_id in known_ids:
                continue  # sent before: written then
            if data.person_id in present:
                already.append(data.person_id)
                continue
            _save_attendee(
                actor=actor,
                activity=activity,
                data=AttendeeInput(**{**data.__dict__, "source": data.source or "sync"}),
                now=now,
            )
            present.add(data.person_id)
            added += 1
        if added:
            audit_record(
                actor=actor,
                action="attendee.sync",
                object_type="activity",
                object_id=activity.code,
                after={"count": added, "consent": sum(d.consent for d in cleaned)},
            )
    return SyncResult(code=activity.code, created_activity=created, added=added, already=already)
