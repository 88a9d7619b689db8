"""Checks of what field staff type or scan about a person (DOMAIN.md section 4a): the
12-digit personal identification number (CCCD) or the 10-digit SI code, mobile numbers, and
the QR code on the back of a chip ID card. Pure functions, no database."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

# the 3-digit codes of the province of birth registration (Circular 07/2016/TT-BCA; the 63
# provinces before the 2025 merger, which is what cards already issued carry)
PROVINCE_CODES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
SEXES = ("male", "female")


def id_problem(person_id: str, *, birth_date: dt.date | None = None, sex: str = "") -> str:
    """Why ``person_id`` is not a valid 12-digit personal identification number or 10-digit
    SI code, or does not agree with the birth date and sex given; "" when it is fine."""
    if not person_id.isdigit() or len(person_id) not in (10, 12):
        return _("Mã số phải là số định danh 12 chữ số (CCCD) hoặc mã số BHXH 10 chữ số.")
    if len(person_id) == 10:
        return ""
    if person_id[:3] not in PROVINCE_CODES:
        return _("3 chữ số đầu của số định danh (mã tỉnh nơi đăng ký khai sinh) không hợp lệ.")
    digit = int(person_id[3])
    if digit > 3:
        return _("Chữ số thứ 4 của số định danh (thế kỷ và giới tính) phải từ 0 đến 3.")
    year = (1900 if digit < 2 else 2000) + int(person_id[4:6])
    if year > dt.date.today().year:
        return _("Năm sinh theo số định danh (%(year)s) chưa đến.") % {"year": year}
    if birth_date is not None and birth_date.year != year:
        return _("Số định danh ghi năm sinh %(year)s, khác ngày sinh đã nhập (%(date)s).") % {
            "year": year,
            "date": birth_date.strftime("%d/%m/%Y"),
        }
    if sex in SEXES and ("female" if digit % 2 else "male") != sex:
        return _("Chữ số thứ 4 của số định danh không khớp với giới tính đã nhập.")
    return ""


def normalize_phone(phone: str) -> str:
    """A mobile number without spaces, dots or dashes, the +84 / 84 prefix written 0."""
    p = re.sub(r"[\s.\-()]", "", phone or "")
    if p.startswith("+84"):
        p = "0" + p[3:]
    elif p.startswith("84") and len(p) == 11:
        p = "0" + p[2:]
    return p


def phone_problem(phone: str) -> str:
    """Why a (normalized) mobile number is not one; "" when it is fine or empty."""
    if not phone:
        return ""
    if not phone.isdigit() or len(phone) != 10 or not phone.startswith(MOBILE_PREFIXES):
        return _("Số di động phải có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09.")
    return ""


@dataclass(frozen=True)
class CardData:
    person_id: str
    full_name: str
    birth_date: dt.date | None
    sex: str
    address: str


def _ddmmyyyy(text: str) -> dt.date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def parse_card_qr(text: str) -> CardData | None:
    """The fields of a chip ID card's QR code
    ``ID|old ID|Full name|DDMMYYYY|Nam/Nữ|address|DDMMYYYY issued``; None if it is not one."""
    parts = text.strip().split("|")
    if len(parts) < 6 or not parts[0].strip().isdigit() or len(parts[0].strip()) != 12:
        return None
    sex_text = parts[4].strip().lower()
    sex = "male" if sex_text == "nam" else "female" if sex_text in ("nữ", "nu") else ""
    return CardData(
        person_id=parts[0].strip(),
        full_name=" ".join(parts[2].split()),
        birth_date=_ddmmyyyy(parts[3]),
        sex=sex,
        address=" ".join(parts[5].split())[:300],
    )
