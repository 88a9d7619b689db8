"""XLSX templates of the import files (SPEC section 1, ``ansinh import template KIND``): the
header row in Vietnamese or English, one example row, drop-downs (data validation) for the
code columns listing the codes by their names, and a second sheet explaining every column.

The drop-downs take their lists from a third, hidden sheet (an inline list is limited to 255
characters); what a user picks is the code's name, which the importer reads back as the code
(``core.importer.columns.code_from``)."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.importer.columns import (
    CODE_LISTS,
    DESCRIPTIONS,
    KIND_LABELS,
    header_label,
    label_in,
)
from ansinh.imports.kinds import importer_class

# one example row per KIND, by column (codes as their names are written in the template)
EXAMPLES: dict[str, dict[str, Any]] = {
    "units": {
        "code": "22411",
        "name": "Phường Bắc Cam Ranh",
        "level": "commune",
        "parent_code": "56",
    },
    "population": {"year": 2025, "unit_code": "22411", "population": 45210},
    "targets": {"year": 2025, "unit_code": "22411", "indicator": "hi", "target": 41500},
    "participations": {
        "person_id": "5601234567",
        "unit_code": "22411",
        "scheme": "hi",
        "group": "household",
        "start_date": "01/01/2025",
        "end_date": "",
        "household_id": "HGD0001",
        "employer_code": "",
        "birth_date": "20/11/1990",
        "sex": "Nữ",
        "full_name": "Nguyễn Thị An",
        "phone": "0912345678",
    },
    "counts": {
        "as_of": "30/09/2025",
        "unit_code": "22411",
        "scheme": "si_voluntary",
        "group": "",
        "participants": 1234,
    },
    "employers": {
        "code": "TA0001",
        "name": "Công ty TNHH Biển Xanh",
        "unit_code": "22411",
        "tax_code": "4201234567",
        "sector": "Chế biến thủy sản",
        "employees": 120,
    },
    "contributions": {
        "employer_code": "TA0001",
        "period": "2025-05",
        "amount_due": 32000000,
        "amount_paid": 32000000,
        "paid_on": "28/06/2025",
    },
    "activities": {
        "code": "HD-2025-001",
        "unit_code": "22411",
        "channel": "small_group",
        "date": "20/11/2025",
        "lead_org": "womens_union",
        "campaign": "",
        "group": "freelancer",
        "coordinating_orgs": "si_office",
        "planned_reach": 15,
        "reach": 12,
        "leads": 5,
        "registrations": 2,
        "vssid_installs": 3,
        "cost": 300000,
    },
    "attendees": {
        "activity_code": "HD-2025-001",
        "person_id": "5601234567",
        "full_name": "Trần Văn Bình",
        "phone": "0987654321",
    },
}


def _columns(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    cls = importer_class(kind)
    return tuple(cls.required), tuple(cls.optional)


def template_xlsx(kind: str, *, lang: str = "vi") -> bytes:
    """The template of ``kind`` as XLSX bytes, its words in ``lang`` (``vi`` or ``en``)."""
    lang = "en" if lang == "en" else "vi"
    required, optional = _columns(kind)
    columns = (*required, *optional)
    buf = io.BytesIO()
    with translation.override(lang):
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        head_req = wb.add_format(
            {"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True}
        )
        text = wb.add_format({"num_format": "@"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        bold = wb.add_format({"bold": True})
        data = wb.add_worksheet(_("Dữ liệu")[:31])
        notes = wb.add_worksheet(_("Hướng dẫn")[:31])
        lists = wb.add_worksheet("lists")
        lists.hide()
        example = EXAMPLES.get(kind, {})
        list_col = 0
        for i, column in enumerate(columns):
            data.write_string(
                0, i, header_label(kind, column, lang), head_req if column in required else head
            )
            data.set_column(i, i, max(14, len(header_label(kind, column, lang)) + 4), text)
            value = example.get(column, "")
            if column in CODE_LISTS:
                labels = CODE_LISTS[column]
                names = [label_in(labels, code, lang) for code in labels]
                for r, name in enumerate(names):
                    lists.write_string(r, list_col, name)
                letter = xlsxwriter.utility.xl_col_to_name(list_col)
                source = f"=lists!${letter}$1:${letter}${len(names)}"
                if column == "coordinating_orgs":
                    # several codes separated by ";": a drop-down would allow only one
                    value = label_in(labels, str(value), lang) if value else ""
                else:
                    data.data_validation(
                        1,
                        i,
                        10_000,
                        i,
                        {
                            "validate": "list",
                            "source": source,
                            "ignore_blank": True,
                            "error_title": _("Giá trị không hợp lệ"),
                            "error_message": _("Hãy chọn một giá trị trong danh sách."),
                        },
                    )
                    if value:
                        value = label_in(labels, str(value), lang)
                list_col += 1
            if isinstance(value, int):
                data.write_number(1, i, value)
            elif value != "":
                data.write_string(1, i, str(value))
        data.freeze_panes(1, 0)
        # the second sheet: every column explained
        notes.set_column(0, 0, 28)
        notes.set_column(1, 1, 14)
        notes.set_column(2, 2, 90)
        notes.write_string(
            0, 0, _("Mẫu tệp nhập: %(kind)s") % {"kind": str(KIND_LABELS[kind])}, bold
        )
        notes.write_string(
            1,
            0,
            _(
                "Dòng tiêu đề có thể viết bằng tiếng Việt hoặc tiếng Anh; có thể để các dòng "
                "tiêu đề của biểu mẫu phía trên. Ngày viết DD/MM/YYYY hoặc YYYY-MM-DD; số "
                "nguyên có thể nhóm chữ số (3.000.000). Xóa dòng ví dụ trước khi nhập."
            ),
        )
        notes.write_string(3, 0, _("Cột"), head)
        notes.write_string(3, 1, _("Bắt buộc"), head)
        notes.write_string(3, 2, _("Nội dung"), head)
        for r, column in enumerate(columns, start=4):
            notes.write_string(r, 0, header_label(kind, column, lang))
            notes.write_string(r, 1, _("có") if column in required else _("không"))
            description = str(DESCRIPTIONS.get(column, ""))
            if column in CODE_LISTS:
                labels = CODE_LISTS[column]
                description += " " + _("Giá trị: %(values)s.") % {
                    "values": "; ".join(label_in(labels, code, lang) for code in labels)
                }
            notes.write_string(r, 2, description, wrap)
        wb.close()
    return buf.getvalue()
