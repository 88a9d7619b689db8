"""The words an import reports in: the fixed lines of SPEC section 1 (English under
ANSINH_LANG=en, Vietnamese twins otherwise) and the errors CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.formats import sheet_row
from ansinh.core.importer.rows import RowError
from ansinh.imports.pipeline import ImportResult


def error_count(result: ImportResult) -> int:
    return max(result.error_total, len(result.errors))


def errors_csv(errors: Sequence[RowError | dict[str, Any]], total: int = 0) -> str:
    """The ``row,column,value,message`` CSV of SPEC section 1. Where more errors were found
    than kept (``total``), a last line without a row says how many more."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row", "column", "value", "message"])
    for e in errors:
        d = e.as_dict() if isinstance(e, RowError) else e
        w.writerow(sheet_row([d["row"], d["column"], d["value"], d["message"]]))
    if total > len(errors):
        w.writerow(
            [
                "",
                "",
                "",
                _("… và %(n)s lỗi khác (chỉ liệt kê %(k)s lỗi đầu tiên)")
                % {"n": total - len(errors), "k": len(errors)},
            ]
        )
    return buf.getvalue()


def _english() -> bool:
    return (translation.get_language() or "vi").startswith("en")


def summary_line(result: ImportResult) -> str:
    """``KIND: N rows read, C created, U updated, S unchanged`` or the refusal line."""
    if result.refused:
        if _english():
            return f"{result.kind}: refused, {error_count(result)} errors"
        return f"{result.kind}: bị từ chối, {error_count(result)} lỗi"
    if _english():
        return (
            f"{result.kind}: {result.rows} rows read, {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
    return (
        f"{result.kind}: đọc {result.rows} dòng, tạo mới {result.created}, "
        f"cập nhật {result.updated}, không đổi {result.unchanged}"
    )


def error_line(error: RowError) -> str:
    """``row R, column C: message`` (``dòng R, cột C: …``)."""
    if _english():
        return f"row {error.row}, column {error.column}: {error.message}"
    return f"dòng {error.row}, cột {error.column}: {error.message}"
