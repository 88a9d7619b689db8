"""The PostgreSQL COPY fast path of the participations import gives exactly what the
row-by-row path gives: same rows, same people, same counts, and — for a file it cannot take —
the same refusal with the same errors. On SQLite these run the row-by-row path (the same
expectations hold)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from ansinh.registry import fastcopy
from ansinh.registry.models import Person, Spell

HEADER = "person_id,unit_code,scheme,group,start_date,end_date,full_name,phone,birth_date,sex,household_id,employer_code\n"


def big_file(n: int = 1500, *, extra: str = "", spaces: bool = False) -> str:
    lines = [HEADER]
    for i in range(n):
        unit = ("C1", "C2", "C3")[i % 3]
        end = "" if i % 4 else "2025-06-30"
        name = f"Nguyễn Văn Người Thứ {i}"
        pid = f" P{i:05d} " if spaces and i == 7 else f"P{i:05d}"
        lines.append(
            f"{pid},{unit},hi,household,2025-01-{1 + i % 28:02d},{end},{name},"
            f"09{i:08d},1980-01-{1 + i % 28:02d},{'MF'[i % 2]},H{i // 3},\n"
        )
    return "".join(lines) + extra


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records what the fast path returned (None = it handed over to the row-by-row path)."""
    calls: list[Any] = []
    real = fastcopy.copy_participations

    def spy(**kw: Any) -> Any:
        out = real(**kw)
        calls.append(out)
        return out

    monkeypatch.setattr(fastcopy, "copy_participations", spy)
    return calls


def pg() -> bool:
    return connection.vendor == "postgresql"


def test_fast_path_loads_like_the_row_path(cli: Callable, write: Callable, units: None, fast_calls):
    text = big_file(spaces=True)
    assert len(text.encode()) > fastcopy.MIN_BYTES
    res = cli("import", "participations", str(write("p.csv", text)))
    assert res.code == 0, res.err
    assert res.out == "participations: đọc 1500 dòng, tạo mới 1500, cập nhật 0, không đổi 0\n"
    if pg():
        assert fast_calls == [1500]
    assert Spell.objects.count() == 1500 and Person.objects.count() == 1500
    s = Spell.objects.get(person_id="P00007")  # " P00007 " trimmed as the row path does
    assert (s.unit_id, s.group, s.start_date, s.end_date, s.row_no) == (
        "C2",
        "household",
        dt.date(2025, 1, 8),
        None,
        9,  # the header is row 1
    )
    p = Person.objects.get(person_id="P00004")
    assert (p.full_name, p.phone, p.birth_date, p.sex, p.household_id) == (
        "Nguyễn Văn Người Thứ 4",
        "0900000004",
        dt.date(1980, 1, 5),
        "M",
        "H1",
    )
    assert Spell.objects.get(person_id="P00004").end_date == dt.date(2025, 6, 30)
    # the same file again changes nothing
    res = cli("import", "participations", str(write("p2.csv", text)))
    assert res.out == "participations: đọc 1500 dòng, tạo mới 0, cập nhật 0, không đổi 1500\n"


@pytest.mark.parametrize(
    "extra, row, column",
    [
        ("P99999,C9,hi,household,2025-01-01,,,,,,,\n", 1502, "unit_code"),
        ("P99999,C1,hi,household,2025-02-30,,,,,,,\n", 1502, "start_date"),
        ("P99999,C1,hi,household,2025-03-01,2025-02-01,,,,,,\n", 1502, "end_date"),
        (
            "P00001,C2,hi,household,2025-01-02,,,,,,,\n",
            1502,
            "person_id, scheme, start_date, unit_code",
        ),
    ],
)
def test_a_bad_row_hands_over_and_is_refused_the_same(
    cli: Callable, write: Callable, units: None, fast_calls, extra: str, row: int, column: str
):
    res = cli("import", "participations", str(write("bad.csv", big_file(extra=extra))))
    if pg():
        assert fast_calls == [None]  # rolled back to its savepoint, then read row by row
    assert res.code == 1
    assert res.err.splitlines()[0] == "participations: bị từ chối, 1 lỗi"
    assert res.err.splitlines()[1].startswith(f"dòng {row}, cột {column}:")
    assert Spell.objects.count() == 0 and Person.objects.count() == 0


def test_quotes_and_ragged_rows_go_row_by_row(
    cli: Callable, write: Callable, units: None, fast_calls
):
    quoted = big_file(extra='"P77777",C1,hi,household,2025-01-01,,"Lê, Văn",,,,,\n')
    res = cli("import", "participations", str(write("q.csv", quoted)))
    assert res.code == 0, res.err
    assert Person.objects.get(person_id="P77777").full_name == "Lê, Văn"
    ragged = big_file(extra="P88888,C1,hi,household,2025-01-01\n")
    res = cli("import", "participations", str(write("r.csv", ragged)))
    assert res.code == 0, res.err
    assert Spell.objects.filter(person_id="P88888").count() == 1
    if pg():
        assert fast_calls == [None, None]


def test_first_big_load_rebuilds_the_same_indexes_and_keys(
    cli: Callable, write: Callable, units: None, monkeypatch: pytest.MonkeyPatch
):
    """A load bigger than the table drops its secondary indexes (and, on PostgreSQL, its
    foreign keys) and builds them again in the same transaction: same names, same definitions,
    the keys checked."""
    from ansinh.core import bulk

    def schema() -> tuple[list, list, list]:
        return (
            bulk.secondary_indexes("registry_spell") + bulk.secondary_indexes("registry_person"),
            bulk.foreign_keys("registry_spell"),
            bulk.unique_constraints("registry_spell"),
        )

    before = schema()
    assert before[0]
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    dropped: list[bool] = []
    uniques: list[bool] = []
    real = bulk.indexes_deferred

    def spy(model: Any, *, rows: int, unique: bool = False) -> Any:
        uniques.append(unique)
        cm = real(model, rows=rows, unique=unique)
        return _Recorder(cm, dropped)

    monkeypatch.setattr(bulk, "indexes_deferred", spy)
    res = cli("import", "participations", str(write("p.csv", big_file(300))))
    assert res.code == 0, res.err
    assert dropped == [True, True]  # persons, then spells
    # every spell is new: the natural key is rebuilt too (PostgreSQL), the merge a plain insert
    assert uniques == [False, True]
    assert schema() == before
    assert Spell.objects.count() == 300
    # the same file again: nothing is new, the keys stay, the upsert changes nothing
    uniques.clear()
    res = cli("import", "participations", str(write("p.csv", big_file(300))))
    assert res.code == 0, res.err
    assert uniques == []
    assert Spell.objects.count() == 300
    assert schema() == before


def test_big_load_over_stored_keys_keeps_the_natural_key(
    cli: Callable, write: Callable, units: None, monkeypatch: pytest.MonkeyPatch
):
    """Half the rows are stored already: the natural key stays (the merge upserts), the
    stored rows are kept once and the new ones added."""
    from ansinh.core import bulk

    text = big_file(300)
    lines = text.splitlines(keepends=True)
    assert cli("import", "participations", str(write("a.csv", "".join(lines[:151])))).code == 0
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    uniques: list[bool] = []
    real = bulk.indexes_deferred

    def spy(model: Any, *, rows: int, unique: bool = False) -> Any:
        uniques.append(unique)
        return real(model, rows=rows, unique=unique)

    monkeypatch.setattr(bulk, "indexes_deferred", spy)
    res = cli("import", "participations", str(write("b.csv", text)))
    assert res.code == 0, res.err
    assert uniques == [False, False]
    assert Spell.objects.count() == 300
    assert bulk.unique_constraints("registry_spell") or connection.vendor == "sqlite"


class _Recorder:
    def __init__(self, cm: Any, out: list[bool]) -> None:
        self.cm, self.out = cm, out

    def __enter__(self) -> bool:
        value = self.cm.__enter__()
        self.out.append(value)
        return value

    def __exit__(self, *exc: Any) -> Any:
        return self.cm.__exit__(*exc)


def test_fast_path_takes_vietnamese_dates_and_headers(
    cli: Callable, write: Callable, units: None, fast_calls
):
    """Day-first dates (DD/MM/YYYY and D/M/YYYY) and Vietnamese headers stay on the fast path
    on PostgreSQL, and load the same days as their ISO forms."""
    text = big_file()
    vi = (
        "Mã số BHXH,Mã đơn vị,Loại hình bảo hiểm,Nhóm đối tượng,Từ ngày,Đến ngày,Họ và tên,"
        "Số điện thoại,Ngày sinh,Giới tính,Mã hộ gia đình,Mã đơn vị SDLĐ\n"
    )
    lines = text.splitlines(keepends=True)[1:]
    out = [vi]
    for i, line in enumerate(lines):
        cells = line.rstrip("\n").split(",")
        y, m, d = cells[4].split("-")
        cells[4] = f"{int(d)}/{int(m)}/{y}" if i % 2 else f"{d}/{m}/{y}"
        if cells[5]:
            y, m, d = cells[5].split("-")
            cells[5] = f"{d}/{m}/{y}"
        out.append(",".join(cells) + "\n")
    res = cli("import", "participations", str(write("p.csv", "".join(out))))
    assert res.code == 0, res.err
    if pg():
        assert fast_calls == [1500]
    got = {s.person_id: (s.start_date, s.end_date) for s in Spell.objects.all()}
    assert got["P00000"] == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert got["P00001"] == (dt.date(2025, 1, 2), None)
    assert len(got) == 1500


def test_ties_between_units_stay_on_the_fast_path(
    cli: Callable, write: Callable, units: None, fast_calls
):
    # P00001 starts hi on 2025-01-02 in C2 (row 3); here also in C1: a tie, kept (SPEC 3)
    tied = big_file(extra="P00001,C1,hi,household,2025-01-02,,,,,,,\n")
    res = cli("import", "participations", str(write("t.csv", tied)))
    assert res.code == 0, res.err
    assert res.out == "participations: đọc 1501 dòng, tạo mới 1501, cập nhật 0, không đổi 0\n"
    if pg():
        assert fast_calls == [1501]
    spells = Spell.objects.filter(person_id="P00001").order_by("unit_id")
    assert [(s.unit_id, s.row_no) for s in spells] == [("C1", 1502), ("C2", 3)]
    # the same file again: the ties are restamped with the later batch, nothing else changes
    res = cli("import", "participations", str(write("t2.csv", tied)))
    assert res.code == 0, res.err
    assert res.out == "participations: đọc 1501 dòng, tạo mới 0, cập nhật 0, không đổi 1501\n"
    batches = set(Spell.objects.filter(person_id="P00001").values_list("batch_id", flat=True))
    assert len(batches) == 1 and batches != {Spell.objects.get(person_id="P00002").batch_id}
