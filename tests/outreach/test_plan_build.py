"""SPEC section 6: properties of the draft plan, through ``ansinh plan build``."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import pytest

from ansinh.core import codes
from tests.outreach.plan_fixtures import AS_OF, FIGURES, gaps, make_data

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "unit",
    "month",
    "channel",
    "group",
    "schemes",
    "lead_org",
    "coordinating_orgs",
    "sessions",
    "planned_reach",
    "expected_registrations",
    "cost",
}


def build(cli: Any, *args: str) -> dict[str, Any]:
    res = cli("plan", "build", "--year", "2025", *args)
    assert res.code == 0, res.err
    return json.loads(res.out)


def expected_by(items: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for it in items:
        for s in it["schemes"]:
            out[(it["unit"], s)] += it["expected_registrations"]
    return out


def test_draft_covers_every_gap_in_the_months_left(cli: Any) -> None:
    make_data()
    data = build(cli, "--as-of", AS_OF.isoformat())
    assert data["year"] == 2025 and data["as_of"] == "2025-09-30" and data["unit"] == "KH"
    assert set(data) == {"year", "as_of", "unit", "items", "by_unit", "warnings"}
    items = data["items"]
    assert items
    for it in items:
        assert set(it) == ITEM_KEYS
        assert it["month"] in {"2025-10", "2025-11", "2025-12"}
        assert it["lead_org"] in codes.ORG_CODES
        assert it["lead_org"] not in it["coordinating_orgs"]
        assert it["channel"] in codes.CHANNEL_CODES and it["group"] in codes.GROUP_CODES
        assert it["sessions"] >= 1
        rate = codes.CHANNELS[it["channel"]][1]
        assert it["expected_registrations"] == math.floor(it["sessions"] * rate + 1e-9)
        assert it["cost"] == it["sessions"] * codes.CHANNELS[it["channel"]][2]
    got = expected_by(items)
    for commune, schemes in gaps().items():
        for scheme, gap in schemes.items():
            if gap > 0:
                assert got[(commune, scheme)] >= gap, (commune, scheme)
            else:
                assert got[(commune, scheme)] == 0  # ahead: nothing planned
    # no overlap: one item per commune, month, channel and group
    keys = [(i["unit"], i["month"], i["channel"], i["group"]) for i in items]
    assert len(keys) == len(set(keys))
    # by_unit: every commune with its gaps (schemes with a target) and expected
    rows = {r["unit"]: r for r in data["by_unit"]}
    assert set(rows) == {"C11", "C12", "C13", "C21"}
    assert rows["C11"]["gaps"] == {"si_compulsory": 80, "ui": 50, "si_voluntary": 59, "hi": 300}
    assert rows["C12"]["gaps"] == {"si_voluntary": -15, "hi": 50}
    for r in data["by_unit"]:
        assert r["expected"] == {s: got[(r["unit"], s)] for s in r["gaps"]}
    # the large gap is named in a warning
    assert any(
        w.startswith("C13 hi: needs ") and w.endswith(" sessions a week") for w in data["warnings"]
    )
    assert not any(w.startswith("C21") for w in data["warnings"])


def test_peak_months_weigh_more(cli: Any) -> None:
    make_data()
    data = build(cli, "--as-of", "2025-03-31")
    months = {i["month"] for i in data["items"]}
    assert months <= {f"2025-{m:02d}" for m in range(4, 13)}
    assert "2025-04" in months and "2025-12" in months
    per: dict[tuple[str, str], int] = defaultdict(int)
    for it in data["items"]:
        per[(it["unit"], it["month"])] += it["expected_registrations"]
    for commune in FIGURES:
        peak = [per[(commune, f"2025-{m}")] for m in ("10", "11", "12")]
        rest = [per[(commune, f"2025-{m:02d}")] for m in range(4, 10)]
        assert min(peak) >= max(rest), commune
    c13 = [per[("C13", f"2025-{m:02d}")] for m in range(4, 13)]
    assert c13[-1] > c13[0]  # strictly heavier with a gap that large


def test_history_rates_replace_defaults(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansinh.outreach import planning

    make_data({"C11": {"si_voluntary": (100, 40)}})
    base = build(cli, "--as-of", "2025-09-30", "--unit", "C11")
    assert {i["channel"] for i in base["items"]} == {"small_group", "conference"}
    sg = [i for i in base["items"] if i["channel"] == "small_group"]
    assert all(i["expected_registrations"] == math.floor(i["sessions"] * 1.5) for i in sg)

    monkeypatch.setattr(planning, "_conversion_rates", lambda **kw: {"small_group": 3.0})
    hist = build(cli, "--as-of", "2025-09-30", "--unit", "C11")
    sg2 = [i for i in hist["items"] if i["channel"] == "small_group"]
    assert all(i["expected_registrations"] == i["sessions"] * 3 for i in sg2)
    assert sum(i["sessions"] for i in sg2) < sum(i["sessions"] for i in sg)
    assert hist["by_unit"][0]["expected"]["si_voluntary"] >= 60


def test_unit_scope_and_no_month_left(cli: Any) -> None:
    make_data()
    data = build(cli, "--as-of", "2025-09-30", "--unit", "O2")
    assert [r["unit"] for r in data["by_unit"]] == ["C21"]
    assert {i["unit"] for i in data["items"]} == {"C21"}
    dec = build(cli, "--as-of", "2025-12-15", "--unit", "O2")
    assert dec["items"] == []
    assert len(dec["warnings"]) == 2 and all("no month left" in w for w in dec["warnings"])


def test_cli_refusals(cli: Any) -> None:
    make_data()
    res = cli("plan", "build", "--year", "2025", "--as-of", "2024-12-31")
    assert res.code == 2 and "2024-12-31" in res.err and "Traceback" not in res.err
    res = cli("plan", "build", "--year", "2025", "--unit", "NOPE")
    assert res.code == 1 and "NOPE" in res.err
    res = cli("plan", "build", "--year", "2025", "--format", "pdf")
    assert res.code == 2


def test_cli_exports_open(cli: Any, tmp_path: Any) -> None:
    import docx
    import openpyxl

    make_data()
    out = tmp_path / "p.xlsx"
    res = cli(
        "plan",
        "build",
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        "--format",
        "xlsx",
        "-o",
        str(out),
    )
    assert res.code == 0, res.err
    data = build(cli, "--as-of", "2025-09-30")
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.cell(4, 1).value == "STT" and ws.cell(4, 4).value == "Hình thức"
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(data["items"])
    assert sum(r[11] for r in rows) == sum(i["cost"] for i in data["items"])

    out = tmp_path / "p.docx"
    res = cli(
        "plan",
        "build",
        "--year",
        "2025",
        "--as-of",
        "2025-09-30",
        "--format",
        "docx",
        "-o",
        str(out),
    )
    assert res.code == 0, res.err
    d = docx.Document(str(out))
    text = "\n".join(p.text for p in d.paragraphs)
    for heading in (
        "KẾ HOẠCH",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "II. CHỈ TIÊU, ĐỐI TƯỢNG",
        "III. NỘI DUNG, HÌNH THỨC",
        "IV. KINH PHÍ",
        "V. TỔ CHỨC THỰC HIỆN",
    ):
        assert heading in text
    assert d.styles["Normal"].font.name == "Times New Roman"
    activities = d.tables[2]
    assert len(activities.rows) == 1 + len(data["items"])
    header = "\n".join(c.text for c in d.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header and "Số:" in header
