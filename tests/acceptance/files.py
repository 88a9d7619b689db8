"""Writing the files of SPEC section 2 the way an office would: CSV (UTF-8, optionally with a
BOM, columns in any order, extra columns) or XLSX (with real date cells)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def write_csv(
    path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str], *, bom: bool = False
) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text(rows, columns).encode())
    return path


def _iso(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def write_xlsx(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Path:
    """An XLSX whose date columns hold real date cells (and numbers as numbers)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(columns))
    for r in rows:
        out: list[Any] = []
        for c in columns:
            v = r.get(c)
            if v in (None, ""):
                out.append(None)
            elif (c.endswith("date") or c == "as_of") and _iso(str(v)):
                out.append(dt.datetime.fromisoformat(str(v)))
            elif c in {"participants", "population", "year"}:
                out.append(int(v))
            else:
                out.append(v)
        ws.append(out)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "DD/MM/YYYY"
    wb.save(path)
    return path
