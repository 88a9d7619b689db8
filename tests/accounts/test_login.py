"""Login hardening: the login form (CSRF), lockout after 5 failures with a Vietnamese page,
password validators, session cookie and security headers."""

from __future__ import annotations

import io
import sys

import pytest
from django.test import Client

from tests.api.factories import PASSWORD, build_world


@pytest.fixture
def world(db):
    return build_world()


def csrf_client() -> tuple[Client, str]:
    c = Client(enforce_csrf_checks=True)
    r = c.get("/login/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    return c, c.cookies["csrftoken"].value


def test_login_form_with_csrf(world):
    c, token = csrf_client()
    r = c.post("/login/", {"username": "off1", "password": PASSWORD})
    assert r.status_code == 403  # no CSRF token
    r = c.post("/login/", {"username": "off1", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and r["Location"] == "/"
    cookie = c.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    r = c.get("/api/kpi?as_of=2025-06-30")
    assert r.status_code == 200 and r.json()["unit"] == "O1"


def test_session_api_write_needs_csrf(world):
    c, token = csrf_client()
    c.post("/login/", {"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": token})
    r = c.post("/api/imports/units", {})
    assert r.status_code == 403  # the session may not write without the CSRF token


def test_wrong_password_shows_vietnamese_error(world):
    c = Client()
    r = c.post("/login/", {"username": "off1", "password": "sai-mat-khau"})
    assert r.status_code == 200
    assert "không đúng" in r.content.decode()


def test_lockout_after_five_failures(world):
    c = Client()
    for _ in range(4):
        r = c.post("/login/", {"username": "off1", "password": "sai-mat-khau"})
        assert r.status_code == 200
    # the 5th failure locks, and the page says exactly that
    r = c.post("/login/", {"username": "off1", "password": "sai-mat-khau"})
    assert r.status_code == 429
    assert "đăng nhập sai 5 lần liên tiếp" in r.content.decode()
    # locked out: even the right password is refused, with a clear page, not a 500
    r = c.post("/login/", {"username": "off1", "password": PASSWORD})
    assert r.status_code == 429
    html = r.content.decode()
    assert "tạm thời bị khóa" in html
    assert 'name="username"' in html
    assert "_auth_user_id" not in c.session


def test_lockout_is_per_username_and_ip(world):
    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "off1", "password": "sai"})
    other = Client(REMOTE_ADDR="10.0.0.9")
    r = other.post("/login/", {"username": "off2", "password": PASSWORD})
    assert r.status_code == 302


def test_password_validators_refuse_weak_passwords(cli, monkeypatch, world):
    from ansinh.geography.models import Unit

    assert Unit.objects.filter(code="O1").exists()
    for weak in ["123", "password", "12345678901"]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(weak + "\n"))
        r = cli("user", "add", "weak", "--role", "office", "--unit", "O1", "--password-stdin")
        assert r.code == 1, weak
        assert r.err.strip() and "Traceback" not in r.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("Mot-Mat-Khau-Dai-2025\n"))
    r = cli("user", "add", "strong", "--role", "office", "--unit", "O1", "--password-stdin")
    assert r.code == 0, r.err


def test_security_headers_and_session_settings(world, settings):
    c = Client()
    c.force_login(world.users["admin"])
    r = c.get("/people/P1/")
    assert r.status_code == 200
    assert "script-src 'self'" in r["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


def test_hsts_behind_https_proxy(world, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    c = Client()
    r = c.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")


def test_behind_proxy_lockout_uses_forwarded_address(world, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    attacker = Client(HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_X_FORWARDED_PROTO="https")
    for _ in range(5):
        attacker.post("/login/", {"username": "off2", "password": "x"})
    r = attacker.post("/login/", {"username": "off2", "password": PASSWORD})
    assert r.status_code == 429  # that name from that address is locked
    colleague = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", HTTP_X_FORWARDED_PROTO="https")
    r = colleague.post("/login/", {"username": "off2", "password": PASSWORD})
    assert r.status_code == 302  # same proxy, another client: not locked out


def test_lockout_cannot_be_used_as_a_weapon(world, settings):
    """Five failures lock one (username, address) pair: not every user behind the address
    (an office's shared NAT), and not a known name from everywhere (issue 21)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    office = Client(HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_X_FORWARDED_PROTO="https")
    for i in range(5):
        office.post("/login/", {"username": f"guess{i}", "password": "x"})
    assert office.post("/login/", {"username": "off2", "password": PASSWORD}).status_code == 302
    anywhere = Client(HTTP_X_FORWARDED_FOR="192.0.2.77", HTTP_X_FORWARDED_PROTO="https")
    for _ in range(5):
        anywhere.post("/login/", {"username": "off1", "password": "x"})
    home = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", HTTP_X_FORWARDED_PROTO="https")
    assert home.post("/login/", {"username": "off1", "password": PASSWORD}).status_code == 302


def test_unit_in_scope_agrees_with_allowed_units(world):
    """The query-free check the breadcrumbs use answers as the access door does, for every
    role and unit (a partner has no unit: nothing)."""
    from ansinh.accounts.access import SYSTEM, allowed_unit_ids, unit_in_scope
    from ansinh.geography.models import Unit

    units = list(Unit.objects.all())
    for name, user in world.users.items():
        allowed = allowed_unit_ids(user)
        got = {u.code for u in units if unit_in_scope(actor=user, unit=u)}
        assert got == allowed, name
    assert all(unit_in_scope(actor=SYSTEM, unit=u) for u in units)
