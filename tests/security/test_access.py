"""The access matrix: for each role, logged in over HTTP, another unit's records, people,
exports and API records answer 404 exactly like missing ones; a viewer sees no person data on
any page; anonymous pages redirect to /login/ and the API answers 401.

The matrix is collected from the URLs that exist (pages are written in parallel): an entry
whose route does not resolve is left out, so the test grows with the product."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from tests.api.factories import PASSWORD, build_world

PERSON_STRINGS = [
    "Nguyễn Văn An",
    "Ng*** V** A",
    "0901234578",
    "09******78",
    "Trần Thị Bình",
    "Tr*** T** B",
    "0912345699",
    "Lê Văn Cường",
    "0987654321",
    "HH123456",
]


@pytest.fixture
def world(db):
    from ansinh.arrears.models import Contribution, Employer
    from ansinh.outreach.models import Plan

    w = build_world(tokens=True)
    e1 = Employer.objects.create(code="E1", name="Công ty Một", unit_id="C1")
    Employer.objects.create(code="E3", name="Công ty Ba", unit_id="C3")
    Contribution.objects.create(employer=e1, period=dt.date(2025, 3, 1), amount_due=5_000_000)
    w.plan_c1 = Plan.objects.create(unit_id="C1", year=2025, as_of=dt.date(2025, 9, 30)).pk
    w.plan_c3 = Plan.objects.create(unit_id="C3", year=2025, as_of=dt.date(2025, 9, 30)).pk
    return w


def exists(url: str) -> bool:
    try:
        resolve(url.split("?")[0])
        return True
    except Resolver404:
        return False


def login(username: str) -> Client:
    """Log in over HTTP through the login form, CSRF enforced."""
    c = Client(enforce_csrf_checks=True)
    r = c.get("/login/")
    assert r.status_code == 200
    token = c.cookies["csrftoken"].value
    r = c.post(
        "/login/", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert r.status_code == 302, r.content[:300]
    return c


def foreign_pairs(world, who: str) -> list[tuple[str, str]]:
    """(a record outside ``who``'s scope, the same kind of record that does not exist)."""
    c1 = [
        ("/units/C1/", "/units/NOPE/"),
        ("/units/O1/", "/units/NOPE/"),
        ("/people/P1/", "/people/NOPE/"),
        ("/people/P1/?unmask=1", "/people/NOPE/?unmask=1"),
        ("/activities/A1/", "/activities/NOPE/"),
        ("/arrears/employers/E1/", "/arrears/employers/NOPE/"),
        (f"/plans/{world.plan_c1}/", "/plans/999999/"),
        (f"/plans/{world.plan_c1}/calendar/", "/plans/999999/calendar/"),
        (f"/plans/{world.plan_c1}/export.xlsx", "/plans/999999/export.xlsx"),
        ("/api/people/P1", "/api/people/NOPE"),
        ("/api/kpi?unit=C1&as_of=2025-06-30", "/api/kpi?unit=NOPE&as_of=2025-06-30"),
        ("/api/arrears?unit=C1&as_of=2025-06-30", "/api/arrears?unit=NOPE&as_of=2025-06-30"),
        ("/api/activities?unit=C1", "/api/activities?unit=NOPE"),
    ]
    c3 = [
        (
            a.replace("C1", "C3")
            .replace("O1", "O2")
            .replace("P1", "P2")
            .replace("A1", "A2")
            .replace("E1", "E3")
            .replace(str(world.plan_c1), str(world.plan_c3)),
            b,
        )
        for a, b in c1
    ]
    if who == "off2":
        return c1
    if who == "off1":
        return c3
    if who == "viewer":  # commune C1: not the office above it, not another commune, nobody
        return [p for p in c3 if "/people/" not in p[0]] + [
            ("/units/O1/", "/units/NOPE/"),
            ("/people/P1/", "/people/NOPE/"),
            ("/api/people/P1", "/api/people/NOPE"),
            ("/api/kpi?unit=O1&as_of=2025-06-30", "/api/kpi?unit=NOPE&as_of=2025-06-30"),
        ]
    if who == "partner":  # womens_union: leads A1 only
        return [
            ("/activities/A2/", "/activities/NOPE/"),
            ("/people/P1/", "/people/NOPE/"),
            ("/people/P2/", "/people/NOPE/"),
            ("/api/people/P1", "/api/people/NOPE"),
            ("/api/people/P2", "/api/people/NOPE"),
            ("/api/arrears?as_of=2025-06-30", "/api/arrears?unit=NOPE&as_of=2025-06-30"),
            ("/arrears/employers/E1/", "/arrears/employers/NOPE/"),
        ]
    return []


@pytest.mark.parametrize("who", ["off1", "off2", "viewer", "partner"])
def test_other_units_records_are_404_like_missing(world, who):
    c = login(who)
    pairs = [p for p in foreign_pairs(world, who) if exists(p[0])]
    assert len(pairs) >= 4
    for url, missing in pairs:
        r = c.get(url)
        m = c.get(missing)
        assert r.status_code == 404, (who, url, r.status_code)
        assert m.status_code == 404, (who, missing, m.status_code)
        if url.startswith("/api/"):
            assert r.json() == m.json()


@pytest.mark.parametrize("who", ["admin", "prov"])
def test_province_roles_see_every_unit(world, who):
    c = login(who)
    for url in [
        "/units/C1/",
        "/units/C3/",
        "/people/P1/",
        "/people/P2/",
        "/activities/A2/",
        "/arrears/employers/E3/",
    ]:
        if exists(url):
            assert c.get(url).status_code == 200, url


def test_office_sees_its_own_records(world):
    c = login("off1")
    for url in [
        "/units/O1/",
        "/units/C1/",
        "/people/P1/",
        "/activities/A1/",
        "/arrears/employers/E1/",
        "/api/people/P1",
    ]:
        if exists(url):
            assert c.get(url).status_code == 200, url


LIST_PAGES = [
    "/",
    "/units/C1/",
    "/activities/",
    "/activities/A1/",
    "/funnel/",
    "/arrears/",
    "/arrears/employers/E1/",
    "/arrears/review/",
    "/worklists/",
    "/worklists/export.csv",
    "/worklists/export.xlsx",
    "/plans/",
    "/campaigns/",
    "/reports/",
    "/imports/",
    "/audit/",
    "/api/activities",
    "/api/kpi?as_of=2025-06-30",
    "/api/funnel?from=2025-01-01&to=2025-12-31",
]


@pytest.mark.parametrize("who", ["viewer", "partner"])
def test_viewer_and_partner_get_no_person_data_anywhere(world, who):
    c = login(who)
    seen = 0
    for url in LIST_PAGES:
        if not exists(url):
            continue
        r = c.get(url)
        assert r.status_code < 500, (url, r.status_code)
        if r.status_code == 200:
            seen += 1
            body = r.content.decode("utf-8", errors="replace")
            for s in PERSON_STRINGS:
                if who == "partner" and s in {"Lê Văn Cường", "0987654321"}:
                    continue  # its own attendee, recorded by the partner itself
                assert s not in body, (who, url, s)
    assert seen >= 2


def test_anonymous_pages_redirect_to_login_and_api_401(world):
    c = Client()
    pages = [u for u in LIST_PAGES if not u.startswith("/api/")] + [
        "/people/P1/",
        f"/plans/{world.plan_c1}/",
        "/jobs/1/",
    ]
    checked = 0
    for url in pages:
        if not exists(url):
            continue
        r = c.get(url)
        assert r.status_code == 302, (url, r.status_code)
        assert r["Location"].startswith("/login/"), url
        checked += 1
    assert checked >= 3
    for url in ["/api/kpi", "/api/people/P1", "/api/units", "/api/jobs/1", "/api/arrears"]:
        r = c.get(url)
        assert r.status_code == 401 and r.json() == {"detail": "Unauthorized"}
    assert c.get("/healthz").status_code == 200
    assert c.get("/healthz").content == b"ok"


def test_unmasked_views_are_audited_masked_lists(world):
    from ansinh.core.models import AuditEvent

    c = login("off1")
    r = c.get("/people/P1/")
    assert "Ng*** V** A" in r.content.decode() and "09******78" in r.content.decode()
    n = AuditEvent.objects.filter(action="person.unmask").count()
    r = c.get("/people/P1/?unmask=1")
    assert "Nguyễn Văn An" in r.content.decode()
    ev = AuditEvent.objects.filter(action="person.unmask").order_by("-id").first()
    assert AuditEvent.objects.filter(action="person.unmask").count() == n + 1
    assert (ev.actor_name, ev.object_id, ev.ip) == ("off1", "P1", "127.0.0.1")
