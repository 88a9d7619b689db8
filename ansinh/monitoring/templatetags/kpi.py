"""Template filters of the dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

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


@register.filter
def chance(value: Any) -> str:
    """A probability (0–1) as a whole percent in the reader's form (0.04 → "4 %"); "—" where
    there is none (no target, or withheld)."""
    if value is None or isinstance(value, str):
        return "—"
    return formats.fmt_pct(round(float(value) * 100), places=0)


@register.filter
def chance_class(value: Any) -> str:
    """The colour of a probability: ok from 80 %, bad below 50 %, warn between."""
    if value is None or isinstance(value, str):
        return ""
    return "ok" if value >= 0.8 else "bad" if value < 0.5 else "warn"


@register.filter
def forecast_method(value: Any) -> str:
    """The forecast's method in words."""
    return _("theo mùa vụ") if value == "seasonal" else _("theo xu hướng")
