"""The report to sign: `ansinh report progress --format docx` and the button on /reports/ —
the Decree 30 form, numbered from the issuing unit's register (one number per run, blank in a
draft), refused where the register is missing; opened in LibreOffice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from ansinh.core.actors import SYSTEM
from ansinh.core.models import AuditEvent, DocumentNumber, DocumentRegister
from tests.libreoffice import page_size_mm, page_texts, pages, to_pdf

AS_OF = "2025-09-30"


def _texts(data: bytes) -> tuple[str, str, list[Any]]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    head = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    return body, head, doc.tables


def test_cli_docx_numbered_from_the_register(cli: Any, province: Any, tmp_path: Path) -> None:
    out = tmp_path / "bc.docx"
    # no register of reports for the province yet: refused, nothing written
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "docx", "-o", str(out))
    assert res.code == 1, res
    assert "chưa mở sổ đăng ký văn bản loại BC" in res.err and "ansinh register open" in res.err
    assert "--unit KH --kind BC" in res.err and "Traceback" not in res.err
    assert not out.exists() and not DocumentNumber.objects.exists()

    res = cli("register", "open", "--unit", "KH", "--kind", "BC")
    assert res.code == 0, res.err
    assert cli("register", "open", "--unit", "KH", "--kind", "BC").code == 1  # once
    assert cli("register", "open", "--unit", "C11", "--kind", "BC").code == 1  # not an issuer

    res = cli("report", "progress", "--as-of", AS_OF, "--format", "docx", "-o", str(out))
    assert res.code == 0, res.err
    assert "01/BC-BHXH" in res.out
    body, head, tables = _texts(out.read_bytes())
    # header: governing and issuing agency, number, motto, place and date
    for want in (
        "BẢO HIỂM XÃ HỘI VIỆT NAM",
        "BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA",
        "Số: 01/BC-BHXH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Khánh Hòa, ngày",
    ):
        assert want in head, want
    assert "BÁO CÁO" in body and "Kết quả phát triển người tham gia BHXH, BHYT" in body
    # the headline table: plan, this month, % of plan, change on last month and last year
    headline = tables[1]
    assert [c.text for c in headline.rows[0].cells][:6] == [
        "Chỉ tiêu",
        "Kế hoạch năm",
        "Số người tham gia",
        "% kế hoạch",
        "So tháng trước",
        "So cùng kỳ",
    ]
    row = {r.cells[0].text: [c.text for c in r.cells] for r in headline.rows[1:]}
    # compulsory SI: 1200 + 800 + 3000 = 5000 against 4400 → 113,64 %; +21 on August
    # (7 a month in each of 3 communes), +252 on September 2024 (84 a year in each)
    assert row["BHXH bắt buộc"][1:6] == ["4.400", "5.000", "113,64\u00a0%", "+21", "+252"]
    for section in ("ĐÁNH GIÁ", "CÁC XÃ, PHƯỜNG CÒN THIẾU", "NHIỆM VỤ TRỌNG TÂM THÁNG TỚI"):
        assert section in body, section
    closing = "\n".join(c.text for c in tables[-1].rows[0].cells)
    # a province reports upwards; it does not send its report to itself
    assert "Bảo hiểm xã hội Việt Nam (để báo cáo)" in closing
    assert "BHXH tỉnh Khánh Hòa (để báo cáo)" not in closing
    assert "Nơi nhận:" in closing and "GIÁM ĐỐC" in closing

    # each run issues the next number; a draft leaves it blank and takes none
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "docx", "-o", str(out))
    assert res.code == 0 and "Số: 02/BC-BHXH" in _texts(out.read_bytes())[1]
    res = cli("report", "progress", "--as-of", AS_OF, "--format", "docx", "--draft", "-o", str(out))
    assert res.code == 0
    head = _texts(out.read_bytes())[1]
    assert "Số:" in head and "/BC-BHXH" in head and "01/" not in head and "03/" not in head
    numbers = list(DocumentNumber.objects.order_by("number").values_list("number", "year"))
    assert [n for n, _y in numbers] == [1, 2]
    assert AuditEvent.objects.filter(action="document.issue").count() == 2
    listed = cli("register", "list", "--format", "json")
    assert listed.code == 0 and '"number": "02/BC-BHXH"' in listed.out
    # --draft is for DOCX only
    assert cli("report", "progress", "--as-of", AS_OF, "--draft").code == 2


def test_office_report_in_english(cli: Any, province: Any, tmp_path: Path) -> None:
    DocumentRegister.objects.create(unit_id="O1", kind="BC")
    out = tmp_path / "o1.docx"
    res = cli(
        "report", "progress", "--as-of", AS_OF, "--unit", "C11", "--lang", "en",
        "--format", "docx", "-o", str(out),
    )  # fmt: skip
    assert res.code == 0, res.err
    body, head, tables = _texts(out.read_bytes())
    # a commune's report is issued by its office, under the provincial agency
    assert "KHÁNH HÒA PROVINCIAL SOCIAL INSURANCE" in head
    assert "NHA TRANG GRASSROOTS SOCIAL INSURANCE OFFICE" in head
    assert "No.: 01/BC-BHXH" in head
    assert "REPORT" in body and "Participants" in "\n".join(c.text for c in tables[1].rows[0].cells)
    closing = "\n".join(c.text for c in tables[-1].rows[0].cells)
    assert "Khánh Hòa" in closing and "(for reporting)" in closing
    assert DocumentNumber.objects.get().register.unit_id == "O1"


def test_web_button_issues_and_viewer_takes_drafts(client: Any, province: Any) -> None:
    from ansinh.accounts.models import User

    office = User.objects.create_user(
        username="o1", password="x-Secret-42", role="office", unit=province["O1"]
    )
    client.force_login(office)
    page = client.get("/reports/").content.decode()
    assert 'action="/reports/issue/"' in page and "Phát hành và tải DOCX" in page
    form = {"as_of": AS_OF, "unit": "O1", "lang": "vi"}
    r = client.post("/reports/issue/", form, follow=True)
    assert "chưa mở sổ đăng ký văn bản loại BC" in r.content.decode()
    assert not DocumentNumber.objects.exists()
    DocumentRegister.objects.create(unit_id="O1", kind="BC")
    r = client.post("/reports/issue/", form)
    assert r.status_code == 200 and "wordprocessingml" in r["Content-Type"]
    assert r["Content-Disposition"].endswith(
        "so-01-" + str(DocumentNumber.objects.get().year) + '.docx"'
    )
    assert "Số: 01/BC-BHXH" in _texts(r.content)[1]
    assert client.post("/reports/issue/", {**form, "unit": "O2"}).status_code == 404
    assert client.get("/reports/issue/").status_code == 405
    # the register page lists who issued what
    listing = client.get("/documents/").content.decode()
    assert "01/BC-BHXH" in listing and "o1" in listing

    viewer = User.objects.create_user(
        username="v1", password="x-Secret-42", role="viewer", unit=province["O1"]
    )
    client.force_login(viewer)
    assert client.post("/reports/issue/", form).status_code == 404
    r = client.post("/reports/issue/", {**form, "draft": "1"})
    assert r.status_code == 200 and r["Content-Disposition"].endswith('du-thao.docx"')
    assert DocumentNumber.objects.count() == 1
    assert client.get("/documents/").status_code == 404


def test_register_page_query_count(
    client: Any, province: Any, django_assert_max_num_queries: Any
) -> None:
    from ansinh.accounts.models import User
    from ansinh.core import documents

    for code in ("KH", "O1", "O2"):
        DocumentRegister.objects.create(unit_id=code, kind="BC")
    for code in ("KH", "O1", "O2"):
        issuer = documents.Issuer(unit_code=code, level="office", province="Khánh Hòa", office=code)
        for i in range(5):
            documents.number_issue(
                actor=SYSTEM, issuer=issuer, kind="BC", subject=f"s{i}", year=2026
            )
    client.force_login(User.objects.create_user(username="ad", password="x", role="admin"))
    with django_assert_max_num_queries(10):
        html = client.get("/documents/").content.decode()
    numbers = html.split('id="numbers"')[1]
    assert numbers.count("/BC-BHXH</td>") == 15 and "BC — Báo cáo" in html


def test_register_page_opens_registers(client: Any, province: Any) -> None:
    from ansinh.accounts.models import User

    admin = User.objects.create_user(username="ad", password="x-Secret-42", role="admin")
    client.force_login(admin)
    r = client.post("/documents/open/", {"unit": "O2", "kind": "KH", "symbol": "BHXH"}, follow=True)
    assert "Đã mở sổ đăng ký văn bản KH" in r.content.decode()
    r = client.post("/documents/open/", {"unit": "O2", "kind": "KH"}, follow=True)
    assert "đã có sổ đăng ký văn bản loại KH" in r.content.decode()
    assert DocumentRegister.objects.filter(unit_id="O2", kind="KH").count() == 1
    assert AuditEvent.objects.filter(action="document_register.open").count() == 1
    office = User.objects.create_user(
        username="o2", password="x-Secret-42", role="office", unit=province["O2"]
    )
    client.force_login(office)
    assert client.post("/documents/open/", {"unit": "O2", "kind": "BC"}).status_code == 404
    assert "…/KH-BHXH" in client.get("/documents/").content.decode()


def test_concurrent_issue_takes_the_next_number(province: Any, monkeypatch: Any) -> None:
    """Two issues racing: the second read the same last number as the first; the unique
    constraint refuses its insert and the retry gives it the next number."""
    from ansinh.core import documents

    DocumentRegister.objects.create(unit_id="KH", kind="BC")
    issuer = documents.Issuer(unit_code="KH", level="province", province="Khánh Hòa", office="")
    first = documents.number_issue(actor=SYSTEM, issuer=issuer, kind="BC", subject="a", year=2026)
    real = documents._last_number
    stale = iter([None])  # what the loser of the race read before the winner wrote

    def last(register: Any, year: int) -> int | None:
        return next(stale, real(register, year))

    monkeypatch.setattr(documents, "_last_number", last)
    second = documents.number_issue(actor=SYSTEM, issuer=issuer, kind="BC", subject="b", year=2026)
    assert (first.number, second.number) == (1, 2)
    other_year = documents.number_issue(
        actor=SYSTEM, issuer=issuer, kind="BC", subject="c", year=2027
    )
    assert other_year.number == 1


def test_docx_opens_in_libreoffice(cli: Any, province: Any, tmp_path: Path) -> None:
    DocumentRegister.objects.create(unit_id="KH", kind="BC")
    out = tmp_path / "bc.docx"
    assert cli("report", "progress", "--as-of", AS_OF, "--format", "docx", "-o", str(out)).code == 0
    pdf = to_pdf(out.read_bytes(), "bao-cao.docx", tmp_path)
    width, height = page_size_mm(pdf)
    assert round(width) == 210 and round(height) == 297  # A4 portrait
    assert 1 <= pages(pdf) <= 4
    text = " ".join(page_texts(pdf))
    for want in (
        "BẢO HIỂM XÃ HỘI TỈNH",
        "Số: 01/BC-BHXH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BÁO CÁO",
        "113,64 %",
        "Nơi nhận:",
        "GIÁM ĐỐC",
    ):
        assert want in text, want


def test_parallel_issues_never_share_a_number(transactional_db: Any) -> None:
    """Eight connections issuing at once (PostgreSQL: the register row is locked): forty
    numbers, 1 to 40, each once."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections: PostgreSQL only (SQLite serialises writes)")
    from ansinh.core import documents
    from ansinh.geography.models import Unit

    Unit.objects.create(code="KH", name="Tỉnh Khánh Hòa", level="province", path="KH/")
    DocumentRegister.objects.create(unit_id="KH", kind="BC")
    issuer = documents.Issuer(unit_code="KH", level="province", province="Khánh Hòa", office="")

    def issue(i: int) -> list[int]:
        try:
            return [
                documents.number_issue(
                    actor=SYSTEM, issuer=issuer, kind="BC", subject=f"{i}/{k}", year=2026
                ).number
                for k in range(5)
            ]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = sorted(n for part in pool.map(issue, range(8)) for n in part)
    assert got == list(range(1, 41))
