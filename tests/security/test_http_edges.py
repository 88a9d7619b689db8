"""Edges an attacker probed (issue 21): anonymous API calls of any method answer 401, the API
docs page has a Content-Security-Policy, and every view of an attendee list is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.factories import build_world


@pytest.fixture
def world(db):
    return build_world(tokens=True)


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/imports/units", "/api/kpi", "/api/people/P1"])
def test_anonymous_api_calls_answer_401_whatever_the_method(world, method, url):
    c = Client(enforce_csrf_checks=True)
    r = getattr(c, method)(url)
    if r.status_code == 405:  # the route has no such method: nothing to authenticate
        return
    assert r.status_code == 401, (method, url, r.status_code, r.content[:100])
    assert r.json() == {"detail": "Unauthorized"}


def test_session_writes_still_need_csrf(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["admin"])
    r = c.post("/api/imports/units", {"file": b""})
    assert r.status_code == 403


def test_api_docs_page_has_a_csp(world):
    r = Client().get("/api/docs/")
    assert r.status_code == 200
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp


def test_attendee_list_views_are_audited(world):
    from ansinh.core.models import AuditEvent

    c = Client()
    c.force_login(world.users["off1"])
    assert c.get("/activities/A1/").status_code == 200
    assert AuditEvent.objects.filter(action="attendee.view", object_id="A1").count() == 1
    assert c.get("/activities/A1/?unmask=1").status_code == 200
    assert AuditEvent.objects.filter(action="attendee.unmask", object_id="A1").count() == 1


def test_check_deploy_is_clean_under_the_deploy_settings(tmp_path):
    """docs/deploy.md's production settings pass Django's deployment checklist."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "ANSINH_HOME": str(tmp_path),
        "ANSINH_SECRET_KEY": "k" * 20 + "-Xq9vT2mLp8RzW4nB6cY1hJ5sD3fG7aE0uI",
        "ANSINH_ALLOWED_HOSTS": "bhxh.example.vn",
        "ANSINH_HTTPS": "1",
    }
    env.pop("ANSINH_DATABASE_URL", None)
    # the browser tests' conftest allows sync database calls from Playwright's event loop;
    # Django's deploy check warns of that setting, which a deployment never has
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
