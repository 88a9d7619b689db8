"""Worklists: boundaries (day 30, day 90, inclusive ends), households, do-not-contact,
auto-close by an imported spell, pages and exports with masking, scoping."""

from __future__ import annotations

import io

import pytest

from ansinh.accounts.access import SYSTEM
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
    spell("P04", "hi", "2025-01-01", "2025-09-30")  # last day covered is D → expiring (day 0)
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

    res = followup_sync(as_of=D, actor=SYSTEM)
    assert keys("hi_expiring") == {
        ("P01", "hi", "2025-10-30"),
        ("P03", "hi", "2025-10-01"),
        ("P04", "hi", "2025-09-30"),
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
        "hi_expiring": 4,
        "lapsed": 3,
        "household": 1,
        "employer_overdue": 1,
        "closed": 0,
    }
    assert FollowUp.objects.get(person_id="P09").unit_id == "C3"
    # idempotent
    again = followup_sync(as_of=D, actor=SYSTEM)
    assert again["hi_expiring"] == again["lapsed"] == again["household"] == 0
    assert FollowUp.objects.count() == 9


def test_worklist_pages_masking_and_scope(world, client) -> None:
    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D, actor=SYSTEM)
    office = make_user("nt", "office", world["O1"])
    client.force_login(office)
    page = client.get("/worklists/?kind=hi_expiring")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ng*** V** P" in html and "Nguyễn Văn P01" not in html and "09******67" in html
    other_row = f'data-id="{FollowUp.objects.get(person_id="P09").pk}"'
    assert other_row not in html  # C3 is another office's
    assert html.count('<tr data-id="') == 4
    ev = AuditEvent.objects.filter(action="person.view").latest("id")
    assert sorted(ev.after["persons"]) == ["P01", "P03", "P04", "P06"]
    assert "Mục 1–4 / 4" in html and "Phường Nha Trang" in html  # commune names, not codes
    # per commune: C2 has nobody expiring; another office's commune is a 404
    c2 = client.get("/worklists/?kind=hi_expiring&unit=C2").content.decode()
    assert "Mục 0–0 / 0" in c2 and '<tr data-id="' not in c2
    assert client.get("/worklists/?unit=C3").status_code == 404
    assert client.get("/worklists/export.xlsx?unit=C3").status_code == 404
    # the lists in working order: expiring before lapsed before households before employers
    table = client.get("/worklists/").content.decode().split('id="worklist"')[1]
    table = table.split("<tbody>")[1]
    firsts = [
        table.find(f">{label}")
        for label in ("Sắp hết hạn", "Ngừng tham gia", "Hộ chưa đủ BHYT", "Chậm đóng")
    ]
    assert -1 not in firsts and firsts == sorted(firsts)
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

    followup_sync(as_of=D, actor=SYSTEM)
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
    followup_sync(as_of=d("2025-11-15"), actor=SYSTEM)
    assert not FollowUp.objects.filter(person_id="P01", status="open").exists()
    listed = client.get("/worklists/?status=all&unmask=1").content.decode()
    assert "Nguyễn Văn P01" not in listed and f'data-id="{fu.pk}"' not in listed


def test_auto_close_by_imported_spell(transactional_db, world, cli, tmp_path, client) -> None:
    """The import of participations itself (the real CLI, one job) closes the follow-ups its
    spells convert; the funnel reports the contacted ones as row ``followup``."""
    # transactional: the sync below runs as a core job, whose runner closes old connections
    from ansinh.arrears.selectors import followup_conversions
    from ansinh.arrears.services import followup_assign, followup_record_outcome, followup_sync

    followup_sync(as_of=D, actor=SYSTEM)
    office = make_user("nt", "office", world["O1"])
    admin = make_user("adm", "admin")
    p09 = FollowUp.objects.get(person_id="P09")
    p11 = FollowUp.objects.get(person_id="P11")
    p03 = FollowUp.objects.get(person_id="P03")
    # worked: P09 called, then said they registered (closed on their word); P11 unreachable;
    # P03 called but does not renew; P07 never contacted
    followup_record_outcome(actor=admin, followup=p09, outcome="called", on=d("2025-10-01"))
    followup_record_outcome(actor=admin, followup=p09, outcome="registered", on=d("2025-10-03"))
    followup_record_outcome(actor=admin, followup=p11, outcome="unreachable", on=d("2025-10-02"))
    followup_record_outcome(actor=office, followup=p03, outcome="called", on=d("2025-09-30"))
    followup_assign(actor=admin, followup=p03, org="womens_union")
    p09.refresh_from_db()
    assert (p09.status, p09.closed_reason) == ("closed", "registered")

    f = tmp_path / "p.csv"
    f.write_text(
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P09,C3,hi,household,2025-10-05,2026-10-04\n"  # re-joined: converts the lapsed entry
        "P11,C3,si_voluntary,freelancer,2025-10-06,\n"  # back on voluntary SI
        "P07,C1,hi,household,2025-10-07,2026-10-06\n"  # re-joined without any contact
        "P14,C1,hi,household,2025-10-01,\n",  # completes household H1
        encoding="utf-8",
    )
    dry = cli("import", "participations", str(f), "--dry-run")
    assert dry.code == 0 and FollowUp.objects.filter(closed_reason="converted").count() == 0
    res = cli("import", "participations", str(f))
    assert res.code == 0, res.err
    assert res.out.strip() == "participations: đọc 4 dòng, tạo mới 4, cập nhật 0, không đổi 0"
    # closed by the import, on the data date (latest spell start: P06's 2025-10-20)
    closed = {
        fu.person_id or fu.household_id: (fu.status, fu.closed_reason, fu.closed_at)
        for fu in FollowUp.objects.filter(closed_reason="converted")
    }
    conv = ("closed", "converted", d("2025-10-20"))
    assert closed == {"P09": conv, "P11": conv, "P07": conv, "H1": conv}
    auto = p09.outcomes.get(automatic=True)
    assert auto.outcome == "registered" and auto.by is None
    # the same job brought the person lists up to date on that date: P03's card (last day
    # 1 Oct) has ended, so their entry moves from the expiring list to the lapsed one (P04 too)
    p03 = {f.kind: (f.status, f.closed_reason) for f in FollowUp.objects.filter(person_id="P03")}
    assert p03 == {"hi_expiring": ("closed", "lapsed"), "lapsed": ("open", "")}
    # the case stays with whoever had it
    assert FollowUp.objects.get(person_id="P03", kind="lapsed").assigned_org == "womens_union"
    syncs = AuditEvent.objects.filter(action="followup.sync").order_by("id")
    assert syncs.count() == 2 and syncs.last().after["source"] == "import:participations"
    assert syncs.last().after["closed"] == 6  # 4 converted; P03, P04 moved to lapsed
    # re-importing the same file changes nothing and closes nothing more
    before = sorted(FollowUp.objects.values_list("pk", "status", "closed_reason"))
    again = cli("import", "participations", str(f))
    assert again.code == 0 and "tạo mới 0, cập nhật 0" in again.out
    assert AuditEvent.objects.filter(action="followup.sync").count() == 2
    assert sorted(FollowUp.objects.values_list("pk", "status", "closed_reason")) == before

    # the funnel by channel: one row "followup" of the contacted follow-ups (P09, P11, P03);
    # P07 re-joined by itself and is no conversion of the lists
    out = cli("outreach", "funnel", "--from", "2025-09-01", "--to", "2025-10-31")
    assert out.code == 0, out.err
    import json

    rows = {r["key"]: r for r in json.loads(out.out)["rows"]}
    assert rows["followup"] == {
        "key": "followup",
        "activities": 4,  # contacts recorded by staff
        # the 8 person and household entries listed on 30 Sep, and the 3 the import listed on
        # 20 Oct (P02 now expiring; P03, P04 lapsed)
        "planned_reach": 11,
        "reach": 2,  # P09, P03 (P11 unreachable)
        "attendees": 3,
        "registrations_reported": 1,
        "converted": 2,  # P09, P11
        "conversion_pct": 66.67,
        "cost": None,
        "cost_per_conversion": None,
    }
    office_rows = {
        r["key"]: r
        for r in json.loads(
            cli(
                "outreach", "funnel", "--from", "2025-09-01", "--to", "2025-10-31", "--unit", "O1"
            ).out
        )["rows"]
    }
    assert office_rows["followup"]["attendees"] == 1 and office_rows["followup"]["converted"] == 0
    # only contacts in the period count; none before September → no row at all
    early = json.loads(cli("outreach", "funnel", "--from", "2025-01-01", "--to", "2025-08-31").out)
    assert "followup" not in {r["key"] for r in early["rows"]}
    # API = CLI, and the office sees only its own units' follow-ups
    client.force_login(office)
    api = client.get("/api/funnel?from=2025-09-01&to=2025-10-31&unit=O1").json()
    assert {r["key"]: r for r in api["rows"]}["followup"] == office_rows["followup"]
    page = client.get("/funnel/?from=2025-09-01&to=2025-10-31").content.decode()
    assert "Danh sách theo dõi, vận động" in page
    assert (
        followup_conversions(unit=world["KH"], date_from=d("2025-10-01"), date_to=d("2025-10-31"))
        == 4
    )
    # P03 (called on the expiring entry, which then moved to the lapsed list) renews: the
    # lapsed entry is converted and the funnel credits the call made before the move, once
    g = tmp_path / "p2.csv"
    g.write_text(
        "person_id,unit_code,scheme,group,start_date,end_date\n"
        "P03,C1,hi,household,2025-11-03,2026-11-02\n",
        encoding="utf-8",
    )
    assert cli("import", "participations", str(g)).code == 0
    lapsed = FollowUp.objects.get(person_id="P03", kind="lapsed")
    assert (lapsed.status, lapsed.closed_reason, lapsed.assigned_org) == (
        "closed",
        "converted",
        "womens_union",
    )

    def followup_row() -> dict:
        out = cli("outreach", "funnel", "--from", "2025-09-01", "--to", "2025-10-31")
        return {r["key"]: r for r in json.loads(out.out)["rows"]}["followup"]

    row = followup_row()
    assert (row["attendees"], row["converted"], row["conversion_pct"]) == (3, 3, 100.0)
    # contacted on the lapsed entry too: still one conversion for the case, not two
    from ansinh.arrears.models import FollowUpOutcome

    FollowUpOutcome.objects.create(followup=lapsed, outcome="called", on=d("2025-10-25"))
    row = followup_row()
    assert (row["attendees"], row["converted"]) == (4, 3)
    # a contributions import closes the follow-up of an employer that paid
    c = tmp_path / "c.csv"
    c.write_text(
        "employer_code,period,amount_due,amount_paid,paid_on\n"
        "E1,2025-06,1000000,1000000,2025-10-02\n",
        encoding="utf-8",
    )
    assert cli("import", "contributions", str(c)).code == 0
    e1 = FollowUp.objects.get(employer_id="E1")
    assert (e1.status, e1.closed_reason) == ("closed", "paid")


def test_exports_are_masked(world, client) -> None:
    from openpyxl import load_workbook

    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=D, actor=SYSTEM)
    client.force_login(make_user("adm", "province"))
    x = client.get("/worklists/export.xlsx?kind=lapsed")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(values) == 3 and {v[3] for v in values} == {"***"}  # short ids fully masked
    assert {v[8] for v in values} == {"Bảo hiểm y tế", "BHXH tự nguyện"}
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
    followup_sync(as_of=D, actor=SYSTEM)
    assert FollowUp.objects.count() > 60
    client.force_login(make_user("adm", "province"))
    # fixed: session/user, summary, unit menu, count, rows, persons, outcomes, unit names,
    # the audit row of the view, the villages of the filter, the officers to assign
    with django_assert_max_num_queries(22):
        assert client.get("/worklists/?status=all").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/arrears/?as_of=2025-09-30").status_code == 200
