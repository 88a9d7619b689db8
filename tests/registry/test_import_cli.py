"""`ansinh import` through the command line: every kind, idempotence, dry run, languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ansinh.arrears.models import Contribution, Employer
from ansinh.core.models import AuditEvent, ImportBatch
from ansinh.geography.models import Population, Unit
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Count, Person, Spell
from ansinh.targets.models import Target

PARTS = (
    "person_id,unit_code,scheme,group,start_date,end_date,full_name,phone,birth_date,sex,household_id,employer_code\n"
    "P1,C1,hi,household,2025-01-01,,Nguyễn Văn An,0912345678,1980-05-06,M,H1,\n"
    "P1,C1,si_voluntary,freelancer,2025-02-01,2025-12-31,,,,,,\n"
    "P2,C3,si_compulsory,employee,2024-03-01,2024-12-31,Trần Thị Bình,,,F,,E9\n"
)


def test_units_tree_paths_and_idempotence(cli, write, units):
    assert Unit.objects.count() == 6
    c1 = Unit.objects.get(code="C1")
    assert (c1.path, c1.depth, c1.parent_id, c1.level) == ("KH/O1/C1/", 2, "O1", "commune")
    assert Unit.objects.get(code="KH").path == "KH/"
    from tests.registry.conftest import UNITS

    res = cli("import", "units", str(write("u2.csv", UNITS)))
    assert res.code == 0
    assert res.out.strip() == "units: đọc 6 dòng, tạo mới 0, cập nhật 0, không đổi 6"
    # move C3 under O1: its path follows
    res = cli(
        "import",
        "units",
        str(write("u3.csv", "code,name,level,parent_code\nC3,Phường Ba,commune,O1\n")),
    )
    assert res.out.strip() == "units: đọc 1 dòng, tạo mới 0, cập nhật 1, không đổi 0"
    assert Unit.objects.get(code="C3").path == "KH/O1/C3/"


def test_participations_create_reimport_update(cli, write, units):
    path = write("p.csv", PARTS)
    res = cli("import", "participations", str(path))
    assert res.code == 0, res.err
    assert res.out == "participations: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    assert Spell.objects.count() == 3 and Person.objects.count() == 2
    p1 = Person.objects.get(person_id="P1")
    assert (p1.full_name, p1.phone, p1.birth_date, p1.sex, p1.household_id) == (
        "Nguyễn Văn An",
        "0912345678",
        dt.date(1980, 5, 6),
        "M",
        "H1",
    )
    s = Spell.objects.get(person_id="P1", scheme="si_voluntary")
    assert (s.group, s.unit_id, s.start_date, s.end_date) == (
        "freelancer",
        "C1",
        dt.date(2025, 2, 1),
        dt.date(2025, 12, 31),
    )
    first = ImportBatch.objects.get(kind="participations")
    assert (first.kind, first.file_name, first.rows, first.created) == (
        "participations",
        "p.csv",
        3,
        3,
    )
    assert len(first.sha256) == 64
    assert s.batch_id == first.pk and s.row_no == 3
    assert (
        AuditEvent.objects.filter(action="import.participations", object_id=str(first.pk)).count()
        == 1
    )

    res = cli("import", "participations", str(path))
    assert res.out == "participations: đọc 3 dòng, tạo mới 0, cập nhật 0, không đổi 3\n"
    assert Spell.objects.get(person_id="P1", scheme="si_voluntary").batch_id == first.pk

    # a later file closes P1's hi spell and leaves the rest; blank name keeps the stored one
    later = write(
        "p2.csv",
        "person_id,unit_code,scheme,group,start_date,end_date,employer_code\n"
        "P1,C1,hi,household,2025-01-01,2025-06-30,\n"
        "P2,C3,si_compulsory,employee,2024-03-01,2024-12-31,E9\n"
        "P3,C2,ui,employee,2025-01-01,,\n",
    )
    res = cli("import", "participations", str(later))
    assert res.out == "participations: đọc 3 dòng, tạo mới 1, cập nhật 1, không đổi 1\n"
    hi = Spell.objects.get(person_id="P1", scheme="hi")
    assert hi.end_date == dt.date(2025, 6, 30)
    assert hi.batch_id == ImportBatch.objects.order_by("-id").first().pk and hi.row_no == 2
    assert Person.objects.get(person_id="P1").full_name == "Nguyễn Văn An"
    # a person-only change counts as an update of the row
    res = cli(
        "import",
        "participations",
        str(
            write(
                "p3.csv",
                "person_id,unit_code,scheme,group,start_date,phone\nP3,C2,ui,employee,2025-01-01,0987654321\n",
            )
        ),
    )
    assert res.out == "participations: đọc 1 dòng, tạo mới 0, cập nhật 1, không đổi 0\n"
    assert Person.objects.get(person_id="P3").phone == "0987654321"


def test_dry_run_writes_nothing(cli, write, units):
    batches, audits = ImportBatch.objects.count(), AuditEvent.objects.count()
    res = cli("import", "participations", str(write("p.csv", PARTS)), "--dry-run")
    assert res.code == 0
    assert res.out == "participations: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    assert Spell.objects.count() == 0 and Person.objects.count() == 0
    assert ImportBatch.objects.count() == batches and AuditEvent.objects.count() == audits


def test_english_lines(cli, write, units, monkeypatch):
    monkeypatch.setenv("ANSINH_LANG", "en")
    res = cli("import", "participations", str(write("p.csv", PARTS)))
    assert res.out == "participations: 3 rows read, 3 created, 0 updated, 0 unchanged\n"
    bad = write(
        "bad.csv", "person_id,unit_code,scheme,group,start_date\nP9,C1,xx,household,2025-01-01\n"
    )
    res = cli("import", "participations", str(bad))
    assert res.code == 1
    assert res.out == "participations: refused, 1 errors\n"
    assert res.err.startswith("participations: refused, 1 errors\nrow 2, column scheme: ")


def test_bom_and_unknown_column_warning(cli, write, units):
    path = write(
        "c.csv",
        "\ufeffas_of,unit_code,scheme,participants,group,note\n"
        "2025-09-30,C1,hi,120,,x\n2025-09-30,C1,hi,40,farmer,\n2025-09-30,C2,si_voluntary,7,,\n",
    )
    res = cli("import", "counts", str(path))
    assert res.code == 0, res.err
    assert res.out == "counts: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    assert "note" in res.err
    assert Count.objects.get(unit_id="C1", scheme="hi", group="").participants == 120
    assert Count.objects.get(unit_id="C1", scheme="hi", group="farmer").participants == 40
    res = cli(
        "import",
        "counts",
        str(write("c2.csv", "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,125\n")),
    )
    assert res.out == "counts: đọc 1 dòng, tạo mới 0, cập nhật 1, không đổi 0\n"
    assert Count.objects.get(unit_id="C1", scheme="hi", group="").participants == 125


def test_xlsx_with_date_cells(cli, tmp_path, units):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["person_id", "unit_code", "scheme", "group", "start_date", "end_date"])
    ws.append(["X1", "C2", "hi", "student", dt.date(2025, 3, 1), dt.datetime(2025, 8, 31)])
    ws.append(["X2", "C2", "hi", "student", "2025-04-01", None])
    ws.append([1234, "C2", "hi", "farmer", dt.date(2025, 5, 2), None])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    res = cli("import", "participations", str(path))
    assert res.code == 0, res.err
    assert res.out == "participations: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    x1 = Spell.objects.get(person_id="X1")
    assert (x1.start_date, x1.end_date) == (dt.date(2025, 3, 1), dt.date(2025, 8, 31))
    assert Spell.objects.get(person_id="1234").start_date == dt.date(2025, 5, 2)
    res = cli("import", "participations", str(path))
    assert res.out == "participations: đọc 3 dòng, tạo mới 0, cập nhật 0, không đổi 3\n"


def test_population_and_targets(cli, write, units):
    res = cli(
        "import",
        "population",
        str(
            write(
                "pop.csv",
                "year,unit_code,population,group\n2025,C1,1000,\n2025,C1,200,student\n2025,KH,5000,\n",
            )
        ),
    )
    assert res.code == 0, res.err
    assert Population.objects.get(year=2025, unit_id="C1", group="").population == 1000
    assert Population.objects.get(year=2025, unit_id="C1", group="student").population == 200
    path = write(
        "t.csv",
        "year,unit_code,indicator,target\n2025,C1,hi,900\n2025,C1,hi_coverage,95.5\n2025,O1,si_voluntary,30\n",
    )
    res = cli("import", "targets", str(path))
    assert res.out == "targets: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    assert Target.objects.get(unit_id="C1", indicator="hi_coverage").target == Decimal("95.50")
    assert Target.objects.get(unit_id="C1", indicator="hi").target == Decimal("900")
    res = cli("import", "targets", str(path))
    assert res.out == "targets: đọc 3 dòng, tạo mới 0, cập nhật 0, không đổi 3\n"


def test_employers_and_contributions(cli, write, units):
    res = cli(
        "import",
        "employers",
        str(
            write(
                "e.csv",
                "code,name,unit_code,tax_code,sector,employees\nE1,Công ty A,C1,0101,dệt may,25\nE2,Công ty B,C3,,,\n",
            )
        ),
    )
    assert res.code == 0, res.err
    e1 = Employer.objects.get(code="E1")
    assert (e1.name, e1.unit_id, e1.tax_code, e1.sector, e1.employees) == (
        "Công ty A",
        "C1",
        "0101",
        "dệt may",
        25,
    )
    assert Employer.objects.get(code="E2").employees is None
    path = write(
        "k.csv",
        "employer_code,period,amount_due,amount_paid,paid_on\nE1,2025-05,1000000,1000000,2025-06-20\nE1,2025-06,1000000,,\nE2,2025-06,500,0,\n",
    )
    res = cli("import", "contributions", str(path))
    assert res.out == "contributions: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    c = Contribution.objects.get(employer_id="E1", period=dt.date(2025, 5, 1))
    assert (c.amount_due, c.amount_paid, c.paid_on) == (1000000, 1000000, dt.date(2025, 6, 20))
    assert Contribution.objects.get(employer_id="E1", period=dt.date(2025, 6, 1)).amount_paid == 0
    # a later import replaces the row
    res = cli(
        "import",
        "contributions",
        str(
            write(
                "k2.csv",
                "employer_code,period,amount_due,amount_paid,paid_on\nE1,2025-06,1000000,400000,2025-08-01\n",
            )
        ),
    )
    assert res.out == "contributions: đọc 1 dòng, tạo mới 0, cập nhật 1, không đổi 0\n"
    c = Contribution.objects.get(employer_id="E1", period=dt.date(2025, 6, 1))
    assert (c.amount_paid, c.paid_on) == (400000, dt.date(2025, 8, 1))


def test_activities_and_attendees(cli, write, units):
    path = write(
        "a.csv",
        "code,unit_code,channel,date,lead_org,group,coordinating_orgs,planned_reach,reach,registrations,cost\n"
        "A1,C1,conference,2025-03-10,si_office,freelancer,womens_union; youth_union,100,80,12,5000000\n"
        "A2,C2,door_to_door,2025-03-11,womens_union,,,,,,\n",
    )
    res = cli("import", "activities", str(path))
    assert res.code == 0, res.err
    a1 = Activity.objects.get(code="A1")
    assert a1.coordinating_orgs == ["womens_union", "youth_union"]
    assert (a1.reach, a1.cost, a1.group, a1.date) == (
        80,
        5000000,
        "freelancer",
        dt.date(2025, 3, 10),
    )
    assert Activity.objects.get(code="A2").reach is None
    res = cli("import", "activities", str(path))
    assert res.out == "activities: đọc 2 dòng, tạo mới 0, cập nhật 0, không đổi 2\n"
    att = write(
        "t.csv",
        "activity_code,person_id,full_name,phone\nA1,P1,An,0900000001\nA1,NEW9,,\nA2,P1,,\n",
    )
    res = cli("import", "attendees", str(att))
    assert res.out == "attendees: đọc 3 dòng, tạo mới 3, cập nhật 0, không đổi 0\n"
    assert Attendee.objects.get(activity_id="A1", person_id="P1").full_name == "An"
    res = cli("import", "attendees", str(att))
    assert res.out == "attendees: đọc 3 dòng, tạo mới 0, cập nhật 0, không đổi 3\n"


def test_unknown_kind_and_missing_file(cli, write, tmp_path):
    res = cli("import", "nonsense", str(write("x.csv", "a\n1\n")))
    assert res.code == 2
    res = cli("import", "units", str(tmp_path / "missing.csv"))
    assert res.code == 2
    assert "missing.csv" in res.err


def test_participations_refresh_snapshot_figures(cli, write, units):
    """import_run refreshes the stored figures: kpi right after an import sees the rows."""
    res = cli("import", "participations", str(write("p.csv", PARTS)))
    assert res.code == 0
    res = cli("kpi", "--as-of", "2025-03-31", "--unit", "C1", "--format", "json")
    assert res.code == 0, res.err
    import json

    figures = {i["code"]: i.get("participants") for i in json.loads(res.out)["indicators"]}
    assert figures["hi"] == 1 and figures["si_voluntary"] == 1 and figures["si_compulsory"] == 0


@pytest.mark.parametrize("rows", [0])
def test_header_only_is_refused(cli, write, units, rows):
    res = cli("import", "counts", str(write("c.csv", "as_of,unit_code,scheme,participants\n")))
    assert res.code == 1
    assert res.out.startswith("counts: bị từ chối, 1 lỗi")
