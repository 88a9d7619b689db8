"""The audit page (issue 7): admins only, filterable, exportable as CSV (the export is itself
audited), read-only; the unmask flow of the person page writes the row it shows; logout and
the login page's notes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.factories import PASSWORD, build_world


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return build_world()


def _client(world, name: str) -> Client:
    c = Client()
    c.force_login(world.users[name])
    return c


def test_unmask_writes_the_row_the_audit_page_shows(world) -> None:
    from ansinh.core.models import AuditEvent

    office = _client(world, "off1")
    r = office.get("/people/P1/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "Ng*** V** A" in body and "Nguyễn Văn An" not in body
    assert "14/03/1985" not in body  # masked birth date
    before = AuditEvent.objects.filter(action__startswith="person").count()
    r = office.get("/people/P1/?unmask=1", REMOTE_ADDR="10.1.2.3")
    body = r.content.decode()
    assert "Nguyễn Văn An" in body and "14/03/1985" in body and "Nam" in body
    assert "01/01/2025" in body  # spell dates in the Vietnamese format
    rows = AuditEvent.objects.filter(action__startswith="person").order_by("-id")
    assert rows.count() == before + 1
    row = rows.first()
    assert (row.actor_name, row.object_id, row.ip) == ("off1", "P1", "10.1.2.3")

    admin = _client(world, "admin")
    page = admin.get("/audit/", {"actor": "off1", "object_id": "P1"}).content.decode()
    assert row.action in page and "10.1.2.3" in page
    assert "off1" in page
    # a filter that matches nothing says so
    empty = admin.get("/audit/", {"actor": "off1", "object_type": "nothing-like-this"})
    assert "Không có dòng nào khớp với bộ lọc." in empty.content.decode()


def test_audit_page_filters_dates_and_pages(world) -> None:
    from ansinh.core.models import AuditEvent
    from ansinh.core.services import audit_record

    for i in range(130):
        audit_record(actor=world.users["prov"], action="test.bulk", object_id=str(i))
    old = audit_record(actor=world.users["prov"], action="test.old", object_id="x")
    AuditEvent.objects.filter(pk=old.pk).update(at=old.at - dt.timedelta(days=40))
    admin = _client(world, "admin")
    r = admin.get("/audit/", {"action": "test."})
    body = r.content.decode()
    assert "131 dòng" in body and "trang 1/2" in body
    assert 'rel="next"' in body and "action=test." in body
    r2 = admin.get("/audit/", {"action": "test.", "page": 2}).content.decode()
    assert r2.count("<code>test.") == 31
    day = timezone.localtime(old.at - dt.timedelta(days=40)).date()
    r3 = admin.get("/audit/", {"from": day.isoformat(), "to": day.isoformat()}).content.decode()
    assert "<code>test.old" in r3 and "<code>test.bulk" not in r3
    bad = admin.get("/audit/", {"from": "2025-13-01"})
    assert bad.status_code == 200 and "Ngày không hợp lệ: 2025-13-01" in bad.content.decode()


def test_audit_export_csv_is_filtered_and_audited(world) -> None:
    from ansinh.core.models import AuditEvent

    office = _client(world, "off1")
    office.get("/people/P1/?unmask=1")
    admin = _client(world, "admin")
    r = admin.get("/audit/", {"actor": "off1", "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {row["actor"] for row in rows} == {"off1"}
    assert any(row["object_id"] == "P1" for row in rows)
    assert rows[0].keys() == {
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "ip",
        "before",
        "after",
    }
    export = AuditEvent.objects.filter(action="audit.export").get()
    assert export.actor_name == "admin" and export.after == {"actor_name": "off1"}
    for row in rows:
        if row["after"]:
            json.loads(row["after"])


@pytest.mark.parametrize("name", ["prov", "off1", "partner", "viewer"])
def test_audit_page_and_export_are_admin_only(world, name) -> None:
    c = _client(world, name)
    assert c.get("/audit/").status_code == 404
    assert c.get("/audit/", {"format": "csv"}).status_code == 404
    assert "/audit/" not in c.get("/").content.decode()


def test_audit_rows_cannot_be_changed_through_the_app(world) -> None:
    from ansinh.core.models import AuditEvent, AuditImmutableError

    admin = _client(world, "admin")
    row = AuditEvent.objects.first()
    assert row is not None
    row.action = "forged"
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()
    assert AuditEvent.objects.filter(action="forged").count() == 0
    # the page has no form that writes: POST is not a way in either
    body = admin.get("/audit/").content.decode()
    assert 'method="post"' not in body.split("<main>")[1]
    assert admin.post("/audit/", {"action": "x"}).status_code in {200, 405}
    assert AuditEvent.objects.filter(action="x").count() == 0


def test_logout_and_login_notes(world) -> None:
    c = Client()
    r = c.get("/units/C1/")
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=")
    page = c.get(r["Location"]).content.decode()
    assert "Vui lòng đăng nhập để tiếp tục" in page and "8 giờ" in page
    r = c.post("/login/", {"username": "off1", "password": PASSWORD})
    assert r.status_code == 302
    r = c.post("/logout/", follow=True)
    assert r.redirect_chain[-1][0] == "/login/"
    assert "Bạn đã đăng xuất." in r.content.decode()
    assert c.get("/").status_code == 302  # the session is gone
