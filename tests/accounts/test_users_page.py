"""Users on the web (SPEC section 4): admins create logins, change role, unit or organisation,
deactivate, reset a password (the user must choose a new one at the next login) and lift a
lockout; everyone changes their own password through Django's validators; all audited; bad
input refused with nothing half-saved; anyone but an admin gets 404."""

from __future__ import annotations

import pytest
from django.test import Client

from ansinh.accounts.access import SYSTEM
from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent
from tests.api.factories import PASSWORD, build_world


@pytest.fixture
def world(db):
    return build_world()


def admin_client(world) -> Client:
    c = Client()
    c.force_login(world.users["admin"])
    return c


def new_user(c: Client, **over: str):
    data = {
        "username": "moi.nhatrang",
        "role": "office",
        "unit": "O1",
        "org": "",
        "password1": "Nha-Trang-Bien-2025",
        "password2": "Nha-Trang-Bien-2025",
        **over,
    }
    return c.post("/users/", data)


def test_only_admins_see_users(world) -> None:
    for name in ("prov", "off1", "viewer", "partner"):
        c = Client()
        c.force_login(world.users[name])
        assert c.get("/users/").status_code == 404, name
        assert c.post("/users/", {"username": "x"}).status_code == 404, name
        assert c.get(f"/users/{world.users['off1'].pk}/").status_code == 404, name
    c = admin_client(world)
    page = c.get("/users/").content.decode()
    assert 'data-user="off1"' in page and 'href="/users/' in page


def test_users_page_query_count(world, django_assert_max_num_queries) -> None:
    from ansinh.accounts.services import user_create

    for i in range(20):
        user_create(actor=SYSTEM, username=f"u{i}", role="viewer", unit_code="O1")
    c = admin_client(world)
    with django_assert_max_num_queries(12):
        page = c.get("/users/").content.decode()
    assert page.count("data-user=") == User.objects.count()


def test_create_refusals_then_create_and_first_login(world) -> None:
    c = admin_client(world)
    before = User.objects.count()
    # weak password: the validators' own messages, nothing saved
    r = new_user(c, password1="12345678", password2="12345678")
    html = r.content.decode()
    assert r.status_code == 400 and "quá phổ biến" in html
    r = new_user(c, password2="khac-han")
    assert r.status_code == 400 and "Hai lần nhập mật khẩu không khớp." in r.content.decode()
    r = new_user(c, unit="")  # an office login needs its unit
    assert r.status_code == 400 and "Vai trò này cần một đơn vị." in r.content.decode()
    r = new_user(c, role="partner", unit="")
    assert r.status_code == 400 and "cần chọn tổ chức" in r.content.decode()
    r = new_user(c, username="off1")
    assert r.status_code == 400 and "Tên đăng nhập “off1” đã có." in r.content.decode()
    assert User.objects.count() == before
    assert not AuditEvent.objects.filter(action="user.create", actor_name="admin").exists()

    r = new_user(c)
    assert r.status_code == 302
    user = User.objects.get(username="moi.nhatrang")
    assert (user.role, user.unit_id, user.must_change_password) == ("office", "O1", True)
    assert AuditEvent.objects.filter(
        action="user.create", actor_name="admin", object_id="moi.nhatrang"
    ).exists()

    # at first login every page leads to the password form until a new one is set
    u = Client()
    assert (
        u.post("/login/", {"username": "moi.nhatrang", "password": "Nha-Trang-Bien-2025"})[
            "Location"
        ]
        == "/"
    )
    r = u.get("/")
    assert r.status_code == 302 and r["Location"] == "/password/"
    assert "must-change" in u.get("/password/").content.decode()
    r = u.get("/api/kpi?unit=56&as_of=2025-09-30")  # the API through the session: held too
    assert r.status_code == 403 and "/password/" in r.json()["detail"]
    r = u.post(
        "/password/",
        {"old_password": "Nha-Trang-Bien-2025", "password1": "abc", "password2": "abc"},
    )
    assert r.status_code == 400 and "quá ngắn" in r.content.decode()
    r = u.post(
        "/password/",
        {
            "old_password": "Nha-Trang-Bien-2025",
            "password1": "Hon-Tre-Vinh-Xanh-7",
            "password2": "Hon-Tre-Vinh-Xanh-7",
        },
    )
    assert r.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Hon-Tre-Vinh-Xanh-7")
    assert u.get("/").status_code == 200  # still logged in, free to go
    assert u.get("/api/kpi?unit=56&as_of=2025-09-30").status_code != 403
    assert AuditEvent.objects.filter(action="user.change_password", actor_name="moi.nhatrang")


def test_change_role_unit_org_and_deactivate(world) -> None:
    c = admin_client(world)
    off1 = world.users["off1"]
    url = f"/users/{off1.pk}/"
    # a viewer without unit: refused, nothing changed
    r = c.post(url, {"action": "update", "role": "viewer", "unit": "", "org": ""})
    assert r.status_code == 400 and "Vai trò này cần một đơn vị." in r.content.decode()
    off1.refresh_from_db()
    assert (off1.role, off1.unit_id) == ("office", "O1")
    r = c.post(
        url, {"action": "update", "role": "viewer", "unit": "O2", "org": "", "is_active": "on"}
    )
    assert r.status_code == 302
    off1.refresh_from_db()
    assert (off1.role, off1.unit_id, off1.is_active) == ("viewer", "O2", True)
    event = AuditEvent.objects.get(action="user.update", object_id="off1")
    assert event.before["role"] == "office" and event.after["unit"] == "O2"
    r = c.post(
        url, {"action": "update", "role": "partner", "unit": "", "org": "youth_union"}
    )  # no is_active: deactivated
    assert r.status_code == 302
    off1.refresh_from_db()
    assert (off1.role, off1.org, off1.is_active) == ("partner", "youth_union", False)
    # a deactivated login can no longer sign in
    assert Client().post("/login/", {"username": "off1", "password": PASSWORD}).status_code == 200
    # an admin cannot lock themselves out
    me = world.users["admin"]
    r = c.post(f"/users/{me.pk}/", {"action": "update", "role": "viewer", "unit": "O1"})
    assert r.status_code == 400 and "Không thể tự bỏ vai trò quản trị" in r.content.decode()
    me.refresh_from_db()
    assert me.role == "admin" and me.is_active


def test_reset_password_and_unlock(world) -> None:
    c = admin_client(world)
    off2 = world.users["off2"]
    url = f"/users/{off2.pk}/"
    # five wrong passwords lock off2 out
    bad = Client()
    for _ in range(5):
        bad.post("/login/", {"username": "off2", "password": "sai"})
    assert bad.post("/login/", {"username": "off2", "password": PASSWORD}).status_code == 429
    page = c.get(url).content.decode()
    assert "Đang bị khóa tạm thời" in page
    # the admin lifts the lockout
    r = c.post(url, {"action": "unlock"}, follow=True)
    assert "Đã mở khóa đăng nhập của off2" in r.content.decode()
    assert AuditEvent.objects.filter(action="user.unlock", object_id="off2").exists()
    assert bad.post("/login/", {"username": "off2", "password": PASSWORD}).status_code == 302
    # a weak reset is refused with the validators' messages; the password stays
    r = c.post(url, {"action": "reset", "password1": "12345678", "password2": "12345678"})
    html = r.content.decode()
    assert r.status_code == 400 and "quá phổ biến" in html and "hoàn toàn là số" in html
    off2.refresh_from_db()
    assert off2.check_password(PASSWORD) and not off2.must_change_password
    r = c.post(
        url, {"action": "reset", "password1": "Cam-Ranh-Vinh-88", "password2": "Cam-Ranh-Vinh-88"}
    )
    assert r.status_code == 302
    off2.refresh_from_db()
    assert off2.check_password("Cam-Ranh-Vinh-88") and off2.must_change_password
    assert AuditEvent.objects.filter(action="user.reset_password", object_id="off2").exists()


def test_everyone_changes_their_own_password(world) -> None:
    c = Client()
    c.force_login(world.users["viewer"])
    r = c.post(
        "/password/",
        {"old_password": "sai", "password1": "Doc-Lech-Xa-99", "password2": "Doc-Lech-Xa-99"},
    )
    assert r.status_code == 400 and "Mật khẩu hiện tại không đúng." in r.content.decode()
    r = c.post(
        "/password/",
        {"old_password": PASSWORD, "password1": "Doc-Lech-Xa-99", "password2": "Doc-Lech-Xa-99"},
    )
    assert r.status_code == 302
    world.users["viewer"].refresh_from_db()
    assert world.users["viewer"].check_password("Doc-Lech-Xa-99")
