"""Every link a role is shown opens: the header's navigation and, one level down, the links on
each of those pages (no 404 behind a link, no 500), for every role, through the HTTP client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.factories import build_world

HREF = re.compile(r'href="(/[^"#]*)"')
NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
MAIN = re.compile(r"<main>(.*?)</main>", re.S)
# the pages a role must find in its navigation (and nothing it cannot open)
EXPECTED = {
    "admin": {"/", "/imports/", "/plans/", "/activities/", "/funnel/", "/worklists/",
              "/arrears/", "/reports/", "/audit/"},
    "prov": {"/", "/imports/", "/plans/", "/activities/", "/funnel/", "/worklists/",
             "/arrears/", "/reports/"},
    "off1": {"/", "/imports/", "/plans/", "/activities/", "/funnel/", "/worklists/",
             "/arrears/", "/reports/"},
    "partner": {"/", "/activities/", "/funnel/"},
    "viewer": {"/", "/plans/", "/activities/", "/funnel/", "/arrears/", "/reports/"},
}  # fmt: skip


@pytest.fixture
def world(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_link_a_role_sees_opens(world, name) -> None:
    c = Client()
    c.force_login(world.users[name])
    home = c.get("/", follow=True)  # a partner without a unit lands on its activities
    assert home.status_code == 200
    nav = set(HREF.findall(NAV.search(home.content.decode()).group(1)))
    assert nav == EXPECTED[name]
    seen: dict[str, int] = {}
    if name == "partner":
        assert home.redirect_chain == [("/activities/", 302)]
    for page in sorted(nav):
        r = c.get(page, follow=True)
        assert r.status_code == 200, page
        for link in HREF.findall(MAIN.search(r.content.decode()).group(1)):
            link = link.replace("&amp;", "&")
            if link in seen or link.startswith("/static/"):
                continue
            seen[link] = c.get(link).status_code
    broken = {link: code for link, code in seen.items() if code not in {200, 302}}
    assert broken == {}, broken
