"""Worklists an officer works from (issue 20 item 1): address, village and consent from the
participations import, paging, filters, tap-to-call, exports that honour the unmask (audited),
assignment to the office's officers, one-tap outcomes."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from ansinh.accounts.access import SYSTEM
from ansinh.arrears.models import FollowUp
from ansinh.arrears.services import followup_sync
from ansinh.core.models import AuditEvent
from ansinh.registry.models import Person

from .factories import d, make_units, make_user

D = d("2025-09-30")


@pytest.fixture
def world(db, cli, tmp_path):
    units = make_units()
    lines = [
        "person_id,unit_code,scheme,group,start_date,end_date,full_name,phone,address,"
        "village,consent"
    ]
    # 150 cards ending within 30 days of D in C1 (office O1), every 3rd in Thôn 2
    for i in range(150):
        end = f"2025-10-{1 + i % 30:02d}"
        village = "Thôn 2" if i % 3 == 0 else "Thôn 1"
        group = "student" if i % 5 == 0 else "household"
        consent = ("có", "không", "")[i % 3]
        lines.append(
            f"P{i:03d},C1,hi,{group},2025-01-01,{end},Nguyễn Văn {i},090{i:07d},"
            f"{i} Lê Lợi,{village},{consent}"
        )
    lines.append("Q001,C3,hi,household,2025-01-01,2025-10-05,Trần Thị Q,0912345678,,,yes")
    f = tmp_path / "p.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli("import", "participations", str(f))
    assert res.code == 0, res.err
    followup_sync(as_of=D, actor=SYSTEM)
    return units


def test_import_reads_address_village_consent(world, cli, tmp_path) -> None:
    p = Person.objects.get(person_id="P000")
    assert (p.address, p.village, p.consent) == ("0 Lê Lợi", "Thôn 2", "yes")
    assert Person.objects.get(person_id="P001").consent == "no"
    assert Person.objects.get(person_id="P002").consent == ""
    assert Person.objects.get(person_id="Q001").consent == "yes"
    # a later file without the columns keeps what is stored
    g = tmp_path / "g.csv"
    g.write_text(
        "person_id,unit_code,scheme,group,start_date\nP000,C1,si_voluntary,household,2025-02-01\n",
        encoding="utf-8",
    )
    assert cli("import", "participations", str(g)).code == 0
    assert Person.objects.get(person_id="P000").village == "Thôn 2"
    # a consent that is neither yes nor no refuses the row, in the user's words
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "person_id,unit_code,scheme,group,start_date,consent\n"
        "P900,C1,hi,household,2025-01-01,có lẽ\n",
        encoding="utf-8",
    )
    res = cli("import", "participations", str(bad))
    assert res.code == 1
    assert "consent" in res.err and "có/không" in res.err and "2" in res.err
    assert not Person.objects.filter(person_id="P900").exists()


def test_paging_filters_and_tel(world, client) -> None:
    office = make_user("nt", "office", world["O1"])
    client.force_login(office)
    page1 = client.get("/worklists/?kind=hi_expiring").content.decode()
    assert page1.count('<tr data-id="') == 100
    assert "Mục 1–100 / 150" in page1 and "Trang 1 / 2" in page1
    page2 = client.get("/worklists/?kind=hi_expiring&page=2").content.decode()
    assert page2.count('<tr data-id="') == 50 and "Mục 101–150 / 150" in page2
    # masked: no number to dial, no address; the village is shown
    assert "tel:" not in page1 and "Lê Lợi" not in page1 and "Thôn 2" in page1
    village = client.get("/worklists/?kind=hi_expiring&village=Thôn 2").content.decode()
    assert "Mục 1–50 / 50" in village
    group = client.get("/worklists/?group=student").content.decode()
    assert "Mục 1–30 / 30" in group
    # due within 4 days of the data date (30 Sep): cards ending 1–4 Oct, 5 each
    due = client.get("/worklists/?due=4&as_of=2025-09-30").content.decode()
    assert "Mục 1–20 / 20" in due
    full = client.get("/worklists/?kind=hi_expiring&unmask=1").content.decode()
    assert 'href="tel:0900000000"' in full and "0 Lê Lợi, Thôn 2" in full
    # the export links keep the unmask and the filters
    assert "/worklists/export.xlsx?kind=hi_expiring&amp;unmask=1" in full
    assert "kind=hi_expiring&amp;unmask=1&page=2" in full


def test_exports_honour_unmask_and_are_audited(world, client) -> None:
    client.force_login(make_user("nt", "office", world["O1"]))
    masked = client.get("/worklists/export.xlsx?kind=hi_expiring&village=Thôn 2")
    ws = load_workbook(io.BytesIO(masked.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert len(rows) == 50 and all("Nguyễn" not in str(r[4]) for r in rows)
    full = client.get("/worklists/export.xlsx?kind=hi_expiring&village=Thôn 2&unmask=1")
    ws = load_workbook(io.BytesIO(full.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert len(rows) == 50  # the export is the whole list, not one page
    assert {r[4] for r in rows} >= {"Nguyễn Văn 0", "Nguyễn Văn 3"}
    assert "0 Lê Lợi, Thôn 2" in {r[6] for r in rows} and "0900000000" in {r[5] for r in rows}
    ev = AuditEvent.objects.filter(action="person.unmask", object_id="worklist.xlsx").get()
    assert ev.after["count"] == 50
    pdf = client.get("/worklists/export.pdf?kind=hi_expiring&unmask=1")
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="person.unmask", object_id="worklist.pdf").exists()


def test_assignment_to_officers_of_the_office_and_quick_outcomes(world, client) -> None:
    office = make_user("nt", "office", world["O1"])
    colleague = make_user("xa", "office", world["C1"])
    colleague.first_name, colleague.last_name = "Lan", "Lê Thị"
    colleague.save()
    stranger = make_user("cr", "office", world["O2"])
    make_user("gone", "office", world["O1"]).__class__.objects.filter(username="gone").update(
        is_active=False
    )
    client.force_login(office)
    page = client.get("/worklists/").content.decode()
    # every active officer of the office, by name; not another office's, not inactive ones
    assert "Lê Thị Lan (xa)" in page and ">nt<" in page.replace("(nt)", ">nt<")
    assert "(cr)" not in page and "gone" not in page
    ids = list(
        FollowUp.objects.filter(unit_id="C1").order_by("pk").values_list("pk", flat=True)[:3]
    )
    r = client.post(
        "/worklists/assign",
        {"ids": ids, "user": colleague.pk, "next": "/worklists/?kind=hi_expiring"},
    )
    assert r.status_code == 302 and r["Location"] == "/worklists/?kind=hi_expiring"
    assert set(FollowUp.objects.filter(pk__in=ids).values_list("assigned_to", flat=True)) == {
        colleague.pk
    }
    assert AuditEvent.objects.filter(action="followup.assign").count() == 3
    mine = client.get(f"/worklists/?assigned=u{colleague.pk}").content.decode()
    assert "Mục 1–3 / 3" in mine
    # another office's officer: refused, nothing changed
    r = client.post("/worklists/assign", {"ids": ids, "user": stranger.pk})
    assert r.status_code == 302
    assert not FollowUp.objects.filter(assigned_to=stranger).exists()
    # one tap records an outcome and comes back to the list
    r = client.post(
        f"/worklists/{ids[0]}/",
        {"action": "outcome", "outcome": "unreachable", "on": "2025-10-01", "next": "/worklists/"},
    )
    assert r.status_code == 302 and r["Location"] == "/worklists/"
    assert FollowUp.objects.get(pk=ids[0]).outcomes.get().outcome == "unreachable"
    # an outside address is never followed
    r = client.post(
        f"/worklists/{ids[1]}/",
        {"action": "outcome", "outcome": "called", "on": "2025-10-01", "next": "//evil.example"},
    )
    assert r["Location"] == f"/worklists/{ids[1]}/"
