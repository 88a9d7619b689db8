"""Administrative documents an office signs and sends (Decree 30/2020/NĐ-CP; DOMAIN.md section
7): the one place for their header, number, recipients, signature block and page setup, in
DOCX (python-docx) and PDF (fpdf2), and for the register that numbers them.

Plans (``outreach/exports.py``), the progress report (``reports/render_docx.py``,
``reports/render_pdf.py``) and the reminder letter (``arrears/exports.py``) all build their
header here, so the three never differ::

    issuer = issuer_of(unit_ancestors(unit=unit))          # who issues (province or office)
    header = DocHeader(issuer=issuer, date=day, kind="BC", subject=..., number=7)
    document = docx_new()
    docx_header(document, header)                         # agencies, Số: 07/BC-BHXH, motto…
    ... docx_par(document, text, align="justify", indent=True) ...
    docx_closing(document, recipients=recipients_for(issuer, "BC"), signer=signer_title())
    data = docx_bytes(document)

The register: each issuing unit (the province's agency or an office) keeps one register per
kind of document (``KINDS``); numbers run from 01 each calendar year and are given once, when a
document is issued (``number_issue``), inside a transaction that locks the register row, with a
unique constraint (register, year, number) and a retry behind it, so two documents issued at the
same moment never share a number. A unit whose register of that kind is not open is refused
with a message saying how to open it (``register_open``).

Core sits at the bottom of the layer order, so nothing here imports a unit: callers pass the
chain of units from the province down (``geography.selectors.unit_ancestors``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from ansinh.core.actors import actor_required
from ansinh.core.models import DocumentNumber, DocumentRegister
from ansinh.core.services import audit_record

# kinds of document and their abbreviation in the number (Decree 30, appendix III)
KINDS: dict[str, Any] = {
    "KH": gettext_lazy("Kế hoạch"),
    "BC": gettext_lazy("Báo cáo"),
    "TB": gettext_lazy("Thông báo"),
}
ISSUING_LEVELS = ("province", "office")
DEFAULT_SYMBOL = "BHXH"

# Decree 30 page setup: A4; margins top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm;
# Times New Roman 13–14 pt for the body
PAGE_MM = (210, 297)
MARGIN_LEFT = 30.0
MARGIN_RIGHT = 15.0
MARGIN_TOP = 20.0
MARGIN_BOTTOM = 20.0
BODY_FONT = "Times New Roman"
BODY_PT = 13
TEXT_WIDTH_MM = PAGE_MM[0] - MARGIN_LEFT - MARGIN_RIGHT  # 165 mm
PDF_FONT = "dejavu"  # fpdf2 cannot embed Times New Roman (not shipped); DejaVu covers Vietnamese

_PREFIXES = (
    "Tỉnh ",
    "tỉnh ",
    "Thành phố ",
    "thành phố ",
    "TP. ",
    "TP.",
    "TP ",
    "Bảo hiểm xã hội cơ sở ",
    "BHXH cơ sở ",
    "BHXH ",
)


class DocumentError(ValueError):
    """A document refused, in the user's words."""


def short_name(name: str) -> str:
    """A unit's name without its kind, for the agencies' names (``Tỉnh Khánh Hòa`` →
    ``Khánh Hòa``, ``TP. Hồ Chí Minh`` and ``TP Hồ Chí Minh`` → ``Hồ Chí Minh``, ``BHXH cơ sở
    Nha Trang`` → ``Nha Trang``)."""
    name = name.strip()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :].strip()
    return name


@dataclass(frozen=True)
class Issuer:
    """Who issues a document of a unit: the province's SI agency (for the province) or the
    office the unit belongs to (for an office or a commune below one)."""

    unit_code: str  # the unit whose register numbers the document
    level: str  # "province" or "office"
    province: str  # Khánh Hòa
    office: str  # Nha Trang ("" for the province)

    @property
    def governing(self) -> str:
        """The agency above the issuer (top left, first line)."""
        if self.level == "province":
            return _("BẢO HIỂM XÃ HỘI VIỆT NAM")
        return self.province_agency.upper()

    @property
    def province_agency(self) -> str:
        return _("Bảo hiểm xã hội tỉnh %(name)s") % {"name": self.province}

    @property
    def agency(self) -> str:
        """The issuing agency in capitals (top left, bold)."""
        if self.level == "province":
            return self.province_agency.upper()
        return (_("Bảo hiểm xã hội cơ sở %(name)s") % {"name": self.office}).upper()

    @property
    def plain(self) -> str:
        """The issuing agency in running text (``BHXH cơ sở Nha Trang``)."""
        if self.level == "province":
            return _("BHXH tỉnh %(n)s") % {"n": self.province}
        return _("BHXH cơ sở %(n)s") % {"n": self.office}

    @property
    def place(self) -> str:
        """The place in the date line: the province (where both levels sit)."""
        return self.province


def issuer_of(chain: Sequence[Any]) -> Issuer:
    """The issuer of a document of the last unit of ``chain`` (units from the root down, each
    with ``code``, ``name`` and ``level``)."""
    if not chain:
        raise DocumentError(_("Không xác định được đơn vị ban hành văn bản."))
    root = chain[0]
    office = next((u for u in reversed(chain) if u.level == "office"), None)
    if office is None:
        return Issuer(
            unit_code=root.code, level="province", province=short_name(root.name), office=""
        )
    return Issuer(
        unit_code=office.code,
        level="office",
        province=short_name(root.name),
        office=short_name(office.name),
    )


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def number_text(kind: str, number: int | None, symbol: str = DEFAULT_SYMBOL) -> str:
    """``Số: 07/BC-BHXH`` (numbers below 10 with a leading zero, Decree 30 appendix I); a draft
    (``number`` None) leaves the number blank to be filled in by hand: ``Số:      /BC-BHXH``."""
    n = f"{number:02d}" if number else "\u00a0" * 6
    return _("Số: %(n)s/%(kind)s-%(symbol)s") % {"n": n, "kind": kind, "symbol": symbol}


def place_date(place: str, day: dt.date) -> str:
    """``Khánh Hòa, ngày 05 tháng 02 năm 2025`` — days below 10 and months 1 and 2 take a
    leading zero (Decree 30, appendix I)."""
    d = f"{day.day:02d}"
    m = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return _("%(place)s, ngày %(day)s tháng %(month)s năm %(year)s") % {
        "place": place,
        "day": d,
        "month": m,
        "year": day.year,
    }


def motto() -> tuple[str, str]:
    return _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), _("Độc lập - Tự do - Hạnh phúc")


def signer_title() -> str:
    return _("GIÁM ĐỐC")


def signature_note() -> str:
    return _("(Ký, ghi rõ họ tên, đóng dấu)")


def recipients_for(issuer: Issuer, kind: str) -> list[str]:
    """ "Nơi nhận" for a document of ``kind`` issued at the issuer's level: a province reports to
    Vietnam SI and the provincial People's Committee and sends to its offices; an office reports
    to the provincial SI and sends to the communes. Nobody sends a document to itself."""
    file_copy = _("Lưu: VT.")
    if kind == "TB":
        return [_("Như trên;"), _("Lưu: VT, QLT.")]
    if issuer.level == "province":
        upper = [
            _("Bảo hiểm xã hội Việt Nam (để báo cáo);"),
            _("Ủy ban nhân dân tỉnh %(p)s (để báo cáo);") % {"p": issuer.province},
        ]
        if kind == "KH":
            return [
                *upper,
                _("Các sở, ban, ngành, đoàn thể tỉnh (để phối hợp);"),
                _("BHXH cơ sở trực thuộc (để thực hiện);"),
                file_copy,
            ]
        return [
            *upper,
            _("Giám đốc, các Phó Giám đốc;"),
            _("Các phòng nghiệp vụ, BHXH cơ sở trực thuộc;"),
            file_copy,
        ]
    upper = [_("BHXH tỉnh %(p)s (để báo cáo);") % {"p": issuer.province}]
    if kind == "KH":
        return [
            *upper,
            _("Ủy ban nhân dân các xã, phường (để phối hợp);"),
            _("Các đơn vị phối hợp;"),
            file_copy,
        ]
    return [*upper, _("Ủy ban nhân dân các xã, phường (để biết);"), file_copy]


@dataclass
class DocHeader:
    """The heading of one document."""

    issuer: Issuer
    date: dt.date
    kind: str  # KH, BC, TB
    subject: str
    number: int | None = None  # None: a draft, the number left blank
    symbol: str = DEFAULT_SYMBOL
    title: str = ""  # the kind in words when it differs from KINDS (rare)
    # the number line as written, where the number was not given by the register (a reminder
    # whose number was recorded by hand from another register); it replaces ``number``
    number_written: str = ""

    @property
    def governing(self) -> str:
        return self.issuer.governing

    @property
    def agency(self) -> str:
        return self.issuer.agency

    @property
    def place(self) -> str:
        return self.issuer.place

    @property
    def number_line(self) -> str:
        return self.number_written or number_text(self.kind, self.number, self.symbol)

    @property
    def kind_title(self) -> str:
        return (self.title or kind_label(self.kind)).upper()


# ---------------------------------------------------------------- the register


def register_open(
    *, actor: Any, unit: Any, kind: str, symbol: str = DEFAULT_SYMBOL
) -> DocumentRegister:
    """Open the register of ``kind`` for an issuing unit (a province or an office)."""
    if kind not in KINDS:
        raise DocumentError(
            _("Loại văn bản “%(k)s” không có; chọn một trong: %(list)s.")
            % {"k": kind, "list": ", ".join(KINDS)}
        )
    if getattr(unit, "level", "") not in ISSUING_LEVELS:
        raise DocumentError(
            _("Chỉ BHXH tỉnh và BHXH cơ sở có sổ đăng ký văn bản; “%(u)s” không phải.")
            % {"u": getattr(unit, "name", unit)}
        )
    symbol = (symbol or DEFAULT_SYMBOL).strip()
    if not symbol or len(symbol) > 16 or not all(c.isalnum() or c in "-." for c in symbol):
        raise DocumentError(_("Ký hiệu cơ quan không hợp lệ (chữ, số, dấu “-” hoặc “.”)."))
    with transaction.atomic():
        if DocumentRegister.objects.filter(unit_id=unit.code, kind=kind).exists():
            raise DocumentError(
                _("%(u)s đã có sổ đăng ký văn bản loại %(k)s.") % {"u": unit.name, "k": kind}
            )
        register = DocumentRegister.objects.create(
            unit_id=unit.code,
            kind=kind,
            symbol=symbol,
            opened_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="document_register.open",
            object_type="document_register",
            object_id=f"{unit.code}/{kind}",
            after={"unit": unit.code, "kind": kind, "symbol": symbol},
        )
    return register


def missing_register_message(issuer: Issuer, kind: str) -> str:
    return _(
        "%(agency)s chưa mở sổ đăng ký văn bản loại %(kind)s (%(label)s) nên chưa cấp được số: "
        "quản trị viên mở sổ ở trang Sổ văn bản (/documents/) hoặc bằng lệnh "
        "“ansinh register open --unit %(code)s --kind %(kind)s”; hoặc xuất bản dự thảo "
        "(--draft) không có số."
    ) % {"agency": issuer.plain, "kind": kind, "label": kind_label(kind), "code": issuer.unit_code}


def number_issue(
    *,
    actor: Any,
    issuer: Issuer,
    kind: str,
    subject: str,
    year: int,
    ref_type: str = "",
    ref_id: str = "",
) -> DocumentNumber:
    """Give the next number of ``year`` from the issuer's register of ``kind``. With a
    reference (``ref_type``/``ref_id``: the plan, the reminder) the number is given once: a
    second call answers the number already given. Refused (``DocumentError``) where the
    register is not open; nothing is written then."""
    actor_required(actor)
    attempts = 5
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                register = (
                    DocumentRegister.objects.select_for_update()
                    .filter(unit_id=issuer.unit_code, kind=kind)
                    .first()
                )
                if register is None:
                    raise DocumentError(missing_register_message(issuer, kind))
                if ref_type:
                    given = (
                        DocumentNumber.objects.select_related("register")
                        .filter(ref_type=ref_type, ref_id=str(ref_id))
                        .first()
                    )
                    if given is not None:
                        return given
                last = _last_number(register, year)
                doc = DocumentNumber.objects.create(
                    register=register,
                    year=year,
                    number=(last or 0) + 1,
                    subject=subject[:400],
                    ref_type=ref_type,
                    ref_id=str(ref_id),
                    issued_by=actor if getattr(actor, "pk", None) else None,
                    issued_by_name=getattr(actor, "username", "") or "cli",
                )
                audit_record(
                    actor=actor,
                    action="document.issue",
                    object_type="document",
                    object_id=f"{register.unit_id}/{doc.number:02d}/{kind}-{register.symbol}/{year}",
                    after={
                        "unit": register.unit_id,
                        "kind": kind,
                        "year": year,
                        "number": doc.number,
                        "subject": doc.subject,
                        "ref": f"{ref_type}:{ref_id}" if ref_type else "",
                    },
                )
                return doc
        except IntegrityError:
            # another issue took the number (or the reference) between our read and write:
            # read again and take the next one
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _last_number(register: DocumentRegister, year: int) -> int | None:
    return DocumentNumber.objects.filter(register=register, year=year).aggregate(m=Max("number"))[
        "m"
    ]


def number_of(*, ref_type: str, ref_id: str) -> DocumentNumber | None:
    """The number already given to a referenced document, if any."""
    return (
        DocumentNumber.objects.select_related("register")
        .filter(ref_type=ref_type, ref_id=str(ref_id))
        .first()
    )


# ---------------------------------------------------------------- DOCX (python-docx)


def docx_new(*, landscape: bool = False) -> Any:
    """A python-docx Document with the Decree 30 page: A4, margins 20/20/30/15 mm, Times New
    Roman 13 pt for every script (Vietnamese included)."""

    document = Document()
    section = document.sections[0]
    w, h = PAGE_MM
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(h), Mm(w)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(w), Mm(h)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    normal = document.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), BODY_FONT)
    normal.paragraph_format.space_after = Pt(4)
    _docx_page_numbers(section, first=True)
    return document


_AFTER_PGNUMTYPE = (
    "w:cols",
    "w:formProt",
    "w:vAlign",
    "w:noEndnote",
    "w:titlePg",
    "w:textDirection",
    "w:bidi",
    "w:rtlGutter",
    "w:docGrid",
    "w:printerSettings",
    "w:sectPrChange",
)


def _docx_page_numbers(section: Any, *, first: bool) -> None:
    """Decree 30 page numbers for a DOCX section: a PAGE field centred in the top margin,
    Arabic numerals, none on the first page, counting from 1 in this section (a later section
    shares the first one's header)."""
    section.different_first_page_header_footer = True
    section.header_distance = Mm(MARGIN_TOP / 2 - 2)
    if first:
        header = section.header
        header.is_linked_to_previous = False
        par = header.paragraphs[0]
        par.alignment = 1
        run = par.add_run()
        run.font.size = Pt(BODY_PT)
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            if kind is not None:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
            else:
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = text
            run._r.append(el)
    sect_pr = section._sectPr
    num = sect_pr.find(qn("w:pgNumType"))
    if num is None:
        num = OxmlElement("w:pgNumType")
        # the schema's order: before the section's columns, title page and grid
        sect_pr.insert_element_before(num, *_AFTER_PGNUMTYPE)
    num.set(qn("w:start"), "1")


def docx_next_document(document: Any) -> None:
    """Start the next document of a file holding several (letters): a new section on a new
    page, its pages numbered from 1 again."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _docx_page_numbers(section, first=False)


_ALIGN = {"left": 0, "center": 1, "right": 2, "justify": 3}


def docx_par(
    container: Any,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float | None = None,
    align: str | None = None,
    indent: bool = False,
    space_after: float | None = None,
    space_before: float | None = None,
) -> Any:
    """One paragraph in a document or a table cell; ``indent`` a justified body paragraph with
    a first-line indent of 10 mm."""

    p = container.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold, italic, underline
        if size:
            run.font.size = Pt(size)
    if indent:
        p.alignment = _ALIGN["justify"]
        p.paragraph_format.first_line_indent = Mm(10)
    if align is not None:
        p.alignment = _ALIGN[align]
    if space_after is not None:
        p.paragraph_format.space_after = Pt(space_after)
    if space_before is not None:
        p.paragraph_format.space_before = Pt(space_before)
    return p


def docx_widths(table: Any, mm: Sequence[float]) -> None:
    """Fix column widths (Word reads the cells, LibreOffice the grid) and the table's width,
    with a fixed layout (otherwise LibreOffice shrinks the table to its text)."""

    table.autofit = False
    for k, w in enumerate(mm):
        table.columns[k].width = Mm(w)
        for cell in table.columns[k].cells:
            cell.width = Mm(w)
    tbl_pr = table._tbl.tblPr
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tbl_pr.append(width)
    width.set(qn("w:w"), str(round(sum(mm) * 56.7)))
    width.set(qn("w:type"), "dxa")


def _no_side_margins(table: Any) -> None:
    """A borderless layout table without the cells' side padding, so that a heading line
    (the motto, the agency) gets the whole column."""

    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    table._tbl.tblPr.append(mar)


def _cell_first(
    cell: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float = 13,
    align: str = "center",
) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    run.font.size = Pt(size)
    p.alignment = _ALIGN[align]
    p.paragraph_format.space_after = Pt(0)


def docx_header(document: Any, header: DocHeader) -> None:
    """The two-column heading (a borderless table: agencies and number at the left, the motto
    and the place and date at the right), then the kind of document and its subject."""
    table = document.add_table(rows=1, cols=2)
    docx_widths(table, [76, TEXT_WIDTH_MM - 76])
    _no_side_margins(table)
    left, right = table.rows[0].cells
    _cell_first(left, header.governing, size=12)
    docx_par(left, header.agency, bold=True, size=12, align="center", space_after=0)
    docx_par(left, "", size=6, align="center", space_after=0)
    docx_par(left, header.number_line, size=13, align="center", space_after=0)
    line1, line2 = motto()
    _cell_first(right, line1, bold=True, size=12)
    docx_par(right, line2, bold=True, underline=True, size=13, align="center", space_after=0)
    docx_par(right, "", size=6, align="center", space_after=0)
    docx_par(
        right,
        place_date(header.place, header.date),
        italic=True,
        size=13,
        align="center",
        space_after=0,
    )
    docx_par(document, "", space_after=0)
    docx_par(document, header.kind_title, bold=True, size=14, align="center", space_after=0)
    docx_par(document, header.subject, bold=True, size=14, align="center", space_after=0)
    docx_par(document, "_" * 12, size=10, align="center", space_after=6)


def docx_closing(
    document: Any,
    *,
    recipients: Sequence[str],
    signer: str,
    signer_name: str = "",
    note: bool = True,
) -> None:
    """ "Nơi nhận:" at the bottom left (bold italic 12 pt, lines 11 pt) and the signature block
    at the bottom right (the signer's title in capitals, room to sign, the name). The body's
    last paragraph is kept with it: the signature never stands alone on a page."""
    body = document.paragraphs
    if body:
        body[-1].paragraph_format.keep_with_next = True
    docx_par(document, "", space_after=0).paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=2)
    docx_widths(table, [80, TEXT_WIDTH_MM - 80])
    # recipients and signature stay on one page: the row moves whole rather than split
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left, right = table.rows[0].cells
    _cell_first(left, _("Nơi nhận:"), bold=True, italic=True, size=12, align="left")
    for r in recipients:
        docx_par(left, f"- {r}", size=11, align="left", space_after=0)
    _cell_first(right, signer.upper(), bold=True, size=13)
    if note:
        docx_par(right, signature_note(), italic=True, size=12, align="center", space_after=0)
    for _i in range(4):
        docx_par(right, "", space_after=0)
    if signer_name:
        docx_par(right, signer_name, bold=True, size=13, align="center", space_after=0)


def docx_table(
    document: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    mm: Sequence[float],
    aligns: Sequence[str] | None = None,
    size: float = 11,
    bold_rows: Sequence[int] = (),
) -> Any:
    """A bordered table with a bold header row repeated on every page; cells are text (format
    numbers before), ``aligns`` per column."""

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    docx_widths(table, mm)
    aligns = list(aligns or ["left"] * len(header))
    for k, h in enumerate(header):
        _cell_first(table.rows[0].cells[k], h, bold=True, size=size, align="center")
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    docx_append_rows(
        table,
        [
            [(str(v), aligns[k], i in bold_rows) for k, v in enumerate(row)]
            for i, row in enumerate(rows)
        ],
        mm=mm,
        size=size,
    )
    return table


# text, alignment ("left", "center", "right"), bold, and the columns it spans
DocxCell = tuple[str, str, bool] | tuple[str, str, bool, int]


def docx_append_rows(
    table: Any, rows: Sequence[Sequence[DocxCell]], *, mm: Sequence[float], size: float
) -> None:
    """Append ``rows`` to a python-docx table in one XML parse: adding cells one by one
    through python-docx costs ~5 ms a cell, too slow for a plan of a thousand items."""

    half_points = round(size * 2)
    widths = [round(w * 56.7) for w in mm]  # mm → twentieths of a point
    out = [f"<w:tbl {nsdecls('w')}>"]
    for row in rows:
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        col = 0
        for cell in row:
            text, align, bold = cell[0], cell[1], cell[2]
            span = cell[3] if len(cell) > 3 else 1  # type: ignore[misc]
            width = sum(widths[col : col + span])
            col += span
            b = "<w:b/>" if bold else ""
            grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            jc = "both" if align == "justify" else align
            out.append(
                f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{grid}</w:tcPr>'
                f'<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="{jc}"/></w:pPr>'
                f'<w:r><w:rPr>{b}<w:sz w:val="{half_points}"/>'
                f'<w:szCs w:val="{half_points}"/></w:rPr>'
                f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
            )
        out.append("</w:tr>")
    out.append("</w:tbl>")
    tbl = table._tbl
    for tr in list(parse_xml("".join(out))):
        tbl.append(tr)


def docx_bytes(document: Any) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- PDF (fpdf2)


def font_paths(*, serif: bool = False) -> dict[str, Path]:
    """DejaVu Sans (or, ``serif``, DejaVu Serif) regular/bold/oblique/bold-oblique from
    matplotlib's data folder (found without importing matplotlib, which is slow to import)."""

    spec = importlib.util.find_spec("matplotlib")
    locations = list(spec.submodule_search_locations or []) if spec else []
    base = Path(locations[0]) / "mpl-data" / "fonts" / "ttf" if locations else Path(".")
    if serif:
        return {
            "": base / "DejaVuSerif.ttf",
            "B": base / "DejaVuSerif-Bold.ttf",
            "I": base / "DejaVuSerif-Italic.ttf",
            "BI": base / "DejaVuSerif-BoldItalic.ttf",
        }
    return {
        "": base / "DejaVuSans.ttf",
        "B": base / "DejaVuSans-Bold.ttf",
        "I": base / "DejaVuSans-Oblique.ttf",
        "BI": base / "DejaVuSans-BoldOblique.ttf",
    }


def pdf_new(
    *, title: str = "", author: str = "ansinh", serif: bool = False, page_numbers: bool = True
) -> Any:
    """An A4 portrait FPDF with the Decree 30 margins and DejaVu Sans (``serif``: DejaVu Serif,
    the nearest shipped face to Times New Roman, for a letter) registered as ``PDF_FONT``;
    pages numbered as Decree 30 asks (Arabic numerals, centred in the top margin, none on a
    document's first page) unless ``page_numbers`` is false. Several documents in one file
    (letters) each start with ``pdf_next_document`` and are numbered apart."""
    from fpdf import FPDF

    class _Doc(FPDF):
        first_page = 1

        def header(self) -> None:
            number = self.page_no() - self.first_page + 1
            if not page_numbers or number < 2:
                return
            x, y = self.get_x(), self.get_y()
            self.set_y(MARGIN_TOP / 2 - 2)
            family, style, size = self.font_family, self.font_style, self.font_size_pt
            self.set_font(PDF_FONT, size=11)
            self.cell(0, 5, str(number), align="C")
            self.set_font(family, style, size)
            self.set_xy(x, y)

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    fonts = font_paths(serif=serif)
    if serif and not all(f.exists() for f in fonts.values()):  # pragma: no cover
        fonts = font_paths()  # matplotlib always ships the serif faces; Sans if not
    for style, path in fonts.items():
        pdf.add_font(PDF_FONT, style=style, fname=str(path))
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("ansinh")
    pdf.set_font(PDF_FONT, size=11)
    pdf.add_page()
    return pdf


def pdf_next_document(pdf: Any) -> None:
    """Start the next document of a file holding several (letters): a new page, numbered
    from 1 again (its first page shows no number)."""
    pdf.first_page = pdf.page_no() + 1
    pdf.add_page()


def _pdf_centred(pdf: Any, width: float, height: float, text: str) -> None:
    """A centred heading line in the current font. One too long for ``width`` takes a type a
    little smaller (down to 9.5 pt: DejaVu is wider than Times New Roman), and if that is not
    enough is cut into two balanced lines (at the space nearest its middle) rather than leaving
    one word alone on the second."""
    room = width - 2 * pdf.c_margin
    size = pdf.font_size_pt
    while size > 9.5 and pdf.get_string_width(text) > room:
        size = max(size - 0.5, 9.5)
        pdf.set_font_size(size)
    if pdf.get_string_width(text) > room and " " in text:
        mid = len(text) // 2
        cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - mid))
        first, second = text[:cut], text[cut + 1 :]
        if max(pdf.get_string_width(first), pdf.get_string_width(second)) <= room:
            text = f"{first}\n{second}"
    pdf.multi_cell(width, height, text, align="C")


def pdf_header(pdf: Any, header: DocHeader, *, scale: float = 1.0) -> None:
    """The two-column heading, the date line and the document kind and subject; ``scale``
    enlarges the type and the lines (a letter in 12.5 pt serif takes 1.1)."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    left_w = width * 0.45
    right_w = width - left_w
    x0, y0 = pdf.l_margin, pdf.get_y()
    line_h = 4.6 * scale

    pdf.set_xy(x0, y0)
    pdf.set_font(PDF_FONT, size=9.5 * scale)
    _pdf_centred(pdf, left_w, line_h, header.governing)
    pdf.set_x(x0)
    pdf.set_font(PDF_FONT, "B", 9.5 * scale)
    _pdf_centred(pdf, left_w, line_h, header.agency)
    y_left = pdf.get_y()
    pdf.line(x0 + left_w * 0.35, y_left + 0.8, x0 + left_w * 0.65, y_left + 0.8)
    pdf.set_xy(x0, y_left + 2.5)
    pdf.set_font(PDF_FONT, size=9.5 * scale)
    pdf.multi_cell(left_w, line_h, header.number_line, align="C")
    y_left = pdf.get_y()

    line1, line2 = motto()
    pdf.set_xy(x0 + left_w, y0)
    pdf.set_font(PDF_FONT, "B", 9.5 * scale)
    _pdf_centred(pdf, right_w, line_h, line1)
    pdf.set_x(x0 + left_w)
    pdf.set_font(PDF_FONT, "B", 10 * scale)
    pdf.multi_cell(right_w, line_h, line2, align="C")
    y_right = pdf.get_y()
    text_w = pdf.get_string_width(line2)
    cx = x0 + left_w + right_w / 2
    pdf.line(cx - text_w / 2, y_right + 0.8, cx + text_w / 2, y_right + 0.8)
    pdf.set_xy(x0 + left_w, y_right + 2.5)
    pdf.set_font(PDF_FONT, "I", 9.5 * scale)
    _pdf_centred(pdf, right_w, line_h, place_date(header.place, header.date))
    y_right = pdf.get_y()

    pdf.set_y(max(y_left, y_right) + 7)
    pdf.set_x(x0)
    pdf.set_font(PDF_FONT, "B", 13 * scale)
    pdf.multi_cell(width, 6.5 * scale, header.kind_title, align="C")
    pdf.set_x(x0)
    pdf.set_font(PDF_FONT, "B", 11 * scale)
    pdf.multi_cell(width, 5.5 * scale, header.subject, align="C")
    y = pdf.get_y() + 1.5
    pdf.line(x0 + width * 0.4, y, x0 + width * 0.6, y)
    pdf.set_y(y + 5)
    pdf.set_font(PDF_FONT, size=11)


# the room the closing needs at the foot of a page (recipients, title, room to sign); with
# less it starts a new page
PDF_CLOSING_MM = 45


def pdf_closing(
    pdf: Any,
    *,
    recipients: Sequence[str],
    signer: str,
    signer_name: str = "",
    scale: float = 1.0,
) -> None:
    """ "Nơi nhận:" at the bottom left and the signature block at the bottom right; ``scale``
    as in ``pdf_header``."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    if pdf.get_y() > pdf.h - pdf.b_margin - PDF_CLOSING_MM:
        pdf.add_page()
    pdf.ln(6)
    x0, y0 = pdf.l_margin, pdf.get_y()
    left_w = width * 0.5
    pdf.set_xy(x0, y0)
    pdf.set_font(PDF_FONT, "BI", 9.5 * scale)
    pdf.cell(left_w, 5 * scale, _("Nơi nhận:"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(PDF_FONT, size=8.5 * scale)
    for r in recipients:
        pdf.set_x(x0)
        pdf.multi_cell(left_w, 4.2 * scale, f"- {r}")
    pdf.set_xy(x0 + left_w, y0)
    pdf.set_font(PDF_FONT, "B", 10.5 * scale)
    pdf.multi_cell(width - left_w, 5 * scale, signer.upper(), align="C")
    if signer_name:
        pdf.set_xy(x0 + left_w, pdf.get_y() + 18)
        pdf.multi_cell(width - left_w, 5 * scale, signer_name, align="C")
