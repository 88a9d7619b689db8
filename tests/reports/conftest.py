"""A small province built with the ORM: KH → offices O1, O2 → communes C11, C12, C21.
Counts at the communes at month-ends of 2024 and 2025, targets at the communes for 2025,
population at the communes and an HI coverage target for the province."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ansinh.core.formats import month_end

# participants at 2025-09-30 per commune and scheme
SEP = {
    "C11": {"si_compulsory": 1200, "si_voluntary": 150, "ui": 1100, "hi": 9100},
    "C12": {"si_compulsory": 800, "si_voluntary": 40, "ui": 700, "hi": 7200},
    "C21": {"si_compulsory": 3000, "si_voluntary": 310, "ui": 2900, "hi": 15500},
}
TARGETS = {
    "C11": {"si_compulsory": 1000, "si_voluntary": 300, "ui": 1000, "hi": 9500},
    "C12": {"si_compulsory": 900, "si_voluntary": 120, "ui": 700, "hi": 7600},
    "C21": {"si_compulsory": 2500, "si_voluntary": 400, "ui": 2800, "hi": 16000},
}
POPULATION = {"C11": 10000, "C12": 8000, "C21": 17000}
GROUP = {
    "si_compulsory": "employee",
    "si_voluntary": "freelancer",
    "ui": "employee",
    "hi": "household",
}


def monthly(code: str, scheme: str, day: dt.date) -> int:
    """Participants at a month-end: SEP minus 7 per month before 2025-09 (a steady climb)."""
    months_before = (2025 - day.year) * 12 + (9 - day.month)
    return max(SEP[code][scheme] - 7 * months_before, 0)


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    d = month_end(first)
    while d <= last:
        out.append(d)
        d = month_end(d + dt.timedelta(days=1))
    return out


@pytest.fixture
def province(db: Any) -> dict[str, Any]:
    from ansinh.geography.models import Population, Unit
    from ansinh.registry.models import Count
    from ansinh.targets.models import Target

    kh = Unit.objects.create(code="KH", name="Tỉnh Khánh Hòa", level="province", path="KH/")
    o1 = Unit.objects.create(
        code="O1", name="BHXH cơ sở Nha Trang", level="office", parent=kh, path="KH/O1/", depth=1
    )
    o2 = Unit.objects.create(
        code="O2", name="BHXH cơ sở Ninh Hòa", level="office", parent=kh, path="KH/O2/", depth=1
    )
    units = {"KH": kh, "O1": o1, "O2": o2}
    for code, name, parent in [
        ("C11", "Phường Nha Trang", o1),
        ("C12", "Xã Diên Khánh", o1),
        ("C21", "Phường Ninh Hòa", o2),
    ]:
        units[code] = Unit.objects.create(
            code=code,
            name=name,
            level="commune",
            parent=parent,
            path=f"{parent.path}{code}/",
            depth=2,
        )
    counts = []
    for code in SEP:
        for scheme in SEP[code]:
            for d in month_ends(dt.date(2024, 1, 31), dt.date(2025, 9, 30)):
                counts.append(
                    Count(
                        as_of=d,
                        unit=units[code],
                        scheme=scheme,
                        participants=monthly(code, scheme, d),
                    )
                )
            Target.objects.create(
                year=2025, unit=units[code], indicator=scheme, target=Decimal(TARGETS[code][scheme])
            )
        Population.objects.create(year=2025, unit=units[code], population=POPULATION[code])
        Population.objects.create(year=2024, unit=units[code], population=POPULATION[code])
    Count.objects.bulk_create(counts)
    Target.objects.create(year=2025, unit=kh, indicator="hi_coverage", target=Decimal("95.0"))
    return units
