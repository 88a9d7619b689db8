"""The plan DOCX through the command line: the header and closing of the one document module,
right for the issuing level (a province does not send its own plan to itself), the number
left blank in a draft."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from tests.outreach.plan_fixtures import make_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("unit", "agency", "upward", "absent"),
    [
        (
            "KH",
            "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
            "Bảo hiểm xã hội Việt Nam (để báo cáo);",
            "BHXH tỉnh Khánh Hòa (để báo cáo);",
        ),
        (
            "O1",
            "BẢO HIỂM XÃ HỘI CƠ SỞ NHA TRANG",
            "BHXH tỉnh Khánh Hòa (để báo cáo);",
            "Bảo hiểm xã hội Việt Nam (để báo cáo);",
        ),
    ],
)
def test_plan_docx_header_and_recipients(
    cli: Any, tmp_path: Path, unit: str, agency: str, upward: str, absent: str
) -> None:
    make_data()
    out = tmp_path / "kh.docx"
    res = cli(
        "plan", "build", "--year", "2025", "--as-of", "2025-09-30", "--unit", unit,
        "--format", "docx", "-o", str(out),
    )  # fmt: skip
    assert res.code == 0, res.err
    doc = Document(io.BytesIO(out.read_bytes()))
    head = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    assert agency in head and "/KH-BHXH" in head and "Số: 0" not in head  # a draft: blank
    closing = "\n".join(c.text for c in doc.tables[-1].rows[0].cells)
    assert upward in closing and absent not in closing and "GIÁM ĐỐC" in closing
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "KẾ HOẠCH" in body and "(Dự thảo)" in body
