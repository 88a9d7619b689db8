"""`ansinh report progress`: figures equal `ansinh kpi` and the independently computed values,
in Vietnamese and English number formats, as text, XLSX and PDF."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import openpyxl
import pytest

from tests.reports.conftest import SEP, TARGETS, monthly

AS_OF = "2025-09-30"
LABELS_VI = {
    "si_compulsory": "BHXH bắt buộc",
    "si_voluntary": "BHXH tự nguyện",
    "ui": "Bảo hiểm thất nghiệp",
    "hi": "Bảo hiểm y tế",
}
LABELS_EN = {
    "si_compulsory": "Compulsory SI",
    "si_voluntary": "Voluntary SI",
    "ui": "Unemployment insurance",
    "hi": "Health insurance",
}


def pct(n: int, d: int) -> Decimal:
    return (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected(codes: list[str], day: dt.date) -> dict[str, int]:
    return {s: sum(monthly(c, s, day) for c in codes) for s in SEP["C11"]}


def vi_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def vi_pct(p: Decimal) -> str:
    return f"{p:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") + " %"


def headline_line(out: str, label: str) -> str:
    section = out.split("\nII.")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith(label)]
    assert len(lines) == 1, out
    return lines[0]


def kpi(cli: Any, *args: str) -> dict[str, Any]:
    res = cli("kpi", "--as-of", AS_OF, "--format", "json", *args)
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_text_vi_equals_kpi_and_independent_values(cli: Any, province: Any) -> None:
    res = cli("report", "progress", "--as-of", AS_OF, "--lang", "vi")
    assert res.code == 0, res.err
    figures = {i["code"]: i for i in kpi(cli)["indicators"]}
    now = expected(["C11", "C12", "C21"], dt.date(2025, 9, 30))
    prev = expected(["C11", "C12", "C21"], dt.date(2025, 8, 31))
    year_ago = expected(["C11", "C12", "C21"], dt.date(2024, 9, 30))
    for scheme, label in LABELS_VI.items():
        target = sum(TARGETS[c][scheme] for c in TARGETS)
        assert figures[scheme]["participants"] == now[scheme]
        assert figures[scheme]["target"] == target
        assert Decimal(str(figures[scheme]["attainment_pct"])) == pct(now[scheme], target)
        cells = headline_line(res.out, label)[len(label) :].split()
        change_m = now[scheme] - prev[scheme]
        change_y = now[scheme] - year_ago[scheme]
        gap = target - now[scheme]
        # "113,64 %" is two tokens once split on blanks
        assert " ".join(cells[:4]) == (
            f"{vi_int(target)} {vi_int(now[scheme])} {vi_pct(pct(now[scheme], target))}"
        )
        assert cells[4:] == [
            f"+{vi_int(change_m)}",
            f"+{vi_int(change_y)}",
            vi_int(gap),
            vi_int(figures[scheme]["required_per_month"]),
        ]
    # HI coverage: 31.800 / 35.000 = 90,86 %, target 95,00 %
    cov = figures["hi_coverage"]
    assert cov["coverage_pct"] == float(pct(now["hi"], 35000))
    assert f"{vi_pct(pct(now['hi'], 35000))}" in res.out.split("\nIII.")[0].split("\nII.")[1]
    assert "95,00 %" in res.out


def test_text_en_number_format(cli: Any, province: Any) -> None:
    res = cli("report", "progress", "--as-of", AS_OF, "--lang", "en", "--unit", "O1")
    assert res.code == 0, res.err
    figures = {i["code"]: i for i in kpi(cli, "--unit", "O1")["indicators"]}
    now = expected(["C11", "C12"], dt.date(2025, 9, 30))
    for scheme, label in LABELS_EN.items():
        target = TARGETS["C11"][scheme] + TARGETS["C12"][scheme]
        assert figures[scheme]["participants"] == now[scheme]
        cells = headline_line(res.out, label)[len(label) :].split()
        assert cells[0] == f"{target:,}"
        assert cells[1] == f"{now[scheme]:,}"
        assert cells[2] == f"{pct(now[scheme], target):.2f}%"
    # the ranking of an office lists its communes, best average attainment first
    ranking = res.out.split("\nIII.")[1].split("\nIV.")[0]
    assert ranking.index("C11") < ranking.index("C12")


def test_behind_and_pace_sections(cli: Any, province: Any, tmp_path: Any) -> None:
    out = tmp_path / "june.xlsx"
    res = cli("report", "progress", "--as-of", "2025-06-30", "--format", "xlsx", "-o", str(out))
    assert res.code == 0, res.err
    wb = openpyxl.load_workbook(out)
    ws = wb["Tiến độ cần đạt"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=10)]
    assert [r[0] for r in rows] == [f"{m:02d}/2025" for m in range(7, 13)]
    now = expected(["C11", "C12", "C21"], dt.date(2025, 6, 30))
    gap_hi = sum(TARGETS[c]["hi"] for c in TARGETS) - now["hi"]
    hi = [r[5] for r in rows]
    assert sum(hi) == gap_hi
    # peak months (Oct–Dec) weigh 1.5 times the others
    assert all(h > hi[0] for h in hi[3:])
    assert abs(hi[3] - Decimal(gap_hi) * Decimal("1.5") / Decimal("7.5")) <= 1
    ws = wb["Xã phường còn thiếu"]
    first = [c.value for c in next(ws.iter_rows(min_row=5, max_row=5))]
    # the largest gap: C21 hi, 16000 − (15500 − 3 × 7)
    assert first[0] == "C21" and first[6] == 16000 - monthly("C21", "hi", dt.date(2025, 6, 30))


def test_xlsx_has_real_numbers_and_charts(cli: Any, province: Any, tmp_path: Any) -> None:
    out = tmp_path / "r.xlsx"
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "xlsx", "-o", str(out))
    assert res.code == 0, res.err
    assert res.out.strip() == str(out)
    figures = {i["code"]: i for i in kpi(cli)["indicators"]}
    wb = openpyxl.load_workbook(out)
    ws = wb["Tổng hợp"]
    assert ws.freeze_panes == "A5"
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=8)}
    for scheme, label in LABELS_VI.items():
        row = rows[label]
        assert row[1] == figures[scheme]["target"]
        assert row[2] == figures[scheme]["participants"]
        assert isinstance(row[2], int | float)
        assert row[3] == pytest.approx(figures[scheme]["attainment_pct"])
        assert row[6] == figures[scheme]["gap"]
    trend = wb["Diễn biến"]
    last = [c.value for c in list(trend.iter_rows(min_row=5))[-1]]
    assert last[0] == dt.datetime(2025, 9, 30)
    assert last[1] == figures["si_compulsory"]["participants"]
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 5  # participants vs target + one trend chart per scheme


def test_pdf_embeds_dejavu(cli: Any, province: Any, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "pdf", "--unit", "O2")
    assert res.code == 0, res.err
    path = tmp_path / "progress-O2-2025-09-30.pdf"
    assert res.out.strip() == "progress-O2-2025-09-30.pdf"
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"DejaVuSans" in data and b"/FontFile2" in data
    assert data.count(b"/Subtype /Image") >= 2  # the two charts
    assert len(data) > 20_000


def test_cli_refusals(cli: Any, province: Any) -> None:
    res = cli("report", "progress", "--as-of", AS_OF, "--unit", "NOPE")
    assert res.code == 1 and "NOPE" in res.err and "Traceback" not in res.err
    res = cli("report", "progress", "--as-of", "30/09/2025")
    assert res.code == 2
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "doc")
    assert res.code == 2


@pytest.fixture
def with_spells(province: Any) -> Any:
    """Commune C22 under O2 with person spells: 6 farmers in HI since 2024 (3 left on
    2025-03-31) and 8 pupils who joined HI on 2025-02-01."""
    from ansinh.geography.models import Unit
    from ansinh.registry.models import Person, Spell

    c22 = Unit.objects.create(
        code="C22",
        name="Xã Ninh Xuân",
        level="commune",
        parent=province["O2"],
        path="KH/O2/C22/",
        depth=2,
    )
    spells = []
    for i in range(6):
        p = Person.objects.create(person_id=f"F{i}")
        end = dt.date(2025, 3, 31) if i < 3 else None
        spells.append(
            Spell(
                person=p,
                scheme="hi",
                group="farmer",
                unit=c22,
                start_date=dt.date(2024, 1, 1),
                end_date=end,
            )
        )
    for i in range(8):
        p = Person.objects.create(person_id=f"S{i}")
        spells.append(
            Spell(person=p, scheme="hi", group="student", unit=c22, start_date=dt.date(2025, 2, 1))
        )
    Spell.objects.bulk_create(spells)
    return c22


def test_groups_section(cli: Any, with_spells: Any) -> None:
    res = cli("report", "progress", "--as-of", AS_OF, "--unit", "O2", "--lang", "en")
    assert res.code == 0, res.err
    section = res.out.split("TARGET GROUPS")[1].split("\nV")[0]
    rows = [ln for ln in section.splitlines() if ln.startswith(("Farmers", "School"))]
    # groups that fell over the year come first
    assert rows[0].startswith("Farmers") and rows[1].startswith("School")
    # the last 9 cells: participants per scheme, change per scheme, HI coverage (no population)
    farmer = rows[0].split()[-9:]
    assert farmer == ["0", "0", "0", "3", "0", "0", "0", "-3", "—"]
    student = rows[1].split()[-9:]
    assert student == ["0", "0", "0", "8", "0", "0", "0", "+8", "—"]
    # HI participants of O2 = counts of C21 + the spells of C22 alive on the date
    figures = {i["code"]: i for i in kpi(cli, "--unit", "O2")["indicators"]}
    assert figures["hi"]["participants"] == SEP["C21"]["hi"] + 3 + 8


@pytest.mark.parametrize("fmt", ["text", "xlsx", "pdf"])
def test_edges_december_and_empty_unit(cli: Any, province: Any, tmp_path: Any, fmt: str) -> None:
    from ansinh.geography.models import Unit

    Unit.objects.create(
        code="C99",
        name="Đặc khu Trường Sa",
        level="commune",
        parent=province["O1"],
        path="KH/O1/C99/",
        depth=2,
    )
    out = tmp_path / f"r.{fmt}"
    for as_of, unit in (("2025-12-31", "KH"), ("2025-01-15", "C99"), ("2023-06-30", "KH")):
        res = cli(
            "report", "progress", "--as-of", as_of, "--unit", unit, "--format", fmt, "-o", str(out)
        )
        assert res.code == 0, (as_of, unit, res.err)
        assert out.stat().st_size > 0
    if fmt == "text":
        text = out.read_text(encoding="utf-8")
        # before any data: every scheme has 0 participants, no target, nothing behind
        line = next(ln for ln in text.splitlines() if ln.startswith("BHXH bắt buộc"))
        assert line.split()[3:5] == ["—", "0"]
