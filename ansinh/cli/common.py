"""Helpers shared by the commands: dates, units, output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from ansinh.core.formats import sheet_row


def parse_date_arg(value: str, *, flag: str) -> dt.date:
    from ansinh.cli import CliError

    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(
            _("%(flag)s: ngày không hợp lệ “%(value)s” (định dạng YYYY-MM-DD)")
            % {"flag": flag, "value": value},
            code=2,
        ) from None


def resolve_unit(code: str | None) -> Any:
    """The unit named by --unit, else the province (root)."""
    from ansinh.cli import CliError
    from ansinh.geography.selectors import unit_get, unit_root

    if code:
        unit = unit_get(code=code)
        if unit is None:
            raise CliError(_("--unit: không có đơn vị mã “%(code)s”") % {"code": code})
        return unit
    unit = unit_root()
    if unit is None:
        raise CliError(_("Chưa có đơn vị nào: hãy nhập tệp đơn vị (ansinh import units …)"))
    return unit


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def print_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(sheet_row(["" if v is None else v for v in r]))
    sys.stdout.write(buf.getvalue())


def _cell(value: Any) -> str:
    """A table cell as the reader writes numbers: 1.762.678 and 93,31 in Vietnamese, 1,762,678
    and 93.31 in English (JSON and CSV keep the machine form)."""
    from ansinh.core.formats import fmt_dec, fmt_int

    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, float | Decimal):
        return fmt_dec(value, places=2)
    return str(value)


def print_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A plain-text table: numbers right-aligned in the language's format, text (codes
    included) left-aligned."""
    raw = [list(r) for r in rows]
    data = [[str(h) for h in header]] + [[_cell(v) for v in r] for r in raw]
    right = [
        [False] * len(header),
        *[
            [isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in r]
            for r in raw
        ],
    ]
    widths = [max(len(r[i]) for r in data) for i in range(len(header))]
    for n, r in enumerate(data):
        sys.stdout.write(
            "  ".join(
                c.rjust(widths[i]) if right[n][i] else c.ljust(widths[i]) for i, c in enumerate(r)
            ).rstrip()
            + "\n"
        )
        if n == 0:
            sys.stdout.write("  ".join("-" * w for w in widths) + "\n")
