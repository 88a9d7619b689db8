from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from ansinh.core import codes, formats
from ansinh.core import words as kept_words

register = template.Library()


@register.filter
def num(value: Any) -> str:
    """A whole number in the reader's form; a hidden small cell (``<5``) as it is."""
    if isinstance(value, str) and value.startswith("<"):
        return value
    return formats.fmt_int(value)


@register.filter
def dec(value: Any) -> str:
    return formats.fmt_dec(value)


@register.filter
def pct(value: Any) -> str:
    return formats.fmt_pct(value)


@register.filter
def vdate(value: Any) -> str:
    """A date (or an ISO ``YYYY-MM-DD`` string) as 30/09/2025 in Vietnamese; a masked or
    other string as it is."""
    if isinstance(value, str):
        try:
            value = formats.parse_date(value)
        except ValueError:
            return value
    return formats.fmt_date(value)


@register.filter
def role_label(code: Any) -> str:
    """A login's role (SPEC section 4) as a word of the user's language."""

    labels = {
        "admin": gettext("Quản trị"),
        "province": gettext("BHXH tỉnh"),
        "office": gettext("BHXH cơ sở"),
        "partner": gettext("Đơn vị phối hợp"),
        "viewer": gettext("Chỉ xem"),
    }
    return labels.get(str(code), str(code))


@register.filter
def sex_label(code: Any) -> str:
    """M/F (and the Vietnamese Nam/Nữ) as a word of the user's language."""

    key = str(code or "").strip().lower()
    if key in {"m", "nam", "male"}:
        return gettext("Nam")
    if key in {"f", "nữ", "nu", "female"}:
        return gettext("Nữ")
    return str(code) if code else "—"


@register.filter
def scheme_label(code: str) -> str:
    return codes.indicator_label(code)


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


@register.filter
def staff_label(user: Any) -> str:
    """An officer as listed: full name and login, or the login alone."""
    # Vietnamese order: family name first
    parts = (getattr(user, "last_name", ""), getattr(user, "first_name", ""))
    full = " ".join(p.strip() for p in parts if p and p.strip())
    return f"{full} ({user.username})" if full else str(getattr(user, "username", ""))


@register.filter
def words(text: str) -> str:
    """Words a job stored (``ansinh.core.words``) in the reader's language; other text as
    it is."""
    return kept_words.shown(text or "")
