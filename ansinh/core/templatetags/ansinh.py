from __future__ import annotations

from typing import Any

from django import template

from ansinh.core import codes, formats

register = template.Library()


@register.filter
def num(value: Any) -> str:
    return formats.fmt_int(value)


@register.filter
def dec(value: Any) -> str:
    return formats.fmt_dec(value)


@register.filter
def pct(value: Any) -> str:
    return formats.fmt_pct(value)


@register.filter
def vdate(value: Any) -> str:
    return formats.fmt_date(value)


@register.filter
def scheme_label(code: str) -> str:
    if code == "hi_coverage":
        from django.utils.translation import gettext

        return gettext("Tỷ lệ bao phủ BHYT")
    return codes.label(codes.SCHEMES, code)


@register.filter
def group_label(code: str) -> str:
    return codes.label(codes.GROUPS, code)


@register.filter
def channel_label(code: str) -> str:
    if code in codes.FUNNEL_EXTRA_KEYS:
        return codes.label(codes.FUNNEL_EXTRA_KEYS, code)
    return codes.label(codes.CHANNELS, code)


@register.filter
def org_label(code: str) -> str:
    return codes.label(codes.ORGS, code)


@register.filter
def level_label(code: str) -> str:
    return codes.label(codes.LEVELS, code)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
