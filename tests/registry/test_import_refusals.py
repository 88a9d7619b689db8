"""Every refusal of SPEC section 2: exit 1, the refusal line and `dòng R, cột C` lines, the
errors CSV, and nothing written."""

from __future__ import annotations

import csv
import io

import pytest

from ansinh.arrears.models import Contribution, Employer
from ansinh.core.models import AuditEvent, ImportBatch
from ansinh.geography.models import Population, Unit
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Count, Person, Spell
from ansinh.targets.models import Target

MODELS = (
    Unit,
    Population,
    Target,
    Person,
    Spell,
    Count,
    Employer,
    Contribution,
    Activity,
    Attendee,
)

P_HEAD = "person_id,unit_code,scheme,group,start_date,end_date\n"
P_OK = "P1,C1,hi,household,2025-01-01,\n"

# (kind, file content, expected (row, column) errors)
CASES = [
    ("participations", P_HEAD + P_OK + "P2,C9,hi,household,2025-01-01,\n", [(3, "unit_code")]),
    ("participations", P_HEAD + P_OK + "P2,C1,xx,household,2025-01-01,\n", [(3, "scheme")]),
    ("participations", P_HEAD + P_OK + "P2,C1,hi,alien,2025-01-01,\n", [(3, "group")]),
    ("participations", P_HEAD + P_OK + "P2,C1,hi,household,02-01-2025,\n", [(3, "start_date")]),
    ("participations", P_HEAD + P_OK + "P2,C1,hi,household,2025-02-30,\n", [(3, "start_date")]),
    ("participations", P_HEAD + P_OK + "P2,C1,hi,household,20250201,\n", [(3, "start_date")]),
    (
        "participations",
        P_HEAD + P_OK + "P2,C1,hi,household,2025-02-01,2025-01-31\n",
        [(3, "end_date")],
    ),
    ("participations", P_HEAD + P_OK + ",C1,hi,household,2025-02-01,\n", [(3, "person_id")]),
    ("participations", P_HEAD + P_OK + "P2,C1,hi,household,,\n", [(3, "start_date")]),
    (
        "participations",
        P_HEAD + P_OK + "P2,C1,hi,student,2025-01-01,\n" + P_OK,
        [(4, "person_id, scheme, start_date, unit_code")],
    ),
    (
        "participations",
        "person_id,unit_code,scheme,start_date\n" + "P1,C1,hi,2025-01-01\n",
        [(1, "group")],
    ),
    ("units", "code,name,level,parent_code\nC7,Xã Bảy,commune,\n", [(2, "parent_code")]),
    ("units", "code,name,level,parent_code\nC7,Xã Bảy,commune,NOPE\n", [(2, "parent_code")]),
    ("units", "code,name,level,parent_code\nC7,Xã Bảy,hamlet,O1\n", [(2, "level")]),
    ("units", "code,name,level,parent_code\nC7,,commune,O1\n", [(2, "name")]),
    # a ";"-separated file (Excel with Vietnamese list settings): one row-1 hint
    ("units", "code;name;level;parent_code\nC7;Xã Bảy;commune;O1\n", [(1, "")]),
    # "/" separates the codes of a unit's path
    ("units", "code,name,level,parent_code\nC7/2,Xã Bảy,commune,O1\n", [(2, "code")]),
    ("units", "code,name,level,parent_code\nC7,A,commune,O1\nC7,B,commune,O1\n", [(3, "code")]),
    (
        "units",
        "code,name,level,parent_code,valid_from,valid_to\nC7,A,commune,O1,2025-07-01,2025-06-30\n",
        [(2, "valid_to")],
    ),
    (
        "units",
        "code,name,level,parent_code\nX1,A,office,X2\nX2,B,office,X1\n",
        [(2, "parent_code")],
    ),
    ("population", "year,unit_code,population\n2025,C1,-5\n", [(2, "population")]),
    ("population", "year,unit_code,population\n20x5,C1,5\n", [(2, "year")]),
    ("population", "year,unit_code,population,group\n2025,C1,5,nobody\n", [(2, "group")]),
    ("targets", "year,unit_code,indicator,target\n2025,C1,hi_coverage,120\n", [(2, "target")]),
    ("targets", "year,unit_code,indicator,target\n2025,C1,coverage,12\n", [(2, "indicator")]),
    ("targets", "year,unit_code,indicator,target\n2025,C1,hi,-1\n", [(2, "target")]),
    ("targets", "year,unit_code,indicator,target\n2025,C1,hi,abc\n", [(2, "target")]),
    ("counts", "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,-3\n", [(2, "participants")]),
    (
        "counts",
        "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,1.5\n",
        [(2, "participants")],
    ),
    (
        "counts",
        "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,3\n2025-09-30,C1,hi,4\n",
        [(3, "as_of, unit_code, scheme, group")],
    ),
    ("employers", "code,name,unit_code\nE1,A,C9\n", [(2, "unit_code")]),
    ("employers", "code,name,unit_code,employees\nE1,A,C1,-2\n", [(2, "employees")]),
    (
        "contributions",
        "employer_code,period,amount_due\nNOPE,2025-05,100\n",
        [(2, "employer_code")],
    ),
    ("contributions", "employer_code,period,amount_due\nE0,2025-13,100\n", [(2, "period")]),
    ("contributions", "employer_code,period,amount_due\nE0,2025-05,-100\n", [(2, "amount_due")]),
    (
        "contributions",
        "employer_code,period,amount_due,amount_paid,paid_on\nE0,2025-05,100,100,\n",
        [(2, "paid_on")],
    ),
    (
        "activities",
        "code,unit_code,channel,date,lead_org\nA1,C1,tiktok,2025-01-01,si_office\n",
        [(2, "channel")],
    ),
    (
        "activities",
        "code,unit_code,channel,date,lead_org\nA1,C1,booth,2025-01-01,nasa\n",
        [(2, "lead_org")],
    ),
    (
        "activities",
        "code,unit_code,channel,date,lead_org,coordinating_orgs\nA1,C1,booth,2025-01-01,si_office,womens_union;nasa\n",
        [(2, "coordinating_orgs")],
    ),
    (
        "activities",
        "code,unit_code,channel,date,lead_org,cost\nA1,C1,booth,2025-01-01,si_office,-1\n",
        [(2, "cost")],
    ),
    ("attendees", "activity_code,person_id\nNOPE,P1\n", [(2, "activity_code")]),
    ("attendees", "activity_code,person_id\nA0,\n", [(2, "person_id")]),
]


@pytest.fixture
def seeded(cli, write, units):
    res = cli("import", "employers", str(write("e.csv", "code,name,unit_code\nE0,Công ty,C1\n")))
    assert res.code == 0
    res = cli(
        "import",
        "activities",
        str(
            write(
                "a.csv", "code,unit_code,channel,date,lead_org\nA0,C1,booth,2025-01-01,si_office\n"
            )
        ),
    )
    assert res.code == 0


def _state():
    return [m.objects.count() for m in MODELS] + [
        ImportBatch.objects.count(),
        AuditEvent.objects.count(),
    ]


@pytest.mark.parametrize(("kind", "content", "expected"), CASES)
def test_refused_and_nothing_written(cli, write, tmp_path, seeded, kind, content, expected):
    before = _state()
    out = tmp_path / "errors.csv"
    res = cli("import", kind, str(write("in.csv", content)), "--errors", str(out))
    assert res.code == 1, res.out
    # the summary line on stdout, one line per problem on stderr
    assert res.out == f"{kind}: bị từ chối, {len(expected)} lỗi\n"
    lines = res.err.splitlines()  # the refusal line again, then one line per problem
    assert lines[0] == res.out.rstrip("\n")
    got = [
        (int(r["row"]), r["column"]) for r in csv.DictReader(io.StringIO(out.read_text("utf-8")))
    ]
    assert got == expected
    for (row, column), line in zip(expected, lines[1:], strict=True):
        assert line.startswith(f"dòng {row}, cột {column}: ")
    assert _state() == before


def test_errors_csv_content_and_twenty_lines(cli, write, tmp_path, units):
    rows = "".join(f"P{i},C1,hi,household,2025-01-{i + 1:02d},2024-01-01\n" for i in range(25))
    out = tmp_path / "errors.csv"
    res = cli("import", "participations", str(write("in.csv", P_HEAD + rows)), "--errors", str(out))
    assert res.code == 1
    assert res.out == "participations: bị từ chối, 25 lỗi\n"
    lines = res.err.splitlines()
    assert lines[0] == res.out.rstrip("\n")
    assert len(lines) == 21 and all(line.startswith("dòng ") for line in lines[1:])
    records = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert records[0] == ["row", "column", "value", "message"]
    assert len(records) == 26
    assert records[1][:3] == ["2", "end_date", "2024-01-01"]
    assert records[25][:3] == ["26", "end_date", "2024-01-01"]
    assert Spell.objects.count() == 0


def test_wrong_encoding_binary_and_empty(cli, write, tmp_path, units):
    latin = write(
        "latin.csv", "code,name,level,parent_code\nC8,Xã Tám Hòa,commune,O1\n", encoding="latin-1"
    )
    res = cli("import", "units", str(latin))
    assert res.code == 1
    assert "UTF-8" in res.err
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    res = cli("import", "units", str(binary))
    assert res.code == 1 and res.out.startswith("units: bị từ chối, 1 lỗi")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = cli("import", "units", str(empty))
    assert res.code == 1
    assert Unit.objects.filter(code="C8").exists() is False


def test_broken_xlsx_refused(cli, tmp_path, units):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    res = cli("import", "counts", str(bad))
    assert res.code == 1
    assert res.out.startswith("counts: bị từ chối, 1 lỗi")
