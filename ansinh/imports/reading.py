"""Reading an import file: a CSV (UTF-8, BOM accepted) or XLSX file opened as a stream of
rows, within the size limits of the settings, its header row found among the first 20 rows and
matched to the KIND's columns (``core.importer.columns.match_header``). A file that cannot be
read raises :class:`Refused`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import pathlib
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from ansinh.core.importer.columns import match_header
from ansinh.core.importer.rows import Refused, RowError


@dataclass
class Source:
    """An opened file: ``header`` holds, per column of the file, the column it names ('' for
    one it does not know), ``raw_header`` what the file wrote; ``header_row`` is its row."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    total: int
    sha256: str
    raw_header: list[str] = field(default_factory=list)
    header_row: int = 1


def _limits() -> tuple[int, int, int]:
    """(longest line, largest cell, largest uncompressed XLSX) in bytes, from the settings."""
    return (
        int(getattr(settings, "IMPORT_MAX_LINE_BYTES", 1 << 20)),
        int(getattr(settings, "IMPORT_MAX_CELL_BYTES", 32 << 10)),
        int(getattr(settings, "IMPORT_MAX_XLSX_BYTES", 256 << 20)),
    )


def _scan(path: pathlib.Path) -> tuple[str, int, int, bytes]:
    """sha256, size, number of line breaks and the first bytes, in one pass."""
    h = hashlib.sha256()
    size = 0
    lines = 0
    head = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if not head:
                head = chunk[:8192]
            h.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return h.hexdigest(), size, lines, head


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _too_big_cell(row_no: int, column: int, size: int) -> Refused:
    return Refused(
        RowError(
            row_no,
            str(column + 1) if column >= 0 else "",
            "",
            _("ô dài quá %(n)s kB: tệp bị từ chối") % {"n": size >> 10},
        )
    )


def _check_zip(path: pathlib.Path, limit: int) -> None:
    """An XLSX is a zip: refuse one whose contents, once decompressed, would exceed ``limit``
    bytes (a zip bomb), counting what decompressing really yields, never what it declares."""
    broken = _("Không đọc được tệp XLSX (tệp hỏng hoặc không phải bảng tính)")
    too_big = _(
        "Tệp XLSX giải nén ra quá %(n)s MB (tệp hỏng hoặc “bom nén”): hãy chia nhỏ tệp "
        "hoặc lưu dưới dạng CSV UTF-8"
    ) % {"n": limit >> 20}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > limit:
                raise Refused(RowError(1, "", "", too_big))
            total = 0
            for info in infos:
                with zf.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise Refused(RowError(1, "", "", too_big))
    except Refused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        raise Refused(RowError(1, "", "", broken)) from None
    except Exception:  # zlib errors and the like: a damaged file
        raise Refused(RowError(1, "", "", broken)) from None


def _xlsx_rows(path: pathlib.Path) -> tuple[Iterator[tuple[int, list[str]]], int]:
    _line, max_cell, max_xlsx = _limits()
    with path.open("rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    if zipped:
        _check_zip(path, max_xlsx)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
    except Exception:
        raise Refused(
            RowError(1, "", "", _("Không đọc được tệp XLSX (tệp hỏng hoặc không phải bảng tính)"))
        ) from None

    def gen() -> Iterator[tuple[int, list[str]]]:
        for i, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell(v) for v in row]
            for j, c in enumerate(cells):
                if len(c) > max_cell // 4 and len(c.encode("utf-8")) > max_cell:
                    raise _too_big_cell(i, j, max_cell)
            yield i, cells

    return gen(), int(sheet.height)


def _not_utf8(row: int) -> Refused:
    return Refused(
        RowError(
            row,
            "",
            "",
            _(
                "Tệp CSV không phải mã UTF-8 (Excel lưu “CSV (phân cách bằng dấu phẩy)” theo "
                "bảng mã Windows): trong Excel chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu "
                "phẩy)”, hoặc lưu dạng XLSX"
            ),
        )
    )


def _csv_rows(path: pathlib.Path) -> Iterator[tuple[int, list[str]]]:
    max_line, max_cell, _xlsx = _limits()
    fh = path.open("r", encoding="utf-8-sig", newline="")
    state = {"line": 0, "long": False}

    def lines() -> Iterator[str]:
        while True:
            try:
                line = fh.readline(max_line + 1)
            except UnicodeDecodeError:
                raise _not_utf8(state["line"] + 1) from None
            if not line:
                return
            state["line"] += 1
            n = len(line)
            if n > max_cell // 4:
                size = len(line.encode("utf-8"))
                if size > max_line + 2 or (n > max_line and not line.endswith("\n")):
                    raise Refused(
                        RowError(
                            state["line"],
                            "",
                            "",
                            _("dòng dài quá %(n)s MB: tệp bị từ chối (không phải tệp dữ liệu?)")
                            % {"n": max(max_line >> 20, 1)},
                        )
                    )
                state["long"] = size > max_cell
            yield line

    try:
        reader = csv.reader(lines())
        n = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise _too_big_cell(n + 1, -1, max_cell) from None
                raise Refused(
                    RowError(n + 1, "", "", _("Tệp CSV sai định dạng: %(e)s") % {"e": exc})
                ) from None
            n += 1
            if state["long"]:
                state["long"] = False
                for j, c in enumerate(row):
                    if len(c) > max_cell // 4 and len(c.encode("utf-8")) > max_cell:
                        raise _too_big_cell(n, j, max_cell)
            yield n, list(map(str.strip, row))
    finally:
        fh.close()


def _utf16(head: bytes) -> bool:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    sample = head[:2000]
    if len(sample) < 4:
        return False
    # text in UTF-16 without a BOM: every other byte is a zero
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0), odd.count(0)) * 10 >= len(sample) // 2 * 8


HEADER_ROWS = 20


def open_source(
    path: pathlib.Path,
    *,
    kind: str = "",
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> Source:
    """Open a CSV or XLSX file and find its header: the first row, among the first 20, that
    names every required column (title rows of a form above it are skipped); where no row
    does, the row naming most of them (the missing ones are then reported)."""
    if not path.is_file():
        raise Refused(RowError(0, "", str(path), _("Không tìm thấy tệp")))
    sha, size, lines, head = _scan(path)
    if size == 0:
        raise Refused(RowError(1, "", "", _("Tệp rỗng")))
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        rows, total = _xlsx_rows(path)
    elif _utf16(head):
        raise Refused(
            RowError(
                1,
                "",
                "",
                _(
                    "Tệp được lưu ở dạng Unicode UTF-16 (Excel: “Văn bản Unicode”), không phải "
                    "CSV UTF-8: trong Excel chọn Lưu thành → “CSV UTF-8 (phân cách bằng dấu "
                    "phẩy)”, hoặc lưu dạng XLSX"
                ),
            )
        )
    elif b"\x00" in head:
        raise Refused(
            RowError(
                1,
                "",
                "",
                _("Tệp không phải bảng tính: chỉ nhận tệp CSV (UTF-8) hoặc XLSX"),
            )
        )
    else:
        rows = _csv_rows(path)
        total = lines
    columns = (*required, *optional)
    seen: list[tuple[int, list[str]]] = []
    best: tuple[int, list[str], list[str]] | None = None
    best_score = -1
    for row_no, row in rows:
        if not any(row):
            continue
        seen.append((row_no, row))
        named = match_header(kind, row, columns) if kind else [c.lower() for c in row]
        score = sum(1 for c in required if c in named)
        if score > best_score:
            best, best_score = (row_no, row, named), score
        if score == len(required) or len(seen) >= HEADER_ROWS:
            break
    if best is None:
        raise Refused(RowError(1, "", "", _("Tệp rỗng")))
    header_row, raw, named = best
    rest = (r for r in seen if r[0] > header_row)
    return Source(
        header=named,
        rows=itertools.chain(rest, rows),
        total=max(total - header_row, 0),
        sha256=sha,
        raw_header=list(raw),
        header_row=header_row,
    )
