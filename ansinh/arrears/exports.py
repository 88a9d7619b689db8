"""Files of the arrears app: call sheets / visit lists (XLSX, PDF) and reminder letters (DOCX,
PDF).

Person data in these files is masked unless the caller passes it unmasked (and audited).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import pathlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.documents import (
    PDF_CLOSING_MM,
    PDF_FONT,
    DocHeader,
    Issuer,
    docx_bytes,
    docx_closing,
    docx_header,
    docx_new,
    docx_next_document,
    docx_par,
    docx_table,
    font_paths,
    kind_label,
    motto,
    number_text,
    pdf_closing,
    pdf_header,
    pdf_new,
    pdf_next_document,
    place_date,
    recipients_for,
    short_name,
    signer_title,
)
from ansinh.core.formats import fmt_date, fmt_int, sheet_row
from ansinh.core.sheets import op_print_setup

_P = ParamSpec("_P")
_R = TypeVar("_R")


def sheet_columns() -> list[str]:
    return [
        _("STT"),
        _("Loại"),
        _("Đơn vị"),
        _("Mã số"),
        _("Họ tên / Đơn vị SDLĐ"),
        _("Điện thoại"),
        _("Địa chỉ, thôn"),
        _("Hộ gia đình"),
        _("Loại bảo hiểm"),
        _("Ngày tham chiếu"),
        _("Phân công"),
        _("Kết quả gần nhất"),
        _("Ghi chú"),
    ]


def _sheet_values(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    out = []
    for i, r in enumerate(rows, 1):
        out.append(
            [
                str(i),
                str(r["kind_label"]),
                str(r["unit"]),
                str(r["code"]),
                str(r["name"]),
                str(r["phone"]),
                ", ".join(str(v) for v in (r.get("address"), r.get("village")) if v),
                str(r["household"]),
                str(r["scheme_label"]),
                fmt_date(r["reference_date"]),
                str(r["assigned"]),
                str(r["last_outcome"]),
                "",
            ]
        )
    return out


def call_sheet_xlsx(*, title: str, rows: Sequence[dict[str, Any]]) -> bytes:
    # imported here: openpyxl is slow to import, and only a spreadsheet needs it
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Danh sách")[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(sheet_columns())
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in _sheet_values(rows):
        ws.append(r)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a name such as "=cmd|…" stays text, never a formula
    widths = [5, 16, 10, 16, 28, 14, 30, 14, 16, 13, 16, 16, 24]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A4"
    op_print_setup(ws, header_row=3)  # A4 landscape, one page wide, header on every page
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _dejavu() -> tuple[pathlib.Path, pathlib.Path]:
    """DejaVu Sans regular and bold (``core/documents.py:font_paths``)."""
    fonts = font_paths()
    return fonts[""], fonts["B"]


def call_sheet_pdf(*, title: str, rows: Sequence[dict[str, Any]]) -> bytes:
    # imported here: fpdf takes seconds to import, and only a PDF needs it
    from fpdf import FPDF

    regular, bold = _dejavu()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_auto_page_break(auto=False, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    cols = sheet_columns()
    widths = (8, 22, 13, 20, 34, 20, 40, 16, 18, 18, 20, 20, 28)
    line_h = 6

    def fit(text: str, width: float) -> str:
        if pdf.get_string_width(text) <= width - 2:
            return text
        while text and pdf.get_string_width(text + "…") > width - 2:
            text = text[:-1]
        return text + "…"

    def header() -> None:
        pdf.set_font("DejaVu", "B", 7)
        for c, w in zip(cols, widths, strict=True):
            pdf.cell(w, line_h, fit(c, w), border=1)
        pdf.ln(line_h)
        pdf.set_font("DejaVu", "", 8)

    header()
    bottom = pdf.h - pdf.b_margin
    for values in _sheet_values(rows):
        if pdf.get_y() + line_h > bottom:
            pdf.add_page()
            header()
        for v, w in zip(values, widths, strict=True):
            pdf.cell(w, line_h, fit(v, w), border=1)
        pdf.ln(line_h)
    return bytes(pdf.output())


# ---------------------------------------------------------------- reminder letter (DOCX)


def _issuer(province_name: str, issuer: Issuer | None) -> Issuer:
    """The letter's issuer: the one given (the employer's office or the province), else the
    province named."""
    if issuer is not None:
        return issuer
    return Issuer(unit_code="", level="province", province=short_name(province_name), office="")


def _number_line(number: int | str | None) -> str:
    """``Số: 07/TB-BHXH`` from the register's number; a number recorded by hand from another
    register is shown as written; none leaves it blank (a draft)."""
    if isinstance(number, str):
        number = number.strip()
        if not number:
            return number_text("TB", None)
        if not number.isdigit():
            return _("Số: %(n)s") % {"n": number}
        return number_text("TB", int(number))
    return number_text("TB", number)


def _period_header(*middle: str) -> list[str]:
    """A letter table's header: period, due date, ``middle``, interest."""
    return [_("Kỳ đóng"), _("Hạn đóng"), *middle, _("Tiền lãi (đồng)")]


def _period_row(p: dict[str, Any], vi: str, *middle: str) -> list[str]:
    """A letter table's row for period ``p``: period, due date, ``middle``, interest."""
    return [
        f"{p['period']:%m/%Y}",
        fmt_date(p["due_date"], lang=vi),
        *middle,
        fmt_int(p["interest"], lang=vi),
    ]


def _in_vietnamese(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` run with Vietnamese active (an administrative document is in Vietnamese)."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with translation.override("vi"):
            return fn(*args, **kwargs)

    return run


@_in_vietnamese
def letter_texts(
    *,
    province_name: str,
    employer: Any,
    as_of: dt.date,
    figures: dict[str, Any],
    periods: Sequence[dict[str, Any]],
    number: int | str | None = None,
    late_periods: Sequence[dict[str, Any]] = (),
    issuer: Issuer | None = None,
) -> dict[str, Any]:
    """The words of the reminder letter (one source for DOCX and PDF), always in Vietnamese (an
    administrative document): amounts in Vietnamese format (12.000.000 đồng), interest to
    ``as_of`` on every row (overdue or paid late), the legal basis (DOMAIN.md section 4).

    The interest is SPEC section 8's figure of the employer (every row, overdue or since paid),
    told in two parts so that it reads right beside a short debt: the interest on the periods
    still owed (``periods``, with each one's interest) and that of the periods paid in full but
    late (``late_periods``: each with its payment date, days late and interest)."""
    issuer = _issuer(province_name, issuer)
    # the header from the one document module (core/documents.py)
    motto1, motto2 = motto()
    on_overdue = sum(int(p["interest"]) for p in periods)
    since_paid = int(figures["interest"]) - on_overdue
    vi = "vi"
    return {
        "governing": issuer.governing,
        "agency": issuer.agency,
        "number": _number_line(number),
        "motto1": motto1,
        "motto2": motto2,
        "place_date": place_date(issuer.place, as_of),
        "kind": kind_label("TB").upper(),
        "subject": _("Về việc chậm đóng BHXH, BHYT, BHTN"),
        "to": _("Kính gửi: %(name)s") % {"name": employer.name},
        "basis": _(
            "Căn cứ Luật Bảo hiểm xã hội năm 2024; Luật Bảo hiểm y tế; Luật Việc làm và Nghị định "
            "số 274/2025/NĐ-CP của Chính phủ quy định chi tiết một số điều của Luật Bảo hiểm xã "
            "hội về chậm đóng, trốn đóng bảo hiểm xã hội bắt buộc, bảo hiểm thất nghiệp;"
        ),
        "intro": _(
            "Theo số liệu đối chiếu đến ngày %(date)s, đơn vị %(name)s (mã đơn vị %(code)s) "
            "chưa đóng đủ số tiền BHXH, BHYT, BHTN đã đến hạn, cụ thể như sau:"
        )
        % {"date": fmt_date(as_of, lang="vi"), "name": employer.name, "code": employer.code},
        "header": _period_header(_("Phải đóng (đồng)"), _("Còn nợ (đồng)"), _("Số tháng chậm")),
        "rows": [
            _period_row(
                p,
                vi,
                fmt_int(p["amount_due"], lang=vi),
                fmt_int(p["overdue"], lang=vi),
                str(p["months_overdue"]),
            )
            for p in periods
        ],
        "total": _("Tổng số tiền chậm đóng: %(amount)s đồng.")
        % {"amount": fmt_int(figures["overdue"], lang=vi)},
        "interest": _(
            "Tiền lãi chậm đóng tính đến ngày %(date)s (0,03 %%/ngày trên số tiền chậm đóng cho "
            "mỗi ngày chậm): %(interest)s đồng, gồm %(owed)s đồng trên số tiền còn nợ nêu trên "
            "và %(paid)s đồng của các kỳ đã nộp đủ nhưng nộp sau hạn (chi tiết dưới đây)."
        )
        % {
            "date": fmt_date(as_of, lang=vi),
            "interest": fmt_int(figures["interest"], lang=vi),
            "owed": fmt_int(on_overdue, lang=vi),
            "paid": fmt_int(since_paid, lang=vi),
        }
        if since_paid
        else _(
            "Tiền lãi chậm đóng tính đến ngày %(date)s (0,03 %%/ngày trên số tiền chậm đóng cho "
            "mỗi ngày chậm): %(interest)s đồng."
        )
        % {"date": fmt_date(as_of, lang=vi), "interest": fmt_int(figures["interest"], lang=vi)},
        "late_intro": _(
            "Các kỳ đã nộp đủ nhưng nộp sau hạn đóng (tiền lãi chậm đóng chưa ghi nhận đã nộp):"
        )
        if late_periods
        else "",
        "late_header": _period_header(_("Đã nộp (đồng)"), _("Ngày nộp"), _("Số ngày chậm")),
        "late_rows": [
            _period_row(
                p,
                vi,
                fmt_int(p["paid"], lang=vi),
                fmt_date(p["paid_on"], lang=vi),
                fmt_int((p["paid_on"] - p["due_date"]).days, lang=vi),
            )
            for p in late_periods
        ],
        "request": _(
            "Đề nghị đơn vị khẩn trương nộp đủ số tiền còn nợ và tiền lãi chậm đóng vào tài khoản "
            "chuyên thu của cơ quan bảo hiểm xã hội để bảo đảm quyền lợi của người lao động. "
            "Trường hợp đơn vị tiếp tục chậm đóng, cơ quan bảo hiểm xã hội sẽ phối hợp với các cơ "
            "quan có thẩm quyền xử lý theo quy định của pháp luật."
        ),
        "ignore": _("Trường hợp đơn vị đã nộp, đề nghị bỏ qua thông báo này."),
        "recipients": _("Nơi nhận:"),
        "recipient_lines": [f"- {r}" for r in recipients_for(issuer, "TB")],
        "signer": signer_title(),
    }


def reminder_docx(**kwargs: Any) -> bytes:
    """THÔNG BÁO về việc chậm đóng BHXH, BHYT, BHTN in the administrative layout of
    Decree 30/2020/NĐ-CP (A4, Times New Roman 13 pt, margins 20/20/30/15 mm). Arguments: those
    of ``letter_texts``."""
    return reminders_docx([kwargs])


# the letter's two tables: column widths (mm, 165 in all) and alignments
LETTER_TABLE = ([22, 26, 33, 33, 22, 29], ["center", "center", "right", "right", "right", "right"])
LATE_TABLE = ([22, 26, 33, 26, 22, 36], ["center", "center", "right", "center", "right", "right"])


def _letter_table(
    doc: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    layout: tuple[list[int], list[str]],
) -> None:
    mm, aligns = layout
    docx_table(doc, header, rows, mm=mm, aligns=aligns, size=11)
    docx_par(doc, "", space_after=0)


def _letter_heads(
    letters: Sequence[dict[str, Any]],
) -> Iterator[tuple[dict[str, Any], Issuer, DocHeader]]:
    """Each letter's words (``letter_texts``), its issuer and its header, for both writers."""
    for kwargs in letters:
        t = letter_texts(**kwargs)
        issuer = _issuer(kwargs.get("province_name", ""), kwargs.get("issuer"))
        head = DocHeader(
            issuer=issuer,
            date=kwargs["as_of"],
            kind="TB",
            subject=t["subject"],
            number_written=t["number"],
        )
        yield t, issuer, head


def reminders_docx(letters: Sequence[dict[str, Any]]) -> bytes:
    """Many reminder letters in one DOCX, each on its own pages (a page break between them),
    laid out by the one document module (``core/documents.py``: page, header, number,
    recipients, signature); each item holds the arguments of ``letter_texts``."""
    with translation.override("vi"):
        doc = docx_new()
        for n, (t, issuer, head) in enumerate(_letter_heads(letters)):
            if n:
                docx_next_document(doc)
            docx_header(doc, head)
            docx_par(doc, t["to"], align="center", space_after=8)
            for key in ("basis", "intro"):
                docx_par(doc, t[key], indent=True)
            _letter_table(doc, t["header"], t["rows"], LETTER_TABLE)
            for key in ("total", "interest"):
                docx_par(doc, t[key], indent=True)
            if t["late_rows"]:
                docx_par(doc, t["late_intro"], indent=True)
                _letter_table(doc, t["late_header"], t["late_rows"], LATE_TABLE)
            for key in ("request", "ignore"):
                docx_par(doc, t[key], indent=True)
            docx_closing(doc, recipients=recipients_for(issuer, "TB"), signer=signer_title())
        return docx_bytes(doc)


def reminder_pdf(**kwargs: Any) -> bytes:
    """The same letter as ``reminder_docx`` as a PDF (fpdf2, DejaVu Serif from matplotlib:
    Times New Roman is not shipped; A4, margins 20/20/30/15 mm)."""
    return reminders_pdf([kwargs])


# the letter's body is 12.5 pt serif: its header and closing are a size larger than a report's
LETTER_PDF_SCALE = 1.1


def reminders_pdf(letters: Sequence[dict[str, Any]]) -> bytes:
    """Many reminder letters in one PDF, each starting on a new page; the page, the header
    (agencies, number, motto, place and date, kind and subject) and the closing (recipients,
    signature) are drawn by the one document module (``core/documents.py``: ``pdf_new``,
    ``pdf_header``, ``pdf_closing``), in its serif face, each letter's pages numbered apart
    (``pdf_next_document``: each is sent on its own)."""
    # imported here: fpdf takes seconds to import, and only a PDF needs it
    from fpdf.enums import Align
    from fpdf.fonts import FontFace

    with translation.override("vi"):
        pdf = pdf_new(serif=True)
        width = pdf.w - pdf.l_margin - pdf.r_margin
        widths = (20, 26, 33, 33, 20, width - 132)

        def body(text: str) -> None:
            # block paragraphs: fpdf2 has no first-line indent, and leading spaces stretch when
            # justified
            pdf.set_font(PDF_FONT, "", 12.5)
            pdf.set_x(pdf.l_margin)
            pdf.multi_cell(width, 6.5, text, align=Align.J, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)

        def grid(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> None:
            """A bordered table whose header (bold, wrapped) is drawn again on every page the
            rows run onto (fpdf2's table)."""
            pdf.set_font(PDF_FONT, "", 10)
            with pdf.table(
                col_widths=widths,
                width=sum(widths),
                align="LEFT",
                line_height=6.5,
                headings_style=FontFace(emphasis="BOLD", size_pt=9),
                num_heading_rows=1,
                repeat_headings=1,
                text_align=tuple("RIGHT" if i in right else "CENTER" for i in range(len(widths))),
                v_align="MIDDLE",
            ) as table:
                head = table.row()
                for h in header:
                    head.cell(h, align="CENTER")
                for values in rows:
                    row = table.row()
                    for v in values:
                        row.cell(v)
            pdf.ln(3)

        for n, (t, issuer, head) in enumerate(_letter_heads(letters)):
            if n:
                pdf_next_document(pdf)
            pdf_header(pdf, head, scale=LETTER_PDF_SCALE)
            pdf.set_font(PDF_FONT, "", 12.5)
            pdf.multi_cell(width, 6.5, t["to"], align=Align.C, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
            body(t["basis"])
            body(t["intro"])
            grid(t["header"], t["rows"], {2, 3, 5})
            body(t["total"])
            body(t["interest"])
            if t["late_rows"]:
                body(t["late_intro"])
                grid(t["late_header"], t["late_rows"], {2, 4, 5})
            body(t["request"])
            # the last paragraph goes with the closing, which never stands alone on a page
            pdf.set_font(PDF_FONT, "", 12.5)
            last = len(pdf.multi_cell(width, 6.5, t["ignore"], dry_run=True, output="LINES"))
            if pdf.get_y() + last * 6.5 + 2 > pdf.h - pdf.b_margin - PDF_CLOSING_MM:
                pdf.add_page()
            body(t["ignore"])
            pdf_closing(
                pdf,
                recipients=recipients_for(issuer, "TB"),
                signer=t["signer"],
                scale=LETTER_PDF_SCALE,
            )
        return bytes(pdf.output())


# ---------------------------------------------------------------- late employers, offenders


def state_labels() -> dict[str, str]:
    """The legal steps of a late employer (DOMAIN.md section 4), as users read them."""
    return {
        "late": _("Chậm đóng"),
        "reminded": _("Đã có văn bản đôn đốc"),
        "evading": _("Trốn đóng (quá 60 ngày sau văn bản đôn đốc)"),
    }


def bucket_labels() -> dict[str, str]:
    return {
        "lt3": _("Dưới 3 tháng"),
        "3to6": _("Từ 3 đến dưới 6 tháng"),
        "6to12": _("Từ 6 đến dưới 12 tháng"),
        "ge12": _("Từ 12 tháng trở lên"),
    }


def period_label(value: str) -> str:
    """``2024-04`` → ``04/2024`` (Vietnamese) or the ISO month (English)."""
    if translation.get_language() == "en" or not value or len(value) != 7:
        return value
    return f"{value[5:]}/{value[:4]}"


def _xlsx(
    *, title: str, subtitle: str, header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> bytes:
    """A one-sheet workbook: title, subtitle, bold header, rows (ints formatted in
    thousands, dates as dates), text that would be a formula kept as text."""
    # imported here: openpyxl is slow to import, and only a spreadsheet needs it
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Danh sách")[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([subtitle])
    ws.append(list(header))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in rows:
        ws.append(sheet_row(list(r)))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    for i in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 16
    ws.column_dimensions["B"].width = 40
    ws.freeze_panes = "A4"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def late_employers_xlsx(*, title: str, as_of: dt.date, rows: Sequence[dict[str, Any]]) -> bytes:
    """The late employers with their figures (SPEC section 8) and legal step."""
    states, buckets = state_labels(), bucket_labels()
    return _xlsx(
        title=title,
        subtitle=_("Số liệu đến ngày %(d)s; tiền lãi 0,03 %%/ngày") % {"d": fmt_date(as_of)},
        header=[
            _("Mã"),
            _("Tên đơn vị"),
            _("Mã số thuế"),
            _("Xã, phường"),
            _("Chậm đóng (đồng)"),
            _("Tiền lãi (đồng)"),
            _("Kỳ nợ cũ nhất"),
            _("Số tháng"),
            _("Tuổi nợ"),
            _("Bước xử lý"),
            _("Ngày văn bản đôn đốc"),
            _("Số văn bản"),
            _("Trốn đóng từ ngày"),
        ],
        rows=[
            [
                r["code"],
                r.get("name", ""),
                r.get("tax_code", ""),
                r.get("unit_name", r["unit"]),
                r["overdue"],
                r["interest"],
                period_label(r["oldest_period"]),
                r["months_overdue"],
                buckets.get(r["bucket"], r["bucket"]),
                states.get(r.get("state", ""), ""),
                r.get("reminder_on"),
                r.get("reminder_number", ""),
                r.get("evading_from"),
            ]
            for r in rows
        ],
    )


def _quarter_name(first: dt.date) -> str:
    roman = ("I", "II", "III", "IV")[(first.month - 1) // 3]
    return _("quý %(q)s năm %(y)s") % {"q": roman, "y": first.year}


def offenders_xlsx(data: dict[str, Any]) -> bytes:
    """The quarterly list of late and evading employers for publication."""
    states = state_labels()
    return _xlsx(
        title=_("Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN %(q)s")
        % {"q": _quarter_name(data["first_day"])},
        subtitle=_("Số liệu đến ngày %(d)s; gửi trước ngày %(deadline)s")
        % {
            "d": fmt_date(data["as_of"]),
            "deadline": fmt_date(data["deadline"] + dt.timedelta(days=1)),
        },
        header=[
            _("STT"),
            _("Tên đơn vị"),
            _("Mã số thuế"),
            _("Địa bàn"),
            _("Số tiền chậm đóng (đồng)"),
            _("Số tháng chậm đóng"),
            _("Tình trạng"),
        ],
        rows=[
            [
                i,
                r.get("name", ""),
                r.get("tax_code", ""),
                r.get("unit_name", ""),
                r["overdue"],
                r["months_overdue"],
                states.get(r["state"], r["state"]),
            ]
            for i, r in enumerate(data["rows"], 1)
        ],
    )


def offenders_docx(data: dict[str, Any], *, province_name: str) -> bytes:
    """The same list as a document to publish (Decree 30/2020 layout, always Vietnamese)."""
    with translation.override("vi"):
        return _offenders_docx(data, province_name=province_name)


def _offenders_docx(data: dict[str, Any], *, province_name: str) -> bytes:
    """Laid out by the one document module (``core/documents.py``), landscape for the wide
    table; issued by the province (a draft: the number is written when it is signed)."""
    issuer = _issuer(province_name, None)
    doc = docx_new(landscape=True)
    docx_header(
        doc,
        DocHeader(
            issuer=issuer,
            date=dt.date.today(),
            kind="TB",
            title=_("DANH SÁCH"),
            subject=_("Đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN %(q)s")
            % {"q": _quarter_name(data["first_day"])},
        ),
    )
    docx_par(
        doc,
        _("(Số liệu đến ngày %(d)s)") % {"d": fmt_date(data["as_of"], lang="vi")},
        italic=True,
        align="center",
        space_after=6,
    )
    states = state_labels()
    header = [
        _("STT"),
        _("Tên đơn vị"),
        _("Mã số thuế"),
        _("Địa bàn"),
        _("Số tiền chậm đóng (đồng)"),
        _("Số tháng chậm đóng"),
        _("Tình trạng"),
    ]
    rows = [
        [
            str(n),
            r.get("name", ""),
            r.get("tax_code", ""),
            r.get("unit_name", ""),
            fmt_int(r["overdue"], lang="vi"),
            str(r["months_overdue"]),
            states.get(r["state"], r["state"]),
        ]
        for n, r in enumerate(data["rows"], 1)
    ]
    docx_table(
        doc,
        header,
        rows,
        mm=[12, 70, 30, 40, 34, 22, 44],
        aligns=["center", "left", "center", "left", "right", "right", "left"],
        size=11,
    )
    docx_par(doc, "", space_after=0)
    docx_par(
        doc,
        _("Tổng cộng: %(n)s đơn vị, %(amount)s đồng chậm đóng; trong đó %(e)s đơn vị trốn đóng.")
        % {
            "n": fmt_int(len(data["rows"]), lang="vi"),
            "amount": fmt_int(data["overdue"], lang="vi"),
            "e": fmt_int(data["evading"], lang="vi"),
        },
        indent=True,
    )
    docx_closing(
        doc,
        recipients=[_("UBND tỉnh;"), _("Cổng thông tin điện tử;"), _("Lưu: VT, QLT.")],
        signer=signer_title(),
    )
    return docx_bytes(doc)
