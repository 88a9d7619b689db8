"""Offices' own spreadsheets (SPEC section 2, issue 16 item 3) and bounded bad input (issue 21
item 4), through the command line: Vietnamese dates, grouped whole numbers, percentages with a
comma, Vietnamese headers, title rows above the header, codes by their names; and every value
that is not clearly one thing refused with its row and column, nothing written."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import openpyxl
import pytest

from ansinh.arrears.models import Employer
from ansinh.core.models import ImportBatch
from ansinh.outreach.models import Activity, Attendee
from ansinh.registry.models import Count, Person, Spell
from ansinh.targets.models import Target

A_HEAD = "code,unit_code,channel,date,lead_org,cost\n"


def _errors(path):
    return [
        (r["row"], r["column"], r["message"])
        for r in csv.DictReader(io.StringIO(path.read_text("utf-8")))
    ]


@pytest.mark.django_db
def test_grouped_numbers_and_vietnamese_dates(cli, write, units):
    res = cli(
        "import",
        "activities",
        str(
            write(
                "a.csv",
                A_HEAD
                + "A1,C1,booth,20/11/2025,si_office,300.000\n"
                + 'A2,C1,booth,1/5/2025,si_office,"3,000,000"\n'
                + "A3,C1,booth,2025-11-20,si_office,3 000 000\n",
            )
        ),
    )
    assert res.code == 0, res.err
    got = dict(Activity.objects.values_list("code", "cost"))
    assert got == {"A1": 300_000, "A2": 3_000_000, "A3": 3_000_000}
    dates = dict(Activity.objects.values_list("code", "date"))
    assert str(dates["A1"]) == "2025-11-20" and str(dates["A2"]) == "2025-05-01"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "column"),
    [
        ("300,5", "cost"),
        ("3.00", "cost"),
        ("1.2345", "cost"),
        ("3.000,000", "cost"),
        ("3e5", "cost"),
    ],
)
def test_numbers_not_clearly_whole_are_refused(cli, write, tmp_path, units, value, column):
    out = tmp_path / "err.csv"
    path = write("a.csv", A_HEAD + f'A1,C1,booth,2025-11-20,si_office,"{value}"\n')
    res = cli("import", "activities", str(path), "--errors", str(out))
    assert res.code == 1
    ((row, col, message),) = _errors(out)
    assert (row, col) == ("2", column) and "số nguyên" in message
    assert Activity.objects.count() == 0 and ImportBatch.objects.count() == 1  # the units


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["30/02/2025", "11/05/25", "2025-1-5", "05-11-2025", "2025/11/05"]
)
def test_dates_not_clearly_one_day_are_refused(cli, write, tmp_path, units, value):
    out = tmp_path / "err.csv"
    path = write("a.csv", A_HEAD + f"A1,C1,booth,{value},si_office,1\n")
    res = cli("import", "activities", str(path), "--errors", str(out))
    assert res.code == 1
    assert _errors(out)[0][:2] == ("2", "date")
    assert Activity.objects.count() == 0


@pytest.mark.django_db
def test_day_first_never_month_first(cli, write, units):
    path = write("c.csv", "as_of,unit_code,scheme,participants\n11/05/2025,C1,hi,7\n")
    assert cli("import", "counts", str(path)).code == 0
    assert str(Count.objects.get().as_of) == "2025-05-11"


@pytest.mark.django_db
def test_percentages_with_a_comma(cli, write, units):
    path = write(
        "t.csv",
        "year,unit_code,indicator,target\n"
        '2025,C1,hi_coverage,"95,5"\n2025,C2,hi_coverage,95.25\n2025,C1,hi,1.200\n',
    )
    res = cli("import", "targets", str(path))
    assert res.code == 0, res.err
    got = {(t.unit_id, t.indicator): str(t.target) for t in Target.objects.all()}
    assert got == {
        ("C1", "hi_coverage"): "95.50",
        ("C2", "hi_coverage"): "95.25",
        ("C1", "hi"): "1200.00",
    }


@pytest.mark.django_db
def test_vietnamese_headers_title_rows_and_code_names(cli, write, units):
    text = (
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA,,,,,,\n"
        "DANH SÁCH NGƯỜI THAM GIA,,,,,,\n"
        ",,,,,,\n"
        "Mã số BHXH,Mã đơn vị,LOẠI HÌNH BẢO HIỂM,Nhóm  đối tượng,Từ ngày,Họ và tên,Ngày sinh\n"
        "P1,C1,Bảo hiểm y tế,household,01/01/2025,Nguyễn Văn A,20/11/1990\n"
        "P2,C2,hi,Hộ gia đình (BHYT hộ gia đình),2025-02-01,Trần Thị B,\n"
    )
    res = cli("import", "participations", str(write("p.csv", text)))
    assert res.code == 0, res.err
    assert "đọc 2 dòng, tạo mới 2" in res.out
    spells = {
        s.person_id: (s.unit_id, s.scheme, s.group, str(s.start_date)) for s in Spell.objects.all()
    }
    assert spells == {
        "P1": ("C1", "hi", "household", "2025-01-01"),
        "P2": ("C2", "hi", "household", "2025-02-01"),
    }
    p1 = Person.objects.get(person_id="P1")
    assert p1.full_name == "Nguyễn Văn A" and str(p1.birth_date) == "1990-11-20"


@pytest.mark.django_db
def test_title_rows_in_an_xlsx(cli, tmp_path, units):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Báo cáo số người tham gia"])
    ws.append([])
    ws.append(["Số liệu đến ngày", "Mã đơn vị", "Loại hình", "Số người tham gia"])
    ws.append(["30/09/2025", "C1", "BHXH tự nguyện", "1.234"])
    ws.append(["30/09/2025", "C2", "si_voluntary", 2345])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    res = cli("import", "counts", str(path))
    assert res.code == 0, res.err
    got = {c.unit_id: (str(c.as_of), c.scheme, c.participants) for c in Count.objects.all()}
    assert got == {
        "C1": ("2025-09-30", "si_voluntary", 1234),
        "C2": ("2025-09-30", "si_voluntary", 2345),
    }


@pytest.mark.django_db
def test_no_header_in_the_first_twenty_rows(cli, write, tmp_path, units):
    text = "tiêu đề\n" * 20 + "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,5\n"
    out = tmp_path / "err.csv"
    res = cli("import", "counts", str(write("c.csv", text)), "--errors", str(out))
    assert res.code == 1
    assert {e[1] for e in _errors(out)} == {"as_of", "unit_code", "scheme", "participants"}
    assert Count.objects.count() == 0


@pytest.mark.django_db
def test_invalid_code_names_the_valid_values_by_their_names(cli, write, tmp_path, units):
    out = tmp_path / "err.csv"
    path = write("a.csv", A_HEAD + "A1,C1,booth,2025-11-20,nasa,1\n")
    res = cli("import", "activities", str(path), "--errors", str(out))
    assert res.code == 1
    ((_row, column, message),) = _errors(out)
    assert column == "lead_org"
    assert "Hội Liên hiệp Phụ nữ" in message and "womens_union" not in message
    path = write(
        "b.csv", A_HEAD + "A1,C1,Gian hàng tại hội chợ, lễ hội,2025-11-20,hội liên hiệp phụ nữ,1\n"
    )
    # (an unquoted comma in a name shifts the columns: refused, never guessed)
    assert cli("import", "activities", str(path)).code == 1
    path = write(
        "c.csv",
        A_HEAD + 'A1,C1,"Gian hàng tại hội chợ, lễ hội",2025-11-20,hội liên hiệp phụ nữ,1\n',
    )
    assert cli("import", "activities", str(path)).code == 0
    a = Activity.objects.get()
    assert (a.channel, a.lead_org) == ("booth", "womens_union")


# --- issue 21 item 4: codes with "/" or control characters, for every KIND -------------------

SLASHED = [
    ("units", "code,name,level,parent_code\nC7/2,Xã Bảy,commune,O1\n", "code"),
    ("units", "code,name,level,parent_code\nC7\x01,Xã Bảy,commune,O1\n", "code"),
    ("employers", "code,name,unit_code\nE/1,Công ty,C1\n", "code"),
    ("employers", "code,name,unit_code\nE\x7f1,Công ty,C1\n", "code"),
    ("activities", A_HEAD + "A/1,C1,booth,2025-11-20,si_office,1\n", "code"),
    ("activities", A_HEAD + "A\\1,C1,booth,2025-11-20,si_office,1\n", "code"),
    (
        "participations",
        "person_id,unit_code,scheme,group,start_date\nP/1,C1,hi,household,2025-01-01\n",
        "person_id",
    ),
    (
        "participations",
        "person_id,unit_code,scheme,group,start_date\nP\x1b1,C1,hi,household,2025-01-01\n",
        "person_id",
    ),
    (
        "participations",
        "person_id,unit_code,scheme,group,start_date,household_id\nP1,C1,hi,household,2025-01-01,H/1\n",
        "household_id",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "text", "column"), SLASHED)
def test_codes_with_slash_or_control_characters_refused(
    cli, write, tmp_path, units, kind, text, column
):
    out = tmp_path / "err.csv"
    res = cli("import", kind, str(write("in.csv", text)), "--errors", str(out))
    assert res.code == 1, res.out
    assert _errors(out)[0][:2] == ("2", column)
    assert Employer.objects.count() == Activity.objects.count() == Spell.objects.count() == 0


@pytest.mark.django_db
def test_attendee_person_id_with_slash_refused(cli, write, units):
    ok = write("a.csv", A_HEAD + "A1,C1,booth,2025-11-20,si_office,1\n")
    assert cli("import", "activities", str(ok)).code == 0
    res = cli("import", "attendees", str(write("t.csv", "activity_code,person_id\nA1,P/1\n")))
    assert res.code == 1 and "dòng 2, cột person_id" in res.err
    assert Attendee.objects.count() == 0


@pytest.mark.django_db
def test_a_thousand_errors_kept_the_rest_counted(cli, write, tmp_path, units):
    rows = "".join(f"2025-09-30,C1,hi,x{i}\n" for i in range(2500))
    out = tmp_path / "err.csv"
    path = write("c.csv", "as_of,unit_code,scheme,participants\n" + rows)
    res = cli("import", "counts", str(path), "--errors", str(out))
    assert res.code == 1
    assert res.out == "counts: bị từ chối, 2500 lỗi\n"
    records = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert len(records) == 1 + 1000 + 1  # header, the first 1000, "… and 1500 more"
    assert records[1000][0] == "1001" and records[-1][0] == "" and "1500" in records[-1][3]


@pytest.mark.django_db
def test_a_long_line_is_refused_at_once(cli, write, tmp_path, units):
    path = tmp_path / "long.csv"
    path.write_bytes(b"as_of,unit_code,scheme,participants\n" + b"1," * (3 << 20) + b"\n")
    began = time.monotonic()
    res = cli("import", "counts", str(path))
    assert time.monotonic() - began < 10
    assert res.code == 1 and res.out == "counts: bị từ chối, 1 lỗi\n"
    assert "dòng 2, cột : dòng dài quá 1 MB" in res.err
    # one line of 5 MB and nothing else
    path.write_bytes(b"a," * (5 << 20 >> 1))
    res = cli("import", "counts", str(path))
    assert res.code == 1 and "dài quá" in res.err


@pytest.mark.django_db
def test_a_big_cell_is_refused_at_once(cli, write, tmp_path, units):
    cell = "x" * (40 << 10)
    path = write("c.csv", f"as_of,unit_code,scheme,participants,note\n2025-09-30,C1,hi,5,{cell}\n")
    res = cli("import", "counts", str(path))
    assert res.code == 1 and "dòng 2, cột 5: ô dài quá 32 kB" in res.err
    quoted = write(
        "q.csv", f'as_of,unit_code,scheme,participants,note\n2025-09-30,C1,hi,5,"{cell * 4}"\n'
    )
    res = cli("import", "counts", str(quoted))
    assert res.code == 1 and "ô dài quá 32 kB" in res.err
    assert Count.objects.count() == 0


@pytest.mark.django_db
def test_a_zip_bomb_xlsx_is_refused(cli, tmp_path, units):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"<c>0</c>" * (1 << 17)
            for _i in range(300):  # 300 MB of XML, about 300 kB on disk
                member.write(block)
    assert path.stat().st_size < 2 << 20
    began = time.monotonic()
    res = cli("import", "counts", str(path))
    assert time.monotonic() - began < 30
    assert res.code == 1 and "giải nén ra quá" in res.err
    assert Count.objects.count() == 0


@pytest.mark.django_db
def test_utf16_and_excel_csv_named_as_what_they_are(cli, write, units):
    text = "as_of,unit_code,scheme,participants\n2025-09-30,C1,hi,5\n"
    res = cli("import", "counts", str(write("u16.csv", text, encoding="utf-16")))
    assert res.code == 1 and "UTF-16" in res.err and "CSV UTF-8" in res.err
    assert "nhị phân" not in res.err and "dòng 0" not in res.err
    res = cli("import", "counts", str(write("u16le.csv", text, encoding="utf-16-le")))
    assert res.code == 1 and "UTF-16" in res.err
    ansi = "code,name,level,parent_code\nC8,Xã Tám,commune,O1\n"
    res = cli("import", "units", str(write("ansi.csv", ansi, encoding="cp1252")))
    assert res.code == 1 and "bảng mã Windows" in res.err and "CSV UTF-8" in res.err
    assert Count.objects.count() == 0
