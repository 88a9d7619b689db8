"""Writes stay in scope (issue 21): an office imports over the API, as a user would, and can
never take over another office's units, employers, activities or people.

World (tests/api/factories.py): KH → O1 → C1, C2; KH → O2 → C3; ``off1`` is office O1,
``off2`` office O2. P1 has spells in C1, P2 in C3; employers E1 (C1) and E3 (C3); activities
A1 (C1, womens_union) and A2 (C3, youth_union with farmers_association)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ansinh.accounts.access import SYSTEM
from tests.api.factories import build_world

MISSING_UNIT = "không có đơn vị mã này"
MISSING_EMPLOYER = "không có đơn vị sử dụng lao động mã này"
MISSING_ACTIVITY = "không có hoạt động mã này"
MISSING_PARENT = "không có đơn vị cha mã này"


@pytest.fixture
def world(db):
    from ansinh.arrears.models import Employer

    w = build_world(tokens=True)
    Employer.objects.create(code="E1", name="Công ty Một", unit_id="C1")
    Employer.objects.create(code="E3", name="Công ty Ba", unit_id="C3")
    return w


def upload(world, who: str, kind: str, content: str) -> dict:
    """POST /api/imports/KIND as ``who`` (bearer token) and read the job's result."""
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens[who]}"}
    f = SimpleUploadedFile(f"{kind}.csv", content.encode(), content_type="text/csv")
    r = c.post(f"/api/imports/{kind}", {"file": f}, **auth)
    assert r.status_code == 200, r.content
    job = c.get(f"/api/jobs/{r.json()['job']}", **auth).json()
    assert job["status"] in {"done", "refused"}, job
    return job["result"]


def messages(result: dict) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in result["errors"]]


def tree() -> dict[str, tuple[str | None, str]]:
    from ansinh.geography.models import Unit

    return {u.code: (u.parent_id, u.path) for u in Unit.objects.all()}


# ------------------------------------------------------------------------------- units


UNIT_HEADER = "code,name,level,parent_code\n"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "row,column",
    [
        ("C3,Cướp,commune,O1", "code"),  # another office's commune moved under mine
        ("C3,Cướp,commune,C1", "code"),
        ("O1,Tự nâng,office,O2", "parent_code"),  # my own office moved under another
        ("O1,Tự nâng,province,", "parent_code"),  # my own office made a second province
        ("O1,Tự nâng,commune,O1", "parent_code"),
        ("NEWP,Tỉnh mới,province,", "level"),  # a top-level unit
        ("NEWO,Văn phòng mới,office,O1", "level"),
        ("C2,Bỏ đi,commune,O2", "parent_code"),  # my commune moved to another office
        ("C2,Bỏ đi,commune,KH", "parent_code"),  # … or above my office
        ("NEW1,Xã mới,commune,C3", "parent_code"),  # a new commune under another office
        ("KH,Tỉnh,province,", "code"),
        ("O2,Khác,office,KH", "code"),
    ],
)
def test_office_cannot_move_units_out_of_or_into_its_scope(world, row, column):
    before = tree()
    result = upload(world, "off1", "units", UNIT_HEADER + row + "\n")
    assert result["refused"] is True, result
    assert [(r, c) for r, c, _m in messages(result)] == [(2, column)], result
    assert tree() == before


@pytest.mark.django_db(transaction=True)
def test_unit_parent_outside_scope_reads_like_a_missing_one(world):
    outside = upload(world, "off1", "units", UNIT_HEADER + "NEW1,Xã mới,commune,C3\n")
    missing = upload(world, "off1", "units", UNIT_HEADER + "NEW1,Xã mới,commune,NOPE\n")
    assert messages(outside) == messages(missing) == [(2, "parent_code", MISSING_PARENT)]


@pytest.mark.django_db(transaction=True)
def test_office_writes_units_below_its_own(world):
    from ansinh.geography.models import Unit

    result = upload(
        world,
        "off1",
        "units",
        UNIT_HEADER + "C1,Phường Một mới,commune,O1\nC4,Xã Bốn,commune,O1\nC5,Thôn,commune,C4\n"
        "O1,Văn phòng Một (đổi tên),office,KH\n",
    )
    assert result["refused"] is False, result
    assert (result["created"], result["updated"]) == (2, 2)
    assert Unit.objects.get(code="C5").path == "KH/O1/C4/C5/"
    assert Unit.objects.get(code="C1").name == "Phường Một mới"
    assert Unit.objects.get(code="O1").parent_id == "KH"


@pytest.mark.django_db(transaction=True)
def test_province_still_moves_any_unit(world):
    from ansinh.geography.models import Unit

    result = upload(world, "prov", "units", UNIT_HEADER + "C3,Xã Ba,commune,O1\n")
    assert result["refused"] is False, result
    assert Unit.objects.get(code="C3").path == "KH/O1/C3/"


# ---------------------------------------------------------------- employers, activities


@pytest.mark.django_db(transaction=True)
def test_office_cannot_take_over_another_offices_employer(world):
    from ansinh.arrears.models import Employer

    result = upload(world, "off1", "employers", "code,name,unit_code\nE3,Cướp,C1\n")
    assert result["refused"] is True
    assert [(r, c) for r, c, _m in messages(result)] == [(2, "code")]
    e3 = Employer.objects.get(code="E3")
    assert (e3.name, e3.unit_id) == ("Công ty Ba", "C3")
    # its own employer moves between its own communes
    ok = upload(world, "off1", "employers", "code,name,unit_code\nE1,Công ty Một,C2\n")
    assert ok["refused"] is False and ok["updated"] == 1
    # and never out of its scope: the unit outside reads like a missing one
    out = upload(world, "off1", "employers", "code,name,unit_code\nE1,Công ty Một,C3\n")
    nope = upload(world, "off1", "employers", "code,name,unit_code\nE1,Công ty Một,NOPE\n")
    assert messages(out) == messages(nope) == [(2, "unit_code", MISSING_UNIT)]


@pytest.mark.django_db(transaction=True)
def test_office_cannot_take_over_another_offices_activity(world):
    from ansinh.outreach.models import Activity

    header = "code,unit_code,channel,date,lead_org\n"
    result = upload(world, "off1", "activities", header + "A2,C1,conference,2025-03-01,si_office\n")
    assert result["refused"] is True
    assert [(r, c) for r, c, _m in messages(result)] == [(2, "code")]
    a2 = Activity.objects.get(code="A2")
    assert (a2.unit_id, a2.lead_org) == ("C3", "youth_union")
    ok = upload(world, "off1", "activities", header + "A1,C2,small_group,2025-03-01,womens_union\n")
    assert ok["refused"] is False and ok["updated"] == 1


@pytest.mark.django_db(transaction=True)
def test_contributions_and_attendees_of_another_office_read_like_missing(world):
    c_out = upload(
        world, "off1", "contributions", "employer_code,period,amount_due\nE3,2025-03,100\n"
    )
    c_none = upload(
        world, "off1", "contributions", "employer_code,period,amount_due\nNOPE,2025-03,100\n"
    )
    assert messages(c_out) == messages(c_none) == [(2, "employer_code", MISSING_EMPLOYER)]
    a_out = upload(world, "off1", "attendees", "activity_code,person_id\nA2,P9\n")
    a_none = upload(world, "off1", "attendees", "activity_code,person_id\nNOPE,P9\n")
    assert messages(a_out) == messages(a_none) == [(2, "activity_code", MISSING_ACTIVITY)]
    p_out = upload(world, "off1", "population", "year,unit_code,population\n2025,C3,100\n")
    p_none = upload(world, "off1", "population", "year,unit_code,population\n2025,NOPE,100\n")
    assert messages(p_out) == messages(p_none) == [(2, "unit_code", MISSING_UNIT)]


# ------------------------------------------------------------------------------ people

PART_HEADER = "person_id,unit_code,scheme,group,start_date,full_name,phone,employer_code\n"


@pytest.mark.django_db(transaction=True)
def test_office_does_not_rewrite_another_offices_person(world):
    from ansinh.registry.models import Person, Spell

    result = upload(
        world,
        "off1",
        "participations",
        PART_HEADER + "P2,C1,si_voluntary,freelancer,2025-04-01,Kẻ Mạo Danh,0999999999,\n"
        "P1,C1,ui,employee,2025-04-01,Nguyễn Văn An Mới,0901111111,E1\n",
    )
    assert result["refused"] is False, result
    # the spell is loaded; the identity of a person of another office is kept, with a warning
    assert Spell.objects.filter(person_id="P2", unit_id="C1", scheme="si_voluntary").exists()
    p2 = Person.objects.get(pk="P2")
    assert (p2.full_name, p2.phone) == ("Trần Thị Bình", "0912345699")
    assert any("1 người" in w for w in result["warnings"]), result["warnings"]
    # its own person (spells only in its units) is updated
    p1 = Person.objects.get(pk="P1")
    assert (p1.full_name, p1.phone) == ("Nguyễn Văn An Mới", "0901111111")
    # the new spell does not widen what the office sees of the person: only its own spells
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['off1']}"}
    body = c.get("/api/people/P2?unmask=true", **auth).json()
    assert {s["unit"] for s in body["spells"]} == {"C1"}


@pytest.mark.django_db(transaction=True)
def test_person_known_only_as_another_offices_attendee_keeps_identity(world):
    from ansinh.outreach.models import Attendee
    from ansinh.registry.models import Person

    a2 = Attendee.objects.get(activity_id="A2", person_id="P2").activity
    Person.objects.create(person_id="P7", full_name="Phạm Thị Bảy", phone="0977000007")
    Attendee.objects.create(activity=a2, person_id="P7", full_name="Phạm Thị Bảy")
    result = upload(
        world,
        "off1",
        "participations",
        PART_HEADER + "P7,C1,hi,household,2025-04-01,Tên Khác,0900000000,\n",
    )
    assert result["refused"] is False, result
    assert Person.objects.get(pk="P7").full_name == "Phạm Thị Bảy"


@pytest.mark.django_db(transaction=True)
def test_office_names_only_its_own_employers_in_spells(world):
    from ansinh.registry.models import Spell

    rows = {
        "E3": "P1,C1,si_compulsory,employee,2025-05-01,,,E3\n",
        "NOPE": "P1,C1,si_compulsory,employee,2025-05-01,,,NOPE\n",
    }
    out = upload(world, "off1", "participations", PART_HEADER + rows["E3"])
    nope = upload(world, "off1", "participations", PART_HEADER + rows["NOPE"])
    assert messages(out) == messages(nope) == [(2, "employer_code", MISSING_EMPLOYER)]
    assert not Spell.objects.filter(person_id="P1", scheme="si_compulsory").exists()
    # the province names any employer (and the command line any code at all, SPEC 2)
    ok = upload(world, "prov", "participations", PART_HEADER + rows["E3"])
    assert ok["refused"] is False, ok


# ----------------------------------------------------------------------------- partner


@pytest.mark.django_db(transaction=True)
def test_partner_sees_exactly_its_own_attendees(world):
    from ansinh.outreach.models import Activity, Attendee

    # womens_union only coordinates A2 (C3): its attendee P2 is not the partner's
    a2 = Activity.objects.get(code="A2")
    a2.coordinating_orgs = ["womens_union"]
    a2.save()
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['partner']}"}
    missing = c.get("/api/people/NOPE", **auth)
    r = c.get("/api/people/P2", **auth)
    assert r.status_code == 404 and r.content == missing.content
    # its own attendee (A1, which it leads): masked, and no spells
    Attendee.objects.create(activity_id="A1", person_id="P1", full_name="Nguyễn Văn An")
    body = c.get("/api/people/P1?unmask=true", **auth).json()
    assert body["masked"] is True and body["spells"] == []
    # a partner with a unit: its led activities elsewhere are not its own
    from ansinh.accounts.models import User
    from ansinh.accounts.services import token_create

    u = User.objects.get(username="partner")
    u.unit_id = "O2"
    u.save()
    token = token_create(actor=SYSTEM, user=u)
    r = c.get("/api/people/P1", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 404
