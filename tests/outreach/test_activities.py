"""Activity pages through the HTTP client: scoping, the form, duplicates, attendees, masking,
and the funnel page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from ansinh.accounts.models import User
from ansinh.core.models import AuditEvent
from ansinh.geography.models import Unit
from ansinh.outreach.models import Activity, Attendee, Plan, PlanItem
from ansinh.registry.models import Person, Spell

D = dt.date


def _unit(code: str, level: str, parent: Unit | None) -> Unit:
    path = (parent.path if parent else "") + code + "/"
    return Unit.objects.create(
        code=code,
        name=f"Xã {code}",
        level=level,
        parent=parent,
        path=path,
        depth=path.count("/") - 1,
    )


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    return make_world()


def make_world() -> dict[str, Any]:
    kh = _unit("KH", "province", None)
    o1 = _unit("O1", "office", kh)
    o2 = _unit("O2", "office", kh)
    c1 = _unit("C1", "commune", o1)
    _unit("C2", "commune", o1)
    c3 = _unit("C3", "commune", o2)
    Activity.objects.create(
        code="W1",
        unit=c1,
        channel="small_group",
        date=D(2025, 5, 10),
        lead_org="womens_union",
        group="freelancer",
        cost=2_000_000,
        reach=1234,
    )
    Activity.objects.create(
        code="S1",
        unit=c1,
        channel="conference",
        date=D(2025, 5, 12),
        lead_org="si_office",
        coordinating_orgs=["womens_union", "youth_union"],
    )
    Activity.objects.create(
        code="Y3", unit=c3, channel="conference", date=D(2025, 5, 12), lead_org="youth_union"
    )
    for i, pid in enumerate(["012345678901", "012345678902", "012345678903"]):
        Attendee.objects.create(
            activity_id="W1", person_id=pid, full_name=f"Nguyễn Văn An{i}", phone="0912345678"
        )
        Person.objects.create(person_id=pid)
        Spell.objects.create(
            person_id=pid,
            scheme="si_voluntary",
            group="freelancer",
            unit=c1,
            start_date=D(2025, 6, 1),
        )
    Attendee.objects.create(activity_id="S1", person_id="099999999999", full_name="Trần Thị Bình")

    def user(name: str, role: str, unit: Unit | None = None, org: str = "") -> User:
        # no password: force_login needs none, and hashing would slow every test
        return User.objects.create(username=name, role=role, unit=unit, org=org)

    return {
        "admin": user("admin", "admin"),
        "office": user("o1", "office", o1),
        "office2": user("o2", "office", o2),
        "viewer": user("v1", "viewer", o1),
        "women": user("women", "partner", None, "womens_union"),
        "youth": user("youth", "partner", None, "youth_union"),
        "farmers": user("farmers", "partner", None, "farmers_association"),
    }


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_pages_need_login(world: dict[str, Any], client: Client) -> None:
    for url in ("/activities/", "/activities/new/", "/activities/W1/", "/funnel/"):
        res = client.get(url)
        assert res.status_code == 302 and res["Location"].startswith("/login/")


def test_list_scoping(world: dict[str, Any], client: Client) -> None:
    def codes(user: User, query: str = "") -> set[str]:
        login(client, user)
        res = client.get("/activities/" + query)
        assert res.status_code == 200
        return {a.code for a in res.context["activities"]}

    assert codes(world["admin"]) == {"W1", "S1", "Y3"}
    assert codes(world["office"]) == {"W1", "S1"}
    assert codes(world["office2"]) == {"Y3"}
    assert codes(world["viewer"]) == {"W1", "S1"}
    assert codes(world["women"]) == {"W1", "S1"}  # leads W1, coordinates S1
    assert codes(world["youth"]) == {"S1", "Y3"}
    assert codes(world["farmers"]) == set()
    assert codes(world["admin"], "?channel=conference") == {"S1", "Y3"}
    assert codes(world["admin"], "?from=2025-05-11&to=2025-05-31") == {"S1", "Y3"}
    assert codes(world["admin"], "?unit=O2") == {"Y3"}
    login(client, world["office"])
    assert client.get("/activities/?unit=O2").status_code == 404  # another office's unit


def test_list_query_count(
    world: dict[str, Any], client: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        Activity.objects.create(
            code=f"B{i}", unit_id="C2", channel="booth", date=D(2025, 7, 1), lead_org="si_office"
        )
    login(client, world["office"])
    with django_assert_max_num_queries(6):
        res = client.get("/activities/")
    assert res.status_code == 200 and len(res.context["activities"]) == 22
    assert "1.234" in res.content.decode()  # reach of W1, Vietnamese thousands


def test_detail_scoping_404(world: dict[str, Any], client: Client) -> None:
    login(client, world["farmers"])
    assert client.get("/activities/W1/").status_code == 404
    assert client.get("/activities/NOPE/").status_code == 404
    login(client, world["youth"])
    assert client.get("/activities/W1/").status_code == 404  # another org's activity
    assert client.get("/activities/Y3/").status_code == 200
    login(client, world["office2"])
    assert client.get("/activities/W1/").status_code == 404


def test_attendees_masked_and_unmask_audited(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    res = client.get("/activities/W1/")
    html = res.content.decode()
    assert res.status_code == 200
    assert "Ng*** V** A" in html and "Nguyễn Văn An0" not in html
    assert "09******78" in html and "0912345678" not in html
    assert "012345678901" not in html
    assert not AuditEvent.objects.filter(action="attendee.unmask").exists()
    res = client.get("/activities/W1/?unmask=1")
    html = res.content.decode()
    assert "Nguyễn Văn An0" in html and "0912345678" in html and "012345678901" in html
    assert html.count("BHXH tự nguyện (01/06/2025)") == 3  # each attendee converted
    ev = AuditEvent.objects.get(action="attendee.unmask")
    assert ev.actor_name == "o1" and ev.object_id == "W1"


def test_partner_sees_only_own_attendees_masked(world: dict[str, Any], client: Client) -> None:
    login(client, world["women"])
    html = client.get("/activities/W1/?unmask=1").content.decode()  # leads W1
    assert "Ng*** V** A" in html and "Nguyễn Văn An0" not in html
    assert "01/06/2025" not in html  # conversions are person data beyond the attendance
    assert not AuditEvent.objects.filter(action="attendee.unmask").exists()
    html = client.get("/activities/S1/").content.decode()  # only coordinates S1
    assert 'id="attendees"' not in html and "Tr*** T** B" not in html
    login(client, world["viewer"])
    html = client.get("/activities/W1/").content.decode()
    assert 'id="attendees"' not in html and "Ng*** V** A" not in html


def test_add_attendee(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    res = client.post(
        "/activities/S1/attendees/",
        {"person_id": "079185001234", "full_name": "Lê Thị C", "phone": "0987654321"},
    )
    assert res.status_code == 302
    assert Attendee.objects.filter(activity_id="S1", person_id="079185001234").exists()
    assert AuditEvent.objects.filter(action="attendee.add", object_id="S1").count() == 1
    res = client.post(
        "/activities/S1/attendees/", {"person_id": "079185001234", "full_name": "Lê Thị C"}
    )
    assert res.status_code == 400  # already there
    assert "đã điểm danh" in res.content.decode()
    assert Attendee.objects.filter(activity_id="S1").count() == 2
    login(client, world["women"])  # coordinates S1 but does not lead it
    ok = {"person_id": "0123456789", "full_name": "Phạm Văn D"}
    assert client.post("/activities/S1/attendees/", ok).status_code == 404
    assert client.post("/activities/W1/attendees/", ok).status_code == 302
    login(client, world["viewer"])
    ok2 = {"person_id": "0123456788", "full_name": "Phạm Văn E"}
    assert client.post("/activities/W1/attendees/", ok2).status_code == 404
    assert Attendee.objects.filter(activity_id="W1").count() == 4


def _form(**kw: Any) -> dict[str, Any]:
    data = {
        "unit": "C1",
        "date": "2025-05-14",
        "channel": "small_group",
        "lead_org": "si_office",
        "group": "freelancer",
        "planned_reach": "20",
        "reach": "18",
        "registrations": "4",
        "cost": "300000",
        "note": "Thôn 3",
    }
    data.update(kw)
    return data


def test_create_with_duplicate_warning(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    assert client.get("/activities/new/").status_code == 200
    # same commune, group and channel as W1 (womens_union, 10 May) 4 days later, other lead
    res = client.post("/activities/new/", _form())
    assert res.status_code == 200
    html = res.content.decode()
    assert 'id="duplicate-warning"' in html and "W1" in html
    assert Activity.objects.count() == 3
    res = client.post("/activities/new/", _form(confirm_duplicate="on"))
    assert res.status_code == 302
    new = Activity.objects.exclude(code__in=["W1", "S1", "Y3"]).get()
    assert (new.unit_id, new.channel, new.lead_org, new.cost) == (
        "C1",
        "small_group",
        "si_office",
        300000,
    )
    assert new.created_by == world["office"]
    assert res["Location"] == f"/activities/{new.code}/"
    ev = AuditEvent.objects.get(action="activity.create")
    assert ev.object_id == new.code and ev.after["channel"] == "small_group"
    # 8 days later: no warning
    res = client.post("/activities/new/", _form(date="2025-05-18"))
    assert res.status_code == 302


def test_create_refusals(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    res = client.post("/activities/new/", _form(unit="C3"))  # another office's commune
    assert res.status_code == 200 and res.context["form"].errors.get("unit")
    res = client.post("/activities/new/", _form(cost="-5"))
    assert res.status_code == 200 and res.context["form"].errors.get("cost")
    assert Activity.objects.count() == 3
    login(client, world["viewer"])
    assert client.get("/activities/new/").status_code == 404
    assert client.post("/activities/new/", _form(group="farmer")).status_code == 404
    assert Activity.objects.count() == 3


def test_partner_create(world: dict[str, Any], client: Client) -> None:
    login(client, world["youth"])
    # another lead without the partner among the coordinators: refused
    res = client.post("/activities/new/", _form(group="student", lead_org="si_office"))
    assert res.status_code == 200 and res.context["form"].errors.get("lead_org")
    assert Activity.objects.count() == 3
    # where it coordinates it may record another lead's activity
    res = client.post(
        "/activities/new/",
        _form(group="student", lead_org="si_office", coordinating_orgs=["youth_union"]),
    )
    assert res.status_code == 302
    res = client.post("/activities/new/", _form(group="farmer", lead_org="youth_union"))
    assert res.status_code == 302
    assert Activity.objects.filter(lead_org="youth_union").count() == 2


def test_funnel_page(world: dict[str, Any], client: Client) -> None:
    plan = Plan.objects.create(unit_id="KH", year=2025, as_of=D(2025, 4, 30), status="approved")
    PlanItem.objects.create(
        plan=plan,
        unit_id="C1",
        month="2025-05",
        channel="small_group",
        group="freelancer",
        lead_org="womens_union",
        sessions=4,
        expected_registrations=6,
    )
    login(client, world["admin"])
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31&unit=KH")
    assert res.status_code == 200
    rows = {r["key"]: r for r in res.context["sections"][0]["rows"]}
    assert rows["small_group"]["converted"] == 3 and rows["small_group"]["attendees"] == 3
    assert rows["conference"]["activities"] == 2
    html = res.content.decode()
    assert "100,00 %" in html and "666.667" in html  # 2.000.000 / 3 converted
    total = res.context["total"]
    assert (total["activities"], total["attendees"], total["converted"]) == (3, 4, 3)
    assert total["conversion_pct"] == 75.0 and total["cost_per_conversion"] == 666667
    assert "Tổng cộng" in html
    plan_rows = {r["unit"]: r for r in res.context["plan_rows"]}
    assert plan_rows["O1"]["planned_sessions"] == 4 and plan_rows["O1"]["held"] == 2
    assert plan_rows["O1"]["done_pct"] == 50.0 and plan_rows["O1"]["expected_registrations"] == 6
    assert plan_rows["O2"]["held"] == 1 and plan_rows["O2"]["planned_sessions"] == 0
    # a viewer sees fewer than 5 persons as <5
    login(client, world["viewer"])
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31")
    assert res.status_code == 200
    rows = {r["key"]: r for r in res.context["sections"][0]["rows"]}
    assert rows["small_group"]["converted"] == "<5"
    assert "&lt;5" in res.content.decode()
    assert client.get("/funnel/?unit=O2").status_code == 404


def test_funnel_page_partner_scope(world: dict[str, Any], client: Client) -> None:
    login(client, world["women"])  # leads W1 (small_group), coordinates S1 (conference)
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31")
    assert res.status_code == 200
    rows = {r["key"]: r for r in res.context["sections"][0]["rows"]}
    assert set(rows) == {"small_group", "conference"}  # not Y3 of the youth union
    assert rows["small_group"]["converted"] == "<5" and rows["small_group"]["activities"] == 1
    assert rows["conference"]["converted"] == 0 and rows["conference"]["attendees"] == "<5"
    login(client, world["farmers"])
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31")
    assert res.status_code == 200 and res.context["sections"][0]["rows"] == []
