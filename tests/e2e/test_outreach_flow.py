"""The heart of the product in a real browser (issue 5): an office drafts its communication
plan from the gaps, edits it (moves an item, changes its lead and partners, adds one, removes
one) and submits it; the province returns it with a comment, the office resubmits, the
province approves it (locked, versioned); a partner records an activity on a phone, sees a
duplicate warning and only its own activities. Every page is screenshot (``ANSINH_SHOTS``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansinh.accounts.models import User
from ansinh.outreach.models import Activity, Plan, PlanItem
from tests.outreach.plan_fixtures import make_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Thu-nghiem-2025!"


def _user(name: str, role: str, unit: str | None = None, org: str = "") -> User:
    u = User(username=name, role=role, unit_id=unit, org=org)
    u.set_password(PASSWORD)
    u.save()
    return u


@pytest.fixture
def world(db: None) -> None:
    make_data()
    _user("o1", "office", "O1")
    _user("tinh", "province", "KH")
    _user("phunu", "partner", None, "womens_union")
    # an activity led by the Farmers' Association in C11 a few days ago: the partner's own
    # record of the same commune, group and channel will be flagged as a duplicate
    Activity.objects.create(
        code="HD-ND-1",
        unit_id="C11",
        channel="small_group",
        group="freelancer",
        date=dt.date.today() - dt.timedelta(days=3),
        lead_org="farmers_association",
        reach=5,
    )
    Activity.objects.create(
        code="HD-TN-1",
        unit_id="C12",
        channel="conference",
        group="student",
        date=dt.date.today() - dt.timedelta(days=20),
        lead_org="youth_union",
        reach=80,
    )


def _accept_dialogs(pg: Any) -> None:
    pg.on("dialog", lambda d: d.accept())


def _new_page(browser: Any, base: str, *, phone: bool = False) -> Any:
    if phone:
        ctx = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="vi-VN",
        )
    else:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    _accept_dialogs(pg)
    return pg


def _login(pg: Any, base: str, username: str) -> None:
    pg.goto(f"{base}/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")
    assert "/login/" not in pg.url, pg.content()[:500]


def _status(plan_id: int) -> str:
    return Plan.objects.get(pk=plan_id).status


def test_plan_workflow_and_partner_activity(
    world: None,
    browser: Any,
    live_server: Any,
    shot: Callable[[Any, str], Path],
) -> None:
    base = live_server.url
    office = _new_page(browser, base)
    _login(office, base, "o1")

    # -- the office drafts the plan of its unit from the gaps
    office.goto(f"{base}/plans/new/")
    shot(office, "01-plan-new")
    office.select_option("select[name=unit]", "O1")
    office.fill("input[name=year]", "2025")
    office.fill("input[name=as_of]", "2025-09-30")
    office.click("form button.primary, form button[type=submit]")
    office.wait_for_url(re.compile(r"/plans/\d+/$"))
    plan_id = int(office.url.rstrip("/").rsplit("/", 1)[1])
    plan = Plan.objects.get(pk=plan_id)
    assert plan.status == "draft" and plan.unit_id == "O1" and plan.version == 1
    body = office.inner_text("body")
    # every gap has its items, but C13's is beyond reach: a red cross, never a green tick
    assert "số hoạt động đủ bù trên giấy nhưng còn" in body
    assert "mọi chỉ tiêu còn thiếu đều được bù đắp" not in body
    assert "Tháng 2025-10" in body or "Tháng 10" in body
    shot(office, "02-plan-draft")
    n_items = PlanItem.objects.filter(plan=plan).count()
    assert n_items > 0

    # -- move an item to another month, change its lead and partners
    # the launch ceremony of C11 (one, in October) moves to November
    item = PlanItem.objects.get(plan=plan, unit_id="C11", channel="launch_ceremony")
    assert item.month == "2025-10"
    office.goto(f"{base}/plans/{plan_id}/items/{item.pk}/")
    shot(office, "03-plan-item-edit")
    target_month = "2025-11"
    office.select_option("select[name=month]", target_month)
    office.select_option("select[name=lead_org]", "veterans_association")
    office.check("input[name=coordinating_orgs][value=youth_union]")
    office.click("form button.primary")
    office.wait_for_load_state("networkidle")
    item.refresh_from_db()
    assert item.month == target_month and item.lead_org == "veterans_association"
    assert "youth_union" in item.coordinating_orgs
    shot(office, "04-plan-after-edit")

    # -- add an item
    office.goto(f"{base}/plans/{plan_id}/#add")
    office.select_option("#add ~ section select[name=unit]", "C12")
    office.select_option("#add ~ section select[name=month]", "2025-12")
    office.select_option("#add ~ section select[name=channel]", "booth")
    office.select_option("#add ~ section select[name=group]", "student")
    office.check("#add ~ section input[name=schemes][value=hi]")
    office.select_option("#add ~ section select[name=lead_org]", "youth_union")
    office.check("#add ~ section input[name=coordinating_orgs][value=school]")
    office.fill("#add ~ section input[name=sessions]", "2")
    office.click("#add ~ section button.primary")
    office.wait_for_load_state("networkidle")
    assert "Đã thêm hoạt động" in office.inner_text("body")
    added = PlanItem.objects.get(plan=plan, unit_id="C12", month="2025-12", channel="booth")
    assert added.lead_org == "youth_union" and added.sessions == 2 and added.cost == 16_000_000

    # -- remove one
    victim = PlanItem.objects.filter(plan=plan).exclude(pk__in=[item.pk, added.pk]).first()
    assert victim is not None
    office.click(f"form[action$='/items/{victim.pk}/delete/'] button")
    office.wait_for_load_state("networkidle")
    assert "Đã xóa hoạt động" in office.inner_text("body")
    assert not PlanItem.objects.filter(pk=victim.pk).exists()
    shot(office, "05-plan-edited")

    # -- calendar view of the office's plan
    office.goto(f"{base}/plans/{plan_id}/calendar/")
    assert "2025-12" in office.inner_text("body") or "12/2025" in office.inner_text("body")
    shot(office, "06-plan-calendar")

    # -- submit
    office.goto(f"{base}/plans/{plan_id}/")
    office.click(f"form[action$='/plans/{plan_id}/submit/'] button")
    office.wait_for_load_state("networkidle")
    assert _status(plan_id) == "submitted"
    assert office.locator(f"form[action$='/items/{item.pk}/delete/']").count() == 0
    shot(office, "07-plan-submitted")

    # -- the province returns it with a comment
    prov = _new_page(browser, base)
    _login(prov, base, "tinh")
    prov.goto(f"{base}/plans/")
    shot(prov, "08-plan-list-province")
    prov.goto(f"{base}/plans/{plan_id}/")
    prov.fill("textarea[name=comment]", "Bổ sung hội nghị cho học sinh tại Phường Bắc Nha Trang.")
    prov.click(f"form[action$='/plans/{plan_id}/return/'] button")
    prov.wait_for_load_state("networkidle")
    assert _status(plan_id) == "returned"
    shot(prov, "09-plan-returned")

    # -- the office sees the comment and resubmits
    office.goto(f"{base}/plans/{plan_id}/")
    assert "Bổ sung hội nghị cho học sinh" in office.inner_text("body")
    shot(office, "10-plan-returned-office")
    office.click(f"form[action$='/plans/{plan_id}/submit/'] button")
    office.wait_for_load_state("networkidle")
    assert _status(plan_id) == "submitted"

    # -- the province approves: locked, a new version is the way to change it
    prov.goto(f"{base}/plans/{plan_id}/")
    # the plan carries a warning (C13's gap is beyond reach): approving asks to confirm it
    prov.check("input[name=confirm_warnings]")
    prov.click(f"form[action$='/plans/{plan_id}/approve/'] button")
    prov.wait_for_load_state("networkidle")
    assert _status(plan_id) == "approved"
    text = prov.inner_text("body")
    assert "đã được duyệt và khóa" in text
    shot(prov, "11-plan-approved")
    office.goto(f"{base}/plans/{plan_id}/")
    assert office.locator("#add").count() == 0  # no editing an approved plan
    office.click(f"form[action$='/plans/{plan_id}/new-version/'] button")
    office.wait_for_url(re.compile(r"/plans/\d+/$"))
    v2 = Plan.objects.get(unit_id="O1", year=2025, version=2)
    assert v2.status == "draft" and v2.items.count() == plan.items.count()
    assert _status(plan_id) == "approved"
    shot(office, "12-plan-version-2")

    # -- the funnel page (office)
    office.goto(f"{base}/funnel/?from=2025-01-01&to={dt.date.today().isoformat()}")
    shot(office, "13-funnel-office")
    assert office.js_errors == []
    assert prov.js_errors == []

    # -- a partner records an activity on its phone
    phone = _new_page(browser, base, phone=True)
    _login(phone, base, "phunu")
    phone.goto(f"{base}/activities/")
    listed = phone.inner_text("body")
    assert "HD-TN-1" not in listed and "HD-ND-1" not in listed  # not its own
    shot(phone, "14-partner-activities-empty")
    phone.goto(f"{base}/activities/new/")
    shot(phone, "15-partner-activity-form")
    # the form fits the phone: nothing wider than the screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    phone.select_option("select[name=unit]", "C11")
    phone.fill("input[name=date]", dt.date.today().isoformat())
    phone.select_option("select[name=channel]", "small_group")
    assert phone.input_value("select[name=lead_org]") == "womens_union"
    phone.select_option("select[name=group]", "freelancer")
    phone.fill("input[name=reach]", "5")
    phone.fill("input[name=registrations]", "2")
    phone.fill("input[name=cost]", "300000")
    phone.click("form button.primary")
    phone.wait_for_load_state("networkidle")
    # the same commune, group and channel within 7 days under another lead: a warning
    warning = phone.locator("#duplicate-warning")
    assert warning.is_visible()
    assert "Hội Nông dân" in warning.inner_text()  # who to coordinate with
    assert warning.locator("a").count() == 0  # no link to a record the partner cannot open
    shot(phone, "16-partner-duplicate-warning")
    assert not Activity.objects.filter(lead_org="womens_union").exists()
    phone.check("input[name=confirm_duplicate]")
    phone.click("form button.primary")
    phone.wait_for_load_state("networkidle")
    mine = Activity.objects.get(lead_org="womens_union")
    assert mine.unit_id == "C11" and mine.reach == 5 and mine.registrations == 2
    assert mine.created_by.username == "phunu"
    shot(phone, "17-partner-activity-saved")
    phone.goto(f"{base}/activities/")
    listed = phone.inner_text("body")
    assert mine.code in listed and "HD-TN-1" not in listed and "HD-ND-1" not in listed
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    shot(phone, "18-partner-activities")
    # another organisation's activity is a 404 for the partner
    resp = phone.goto(f"{base}/activities/HD-TN-1/")
    assert resp is not None and resp.status == 404
    assert phone.js_errors == []
