"""Importers of activities and their attendees (SPEC section 2)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _

from ansinh.core.codes import CHANNEL_CODES, GROUP_CODES, ORG_CODES
from ansinh.core.importer.merge import MergeTarget
from ansinh.core.importer.protocol import StagedImporter
from ansinh.core.importer.rows import BAD
from ansinh.core.importer.staging import json_list
from ansinh.geography.importers import UnitLookup
from ansinh.outreach.models import Activity, Attendee, Campaign
from ansinh.registry.importers import consent_value

_COUNTS = ("planned_reach", "reach", "leads", "registrations", "vssid_installs")


class ActivitiesImporter(StagedImporter):
    kind = "activities"
    required = ("code", "unit_code", "channel", "date", "lead_org")
    optional = ("campaign", "group", "coordinating_orgs", *_COUNTS, "cost")
    staging_columns: ClassVar = [
        ("code", "text"),
        ("unit_id", "text"),
        ("channel", "text"),
        ("date", "date"),
        ("lead_org", "text"),
        ("campaign_id", "text"),
        ("group", "text"),
        ("coordinating_orgs", "json"),
        *((c, "int") for c in _COUNTS),
        ("cost", "int"),
    ]
    key_label = "code"
    owner_field = "unit"

    def table(self) -> MergeTarget:
        return MergeTarget(
            Activity,
            key=["code"],
            values=[
                "unit",
                "channel",
                "date",
                "lead_org",
                "campaign",
                "group",
                "coordinating_orgs",
                *_COUNTS,
                "cost",
            ],
            extras={"batch_id": "batch"},
        )

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.campaigns = set(Campaign.objects.values_list("code", flat=True))
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        code = ctx.ident(row_no, "code", get(row, "code"), required=True, max_length=64)
        unit = self.units.check(row_no, "unit_code", get(row, "unit_code"))
        channel = ctx.code(row_no, "channel", get(row, "channel"), CHANNEL_CODES)
        date = ctx.date(row_no, "date", get(row, "date"))
        lead = ctx.code(row_no, "lead_org", get(row, "lead_org"), ORG_CODES)
        campaign = get(row, "campaign") or None
        if campaign is not None and campaign not in self.campaigns:
            ctx.error(row_no, "campaign", campaign, _("không có chiến dịch mã này"))
            campaign = BAD
        group = ctx.code(row_no, "group", get(row, "group"), GROUP_CODES, required=False)
        orgs: Any = []
        raw_orgs = get(row, "coordinating_orgs")
        for written in (o.strip() for o in raw_orgs.split(";")):
            if not written:
                continue
            org = ctx.code(row_no, "coordinating_orgs", written, ORG_CODES)
            if org is BAD:
                orgs = BAD
                break
            if org not in orgs:
                orgs.append(org)
        numbers = [ctx.integer(row_no, c, get(row, c), required=False) for c in (*_COUNTS, "cost")]
        if BAD in (code, unit, channel, date, lead, campaign, group, orgs, *numbers):
            return None
        return (
            row_no,
            code,
            unit,
            channel,
            date,
            lead,
            campaign,
            group or "",
            json_list(orgs),
            *numbers,
        )


class AttendeesImporter(StagedImporter):
    kind = "attendees"
    required = ("activity_code", "person_id")
    optional = ("full_name", "phone", "address", "village", "consent")
    staging_columns: ClassVar = [
        ("activity_id", "text"),
        ("person_id", "text"),
        ("full_name", "text"),
        ("phone", "text"),
        ("address", "text"),
        ("village", "text"),
        ("consent", "text"),
    ]
    key_label = "activity_code, person_id"

    def table(self) -> MergeTarget:
        return MergeTarget(
            Attendee,
            key=["activity", "person_id"],
            values=[],
            keep=["full_name", "phone", "address", "village", "consent"],
            extras={"batch_id": "batch"},
        )

    def setup(self) -> None:
        super().setup()
        self.activities: dict[str, str] = dict(Activity.objects.values_list("code", "unit_id"))
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        code = get(row, "activity_code")
        activity: Any = code
        if not code:
            ctx.error(row_no, "activity_code", code, _("thiếu giá trị bắt buộc"))
            activity = BAD
        elif code not in self.activities:
            ctx.error(row_no, "activity_code", code, _("không có hoạt động mã này"))
            activity = BAD
        elif not ctx.in_scope(
            row_no,
            "activity_code",
            code,
            self.activities[code],
            missing=_("không có hoạt động mã này"),
        ):
            activity = BAD
        pid = ctx.ident(row_no, "person_id", get(row, "person_id"), required=True, max_length=64)
        name = ctx.text(row_no, "full_name", get(row, "full_name"), max_length=200)
        phone = ctx.text(row_no, "phone", get(row, "phone"), max_length=32)
        address = ctx.text(row_no, "address", get(row, "address"), max_length=300)
        village = ctx.text(row_no, "village", get(row, "village"), max_length=100)
        consent = consent_value(ctx, row_no, get(row, "consent"))
        if BAD in (activity, pid, name, phone, address, village, consent):
            return None
        return (
            row_no,
            activity,
            pid,
            name,
            phone,
            address or None,
            village or None,
            consent or None,
        )
