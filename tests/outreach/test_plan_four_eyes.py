"""Four eyes on a plan (SPEC section 6): approved by an admin or province user other than the
submitter; approving over warnings needs a confirmation the audit records; returning needs a
reason; the check is never green while a warning stands; warnings and notes in plain words."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent
from ansinh.outreach.models import Plan
from tests.outreach.plan_fixtures import make_data

pytestmark = pytest.mark.django_db


def login(role: str, unit: str | None, name: str) -> Client:
    user = User.objects.create(username=name, role=role, unit_id=unit)
    c = Client()
    c.force_login(user)
    return c


def _draft(c: Client, unit: str) -> Plan:
    r = c.post("/plans/new/", {"unit": unit, "year": "2025", "as_of": "2025-09-30"})
    assert r.status_code == 302, r.content.decode()[:2000]
    return Plan.objects.latest("pk")


def test_the_submitter_never_approves_and_warnings_need_a_confirmation() -> None:
    make_data()
    prov, other, admin = (
        login("province", "KH", "prov"),
        login("province", "KH", "prov2"),
        login("admin", None, "root"),
    )
    plan = _draft(prov, "O1")
    assert plan.warnings  # C13's gap is beyond what the channels reach
    assert prov.post(f"/plans/{plan.pk}/submit/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "submitted" and plan.submitted_by is not None
    # the submitter: no approve button, a word on why, and a refusal if posted anyway
    html = prov.get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="approve-form"' not in html and 'id="four-eyes"' in html
    r = prov.post(f"/plans/{plan.pk}/approve/", {"confirm_warnings": "1"})
    assert r.status_code == 403 and "bốn mắt" in r.content.decode()
    plan.refresh_from_db()
    assert plan.status == "submitted"
    # another province user sees the button, with the confirmation box for the warnings
    html = other.get(f"/plans/{plan.pk}/").content.decode()
    assert 'id="approve-form"' in html and 'name="confirm_warnings"' in html
    r = other.post(f"/plans/{plan.pk}/approve/")
    assert r.status_code == 409 and "cảnh báo" in r.content.decode()
    plan.refresh_from_db()
    assert plan.status == "submitted"
    # returning needs a reason
    assert admin.post(f"/plans/{plan.pk}/return/", {"comment": "  "}).status_code == 400
    r = other.post(f"/plans/{plan.pk}/approve/", {"confirm_warnings": "1", "comment": "Đồng ý"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "approved" and plan.decided_by.username == "prov2"
    event = AuditEvent.objects.get(action="plan.approve", object_id=str(plan.pk))
    assert event.after["warnings_confirmed"] == len(plan.warnings)


def test_admin_approves_a_plan_without_warnings_with_no_question() -> None:
    make_data({"C21": {"si_compulsory": (300, 299), "si_voluntary": (60, 57)}})
    office, admin = login("office", "O2", "o2"), login("admin", None, "root")
    plan = _draft(office, "O2")
    assert not plan.warnings
    html = office.get(f"/plans/{plan.pk}/").content.decode()
    assert "mọi chỉ tiêu còn thiếu đều được bù đắp" in html  # green: covered, no warning
    office.post(f"/plans/{plan.pk}/submit/")
    assert admin.post(f"/plans/{plan.pk}/approve/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "approved"
    event = AuditEvent.objects.get(action="plan.approve", object_id=str(plan.pk))
    assert "warnings_confirmed" not in event.after


def test_warnings_name_the_commune_and_the_note_is_shown_and_exported() -> None:
    make_data()
    office = login("office", "O1", "o1")
    plan = _draft(office, "O1")
    html = office.get(f"/plans/{plan.pk}/").content.decode()
    assert "✗" in html and "cảnh báo: xem bên dưới" in html
    assert 'data-warned="C13.hi"' in html  # the commune's cell says it too, never a tick
    warnings = html.split('id="warnings"', 1)[1].split("</ul>", 1)[0]
    assert "Xã Nam Nha Trang (C13)" in warnings
    assert "buổi mỗi tuần" in warnings and "Bảo hiểm y tế" in warnings
    assert "needs" not in warnings  # plain words, not the machine text
    item = plan.items.first()
    assert item is not None
    r = office.post(
        f"/plans/{plan.pk}/items/{item.pk}/",
        {
            "month": item.month,
            "lead_org": item.lead_org,
            "sessions": str(item.sessions),
            "note": "Mượn hội trường UBND xã",
        },
    )
    assert r.status_code == 302, r.content.decode()[:1500]
    assert "Mượn hội trường UBND xã" in office.get(f"/plans/{plan.pk}/").content.decode()
    xlsx = office.get(f"/plans/{plan.pk}/export.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    assert "Mượn hội trường UBND xã" in cells and "Ghi chú" in cells
    docx = office.get(f"/plans/{plan.pk}/export.docx")
    assert docx.status_code == 200
    from docx import Document

    text = "\n".join(
        cell.text
        for t in Document(io.BytesIO(docx.content)).tables
        for r in t.rows
        for cell in r.cells
    )
    assert "Mượn hội trường UBND xã" in text
