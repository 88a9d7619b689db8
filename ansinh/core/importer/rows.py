"""What an importer reads a row with: the :class:`Context` (errors, warnings, scope, the
column map) and its typed readers, the cell parsers of SPEC section 2, and the two ways a
file is refused (:class:`RowError` for one cell, :class:`Refused` for the whole file)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from ansinh.core.importer.columns import CODE_LISTS, code_from

if TYPE_CHECKING:
    from ansinh.core.importer.undo import UndoLog

MAX_ERRORS = 1_000  # errors kept; the rest are only counted (issue 21)


@dataclass
class RowError:
    """One problem: ``row`` as in the file (the header is row 1), the column, the value."""

    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class Refused(Exception):
    """The file as a whole cannot be read (encoding, binary, missing columns…)."""

    def __init__(self, *errors: RowError) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


# ---------------------------------------------------------------------------------------------
# validation helpers

# a code or identifier may not hold these (a "/" breaks the addresses that name a record)
BAD_IDENT = re.compile(r"[/\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_DIGITS = re.compile(r"-?\d+", re.ASCII)
# grouped in threes by one separator used throughout: 3.000.000, 3,000,000, 3 000 000
_GROUPED = re.compile(r"-?\d{1,3}(?P<sep>[.,   ])\d{3}(?:(?P=sep)\d{3})*", re.ASCII)
_PERCENT = re.compile(r"(\d{1,3})(?:[.,](\d+))?", re.ASCII)


def parse_date(value: str) -> str | None:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``D/M/YYYY`` as an ISO string; None otherwise."""
    m = _ISO_DATE.fullmatch(value)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _VN_DATE.fullmatch(value)
        if not m:
            return None
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def parse_whole(value: str) -> int | None:
    """A whole number as SPEC section 2 takes it, or None."""
    if _DIGITS.fullmatch(value):
        return int(value)
    if _GROUPED.fullmatch(value):
        return int(re.sub(r"[^\d-]", "", value))
    return None


def parse_percent(value: str) -> str | None:
    """``95.5`` or ``95,5`` (a trailing ``%`` allowed) as a decimal string, or None."""
    v = value.removesuffix("%").strip()
    m = _PERCENT.fullmatch(v)
    if not m:
        return None
    return m[1] + ("." + m[2] if m[2] else "")


class Context:
    """What an importer needs while it runs: errors, warnings, scope, the column map."""

    def __init__(
        self,
        *,
        kind: str,
        actor: Any,
        allowed_units: set[str] | None,
        dry_run: bool,
        columns: dict[str, int],
    ) -> None:
        self.kind = kind
        self.actor = actor
        self.allowed_units = allowed_units
        self.dry_run = dry_run
        self.columns = columns
        self.errors: list[RowError] = []
        self.error_total = 0
        # set while the import writes: what undoing it will need (``UndoLog``)
        self.undo: UndoLog | None = None
        self.warnings: list[str] = []
        self._dates: dict[str, str] = {}

    def error(self, row: int, column: str, value: Any, message: str) -> None:
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS:
            v = "" if value is None else str(value)
            self.errors.append(RowError(row, column, v[:200], message))

    # typed readers: return the clean value, or record an error and return ``BAD``

    def date(self, row: int, column: str, value: str, *, required: bool = True) -> Any:
        """A date as ISO ``YYYY-MM-DD`` or Vietnamese ``DD/MM/YYYY`` (``D/M/YYYY`` too; never
        month first), returned as its ISO string (each distinct value checked once)."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        iso = self._dates.get(value)
        if iso is not None:
            return iso
        iso = parse_date(value)
        if iso is None:
            self.error(row, column, value, _("ngày không hợp lệ (viết DD/MM/YYYY hoặc YYYY-MM-DD)"))
            return BAD
        self._dates[value] = iso
        return iso

    def integer(
        self, row: int, column: str, value: str, *, required: bool = True, low: int = 0
    ) -> Any:
        """A whole number: digits, optionally grouped in threes by ``.``, ``,`` or spaces
        (``3.000.000``). Anything else (``300,5``, ``3.00``) refuses the row: a number is
        never truncated or read as a decimal."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        n = parse_whole(value)
        if n is None:
            self.error(
                row,
                column,
                value,
                _(
                    "không phải số nguyên: viết 3000000, 3.000.000, 3,000,000 hoặc 3 000 000 "
                    "(không nhận số thập phân)"
                ),
            )
            return BAD
        if n < low:
            if low == 0:
                self.error(row, column, value, _("không được âm"))
            else:
                self.error(row, column, value, _("phải từ %(low)s trở lên") % {"low": low})
            return BAD
        if n > 9_000_000_000_000_000:
            self.error(row, column, value, _("số quá lớn"))
            return BAD
        return n

    def year(self, row: int, column: str, value: str) -> Any:
        y = self.integer(row, column, value)
        if y is BAD:
            return BAD
        if not 1900 <= y <= 2200:
            self.error(row, column, value, _("năm không hợp lệ"))
            return BAD
        return y

    def code(
        self,
        row: int,
        column: str,
        value: str,
        allowed: Any,
        *,
        required: bool = True,
        names: str | None = None,
    ) -> Any:
        """A code of a list, written as the code or by its name (Vietnamese or English;
        ``names``: the list of ``core.importer.columns.CODE_LISTS``, by default the column's)."""
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        if value in allowed:
            return value
        listed = names or column
        if listed in CODE_LISTS:
            code = code_from(listed, value)
            if code is not None and code in allowed:
                return code
            shown = [str(CODE_LISTS[listed].get(c, c)) for c in allowed]
        else:
            shown = list(allowed)
        if len(shown) <= 15:
            self.error(
                row,
                column,
                value,
                _("giá trị không hợp lệ; dùng một trong: %(codes)s") % {"codes": "; ".join(shown)},
            )
        else:
            self.error(row, column, value, _("giá trị không hợp lệ"))
        return BAD

    def text(
        self, row: int, column: str, value: str, *, required: bool = False, max_length: int = 200
    ) -> Any:
        if not value:
            if required:
                self.error(row, column, value, _("thiếu giá trị bắt buộc"))
                return BAD
            return None
        if len(value) > max_length:
            self.error(row, column, value, _("dài quá %(n)s ký tự") % {"n": max_length})
            return BAD
        return value

    def ident(
        self, row: int, column: str, value: str, *, required: bool = False, max_length: int = 64
    ) -> Any:
        """A code or an identifier (a record's code, a person's ID): text without ``/`` or
        control characters, which would break the addresses and files that name it."""
        v = self.text(row, column, value, required=required, max_length=max_length)
        if v is BAD or v is None:
            return v
        if BAD_IDENT.search(v):
            self.error(
                row,
                column,
                value,
                _("mã không được chứa dấu “/”, “\\” hay ký tự điều khiển"),
            )
            return BAD
        return v

    def in_scope(self, row: int, column: str, value: str, unit_code: str, *, missing: str) -> bool:
        """Whether ``unit_code`` (the unit a row's ``value`` belongs to) is in the actor's
        scope. Out of scope is refused with ``missing``, the words a code that does not exist
        gets, so that a refusal tells nothing of what exists elsewhere (SPEC section 4)."""
        if self.allowed_units is None or unit_code in self.allowed_units:
            return True
        self.error(row, column, value, missing)
        return False


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()
