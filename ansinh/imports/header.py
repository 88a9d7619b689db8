"""Header matching: which column of the file each of the KIND's columns is, the columns it
does not know (warnings) and the ones missing or repeated (the file is refused)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ansinh.core.importer.protocol import Importer
from ansinh.core.importer.rows import RowError
from ansinh.imports.reading import Source


def header_columns(
    src: Source, cls: type[Importer]
) -> tuple[dict[str, int], list[RowError], list[str]]:
    """(column -> its index in a row, errors, warnings) for the header ``src`` found."""
    columns: dict[str, int] = {}
    errors: list[RowError] = []
    warnings: list[str] = []
    hrow = src.header_row
    for i, (name, raw) in enumerate(zip(src.header, src.raw_header, strict=False)):
        if not raw:
            continue
        if not name:
            warnings.append(_("cột không xác định “%(c)s” được bỏ qua") % {"c": raw[:60]})
            continue
        if name in columns:
            errors.append(RowError(hrow, name, raw, _("cột bị lặp lại trong dòng tiêu đề")))
            continue
        columns[name] = i
    missing = [name for name in cls.required if name not in columns]
    named = [c for c in src.raw_header if c]
    if missing and len(named) == 1 and ";" in named[0]:
        # Excel saves "CSV" with ";" where the list separator is ";" (Vietnamese settings);
        # the one "unknown column" warning would only repeat it
        warnings.clear()
        errors.append(
            RowError(
                hrow,
                "",
                named[0][:60],
                _(
                    "các cột được phân cách bằng dấu “;” (Excel theo thiết lập tiếng Việt): hãy "
                    "lưu lại tệp dưới dạng “CSV UTF-8 (phân cách bằng dấu phẩy)” hoặc XLSX"
                ),
            )
        )
        missing = []
    for name in missing:
        errors.append(RowError(hrow, name, "", _("thiếu cột bắt buộc")))
    return columns, errors, warnings
