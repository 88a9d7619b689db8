"""GET /api/people/ID and the person page: masked per role, unmasking audited, 404 outside."""

from __future__ import annotations

import pytest

from ansinh.core.models import AuditEvent
from tests.api.factories import build_world


@pytest.fixture
def world(db):
    return build_world(tokens=True)


def get(client, world, who, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {world.tokens[who]}")


def test_admin_sees_masked_person_with_spells(client, world):
    r = get(client, world, "admin", "/api/people/P1")
    assert r.status_code == 200
    body = r.json()
    assert body["person_id"] == "P1"
    assert body["full_name"] == "Ng*** V** A"
    assert body["phone"] == "09******78"
    assert body["birth_date"] == "**/**/1985"
    assert body["masked"] is True
    assert [(s["scheme"], s["unit"], s["start_date"], s["end_date"]) for s in body["spells"]] == [
        ("hi", "C1", "2025-01-01", None),
        ("si_voluntary", "C1", "2025-02-01", "2025-12-31"),
    ]
    ev = AuditEvent.objects.filter(action="person.view", object_id="P1").get()
    assert ev.actor_name == "admin"


def test_unmask_is_audited(client, world):
    before = AuditEvent.objects.filter(action="person.unmask").count()
    r = get(client, world, "off1", "/api/people/P1?unmask=true")
    assert r.status_code == 200
    body = r.json()
    assert body["full_name"] == "Nguyễn Văn An"
    assert body["phone"] == "0901234578"
    assert body["birth_date"] == "1985-03-14"
    assert body["masked"] is False
    events = AuditEvent.objects.filter(action="person.unmask", object_id="P1")
    assert events.count() == before + 1
    assert events.first().actor_name == "off1"


@pytest.mark.parametrize(
    "who,pid",
    [
        ("off1", "P2"),
        ("off2", "P1"),
        ("viewer", "P1"),
        ("viewer", "P2"),
        ("partner", "P1"),
        ("partner", "P2"),
        ("admin", "NOPE"),
        ("off1", "NOPE"),
    ],
)
def test_refusals_are_404_like_missing(client, world, who, pid):
    r = get(client, world, who, f"/api/people/{pid}")
    missing = get(client, world, who, "/api/people/DOES-NOT-EXIST")
    assert r.status_code == 404
    assert r.content == missing.content


def test_partner_sees_own_attendee_masked_only(client, world):
    r = get(client, world, "partner", "/api/people/P3?unmask=true")
    assert r.status_code == 200
    body = r.json()
    assert body["full_name"] == "Lê*** V** C"
    assert body["phone"] == "09******21"
    assert body["masked"] is True
    assert body["spells"] == []


def test_office_sees_only_spells_of_its_units(client, world):
    import datetime as dt

    from ansinh.geography.models import Unit
    from ansinh.registry.models import Person, Spell

    Spell.objects.create(
        person=Person.objects.get(pk="P1"),
        scheme="ui",
        group="employee",
        unit=Unit.objects.get(pk="C3"),
        start_date=dt.date(2024, 1, 1),
    )
    r1 = get(client, world, "off1", "/api/people/P1")
    r2 = get(client, world, "off2", "/api/people/P1")
    assert sorted(s["unit"] for s in r1.json()["spells"]) == ["C1", "C1"]
    assert [s["unit"] for s in r2.json()["spells"]] == ["C3"]
    r3 = get(client, world, "admin", "/api/people/P1")
    assert len(r3.json()["spells"]) == 3


def test_person_page(client, world):
    client.force_login(world.users["prov"])
    r = client.get("/people/P1/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Ng*** V** A" in html and "Nguyễn Văn An" not in html
    r = client.get("/people/P1/?unmask=1")
    html = r.content.decode()
    assert "Nguyễn Văn An" in html and "0901234578" in html
    assert AuditEvent.objects.filter(action="person.unmask", actor_name="prov").count() == 1
    client.force_login(world.users["viewer"])
    assert client.get("/people/P1/").status_code == 404
    client.force_login(world.users["off2"])
    assert client.get("/people/P1/").status_code == 404
    client.logout()
    r = client.get("/people/P1/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
