"""Exports of a communication plan: XLSX (items table) and DOCX in the Vietnamese
administrative layout of Decree 30/2020/NĐ-CP (shared/reference/DOMAIN.md section 7).

Both take the plan as the JSON object of SPEC section 6 (the draft of ``planning.draft_dict`` or a saved plan
through ``selectors.plan_as_dict``) plus a ``PlanMeta`` naming the units.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from ansinh.core import codes
from ansinh.core.documents import (
    DocHeader,
    DocxCell,
    Issuer,
    docx_append_rows,
    docx_bytes,
    docx_closing,
    docx_header,
    docx_new,
    docx_widths,
    issuer_of,
    recipients_for,
    short_name,
    signer_title,
)
from ansinh.core.formats import fmt_int
from ansinh.core.sheets import row_height, xw_print_setup
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_ancestors
from ansinh.outreach.items import PlannedItem


@dataclass
class PlanMeta:
    unit_code: str
    unit_name: str
    unit_level: str
    parent_name: str
    place: str
    year: int
    as_of: str
    version: int | None = None
    status: str = "draft"
    day: dt.date = field(default_factory=dt.date.today)
    names: dict[str, str] = field(default_factory=dict)  # commune code → name
    office_name: str = ""  # the office the unit belongs to, short (``Nha Trang``)
    warnings: list[str] = field(default_factory=list)
    issuer: Issuer | None = None  # who issues the plan (province agency or office)
    number: int | None = None  # from the issuer's register once approved; None: blank
    symbol: str = "BHXH"

    @classmethod
    def from_draft(
        cls,
        *,
        unit: Unit,
        data: dict[str, Any],
        version: int | None = None,
        status: str = "draft",
        day: dt.date | None = None,
        warnings: list[str] | None = None,
        number: Any = None,
    ) -> PlanMeta:
        """``number``: the ``DocumentNumber`` given to the plan (None for a draft)."""
        codes_needed = {r["unit"] for r in data["by_unit"]} | {i.unit for i in plan_items(data)}
        names = dict(Unit.objects.filter(code__in=codes_needed).values_list("code", "name"))
        path_codes = [c for c in unit.path.split("/") if c]
        rows = Unit.objects.filter(code__in=path_codes).values_list("code", "name", "level")
        chain = {code: name for code, name, _level in rows}
        offices = [name for code, name, level in rows if level == Unit.Level.OFFICE]
        parent = chain.get(path_codes[-2], "") if len(path_codes) >= 2 else ""
        place = short_name(chain.get(path_codes[0], unit.name) if path_codes else unit.name)
        issuer = issuer_of(unit_ancestors(unit=unit))
        return cls(
            unit_code=unit.code,
            unit_name=unit.name,
            unit_level=unit.level,
            parent_name=parent,
            place=place,
            office_name=short_name(offices[0]) if offices else "",
            year=int(data["year"]),
            as_of=str(data["as_of"]),
            version=version,
            status=status,
            day=day or dt.date.today(),
            names=names,
            warnings=list(warnings if warnings is not None else data.get("warnings", [])),
            issuer=issuer,
            number=number.number if number is not None else None,
            symbol=number.register.symbol if number is not None else "BHXH",
        )

    def name(self, code: str) -> str:
        n = self.names.get(code)
        return f"{n} ({code})" if n else code


def _month_label(month: str) -> str:
    y, m = month.split("-")
    return _("Tháng %(m)s/%(y)s") % {"m": int(m), "y": y}


def _orgs(codes_list: list[str]) -> str:
    return ", ".join(codes.label(codes.ORGS, c) for c in codes_list)


def _schemes(codes_list: list[str]) -> str:
    return ", ".join(codes.label(codes.SCHEMES, c) for c in codes_list)


def item_headers() -> list[str]:
    return [
        _("STT"),
        _("Xã, phường"),
        _("Tháng"),
        _("Hình thức"),
        _("Đối tượng"),
        _("Chế độ"),
        _("Đơn vị chủ trì"),
        _("Đơn vị phối hợp"),
        _("Số buổi"),
        _("Dự kiến tiếp cận (người)"),
        _("Dự kiến tham gia (người)"),
        _("Kinh phí (đồng)"),
        _("Ghi chú"),
    ]


def plan_items(data: dict[str, Any]) -> list[PlannedItem]:
    """The items of a plan's JSON object (SPEC section 6) in their one shape."""
    return [PlannedItem.from_json(d) for d in data["items"]]


def plan_xlsx(data: dict[str, Any], *, meta: PlanMeta) -> bytes:
    items = plan_items(data)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    title = wb.add_format({"bold": True, "font_size": 14, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True, "valign": "top"}
    )
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    numf = wb.add_format({"border": 1, "num_format": "#,##0", "valign": "top"})
    total = wb.add_format({"bold": True, "border": 1, "num_format": "#,##0"})

    ws = wb.add_worksheet(_("Hoạt động")[:31])
    headers = item_headers()
    widths = [5, 20, 10, 26, 20, 20, 18, 26, 8, 11, 11, 13, 22]
    heading = _("Kế hoạch truyền thông năm %(y)s — %(u)s") % {"y": meta.year, "u": meta.unit_name}
    ws.merge_range(0, 0, 0, len(headers) - 1, heading, title)
    ws.set_row(0, row_height([heading], [sum(widths)], font_pt=14))
    ws.write(1, 0, _("Số liệu đến ngày %(d)s") % {"d": _vdate(meta.as_of)})
    ws.write_row(3, 0, headers, head)
    ws.set_row(3, row_height(headers, widths))
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    r = 4
    for n, it in enumerate(items, start=1):
        texts = [
            "",
            meta.name(it.unit),
            it.month,
            codes.label(codes.CHANNELS, it.channel),
            codes.label(codes.GROUPS, it.group),
            _schemes(it.schemes),
            codes.label(codes.ORGS, it.lead_org),
            _orgs(it.coordinating_orgs),
        ]
        ws.set_row(r, row_height(texts, widths))
        ws.write_number(r, 0, n, cell)
        for col, text in enumerate(texts[1:], start=1):
            ws.write_string(r, col, text, cell)
        for col, number in enumerate(
            (it.sessions, it.planned_reach, it.expected_registrations, it.cost), start=8
        ):
            ws.write_number(r, col, number, numf)
        ws.write_string(r, 12, it.note, cell)
        r += 1
    ws.write(r, 1, _("Tổng cộng"), total)
    for col, key in enumerate(("sessions", "planned_reach", "expected_registrations", "cost"), 8):
        ws.write_number(r, col, sum(int(getattr(i, key)) for i in items), total)
    ws.freeze_panes(4, 0)
    # printing: A4 landscape, one page wide, the header row on every page
    xw_print_setup(ws, widths=widths, header_rows=(3, 3), landscape=True)
    ws.autofilter(3, 0, max(r - 1, 3), len(headers) - 1)

    gs = wb.add_worksheet(_("Chỉ tiêu")[:31])
    gh = [_("Xã, phường")]
    for s in codes.SCHEME_CODES:
        sl = codes.label(codes.SCHEMES, s)
        gh += [_("%(s)s: còn thiếu") % {"s": sl}, _("%(s)s: dự kiến") % {"s": sl}]
    gwidths = [28.0] + [13.0] * (len(gh) - 1)
    gs.write_row(0, 0, gh, head)
    gs.set_row(0, row_height(gh, gwidths))
    for i, gw in enumerate(gwidths):
        gs.set_column(i, i, gw)
    xw_print_setup(gs, widths=gwidths, header_rows=(0, 0))
    for n, row in enumerate(data["by_unit"], start=1):
        gs.set_row(n, row_height([meta.name(row["unit"])], gwidths))
        gs.write_string(n, 0, meta.name(row["unit"]), cell)
        for k, s in enumerate(codes.SCHEME_CODES):
            g = row["gaps"].get(s)
            e = row["expected"].get(s)
            if g is None:
                gs.write_blank(n, 1 + 2 * k, None, cell)
                gs.write_blank(n, 2 + 2 * k, None, cell)
            else:
                gs.write_number(n, 1 + 2 * k, g, numf)
                gs.write_number(n, 2 + 2 * k, e or 0, numf)

    if meta.warnings:
        # two columns: LibreOffice does not scale a one-column sheet to the page width
        wsw = wb.add_worksheet(_("Cảnh báo")[:31])
        wwidths = [5.0, 85.0]
        wsw.set_column(0, 0, wwidths[0])
        wsw.set_column(1, 1, wwidths[1])
        xw_print_setup(wsw, widths=wwidths, landscape=False)
        for n, text in enumerate(meta.warnings):
            wsw.write_number(n, 0, n + 1, wrap)
            wsw.write_string(n, 1, text, wrap)
            wsw.set_row(n, row_height(["", text], wwidths))
    wb.close()
    return buf.getvalue()


# -- DOCX -------------------------------------------------------------------------------------

ORG_DUTIES: dict[str, Any] = {
    "si_office": gettext_lazy(
        "Chủ trì xây dựng, theo dõi kế hoạch; cung cấp tài liệu, báo cáo viên; tổng hợp"
        " kết quả hằng tháng."
    ),
    "si_province": gettext_lazy("Hướng dẫn, kiểm tra; hỗ trợ tài liệu và kinh phí."),
    "commune_committee": gettext_lazy(
        "Chỉ đạo các thôn, tổ dân phố phối hợp; bố trí địa điểm; rà soát danh"
        " sách người chưa tham gia."
    ),
    "fatherland_front": gettext_lazy(
        "Vận động hội viên, chủ hộ kinh doanh tham gia; giám sát thực hiện."
    ),
    "womens_union": gettext_lazy(
        "Tổ chức tuyên truyền nhóm nhỏ, vận động hội viên và gia đình tham gia."
    ),
    "farmers_association": gettext_lazy(
        "Tổ chức hội nghị, vận động nông dân, ngư dân tham gia BHXH tự nguyện."
    ),
    "youth_union": gettext_lazy(
        "Vận động đoàn viên, học sinh, sinh viên; hướng dẫn cài đặt VssID."
    ),
    "veterans_association": gettext_lazy("Vận động hội viên và gia đình tham gia."),
    "labour_confederation": gettext_lazy(
        "Đối thoại tại doanh nghiệp; vận động người lao động tham gia"
        " BHXH bắt buộc, bảo hiểm thất nghiệp."
    ),
    "collection_agent": gettext_lazy("Tư vấn, thu và cấp thẻ tại chỗ cho người đăng ký."),
    "health_station": gettext_lazy("Tư vấn quyền lợi BHYT; phối hợp vận động hộ gia đình."),
    "school": gettext_lazy("Tổ chức tuyên truyền trong nhà trường; thu BHYT học sinh, sinh viên."),
    "media": gettext_lazy("Đưa tin, bài tuyên truyền."),
    "tax_office": gettext_lazy("Cung cấp thông tin doanh nghiệp, hộ kinh doanh mới đăng ký."),
}


def _issuer(meta: PlanMeta) -> Issuer:
    if meta.issuer is not None:
        return meta.issuer
    if meta.unit_level == "province" or not meta.office_name:
        return Issuer(unit_code=meta.unit_code, level="province", province=meta.place, office="")
    return Issuer(unit_code="", level="office", province=meta.place, office=meta.office_name)


def _issuer_plain(meta: PlanMeta) -> str:
    """The issuing agency in running text (``BHXH cơ sở Nha Trang``)."""
    return _issuer(meta).plain


def _area(meta: PlanMeta) -> str:
    """The area a plan covers in running text (``tỉnh Khánh Hòa``, ``BHXH cơ sở Nha Trang``,
    ``Phường Nha Trang``)."""
    if meta.unit_level == "province":
        return _("tỉnh %(n)s") % {"n": meta.place}
    if meta.unit_level == "office":
        return _("các xã, phường thuộc %(o)s") % {"o": _issuer_plain(meta)}
    return meta.unit_name


def _vdate(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


# text, alignment ("left", "center", "right"), bold, and the columns it spans
Cell = DocxCell
SESSION_WORDS: dict[str, Any] = {
    "door_to_door": gettext_lazy("lượt"),
    "loudspeaker": gettext_lazy("lần phát"),
}


ACT_MM: list[float] = [11, 16, 21, 20, 29, 20, 24, 24]  # the activities table's columns (165 mm)


def session_word(channel: str) -> str:
    """What one session of a channel is called (buổi; lượt for home visits…)."""
    return str(SESSION_WORDS.get(channel, gettext_lazy("buổi")))


def plan_docx(data: dict[str, Any], *, meta: PlanMeta) -> bytes:
    """The plan to sign (Decree 30 layout from ``core/documents.py``): the header, the
    sections I–V, the warnings, the recipients and the signature."""
    items = plan_items(data)
    doc = docx_new()
    issuer = _issuer(meta)
    docx_header(doc, _docx_heading(meta, issuer))
    _docx_intro(doc, meta)
    _docx_purpose(doc)
    _docx_targets(doc, data["by_unit"], items, meta)
    _docx_activities(doc, items, meta)
    _docx_budget(doc, items)
    _docx_organisation(doc, items, meta)
    docx_closing(doc, recipients=recipients_for(issuer, "KH"), signer=signer_title())
    return docx_bytes(doc)


def _para(
    doc: Any,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: int | None = None,
    align: Any = None,
    indent: bool = False,
) -> Any:
    """A paragraph of the plan: one run; justified with a first-line indent when ``indent``."""
    p = doc.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold = bold
        run.italic = italic
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    elif indent:
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(10)
    return p


def _cell_text(c: Any, text: str, *, bold: bool = False, size: int = 11, align: Any = None) -> None:
    c.text = ""
    p = c.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(0)


def _docx_heading(meta: PlanMeta, issuer: Issuer) -> DocHeader:
    """Agencies and number left, national motto, place and date right; KẾ HOẠCH and subject."""
    return DocHeader(
        issuer=issuer,
        date=meta.day,
        kind="KH",
        subject=_("Truyền thông phát triển người tham gia BHXH, BHYT năm %(y)s trên địa bàn %(u)s")
        % {"y": meta.year, "u": _area(meta)},
        number=meta.number,
        symbol=meta.symbol,
    )


def _docx_intro(doc: Any, meta: PlanMeta) -> None:
    if meta.status != "approved":
        _para(
            doc,
            _("(Dự thảo%(v)s)") % {"v": _(", phiên bản %(v)s") % {"v": meta.version}}
            if meta.version
            else _("(Dự thảo)"),
            italic=True,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
    _para(
        doc,
        _(
            "Căn cứ chỉ tiêu phát triển người tham gia BHXH, BHYT năm %(y)s được giao và kết quả"
            " thực hiện đến ngày %(d)s, %(u)s xây dựng kế hoạch truyền thông như sau:"
        )
        % {"y": meta.year, "d": _vdate(meta.as_of), "u": _issuer_plain(meta)},
        indent=True,
    )


def _docx_purpose(doc: Any) -> None:
    """I. Purpose and requirements."""
    _para(doc, _("I. MỤC ĐÍCH, YÊU CẦU"), bold=True)
    for line in (
        _(
            "1. Nâng cao nhận thức của người dân, người lao động và người sử dụng lao động về"
            " quyền lợi, trách nhiệm tham gia BHXH, BHYT, bảo hiểm thất nghiệp."
        ),
        _(
            "2. Phấn đấu hoàn thành chỉ tiêu phát triển người tham gia được giao, tập trung vào"
            " các nhóm đối tượng chưa tham gia; cao điểm từ tháng 10 đến tháng 12."
        ),
        _(
            "3. Mỗi hoạt động có một đơn vị chủ trì và các đơn vị phối hợp rõ ràng, không chồng"
            " chéo; kết quả được theo dõi, báo cáo hằng tháng."
        ),
    ):
        _para(doc, line, indent=True)


def _docx_targets(
    doc: Any, by_unit: list[dict[str, Any]], items: list[PlannedItem], meta: PlanMeta
) -> None:
    """II. What is left to reach per commune and scheme, and the target groups."""
    _para(doc, _("II. CHỈ TIÊU, ĐỐI TƯỢNG"), bold=True)
    _para(
        doc,
        _("1. Số người còn phải phát triển đến hết năm (tính đến ngày %(d)s):")
        % {"d": _vdate(meta.as_of)},
        indent=True,
    )
    schemes = [s for s in codes.SCHEME_CODES if any(s in r["gaps"] for r in by_unit)]
    t = doc.add_table(rows=1, cols=2 + len(schemes))
    t.style = "Table Grid"
    widths = [12, 49] + [104 / len(schemes)] * len(schemes) if schemes else []
    if schemes:
        docx_widths(t, widths)
    hdr_cells = t.rows[0].cells
    _cell_text(hdr_cells[0], _("STT"), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _cell_text(hdr_cells[1], _("Xã, phường"), bold=True)
    for k, s in enumerate(schemes):
        _cell_text(
            hdr_cells[2 + k],
            codes.label(codes.SCHEMES, s),
            bold=True,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
    totals: dict[str, int] = defaultdict(int)
    gap_rows: list[list[Cell]] = []
    for n, row in enumerate(by_unit, start=1):
        cells: list[Cell] = [(str(n), "center", False), (meta.name(row["unit"]), "left", False)]
        for s in schemes:
            g = row["gaps"].get(s)
            if g is not None and g > 0:
                totals[s] += g
            text = "—" if g is None else (fmt_int(g) if g > 0 else _("Đạt"))
            cells.append((text, "right", False))
        gap_rows.append(cells)
    total_row: list[Cell] = [("", "left", False), (_("Tổng cộng"), "left", True)]
    gap_rows.append(total_row + [(fmt_int(totals[s]), "right", True) for s in schemes])
    if schemes:
        docx_append_rows(t, gap_rows, mm=widths, size=11)
    groups = sorted({i.group for i in items}, key=codes.GROUP_CODES.index)
    _para(
        doc,
        _("2. Đối tượng tuyên truyền, vận động: %(g)s.")
        % {"g": "; ".join(codes.label(codes.GROUPS, g) for g in groups) or "—"},
        indent=True,
    )


def _activity_row(n: int, it: PlannedItem, meta: PlanMeta) -> list[Cell]:
    """One row of the activities table."""
    form = _("%(c)s (%(n)s %(w)s)") % {
        "c": codes.label(codes.CHANNELS, it.channel),
        "n": fmt_int(it.sessions),
        "w": session_word(it.channel),
    }
    if it.note:
        form += " — " + _("Ghi chú: %(n)s") % {"n": it.note}
    return [
        (str(n), "center", False),
        (_month_label(it.month), "left", False),
        (meta.names.get(it.unit, it.unit), "left", False),
        (codes.label(codes.GROUPS, it.group), "left", False),
        (form, "left", False),
        (codes.label(codes.ORGS, it.lead_org), "left", False),
        (_orgs(it.coordinating_orgs), "left", False),
        (fmt_int(it.cost), "right", False),
    ]


def _docx_activities(doc: Any, items: list[PlannedItem], meta: PlanMeta) -> None:
    """III. Content and the table of activities, by month."""
    _para(doc, _("III. NỘI DUNG, HÌNH THỨC"), bold=True)
    _para(
        doc,
        _(
            "Tuyên truyền chính sách BHXH, BHYT, bảo hiểm thất nghiệp; quyền lợi khi tham gia;"
            " mức đóng, mức hỗ trợ của Nhà nước; hướng dẫn đăng ký và cài đặt VssID. Các hoạt"
            " động cụ thể:"
        ),
        indent=True,
    )
    heads = [
        _("STT"),
        _("Thời gian"),
        _("Địa bàn"),
        _("Đối tượng"),
        _("Hình thức"),
        _("Đơn vị chủ trì"),
        _("Đơn vị phối hợp"),
        _("Kinh phí (đồng)"),
    ]
    t = doc.add_table(rows=1, cols=len(heads))
    t.style = "Table Grid"
    docx_widths(t, ACT_MM)
    for k, h in enumerate(heads):
        _cell_text(t.rows[0].cells[k], h, bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER)
    by_month = sorted(items, key=lambda i: (i.month, i.unit, i.channel, i.group))
    rows = [_activity_row(n, it, meta) for n, it in enumerate(by_month, start=1)]
    if not by_month:
        rows.append([("", "left", False), (_("Không có hoạt động nào."), "left", False, 7)])
    else:
        rows.append(
            [
                ("", "left", False),
                (_("Tổng cộng"), "left", True, 6),
                (fmt_int(sum(int(i.cost) for i in by_month)), "right", True),
            ]
        )
    docx_append_rows(t, rows, mm=ACT_MM, size=10)


def _docx_budget(doc: Any, items: list[PlannedItem]) -> None:
    """IV. The cost, in all and per channel."""
    _para(doc, _("IV. KINH PHÍ"), bold=True)
    _para(
        doc,
        _("Tổng kinh phí dự kiến: %(c)s đồng, trong đó:")
        % {"c": fmt_int(sum(int(i.cost) for i in items))},
        indent=True,
    )
    by_channel: dict[str, int] = defaultdict(int)
    for it in items:
        by_channel[it.channel] += int(it.cost)
    for ch in sorted(by_channel, key=lambda c: -by_channel[c]):
        _para(
            doc,
            f"- {codes.label(codes.CHANNELS, ch)}: {fmt_int(by_channel[ch])} {_('đồng')}",
            indent=True,
        )
    _para(
        doc,
        _(
            "Nguồn kinh phí: kinh phí tuyên truyền của ngành BHXH và các nguồn hợp pháp khác theo"
            " quy định."
        ),
        indent=True,
    )


def _docx_organisation(doc: Any, items: list[PlannedItem], meta: PlanMeta) -> None:
    """V. Who does what (each organisation's duties and sessions), then the warnings."""
    _para(doc, _("V. TỔ CHỨC THỰC HIỆN"), bold=True)
    lead_count: dict[str, int] = defaultdict(int)
    joins: dict[str, int] = defaultdict(int)
    for it in items:
        lead_count[it.lead_org] += int(it.sessions)
        for o in it.coordinating_orgs:
            joins[o] += int(it.sessions)
    orgs = [o for o in codes.ORG_CODES if o in lead_count or o in joins]
    if "si_office" not in orgs:
        orgs.insert(0, "si_office")
    for n, org in enumerate(orgs, start=1):
        p = _para(doc, indent=True)
        r = p.add_run(f"{n}. {codes.label(codes.ORGS, org)}: ")
        r.bold = True
        p.add_run(
            str(ORG_DUTIES.get(org, ""))
            + " "
            + _("Chủ trì %(a)s, phối hợp %(b)s lượt hoạt động.")
            % {"a": fmt_int(lead_count[org]), "b": fmt_int(joins[org])}
        )
    _para(
        doc,
        _(
            "Trong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh về %(u)s để tổng"
            " hợp, điều chỉnh kịp thời."
        )
        % {"u": _issuer_plain(meta)},
        indent=True,
    )
    if meta.warnings:
        _para(doc, _("Lưu ý:"), bold=True, italic=True)
        for w in meta.warnings:
            _para(doc, "- " + w, italic=True, size=12)
