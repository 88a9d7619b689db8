"""The words of the import files (SPEC section 2): each KIND's name, each column's Vietnamese
header and its explanation, and the code lists a column takes — read by the import pipeline
(header matching, codes written by their names), the templates and the import page.

Headers match regardless of case, accents and spacing (``norm``): ``Họ và tên``,
``HO VA TEN`` and ``full_name`` all name the column ``full_name`` of a participations file.
Code columns take the code itself or its name, Vietnamese or English (``code_lookup``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ansinh.core.codes import CHANNELS, GROUPS, LEVELS, ORGS, SCHEMES

KIND_LABELS: dict[str, Any] = {
    "units": _("Đơn vị hành chính"),
    "population": _("Dân số"),
    "targets": _("Chỉ tiêu giao"),
    "participations": _("Người tham gia (từng người)"),
    "counts": _("Số người tham gia (tổng hợp)"),
    "employers": _("Đơn vị sử dụng lao động"),
    "contributions": _("Số phải đóng, đã đóng"),
    "activities": _("Hoạt động truyền thông"),
    "attendees": _("Người dự hoạt động"),
    "successors": _("Đơn vị kế thừa (sau sắp xếp 1/7/2025)"),
}

# the Vietnamese header of a column (the first name is the one templates write; the others
# are the usual ways offices' forms name it). Per KIND where a name means different things.
_VI: dict[str, tuple[str, ...]] = {
    "code": ("Mã",),
    "name": ("Tên",),
    "level": ("Cấp",),
    "parent_code": ("Mã đơn vị cấp trên",),
    "valid_from": ("Hiệu lực từ ngày",),
    "valid_to": ("Hiệu lực đến ngày",),
    "year": ("Năm",),
    "unit_code": ("Mã đơn vị", "Mã xã"),
    "population": ("Dân số", "Số dân"),
    "group": ("Nhóm đối tượng", "Đối tượng"),
    "indicator": ("Chỉ tiêu",),
    "target": ("Giá trị chỉ tiêu", "Số giao"),
    "person_id": ("Mã số BHXH", "Mã BHXH", "Mã số bảo hiểm xã hội"),
    "scheme": ("Loại hình bảo hiểm", "Loại hình"),
    "start_date": ("Từ ngày", "Ngày bắt đầu"),
    "end_date": ("Đến ngày", "Ngày kết thúc"),
    "household_id": ("Mã hộ gia đình", "Mã hộ"),
    "employer_code": ("Mã đơn vị sử dụng lao động", "Mã đơn vị SDLĐ"),
    "birth_date": ("Ngày sinh",),
    "sex": ("Giới tính",),
    "full_name": ("Họ và tên", "Họ tên"),
    "phone": ("Số điện thoại", "Điện thoại", "SĐT"),
    "as_of": ("Số liệu đến ngày", "Ngày số liệu"),
    "participants": ("Số người tham gia", "Số người"),
    "tax_code": ("Mã số thuế", "MST"),
    "sector": ("Ngành nghề", "Ngành"),
    "employees": ("Số lao động",),
    "period": ("Kỳ đóng (tháng)", "Kỳ đóng", "Tháng"),
    "amount_due": ("Số phải đóng", "Số tiền phải đóng"),
    "amount_paid": ("Số đã đóng", "Số tiền đã đóng"),
    "paid_on": ("Ngày đóng",),
    "channel": ("Hình thức",),
    "date": ("Ngày tổ chức", "Ngày"),
    "lead_org": ("Đơn vị chủ trì",),
    "campaign": ("Chiến dịch",),
    "coordinating_orgs": ("Đơn vị phối hợp",),
    "planned_reach": ("Số người dự kiến",),
    "reach": ("Số người tiếp cận",),
    "leads": ("Số người quan tâm",),
    "registrations": ("Số người đăng ký",),
    "vssid_installs": ("Số lượt cài VssID", "Cài VssID"),
    "cost": ("Kinh phí", "Chi phí"),
    "activity_code": ("Mã hoạt động",),
    "address": ("Địa chỉ",),
    "village": ("Thôn, tổ dân phố", "Thôn", "Tổ dân phố"),
    "consent": ("Đồng ý nhận tin", "Đồng ý liên hệ"),
    "email": ("Thư điện tử", "Email"),
    "legacy_code": ("Mã đơn vị cũ", "Mã xã cũ"),
    "successor_code": ("Mã đơn vị kế thừa", "Mã xã mới"),
    "share": ("Tỷ lệ",),
}
_VI_KIND: dict[tuple[str, str], tuple[str, ...]] = {
    ("units", "code"): ("Mã đơn vị",),
    ("units", "name"): ("Tên đơn vị",),
    ("employers", "code"): ("Mã đơn vị sử dụng lao động", "Mã đơn vị SDLĐ"),
    ("employers", "name"): ("Tên đơn vị sử dụng lao động", "Tên đơn vị SDLĐ", "Tên đơn vị"),
    ("employers", "unit_code"): ("Mã xã", "Mã đơn vị hành chính"),
    ("activities", "code"): ("Mã hoạt động",),
    ("activities", "group"): ("Nhóm đối tượng",),
}

# what a column holds, for the template's second sheet and the import page
DESCRIPTIONS: dict[str, Any] = {
    "code": _("Mã, do đơn vị tự đặt; không chứa dấu “/” hay ký tự điều khiển."),
    "name": _("Tên đầy đủ."),
    "level": _("Cấp đơn vị: chọn trong danh sách."),
    "parent_code": _("Mã đơn vị cấp trên; để trống chỉ với đơn vị cấp tỉnh."),
    "valid_from": _("Ngày bắt đầu có hiệu lực (DD/MM/YYYY hoặc YYYY-MM-DD); có thể để trống."),
    "valid_to": _("Ngày cuối cùng có hiệu lực; để trống nếu vẫn còn hiệu lực."),
    "year": _("Năm, bốn chữ số (2025)."),
    "unit_code": _("Mã đơn vị hành chính (xã, phường) đã có trong hệ thống."),
    "population": _("Số dân, số nguyên (1.889.000 hoặc 1889000)."),
    "group": _("Nhóm đối tượng: chọn trong danh sách; để trống là toàn bộ."),
    "indicator": _("Chỉ tiêu: một loại hình bảo hiểm (số người) hoặc tỷ lệ bao phủ BHYT (%)."),
    "target": _(
        "Số người (số nguyên, 214.950) hoặc, với tỷ lệ bao phủ BHYT, phần trăm (95,5 hoặc 95.5)."
    ),
    "person_id": _("Mã số BHXH của người tham gia."),
    "scheme": _("Loại hình bảo hiểm: chọn trong danh sách."),
    "start_date": _("Ngày bắt đầu tham gia (DD/MM/YYYY hoặc YYYY-MM-DD)."),
    "end_date": _("Ngày cuối cùng được bảo hiểm; để trống nếu đang tham gia."),
    "household_id": _("Mã hộ gia đình (BHYT hộ gia đình); có thể để trống."),
    "employer_code": _("Mã đơn vị sử dụng lao động; có thể để trống."),
    "birth_date": _("Ngày sinh (DD/MM/YYYY hoặc YYYY-MM-DD)."),
    "sex": _("Giới tính."),
    "full_name": _("Họ và tên."),
    "phone": _("Số điện thoại."),
    "as_of": _("Ngày của số liệu (DD/MM/YYYY hoặc YYYY-MM-DD)."),
    "participants": _("Số người tham gia, số nguyên."),
    "tax_code": _("Mã số thuế."),
    "sector": _("Ngành nghề kinh doanh."),
    "employees": _("Số lao động, số nguyên."),
    "period": _("Tháng phải đóng, dạng YYYY-MM (2025-05)."),
    "amount_due": _("Số tiền phải đóng, đồng, số nguyên (3.000.000)."),
    "amount_paid": _("Số tiền đã đóng, đồng, số nguyên; lớn hơn 0 thì phải có ngày đóng."),
    "paid_on": _("Ngày đóng (DD/MM/YYYY hoặc YYYY-MM-DD)."),
    "channel": _("Hình thức truyền thông: chọn trong danh sách."),
    "date": _("Ngày tổ chức (DD/MM/YYYY hoặc YYYY-MM-DD)."),
    "lead_org": _("Đơn vị chủ trì: chọn trong danh sách."),
    "campaign": _("Mã chiến dịch đã có trong hệ thống; có thể để trống."),
    "coordinating_orgs": _("Các đơn vị phối hợp, cách nhau bằng dấu “;”."),
    "planned_reach": _("Số người dự kiến tiếp cận, số nguyên."),
    "reach": _("Số người đã tiếp cận, số nguyên."),
    "leads": _("Số người quan tâm, số nguyên."),
    "registrations": _("Số người đăng ký tham gia, số nguyên."),
    "vssid_installs": _("Số lượt cài đặt VssID, số nguyên."),
    "cost": _("Kinh phí, đồng, số nguyên (3.000.000)."),
    "activity_code": _("Mã hoạt động đã có trong hệ thống."),
    "address": _("Địa chỉ; có thể để trống."),
    "village": _("Thôn, tổ dân phố; có thể để trống."),
    "consent": _("Đồng ý nhận tin nhắc (có/không); để trống nếu chưa hỏi."),
    "email": _("Địa chỉ thư điện tử; có thể để trống."),
    "legacy_code": _("Mã xã, phường trước ngày 01/07/2025."),
    "successor_code": _("Mã xã, phường hiện nay nhận một phần của xã cũ."),
    "share": _(
        "Phần của xã cũ thuộc về xã mới (0,4 hoặc 0.4); các phần của một xã cũ cộng lại bằng 1."
    ),
}

INDICATOR_LABELS: dict[str, Any] = {**SCHEMES, "hi_coverage": _("Tỷ lệ bao phủ BHYT (%)")}

# the code list a column takes, by column name
CODE_LISTS: dict[str, dict[str, Any]] = {
    "level": LEVELS,
    "scheme": SCHEMES,
    "group": GROUPS,
    "indicator": INDICATOR_LABELS,
    "channel": {k: v[0] for k, v in CHANNELS.items()},
    "lead_org": ORGS,
    "coordinating_orgs": ORGS,
}

_SPACE = re.compile(r"[\s_]+")


def norm(text: str) -> str:
    """A header or a name as compared: no accents, no case, no spacing (đ is d)."""
    text = unicodedata.normalize("NFKD", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACE.sub("", text.casefold())


def vi_names(kind: str, column: str) -> tuple[str, ...]:
    return _VI_KIND.get((kind, column)) or _VI.get(column, ())


def header_label(kind: str, column: str, lang: str) -> str:
    """The header a template writes: the Vietnamese name, or the code in English."""
    if lang == "en":
        return column
    names = vi_names(kind, column)
    return names[0] if names else column


@functools.cache
def header_names(kind: str, columns: tuple[str, ...]) -> dict[str, str]:
    """normalised header -> column of this KIND (English code, Vietnamese names)."""
    out: dict[str, str] = {}
    for column in columns:
        for name in (column, *vi_names(kind, column)):
            key = norm(name)
            if out.get(key, column) != column:
                raise ValueError(f"header {name!r} of {kind} is ambiguous")
            out[key] = column
    return out


def match_header(kind: str, cells: Sequence[str], columns: tuple[str, ...]) -> list[str]:
    """The column each cell of a header row names ('' where none)."""
    names = header_names(kind, columns)
    return [names.get(norm(c), "") if c else "" for c in cells]


def label_in(labels: dict[str, Any], code: str, lang: str) -> str:
    value = labels.get(code, code)
    with translation.override(lang):
        return str(value)


@functools.cache
def code_lookup(column: str) -> dict[str, str]:
    """What a code column takes -> its code: the code, or its name in Vietnamese or English
    (matched regardless of case, accents and spacing)."""
    labels = CODE_LISTS[column]
    out: dict[str, str] = {}
    for code in labels:
        out[code] = code
    for code in labels:
        for lang in ("vi", "en"):
            key = norm(label_in(labels, code, lang))
            if out.get(key, code) != code:
                raise ValueError(f"name {key!r} of {column} is ambiguous")
            out[key] = code
    return out


def code_from(column: str, value: str) -> str | None:
    """The code a cell of a code column means, or None."""
    lookup = code_lookup(column)
    if value in lookup:
        return lookup[value]
    return lookup.get(norm(value))


def code_names(column: str) -> list[str]:
    """The names of a column's codes, in the current language."""
    return [str(v) for v in CODE_LISTS[column].values()]
