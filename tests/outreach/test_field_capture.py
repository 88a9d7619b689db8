"""Field capture through the HTTP client: typed ID and phone checks, consent, repeat
check-ins, edit and soft delete of activities and attendees, bulk paste, the plan item
picker, and the funnel counting captured attendees like imported ones."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ansinh.core.models import AuditEvent
from ansinh.outreach.identity import id_problem, normalize_phone, parse_card_qr, phone_problem
from ansinh.outreach.models import Activity, Attendee, Plan, PlanItem
from ansinh.registry.models import Person, Spell
from tests.outreach.test_activities import login, make_world

D = dt.date
QR = "056090012345|123456789|Nguyễn Văn  Hùng|15031990|Nam|Thôn 3, xã Cam Lâm, Khánh Hòa|01012022"


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    return make_world()


def test_identity_rules() -> None:
    assert id_problem("056090012345") == ""
    assert id_problem("0123456789") == ""  # 10-digit SI code
    assert "12 chữ số" in id_problem("abc")
    assert "12 chữ số" in id_problem("05609001234")
    assert "mã tỉnh" in id_problem("003090012345")  # 003 is no province
    assert "thế kỷ" in id_problem("056590012345")
    assert "1990" in id_problem("056090012345", birth_date=D(1991, 1, 1))
    assert id_problem("056090012345", birth_date=D(1990, 3, 15), sex="male") == ""
    assert "giới tính" in id_problem("056090012345", sex="female")
    assert id_problem("056305012345", birth_date=D(2005, 1, 2), sex="female") == ""
    assert normalize_phone("+84 912.345.678") == "0912345678"
    assert phone_problem("0912345678") == "" and phone_problem("0212345678")
    card = parse_card_qr(QR)
    assert card is not None
    assert (card.person_id, card.full_name, card.birth_date, card.sex) == (
        "056090012345",
        "Nguyễn Văn Hùng",
        D(1990, 3, 15),
        "male",
    )
    assert parse_card_qr("https://example.com") is None


def _add(client: Client, code: str, **kw: Any) -> Any:
    data = {"person_id": "056090012345", "full_name": "Nguyễn Văn Hùng", **kw}
    return client.post(f"/activities/{code}/attendees/", data)


def test_typed_entry_refusals(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    before = Attendee.objects.count()
    for kw, word in [
        ({"person_id": "abc", "full_name": ""}, "12 chữ số"),
        ({"full_name": ""}, "Cần họ và tên"),
        ({"person_id": "003090012345"}, "mã tỉnh"),
        ({"birth_date": "1991-03-15"}, "khác ngày sinh"),
        ({"sex": "female"}, "giới tính"),
        ({"phone": "12345"}, "10 chữ số"),
    ]:
        res = _add(client, "S1", **kw)
        assert res.status_code == 400, kw
        assert word in res.content.decode(), kw
    assert Attendee.objects.count() == before


def test_checkin_consent_repeat_and_own_entry_unmasked(
    world: dict[str, Any], client: Client
) -> None:
    login(client, world["women"])  # a partner on its own activity W1
    res = _add(
        client,
        "W1",
        birth_date="1990-03-15",
        sex="male",
        phone="+84 912 345 678",
        address="Thôn 3",
        consent="on",
        source="qr",
    )
    assert res.status_code == 302
    a = Attendee.objects.get(activity_id="W1", person_id="056090012345")
    assert a.consent == "yes" and a.consent_at is not None and a.phone == "0912345678"
    assert (a.birth_date, a.sex, a.source, a.added_by) == (
        D(1990, 3, 15),
        "male",
        "qr",
        world["women"],
    )
    ev = AuditEvent.objects.filter(action="attendee.add", object_id="W1").latest("id")
    assert ev.after == {"person_id": "056090012345", "consent": "yes"}
    # the partner sees in full the person it typed, the others masked
    res = client.get("/activities/W1/")
    html = res.content.decode()
    assert "056090012345" in html and "Nguyễn Văn Hùng" in html
    assert "012345678901" not in html
    # a repeat check-in: refused politely, nothing written
    res = _add(client, "W1")
    assert res.status_code == 400 and "đã điểm danh ở hoạt động này" in res.content.decode()
    assert Attendee.objects.filter(activity_id="W1").count() == 4
    # without consent: stored as no consent
    res = _add(client, "W1", person_id="0123456789", full_name="Lê B")
    assert res.status_code == 302
    assert Attendee.objects.get(person_id="0123456789").consent == "no"


def test_activity_edit_close_and_soft_delete(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    res = client.get("/activities/S1/edit/")
    assert res.status_code == 200 and res.context["form"].initial["channel"] == "conference"
    data = {
        "unit": "C1",
        "date": "2025-05-12",
        "channel": "conference",
        "lead_org": "si_office",
        "reach": "40",
        "leads": "12",
        "registrations": "5",
        "vssid_installs": "9",
        "cost": "1500000",
    }
    res = client.post("/activities/S1/edit/", data)
    assert res.status_code == 302
    s1 = Activity.objects.get(code="S1")
    assert (s1.reach, s1.leads, s1.registrations, s1.vssid_installs, s1.cost) == (
        40,
        12,
        5,
        9,
        1500000,
    )
    ev = AuditEvent.objects.get(action="activity.update", object_id="S1")
    assert ev.before["reach"] is None and ev.after["reach"] == 40
    # refused: negative figure, nothing written
    res = client.post("/activities/S1/edit/", {**data, "cost": "-1"})
    assert res.status_code == 200 and res.context["form"].errors.get("cost")
    assert Activity.objects.get(code="S1").cost == 1500000
    # another office's activity: 404 as a missing one
    assert client.get("/activities/Y3/edit/").status_code == 404
    assert client.post("/activities/Y3/delete/").status_code == 404
    # a partner may not edit an activity it only coordinates
    login(client, world["women"])
    assert client.get("/activities/S1/edit/").status_code == 404
    assert client.post("/activities/S1/delete/").status_code == 404
    # delete (soft): gone from the list, detail and funnel; rows kept, audited
    login(client, world["office"])
    assert client.get("/activities/S1/delete/").status_code == 200
    assert client.post("/activities/S1/delete/").status_code == 302
    assert not Activity.objects.filter(code="S1").exists()
    assert Activity.all_objects.get(code="S1").deleted_at is not None
    assert Attendee.all_objects.filter(activity_id="S1").count() == 1
    assert not Attendee.objects.filter(activity_id="S1").exists()
    assert client.get("/activities/S1/").status_code == 404
    assert "S1" not in [a.code for a in client.get("/activities/").context["activities"]]
    ev = AuditEvent.objects.get(action="activity.delete", object_id="S1")
    assert ev.before["attendees"] == 1
    login(client, world["admin"])
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31&unit=KH")
    assert res.context["total"]["activities"] == 2 and res.context["total"]["attendees"] == 3


def test_attendee_edit_delete_and_back(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    a = Attendee.objects.get(activity_id="S1")
    res = client.get(f"/activities/S1/attendees/{a.pk}/edit/")
    assert res.status_code == 200 and "099999999999" in res.content.decode()
    assert AuditEvent.objects.filter(action="attendee.unmask", object_id="S1").exists()
    res = client.post(
        f"/activities/S1/attendees/{a.pk}/edit/",
        {"person_id": "0123456789", "full_name": "Trần Thị Bình", "consent": "on"},
    )
    assert res.status_code == 302
    a.refresh_from_db()
    assert a.person_id == "0123456789" and a.consent == "yes"
    assert client.post(f"/activities/S1/attendees/{a.pk}/delete/").status_code == 302
    assert not Attendee.objects.filter(activity_id="S1").exists()
    assert AuditEvent.objects.filter(action="attendee.delete", object_id="S1").count() == 1
    # checked in again: the row comes back, no second row
    assert _add(client, "S1", person_id="0123456789", full_name="Trần Thị Bình").status_code == 302
    assert Attendee.all_objects.filter(activity_id="S1").count() == 1
    # a partner may not correct attendees someone else typed
    login(client, world["women"])
    w = Attendee.objects.filter(activity_id="W1").first()
    assert w is not None
    assert client.get(f"/activities/W1/attendees/{w.pk}/edit/").status_code == 404
    assert client.post(f"/activities/W1/attendees/{w.pk}/delete/").status_code == 404


def test_bulk_paste_all_or_nothing(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    good = "\n".join(
        [
            "person_id;full_name;phone;consent",
            "0123456789;Lê Văn A;0912345678;có",
            "079185001234;Lê Thị C;;",
            QR,
        ]
    )
    bad = good + "\nabc;Không Tên;;\n0123456789;Lê Văn A lần hai;;"
    res = client.post("/activities/S1/attendees/bulk/", {"rows": bad})
    assert res.status_code == 400
    html = res.content.decode()
    assert "Dòng 5, cột person_id" in html and "Dòng 6: trùng với dòng 2" in html
    assert Attendee.objects.filter(activity_id="S1").count() == 1  # nothing half-saved
    res = client.post("/activities/S1/attendees/bulk/", {"rows": good})
    assert res.status_code == 302
    got = {a.person_id: a for a in Attendee.objects.filter(activity_id="S1")}
    assert set(got) == {"099999999999", "0123456789", "079185001234", "056090012345"}
    assert got["0123456789"].consent == "yes" and got["079185001234"].consent == "no"
    assert got["056090012345"].birth_date == D(1990, 3, 15)
    # the same list again: each line already checked in
    res = client.post("/activities/S1/attendees/bulk/", {"rows": good})
    assert res.status_code == 400 and "đã điểm danh" in res.content.decode()
    # a file (CSV, UTF-8), and one too large
    f = SimpleUploadedFile("ds.csv", "0123456780,Ngô D\n".encode())
    assert client.post("/activities/S1/attendees/bulk/", {"file": f}).status_code == 302
    big = SimpleUploadedFile("big.csv", b"x" * (2 * 1024 * 1024 + 1))
    res = client.post("/activities/S1/attendees/bulk/", {"file": big})
    assert res.status_code == 400 and "Tệp quá lớn" in res.content.decode()


def test_plan_item_picked_not_typed(world: dict[str, Any], client: Client) -> None:
    plan = Plan.objects.create(unit_id="KH", year=2025, as_of=D(2025, 4, 30), status="approved")
    item = PlanItem.objects.create(
        plan=plan,
        unit_id="C1",
        month="2025-06",
        channel="booth",
        group="business_owner",
        lead_org="womens_union",
        planned_reach=60,
    )
    PlanItem.objects.create(
        plan=plan, unit_id="C3", month="2025-06", channel="booth", group="farmer", lead_org="x"
    )
    login(client, world["office"])
    res = client.get(f"/activities/new/?plan_item={item.pk}")
    html = res.content.decode()
    assert res.status_code == 200 and "06/2025" in html and 'data-unit="C1"' in html
    assert 'data-unit="C3"' not in html  # another office's commune
    assert res.context["form"].initial["planned_reach"] == 60
    res = client.post(
        "/activities/new/",
        {
            "plan_item": str(item.pk),
            "unit": "C1",
            "date": "2025-06-03",
            "channel": "booth",
            "lead_org": "womens_union",
            "group": "business_owner",
        },
    )
    assert res.status_code == 302, res.context["form"].errors
    assert Activity.objects.get(plan_item=item).unit_id == "C1"
    other = PlanItem.objects.get(unit_id="C3")
    assert client.get(f"/activities/new/?plan_item={other.pk}").status_code == 404


@pytest.mark.parametrize("how", ["typed", "imported"])
def test_funnel_counts_captured_like_imported(
    world: dict[str, Any], client: Client, how: str
) -> None:
    pid = "056090012345"
    Person.objects.create(person_id=pid)
    Spell.objects.create(
        person_id=pid,
        scheme="si_voluntary",
        group="freelancer",
        unit_id="C1",
        start_date=D(2025, 5, 20),
    )
    if how == "typed":
        login(client, world["office"])
        assert _add(client, "S1").status_code == 302
    else:
        Attendee.objects.create(activity_id="S1", person_id=pid, full_name="Nguyễn Văn Hùng")
    login(client, world["admin"])
    res = client.get("/funnel/?from=2025-05-01&to=2025-05-31&unit=KH")
    rows = {r["key"]: r for r in res.context["sections"][0]["rows"]}
    assert rows["conference"]["attendees"] == 2 and rows["conference"]["converted"] == 1


def _sync(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/activities/sync/", data=json.dumps(body), content_type="application/json")


def test_sync_exactly_once_and_refusals(world: dict[str, Any], client: Client) -> None:
    login(client, world["office"])
    body = {
        "client_id": str(uuid.uuid4()),
        "unit": "C1",
        "date": "2025-06-02",
        "channel": "door_to_door",
        "lead_org": "si_office",
        "reach": "7",
        "attendees": [
            {"client_id": str(uuid.uuid4()), "person_id": "0123456789", "full_name": "Lê A"},
            {
                "client_id": str(uuid.uuid4()),
                "person_id": "056090012345",
                "full_name": "Nguyễn Văn Hùng",
                "birth_date": "1990-03-15",
                "consent": True,
                "source": "qr",
            },
        ],
    }
    res = _sync(client, body)
    assert res.status_code == 200, res.content
    code = res.json()["code"]
    assert res.json()["added"] == 2
    # sent again (the answer was lost): nothing new
    res = _sync(client, body)
    assert res.status_code == 200 and res.json() == {"code": code, "added": 0, "already": []}
    assert Activity.objects.filter(client_id=body["client_id"]).count() == 1
    assert Attendee.objects.filter(activity_id=code).count() == 2
    a = Attendee.objects.get(activity_id=code, person_id="056090012345")
    assert a.consent == "yes" and a.source == "qr"
    # one more attendee captured later; another phone checked the same person in
    body["attendees"].append(
        {"client_id": str(uuid.uuid4()), "person_id": "0123456789", "full_name": "Lê A"}
    )
    body["registrations"] = 3  # closed on the phone after the first sync
    res = _sync(client, body)
    assert res.json() == {"code": code, "added": 0, "already": ["0123456789"]}
    assert Activity.objects.get(code=code).registrations == 3
    assert Activity.objects.get(code=code).reach == 7
    assert AuditEvent.objects.filter(action="activity.update", object_id=code).count() == 1
    # an invalid ID: the whole sync refused with the reason, nothing written
    bad = {**body, "client_id": str(uuid.uuid4())}
    bad["attendees"] = [{"client_id": str(uuid.uuid4()), "person_id": "abc", "full_name": "X"}]
    res = _sync(client, bad)
    assert res.status_code == 400 and "12 chữ số" in " ".join(res.json()["errors"])
    assert not Activity.all_objects.filter(client_id=bad["client_id"]).exists()
    assert _sync(client, {"client_id": "x"}).status_code == 400
    assert _sync(client, {**bad, "unit": "C3", "attendees": []}).status_code == 400
    # deleted on the server meanwhile: 409 explained, nothing written
    assert client.post(f"/activities/{code}/delete/").status_code == 302
    res = _sync(client, body)
    assert res.status_code == 409 and "đã bị xóa" in res.json()["error"]
    assert Attendee.all_objects.filter(activity_id=code).count() == 2
    # a viewer may not sync
    login(client, world["viewer"])
    assert _sync(client, {**body, "client_id": str(uuid.uuid4())}).status_code == 404


def test_pwa_files(world: dict[str, Any], client: Client) -> None:
    res = client.get("/sw.js")
    assert res.status_code == 200 and "/field/" in res.content.decode()
    res = client.get("/manifest.webmanifest")
    assert res.status_code == 200 and res.json()["start_url"] == "/field/"
    assert res.json()["lang"] == "vi"
    login(client, world["office"])
    res = client.get("/field/")
    assert res.status_code == 200 and "chưa đồng bộ" in res.content.decode()
    login(client, world["viewer"])
    assert client.get("/field/").status_code == 404
