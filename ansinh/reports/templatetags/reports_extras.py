from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation

from ansinh.reports.tables import fmt_cell

register = template.Library()


@register.filter
def cells(row: list[Any], kinds: list[str]) -> list[tuple[str, str]]:
    """Format a report table row in the page's language: [(text, kind), …]."""
    lang = "vi" if _vi() else "en"
    return [(fmt_cell(v, k, lang), k) for v, k in zip(row, kinds, strict=True)]


def _vi() -> bool:
    return not (translation.get_language() or "vi").startswith("en")


@register.filter
def indent(depth: int) -> str:
    return "\u00a0\u00a0" * int(depth or 0)


@register.filter
def heads(header: list[str], kinds: list[str]) -> list[tuple[str, str]]:
    return list(zip(header, kinds, strict=True))
