"""Numbers and dates in the user's language: Vietnamese 1.762.678 and 93,31 %;
English 1,762,678 and 93.31%."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import translation

# a text cell a spreadsheet would read as a formula (or a DDE command): "=…", "+…", "-…",
# "@…", or one starting with a tab or carriage return; a plain signed number is no formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?\d[\d.,\s]*")


def sheet_text(value: Any) -> Any:
    """A value for a CSV or XLSX cell: text that would run as a formula in a spreadsheet gets a
    leading apostrophe (shown as text, the way Excel and LibreOffice read it); numbers, dates
    and other text are unchanged."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _SIGNED_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def sheet_row(values: Sequence[Any]) -> list[Any]:
    return [sheet_text(v) for v in values]


def round_half_up(value: Decimal | float | int, places: int = 2) -> Decimal:
    q = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(q, rounding=ROUND_HALF_UP)


def _lang(lang: str | None) -> str:
    code = lang or translation.get_language() or "vi"
    return "en" if code.startswith("en") else "vi"


def fmt_int(value: int | Decimal | None, *, lang: str | None = None) -> str:
    if value is None:
        return "—"
    s = f"{int(value):,}"
    return s.replace(",", ".") if _lang(lang) == "vi" else s


def fmt_dec(value: Decimal | float | None, *, places: int = 2, lang: str | None = None) -> str:
    if value is None:
        return "—"
    s = f"{round_half_up(value, places):,.{places}f}"
    if _lang(lang) == "vi":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def fmt_pct(value: Decimal | float | None, *, places: int = 2, lang: str | None = None) -> str:
    if value is None:
        return "—"
    s = fmt_dec(value, places=places, lang=lang)
    return f"{s} %" if _lang(lang) == "vi" else f"{s}%"


def fmt_date(value: dt.date | None, *, lang: str | None = None) -> str:
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y") if _lang(lang) == "vi" else value.isoformat()


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_chart_date(value: dt.date, *, lang: str | None = None) -> str:
    """A point of a monthly chart as users read it: a month-end as the month (T9/2025,
    Sep 2025), any other day in full (15/07/2025, 15 Jul 2025)."""
    en = _lang(lang) == "en"
    if value == month_end(value):
        return (
            f"{MONTHS_EN[value.month - 1]} {value.year}" if en else f"T{value.month}/{value.year}"
        )
    if en:
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d/%m/%Y")


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_date(value: str) -> dt.date:
    """Strict ISO YYYY-MM-DD."""
    return dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else _bad(value)


def _bad(value: str) -> dt.date:
    raise ValueError(value)
