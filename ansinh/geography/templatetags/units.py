"""Template filters of units: ``{{ code|unit_code }}`` shows ``22411@2025`` as
``22411 (đến 30/06/2025)``."""

from __future__ import annotations

from django import template

from ansinh.geography.selectors import unit_code_label

register = template.Library()


@register.filter
def unit_code(code: str) -> str:
    return unit_code_label(str(code))
