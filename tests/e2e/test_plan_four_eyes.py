"""Four eyes in a real browser (SPEC section 6): the province user who submits a plan sees no
approve button; another one must tick the warnings' confirmation before the plan is approved;
returning a plan asks for a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent
from ansinh.geography.models import Unit
from ansinh.outreach.models import Plan
from ansinh.outreach.services import plan_create_draft
from tests.outreach.plan_fixtures import make_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Thu-nghiem-2025!"


def _user(name: str, role: str, unit: str | None) -> User:
    u = User(username=name, role=role, unit_id=unit)
    u.set_password(PASSWORD)
    u.save()
    return u


def _status(pk: int) -> str:
    return Plan.objects.get(pk=pk).status


def test_four_eyes_in_the_browser(page: Any, login: Any, browser: Any, live_server: Any) -> None:
    make_data()
    tinh = _user("tinh", "province", "KH")
    _user("tinh2", "province", "KH")
    plan = plan_create_draft(
        actor=tinh, unit=Unit.objects.get(code="KH"), year=2025, as_of=dt.date(2025, 9, 30)
    )
    assert plan.warnings
    base = live_server.url
    page.on("dialog", lambda d: d.accept())
    login(page, "tinh", PASSWORD)
    page.goto(f"{base}/plans/{plan.pk}/")
    assert "✗" in page.inner_text("#plan-check")  # never green while a warning stands
    assert "(C13)" in page.inner_text("ul.warnings")
    page.click(f"form[action$='/plans/{plan.pk}/submit/'] button")
    page.wait_for_load_state("networkidle")
    assert _status(plan.pk) == "submitted"
    assert page.locator("#approve-form").count() == 0
    assert "bốn mắt" in page.inner_text("#four-eyes")
    # another province user: the box must be ticked, the return needs a reason
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    other = ctx.new_page()
    login(other, "tinh2", PASSWORD)
    other.goto(f"{base}/plans/{plan.pk}/")
    other.click(f"form[action$='/plans/{plan.pk}/return/'] button")  # no reason: not sent
    other.click(f"form[action$='/plans/{plan.pk}/approve/'] button")  # box unticked: not sent
    other.wait_for_timeout(300)
    assert _status(plan.pk) == "submitted"
    other.check("input[name=confirm_warnings]")
    other.click(f"form[action$='/plans/{plan.pk}/approve/'] button")
    other.wait_for_load_state("networkidle")
    assert _status(plan.pk) == "approved"
    event = AuditEvent.objects.get(action="plan.approve", object_id=str(plan.pk))
    assert event.after["warnings_confirmed"] == len(plan.warnings)
    assert Plan.objects.get(pk=plan.pk).decided_by.username == "tinh2"
    ctx.close()
