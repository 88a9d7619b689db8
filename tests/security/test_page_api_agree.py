"""The one door (``accounts.access``, issue 15): a viewer and a partner see the same cells on a
page as the API answers for it (small counts as ``<5`` in the same places), and an access
decision asked without an actor is refused, never answered with "everything"."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client

from tests.api.factories import build_world

AS_OF = "2025-06-30"
SCHEMES = ("si_compulsory", "si_voluntary", "ui", "hi")


@pytest.fixture
def world(db):
    from ansinh.accounts.models import User
    from ansinh.outreach.models import Activity
    from ansinh.registry.models import Person, Spell

    w = build_world(tokens=True)
    # C2: 7 hi participants (shown), C1: 1 (hidden); A1 has counts of 1 to 4, A2 of 5 and more
    for i in range(7):
        p = Person.objects.create(person_id=f"Q{i}")
        Spell.objects.create(
            person=p, scheme="hi", group="household", unit_id="C2", start_date=dt.date(2025, 1, 1)
        )
    Activity.objects.filter(code="A1").update(
        planned_reach=40, reach=3, leads=4, registrations=2, vssid_installs=1, cost=900_000
    )
    Activity.objects.filter(code="A2").update(reach=60, registrations=12, cost=1_500_000)
    # a viewer and a partner of office O1, so that the pages have communes below them
    User.objects.filter(username__in=["viewer", "partner"]).update(unit_id="O1")
    return w


def as_user(world, who: str) -> Client:
    from ansinh.accounts.models import User

    c = Client()
    c.force_login(User.objects.get(username=who))
    return c


def shown(value) -> str:
    """How a page writes a person count of the JSON (Vietnamese number forms)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,}".replace(",", ".")


def kpi_cells(body: str) -> dict[str, str]:
    """The dashboard's cells marked ``data-kpi="KEY"``, as text."""
    return {
        k: html.unescape(re.sub(r"<[^>]+>", "", v)).strip()
        for k, v in re.findall(r'data-kpi="([^"]+)"[^>]*>(.*?)</', body, re.S)
    }


@pytest.mark.parametrize("who", ["viewer", "partner"])
def test_dashboard_and_api_kpi_agree_cell_for_cell(world, who):
    c = as_user(world, who)
    page = c.get(f"/?as_of={AS_OF}&scheme=hi")
    assert page.status_code == 200
    cells = kpi_cells(page.content.decode())
    head = c.get(f"/api/kpi?as_of={AS_OF}&unit=O1").json()
    by_unit = c.get(f"/api/kpi?as_of={AS_OF}&unit=O1&by=unit").json()
    compared = 0
    for i in head["indicators"]:
        key = f"{i['code']}.participants"
        if key in cells:
            assert cells[key] == shown(i["participants"]), (who, key)
            compared += 1
    for row in by_unit["rows"]:
        for i in row["indicators"]:
            key = f"{row['unit']}.{i['code']}.participants"
            if key in cells:
                assert cells[key] == shown(i["participants"]), (who, key)
                compared += 1
    assert compared >= 2
    # the communes' hi cells: C1 (1 person) hidden, C2 (7) shown, on both
    assert cells["C1.hi.participants"] == "<5"
    assert cells["C2.hi.participants"] == "7"


@pytest.mark.parametrize("who", ["viewer", "partner"])
def test_activity_list_and_api_agree_cell_for_cell(world, who):
    c = as_user(world, who)
    api = {a["code"]: a for a in c.get("/api/activities").json()["items"]}
    body = c.get("/activities/").content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    seen = 0
    for tr in rows:
        tds = [
            html.unescape(re.sub(r"<[^>]+>", "", t)).strip()
            for t in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        if len(tds) < 10 or tds[1] not in api:
            continue
        a = api[tds[1]]
        assert tds[6] == shown(a["reach"]), (who, tds[1], "reach")
        assert tds[8] == shown(a["registrations"]), (who, tds[1], "registrations")
        seen += 1
    assert seen == len(api) >= 1
    if "A1" in api:
        assert (api["A1"]["reach"], api["A1"]["registrations"]) == ("<5", "<5")


def test_funnel_page_and_api_hide_the_same_cells_for_a_partner_of_an_office(world):
    c = as_user(world, "partner")
    api = c.get("/api/funnel?from=2025-01-01&to=2025-12-31&unit=O1&by=channel").json()
    row = next(r for r in api["rows"] if r["key"] == "small_group")
    assert (row["reach"], row["registrations_reported"]) == ("<5", "<5")
    body = c.get("/funnel/?from=2025-01-01&to=2025-12-31&unit=O1").content.decode()
    assert ">3<" not in body.replace(" ", "") and "&lt;5" in body


def test_no_actor_is_refused_never_everything(world):
    from ansinh.accounts import access
    from ansinh.arrears.figures import arrears
    from ansinh.geography.models import Unit
    from ansinh.monitoring.selectors import kpi_figures
    from ansinh.outreach.activities.selectors import scoped_activities
    from ansinh.outreach.funnel import funnel
    from ansinh.registry.selectors import person_get

    kh = Unit.objects.get(code="KH")
    day = dt.date(2025, 6, 30)
    refused = [
        lambda: access.allowed_units(None),
        lambda: access.may(None, "see_people"),
        lambda: access.unit_visible(actor=None, code="KH"),
        lambda: access.import_scope(None),
        lambda: access.suppress_cells({"reach": 3}, actor=None, kind="activity"),
        lambda: scoped_activities(None),
        lambda: kpi_figures(unit=kh, as_of=day, actor=None),
        lambda: arrears(unit=kh, as_of=day, actor=None),
        lambda: funnel(unit=kh, date_from=day, date_to=day, actor=None),
        lambda: person_get(actor=None, person_id="P1"),
    ]
    for call in refused:
        with pytest.raises(TypeError):
            call()
    # forgetting the actor altogether is refused by the signature
    with pytest.raises(TypeError):
        kpi_figures(unit=kh, as_of=day)  # type: ignore[call-arg]
    # the explicit system actor sees everything; an anonymous visitor nothing
    from django.contrib.auth.models import AnonymousUser

    assert access.allowed_units(access.SYSTEM).count() == Unit.objects.count()
    assert not access.allowed_units(AnonymousUser()).exists()


def test_every_role_has_one_line_in_the_permissions_table():
    from ansinh.accounts.access import PERMISSIONS, may
    from ansinh.accounts.models import User

    assert set(PERMISSIONS) == set(User.Role.values)
    viewer = User(role=User.Role.VIEWER)
    assert may(viewer, "see_arrears") and not may(viewer, "see_small_cells")
