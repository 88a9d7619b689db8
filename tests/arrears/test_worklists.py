"""Worklists: boundaries (day 30, day 90, inclusive ends), households, do-not-contact,
auto-close by an imported spell, pages and exports with masking, scoping."""

from __future__ import annotations

import io

import pytest

from ansinh.arrears.models import Contribution, Employer, FollowUp
from ansinh.core.models import AuditEvent
from ansinh.registry.models import Person, Spell

from .factories import d, make_units, make_user

D = d("2025-09-30")


def spell(
    pid: str,
    scheme: str,
    start: str,
    end: str | None,
    unit: str = "C1",
    household: str = "",
    name: str = "",
    dnc: bool = False,
) -> None:
    person, _ = Person.objects.get_or_create(
        person_id=pid,
        defaults={
            "full_name": name or f"Nguyễn Văn {pid}",
            "phone": "0901234567",
            "household_id": household,
            "do_not_contact": dnc,
        },
    )
    Spell.objects.create(
        person=person,
        scheme=scheme,
        group="household",
        unit_id=unit,
        start_date=d(start),
        end_date=d(end) if end else None,
    )


@pytest.fixture
def world(db):
    units = make_units()
    spell("P01", "hi", "2025-01-01", "2025-10-30")  # D+30 → expiring
    spell("P02", "hi", "2025-01-01", "2025-10-31")  # D+31 → not
    spell("P03", "hi", "2025-01-01", "2025-10-01")  # D+1 → expiring
    spell("P04", "hi", "2025-01-01", "2025-09-30")  # ends on D → neither
    spell("P05", "hi", "2025-01-01", "2025-10-15")  # continued the next day → not
    spell("P05", "hi", "2025-10-16", "2026-10-15")
    spell("P06", "hi", "2025-01-01", "2025-10-15")  # renewed after a gap → expiring
    spell("P06", "hi", "2025-10-20", "2026-10-19")
    spell("P07", "hi", "2024-07-03", "2025-07-02")  # D−90 → lapsed
    spell("P08", "hi", "2024-07-02", "2025-07-01")  # D−91 → not
    spell("P09", "hi", "2024-09-30", "2025-09-29", unit="C3")  # D−1 → lapsed
    spell("P10", "si_voluntary", "2025-01-01", "2025-08-01")  # lapsed but covered again
    spell("P10", "si_voluntary", "2025-09-01", None)
    spell("P11", "si_voluntary", "2025-01-01", "2025-08-15", unit="C3")  # lapsed voluntary
    spell("P12", "hi", "2025-01-01", "2025-10-05", dnc=True)  # do not contact
    spell("P13", "hi", "2025-01-01", None, household="H1")
    spell("P14", "si_compulsory", "2025-01-01", None, household="H1")  # H1: P14 without HI
    spell("P15", "hi", "2025-01-01", None, household="H2", unit="C3")
    spell("P16", "hi", "2025-01-01", None, household="H2", unit="C3")  # H2 fully covered
    Employer.objects.create(code="E1", name="Công ty A", unit_id="C1")
    Employer.objects.create(code="E3", name="Công ty C", unit_id="C3")
    Contribution.objects.create(employer_id="E1", period=d("2025-06-01"), amount_due=1_000_000)
    Contribution.objects.create(
        employer_id="E3",
        period=d("2025-07-01"),
        amount_due=2_000_000,
        amount_paid=2_000_000,
        paid_on=d("2025-08-10"),
    )
    return units


def keys(kind: str) -> set[tuple[str, str, str]]:
    return {
        (
            f.person_id or f.household_id or f.employer_id or "",
            f.scheme,
            f.reference_date.isoformat(),
        )
        for f in FollowUp.objects.filter(kind=kind)
    }


def test_sync_boundaries(world) -> None:
    from ansinh.arrears.services import followup_sync

    res = followup_sync(as_of=D)
    assert keys("hi_expiring") == {
        ("P01", "hi", "2025-10-30"),
        ("P03", "hi", "2025-10-01"),
        ("P06", "hi", "2025-10-15"),
    }
    assert keys("lapsed") == {
        ("P07", "hi", "2025-07-02"),
        ("P09", "hi", "2025-09-29"),
        ("P11", "si_voluntary", "2025-08-15"),
    }
    assert keys("household") == {("H1", "hi", "2025-09-01")}
    assert keys("employer_overdue") == {("E1", "", "2025-06-01")}
    assert res == {
        "hi_expiring": 3,
        "lapsed": 3,
        "household": 1,
        "employer_overdue": 1,
        "closed": 0,
    }
    assert FollowUp.objects.get(person_id="P09").unit_id == "C3"
    # idempotent
    again = followup_sync(as_of=D)
    assert again["hi_expiring"] == again["lapsed"] == again["household"] == 0
    assert FollowUp.objects.count() == 8


def test_worklist_pages_masking_and_scope(world, client) -> None:
    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D)
    office = make_user("nt", "office", world["O1"])
    client.force_login(office)
    page = client.get("/worklists/?kind=hi_expiring")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ng*** V** P" in html and "Nguyễn Văn P01" not in html and "09******67" in html
    other_row = f'data-id="{FollowUp.objects.get(person_id="P09").pk}"'
    assert other_row not in html  # C3 is another office's
    assert html.count('<tr data-id="') == 3
    ev = AuditEvent.objects.filter(action="person.view").latest("id")
    assert sorted(ev.after["persons"]) == ["P01", "P03", "P06"]
    full = client.get("/worklists/?kind=hi_expiring&unmask=1").content.decode()
    assert "Nguyễn Văn P01" in full and "0901234567" in full
    assert AuditEvent.objects.filter(action="person.unmask", actor=office).exists()
    other = FollowUp.objects.get(person_id="P09")
    assert client.get(f"/worklists/{other.pk}/").status_code == 404
    own = FollowUp.objects.get(kind="household")
    detail = client.get(f"/worklists/{own.pk}/").content.decode()
    assert "Ng*** V** P" in detail  # members listed, masked
    viewer = make_user("v", "viewer", world["O1"])
    client.force_login(viewer)
    assert client.get("/worklists/").status_code == 404
    assert client.get(f"/worklists/{own.pk}/").status_code == 404
    assert client.post("/worklists/sync", {"as_of": "2025-09-30"}).status_code == 404


def test_outcomes_assign_and_do_not_contact(world, client) -> None:
    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D)
    office = make_user("nt", "office", world["O1"])
    colleague = make_user("nt2", "office", world["C1"])
    client.force_login(office)
    fu = FollowUp.objects.get(person_id="P01")
    r = client.post(f"/worklists/{fu.pk}/", {"action": "assign", "user": colleague.pk, "org": ""})
    assert r.status_code == 302
    fu.refresh_from_db()
    assert fu.assigned_to_id == colleague.pk
    client.post(f"/worklists/{fu.pk}/", {"action": "assign", "user": "", "org": "womens_union"})
    fu.refresh_from_db()
    assert fu.assigned_to_id is None and fu.assigned_org == "womens_union"
    client.post(
        f"/worklists/{fu.pk}/",
        {"action": "outcome", "outcome": "called", "on": "2025-10-01", "note": "hẹn gọi lại"},
    )
    fu.refresh_from_db()
    assert fu.status == "open" and fu.outcomes.get().outcome == "called"
    client.post(
        f"/worklists/{fu.pk}/",
        {"action": "outcome", "outcome": "do_not_contact", "on": "2025-10-02"},
    )
    fu.refresh_from_db()
    assert fu.status == "closed" and fu.closed_reason == "do_not_contact"
    assert Person.objects.get(person_id="P01").do_not_contact
    assert AuditEvent.objects.filter(action="followup.outcome", object_id=str(fu.pk)).count() == 2
    # never on a list again, even when the cover lapses later
    followup_sync(as_of=d("2025-11-15"))
    assert not FollowUp.objects.filter(person_id="P01", status="open").exists()
    listed = client.get("/worklists/?status=all&unmask=1").content.decode()
    assert "Nguyễn Văn P01" not in listed and f'data-id="{fu.pk}"' not in listed


def test_auto_close_by_imported_spell(transactional_db, world, cli, tmp_path, client) -> None:
    # transactional: the sync runs as a core job, whose runner closes old connections
    from ansinh.arrears.selectors import followup_conversions
    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D)
    f = tmp_path / "p.csv"
    f.write_text(
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P09,C3,hi,household,2025-10-05,2026-10-04\n"  # re-joined: converts the lapsed entry
        "P14,C1,hi,household,2025-10-01,\n",  # completes household H1
        encoding="utf-8",
    )
    res = cli("import", "participations", str(f))
    assert res.code == 0, res.err
    admin = make_user("adm", "admin")
    client.force_login(admin)
    r = client.post("/worklists/sync", {"as_of": "2025-10-10"})
    assert r.status_code == 302 and r["Location"].startswith("/jobs/")
    job = client.get(r["Location"]).content.decode()
    assert "2 mục đã đóng" in job, job[-600:]
    p09 = FollowUp.objects.get(person_id="P09")
    assert (p09.status, p09.closed_reason, p09.closed_at) == (
        "closed",
        "converted",
        d("2025-10-10"),
    )
    assert p09.outcomes.get().outcome == "registered"
    hh = FollowUp.objects.get(kind="household")
    assert hh.status == "closed" and hh.closed_reason == "converted"
    assert FollowUp.objects.get(person_id="P07").status == "open"
    assert (
        followup_conversions(unit=world["KH"], date_from=d("2025-10-01"), date_to=d("2025-10-31"))
        == 2
    )
    assert (
        followup_conversions(unit=world["O1"], date_from=d("2025-10-01"), date_to=d("2025-10-31"))
        == 1
    )


def test_exports_are_masked(world, client) -> None:
    from openpyxl import load_workbook

    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D)
    client.force_login(make_user("adm", "province"))
    x = client.get("/worklists/export.xlsx?kind=lapsed")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(values) == 3 and {v[3] for v in values} == {"***"}  # short ids fully masked
    assert {v[7] for v in values} == {"Bảo hiểm y tế", "BHXH tự nguyện"}
    names = {v[4] for v in values}
    assert names == {"Ng*** V** P"} and all("Nguyễn" not in str(v) for row in values for v in row)
    p = client.get("/worklists/export.pdf?kind=lapsed")
    assert p.status_code == 200 and p.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="person.view", object_id="worklist.pdf").exists()


def test_list_pages_query_counts_do_not_grow_with_rows(
    world, client, django_assert_max_num_queries
) -> None:
    from ansinh.arrears.services import followup_sync

    for i in range(30):
        spell(f"Q{i:02d}", "hi", "2025-01-01", "2025-10-10", household=f"HX{i}")
        spell(f"R{i:02d}", "si_compulsory", "2025-01-01", None, household=f"HX{i}")
    followup_sync(as_of=D)
    assert FollowUp.objects.count() > 60
    client.force_login(make_user("adm", "province"))
    with django_assert_max_num_queries(15):
        assert client.get("/worklists/?status=all").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/arrears/?as_of=2025-09-30").status_code == 200
