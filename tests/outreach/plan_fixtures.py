"""Small generated data for the plan tests: a province, two offices, four communes, targets
and counts built with the ORM directly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ansinh.core.models import DocumentRegister
from ansinh.geography.models import Unit
from ansinh.registry.models import Count
from ansinh.targets.models import Target

YEAR = 2025
AS_OF = dt.date(2025, 9, 30)

# commune → scheme → (target, participants at AS_OF)
FIGURES: dict[str, dict[str, tuple[int, int]]] = {
    "C11": {
        "si_compulsory": (500, 420),
        "ui": (450, 400),
        "si_voluntary": (120, 61),
        "hi": (9000, 8700),
    },
    "C12": {"si_voluntary": (80, 95), "hi": (4000, 3950)},
    "C13": {"hi": (3000, 1000)},  # a large gap: beyond what the channels can reach
    "C21": {"si_compulsory": (300, 299), "si_voluntary": (60, 57)},
}


def make_units() -> dict[str, Unit]:
    out: dict[str, Unit] = {}

    def add(code: str, name: str, level: str, parent: Unit | None) -> Unit:
        path = (parent.path if parent else "") + code + "/"
        u = Unit.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=path,
            depth=path.count("/") - 1,
        )
        out[code] = u
        return u

    kh = add("KH", "Khánh Hòa", "province", None)
    o1 = add("O1", "Nha Trang", "office", kh)
    o2 = add("O2", "Cam Ranh", "office", kh)
    add("C11", "Phường Nha Trang", "commune", o1)
    add("C12", "Phường Bắc Nha Trang", "commune", o1)
    add("C13", "Xã Nam Nha Trang", "commune", o1)
    add("C21", "Phường Cam Ranh", "commune", o2)
    # approving a plan issues it with a number from the issuer's register of plans (KH)
    for unit in (kh, o1, o2):
        DocumentRegister.objects.create(unit=unit, kind="KH")
    return out


def make_data(figures: dict[str, dict[str, tuple[int, int]]] | None = None) -> dict[str, Any]:
    units = make_units()
    figures = figures if figures is not None else FIGURES
    for commune, schemes in figures.items():
        for scheme, (target, participants) in schemes.items():
            Target.objects.create(
                year=YEAR, unit_id=commune, indicator=scheme, target=Decimal(target)
            )
            Count.objects.create(
                as_of=dt.date(2025, 6, 30), unit_id=commune, scheme=scheme, participants=1
            )
            Count.objects.create(
                as_of=AS_OF, unit_id=commune, scheme=scheme, participants=participants
            )
    return units


def gaps(figures: dict[str, dict[str, tuple[int, int]]] | None = None) -> dict[str, dict[str, int]]:
    figures = figures if figures is not None else FIGURES
    return {c: {s: t - p for s, (t, p) in v.items()} for c, v in figures.items()}
