"""Template filters of the dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template

from ansinh.core import formats

register = template.Library()


@register.filter
def cell(value: Any) -> str:
    """A count as Vietnamese/English digits; a suppressed cell (``<5``) as it is."""
    if isinstance(value, str):
        return value
    return formats.fmt_int(value)


@register.filter
def bar_width(value: Any) -> int:
    """Attainment percent as a bar width, 0–100."""
    if value is None:
        return 0
    return max(0, min(100, int(float(value))))


@register.filter
def magnitude(value: Any) -> Any:
    """The absolute value of a number (the sign is said by the label next to it); None and a
    suppressed cell as they are."""
    if value is None or isinstance(value, str):
        return value
    return abs(value)
