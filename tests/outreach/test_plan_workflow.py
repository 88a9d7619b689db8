"""The plan pages: an office drafts, edits and submits; the province approves or returns;
approved plans are locked and versioned; another office sees nothing (404)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent, DocumentNumber, DocumentRegister
from ansinh.outreach.models import Campaign, Plan, PlanItem
from tests.outreach.plan_fixtures import gaps, make_data

pytestmark = pytest.mark.django_db


def login(role: str, unit: str | None, name: str) -> Client:
    user = User.objects.create(username=name, role=role, unit_id=unit)
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def world() -> dict[str, Client]:
    make_data()
    return {
        "office": login("office", "O1", "o1"),
        "other": login("office", "O2", "o2"),
        "province": login("province", "KH", "prov"),
        "viewer": login("viewer", "O1", "v1"),
    }


def draft(c: Client, unit: str = "O1", as_of: str = "2025-09-30") -> Plan:
    r = c.post("/plans/new/", {"unit": unit, "year": "2025", "as_of": as_of})
    assert r.status_code == 302, r.content.decode()[:2000]
    return Plan.objects.latest("pk")


def test_office_drafts_and_sees_coverage(world: dict[str, Client]) -> None:
    c = world["office"]
    r = c.get("/plans/new/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'value="O1"' in html and 'value="O2"' not in html  # only units within scope
    plan = draft(c)
    assert (plan.status, plan.version, plan.unit_id) == ("draft", 1, "O1")
    items = list(plan.items.all())
    assert items and {i.unit_id for i in items} == {"C11", "C12", "C13"}
    assert plan.gaps["C11"] == gaps()["C11"]
    r = c.get(f"/plans/{plan.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    total_cost = sum(i.cost for i in items)
    assert f"{total_cost:,}".replace(",", ".") in html  # Vietnamese number on the page
    # every gap has its items, but C13's is beyond reach: the check is not green
    assert plan.warnings and "mọi chỉ tiêu còn thiếu đều được bù đắp" not in html
    assert "còn 1 cảnh báo" in html or "cảnh báo: xem bên dưới" in html
    assert "Hội Liên hiệp Phụ nữ" in html  # labels, not codes
    assert AuditEvent.objects.filter(action="plan.create", object_id=str(plan.pk)).exists()
    # list and calendar
    r = c.get("/plans/")
    assert r.status_code == 200 and f"/plans/{plan.pk}/" in r.content.decode()
    r = c.get(f"/plans/{plan.pk}/calendar/")
    assert r.status_code == 200
    assert "2025-10" in r.content.decode() and "Phường Nha Trang" in r.content.decode()
    # a second draft is version 2
    assert draft(c).version == 2


def test_office_edits_the_draft(world: dict[str, Client]) -> None:
    c = world["office"]
    plan = draft(c)
    item = plan.items.filter(unit_id="C11", channel="small_group", group="freelancer").first()
    assert item is not None
    # move to a month where the same commune/channel/group already has an item: refused
    other_month = next(
        m
        for m in ("2025-10", "2025-11", "2025-12")
        if m != item.month
        and plan.items.filter(
            unit_id="C11", channel="small_group", group="freelancer", month=m
        ).exists()
    )
    r = c.post(
        f"/plans/{plan.pk}/items/{item.pk}/",
        {"month": other_month, "lead_org": item.lead_org, "sessions": item.sessions},
    )
    assert r.status_code == 400
    assert "chỉ có một hoạt động một tháng" in r.content.decode()
    # change the lead and partners, and the sessions: figures follow the channel rate
    r = c.post(
        f"/plans/{plan.pk}/items/{item.pk}/",
        {
            "month": item.month,
            "lead_org": "youth_union",
            "coordinating_orgs": ["womens_union", "youth_union", "si_office"],
            "sessions": "10",
        },
    )
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.lead_org == "youth_union"
    assert item.coordinating_orgs == ["womens_union", "si_office"]  # never the lead
    assert (item.sessions, item.expected_registrations, item.cost) == (10, 15, 3_000_000)
    # move a single item to a free month
    lone = plan.items.filter(unit_id="C12").first()
    assert lone is not None
    r = c.post(
        f"/plans/{plan.pk}/items/{lone.pk}/",
        {"month": "2025-06", "lead_org": lone.lead_org, "sessions": lone.sessions},
    )
    assert r.status_code == 302
    lone.refresh_from_db()
    assert lone.month == "2025-06"
    # add an item; adding the same again is refused with a message, never a 500
    data = {
        "unit": "C13",
        "month": "2025-11",
        "channel": "booth",
        "group": "household",
        "schemes": ["hi"],
        "lead_org": "health_station",
        "coordinating_orgs": ["commune_committee"],
        "sessions": "2",
    }
    r = c.post(f"/plans/{plan.pk}/items/add/", data)
    assert r.status_code == 302
    added = plan.items.get(unit_id="C13", channel="booth")
    assert (added.expected_registrations, added.cost) == (16, 16_000_000)
    r = c.post(f"/plans/{plan.pk}/items/add/", data)
    assert r.status_code == 400 and "chỉ có một hoạt động một tháng" in r.content.decode()
    assert plan.items.filter(unit_id="C13", channel="booth").count() == 1
    # a commune of another office is refused
    r = c.post(f"/plans/{plan.pk}/items/add/", {**data, "unit": "C21"})
    assert r.status_code == 400
    # remove
    n = plan.items.count()
    r = c.post(f"/plans/{plan.pk}/items/{added.pk}/delete/")
    assert r.status_code == 302 and plan.items.count() == n - 1
    actions = set(
        AuditEvent.objects.filter(object_type="plan", object_id=str(plan.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"plan.create", "plan.item_update", "plan.item_add", "plan.item_remove"} <= actions


def test_submit_approve_lock_and_version(world: dict[str, Client]) -> None:
    office, prov = world["office"], world["province"]
    plan = draft(office)
    # the office cannot approve
    r = office.post(f"/plans/{plan.pk}/submit/")
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "submitted"
    r = office.post(f"/plans/{plan.pk}/approve/")
    assert r.status_code == 403
    plan.refresh_from_db()
    assert plan.status == "submitted"
    # province returns with a comment, office edits and resubmits
    r = prov.post(f"/plans/{plan.pk}/return/", {"comment": ""})
    assert r.status_code == 400
    r = prov.post(f"/plans/{plan.pk}/return/", {"comment": "Bổ sung hoạt động tại trường học"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "returned" and plan.comment == "Bổ sung hoạt động tại trường học"
    assert "Bổ sung hoạt động tại trường học" in office.get(f"/plans/{plan.pk}/").content.decode()
    office.post(f"/plans/{plan.pk}/submit/")
    # approving issues the plan: without the office's register of plans it is refused, and
    # nothing changes
    register = DocumentRegister.objects.get(unit_id="O1", kind="KH")
    register.delete()
    r = prov.post(f"/plans/{plan.pk}/approve/", {"comment": "Đồng ý", "confirm_warnings": "1"})
    assert r.status_code == 400 and "chưa mở sổ đăng ký văn bản loại KH" in r.content.decode()
    plan.refresh_from_db()
    assert plan.status == "submitted" and not DocumentNumber.objects.exists()
    DocumentRegister.objects.create(unit_id="O1", kind="KH")
    r = prov.post(f"/plans/{plan.pk}/approve/", {"comment": "Đồng ý", "confirm_warnings": "1"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "approved" and plan.decided_by is not None
    given = DocumentNumber.objects.get(ref_type="plan", ref_id=str(plan.pk))
    assert (given.register.unit_id, given.number) == ("O1", 1)
    # the approved plan's DOCX carries its number; a second download the same one
    import docx

    for _i in range(2):
        d = docx.Document(io.BytesIO(office.get(f"/plans/{plan.pk}/export.docx").content))
        head = "\n".join(c.text for c in d.tables[0].rows[0].cells)
        assert "Số: 01/KH-BHXH" in head and "BẢO HIỂM XÃ HỘI CƠ SỞ NHA TRANG" in head
    assert DocumentNumber.objects.count() == 1
    # an office reports to the province: its plan is sent to the provincial SI, not to itself
    closing = "\n".join(c.text for c in d.tables[-1].rows[0].cells)
    assert "BHXH tỉnh Khánh Hòa (để báo cáo)" in closing
    # locked: edits refused with a message
    item = plan.items.first()
    assert item is not None
    before = (item.month, item.sessions)
    r = office.post(
        f"/plans/{plan.pk}/items/{item.pk}/",
        {"month": "2025-10", "lead_org": "si_office", "sessions": "99"},
    )
    assert r.status_code == 403 and "tạo phiên bản mới" in r.content.decode()
    item.refresh_from_db()
    assert (item.month, item.sessions) == before
    r = office.post(f"/plans/{plan.pk}/items/{item.pk}/delete/")
    assert r.status_code == 403 and PlanItem.objects.filter(pk=item.pk).exists()
    # new version: a draft copy with the same items
    r = office.post(f"/plans/{plan.pk}/new-version/")
    assert r.status_code == 302
    new = Plan.objects.get(unit_id="O1", year=2025, version=2)
    assert new.status == "draft" and new.items.count() == plan.items.count()
    assert r["Location"] == f"/plans/{new.pk}/"
    actions = list(
        AuditEvent.objects.filter(action__in=["plan.submit", "plan.approve", "plan.return"])
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["plan.submit", "plan.return", "plan.submit", "plan.approve"]


def test_scope_another_office_and_roles(world: dict[str, Client]) -> None:
    plan = draft(world["office"])
    other = world["other"]
    for url in (
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/calendar/",
        f"/plans/{plan.pk}/export.xlsx",
        f"/plans/{plan.pk}/export.docx",
    ):
        assert other.get(url).status_code == 404
    item = plan.items.first()
    assert item is not None
    assert other.post(f"/plans/{plan.pk}/submit/").status_code == 404
    assert other.post(f"/plans/{plan.pk}/items/{item.pk}/delete/").status_code == 404
    assert f"/plans/{plan.pk}/" not in other.get("/plans/").content.decode()
    r = other.post("/plans/new/", {"unit": "O1", "year": "2025", "as_of": "2025-09-30"})
    assert r.status_code == 200 and Plan.objects.count() == 1  # O1 is not a choice for O2
    # a viewer reads but does not edit
    viewer = world["viewer"]
    assert viewer.get(f"/plans/{plan.pk}/").status_code == 200
    assert viewer.get("/plans/new/").status_code == 404
    r = viewer.post(f"/plans/{plan.pk}/items/{item.pk}/delete/")
    assert r.status_code == 403 and PlanItem.objects.filter(pk=item.pk).exists()
    # a partner sees no plan
    partner = User.objects.create(username="p", role="partner", org="womens_union")
    pc = Client()
    pc.force_login(partner)
    assert pc.get("/plans/").status_code == 404
    assert pc.get(f"/plans/{plan.pk}/").status_code == 404


def test_exports_from_the_page(world: dict[str, Client]) -> None:
    import docx
    import openpyxl

    c = world["office"]
    plan = draft(c)
    r = c.get(f"/plans/{plan.pk}/export.xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = [
        x for x in wb.worksheets[0].iter_rows(min_row=5, values_only=True) if isinstance(x[0], int)
    ]
    assert len(rows) == plan.items.count()
    assert sum(x[10] for x in rows) == sum(i.expected_registrations for i in plan.items.all())
    r = c.get(f"/plans/{plan.pk}/export.docx")
    assert r.status_code == 200
    d = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "KẾ HOẠCH" in text and "Nha Trang" in text and "Dự thảo" in text
    assert len(d.tables[2].rows) == 1 + plan.items.count() + 1  # header, items, total
    assert c.get(f"/plans/{plan.pk}/export.pdf").status_code == 404


def test_campaigns(world: dict[str, Client]) -> None:
    c = world["province"]
    r = c.post(
        "/campaigns/",
        {
            "code": "CD-Q4-2025",
            "name": "Cao điểm tháng 10–12",
            "start": "2025-10-01",
            "end": "2025-12-31",
            "lead_org": "si_province",
            "budget": "150000000",
            "units": ["O1"],
        },
    )
    assert r.status_code == 302
    camp = Campaign.objects.get(code="CD-Q4-2025")
    assert camp.budget == 150_000_000 and [u.code for u in camp.units.all()] == ["O1"]
    r = c.post(
        "/campaigns/",
        {
            "code": "BAD",
            "name": "x",
            "start": "2025-12-01",
            "end": "2025-10-01",
            "lead_org": "si_office",
            "budget": "0",
        },
    )
    assert r.status_code == 400 and "Ngày kết thúc phải sau ngày bắt đầu" in r.content.decode()
    assert world["office"].get("/campaigns/").content.decode().count("CD-Q4-2025") == 1
    assert "CD-Q4-2025" not in world["other"].get("/campaigns/").content.decode()
    assert AuditEvent.objects.filter(action="campaign.create", object_id="CD-Q4-2025").exists()


def test_list_query_count(world: dict[str, Client], django_assert_max_num_queries: Any) -> None:
    c = world["province"]
    for unit in ("O1", "O2", "KH"):
        draft(c, unit)
    with django_assert_max_num_queries(12):
        r = c.get("/plans/")
    assert r.status_code == 200 and r.content.decode().count("/plans/") >= 3
