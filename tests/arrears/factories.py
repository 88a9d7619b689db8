"""ORM-built data for the arrears tests: a small unit tree, employers, people, users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ansinh.core.models import DocumentRegister
from ansinh.geography.models import Unit


def make_units() -> dict[str, Unit]:
    """KH (province) → O1 (office) → C1, C2; O2 → C3."""
    kh = Unit.objects.create(code="KH", name="Khánh Hòa", level="province", path="KH/", depth=0)
    o1 = Unit.objects.create(
        code="O1", name="BHXH Nha Trang", level="office", parent=kh, path="KH/O1/", depth=1
    )
    o2 = Unit.objects.create(
        code="O2", name="BHXH Cam Ranh", level="office", parent=kh, path="KH/O2/", depth=1
    )
    c1 = Unit.objects.create(
        code="C1", name="Phường Nha Trang", level="commune", parent=o1, path="KH/O1/C1/", depth=2
    )
    c2 = Unit.objects.create(
        code="C2",
        name="Phường Bắc Nha Trang",
        level="commune",
        parent=o1,
        path="KH/O1/C2/",
        depth=2,
    )
    c3 = Unit.objects.create(
        code="C3", name="Phường Cam Ranh", level="commune", parent=o2, path="KH/O2/C3/", depth=2
    )
    for unit in (kh, o1, o2):  # reminder letters take their numbers from these registers
        DocumentRegister.objects.create(unit=unit, kind="TB")
    return {u.code: u for u in (kh, o1, o2, c1, c2, c3)}


def make_user(username: str, role: str, unit: Unit | None = None, org: str = "") -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, role=role, unit=unit, org=org
    )
    return user


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)
