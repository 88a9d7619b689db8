"""Helpers shared by the demo set and the generator: exact allocation, names, dates, CSV."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ansinh.registry.columns import PART_COLUMNS

# file name, header — SPEC section 2 (required columns first, then the optional ones we fill)
HEADERS: dict[str, list[str]] = {
    "units": ["code", "name", "level", "parent_code", "valid_from", "valid_to"],
    "population": ["year", "unit_code", "population", "group"],
    "targets": ["year", "unit_code", "indicator", "target"],
    # the demo fills the participations columns up to ``phone``
    "participations": list(PART_COLUMNS[: PART_COLUMNS.index("phone") + 1]),
    "counts": ["as_of", "unit_code", "scheme", "participants", "group"],
    "employers": ["code", "name", "unit_code", "tax_code", "sector", "employees"],
    "contributions": ["employer_code", "period", "amount_due", "amount_paid", "paid_on"],
    "activities": [
        "code",
        "unit_code",
        "channel",
        "date",
        "lead_org",
        "campaign",
        "group",
        "coordinating_orgs",
        "planned_reach",
        "reach",
        "leads",
        "registrations",
        "vssid_installs",
        "cost",
    ],
    "attendees": ["activity_code", "person_id", "full_name", "phone"],
}
# the order in which the files must be imported (a file refers only to earlier ones)
LOAD_ORDER: tuple[str, ...] = (
    "units",
    "population",
    "targets",
    "employers",
    "contributions",
    "counts",
    "participations",
    "activities",
    "attendees",
)

SCHEMES = ("si_compulsory", "si_voluntary", "ui", "hi")


def allocate(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that add up exactly
    (largest remainder; ties to the earlier item), each at least ``minimum``."""
    n = len(weights)
    if n == 0:
        return []
    base = [minimum] * n
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("total below the minimum")
    wsum = float(sum(weights))
    if wsum <= 0:
        weights = [1.0] * n
        wsum = float(n)
    quotas = [rest * w / wsum for w in weights]
    floors = [int(q) for q in quotas]
    left = rest - sum(floors)
    order = sorted(range(n), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors, strict=True)]


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month_ends(first: tuple[int, int], last: tuple[int, int]) -> list[dt.date]:
    (y, m), out = first, []
    while (y, m) <= last:
        out.append(month_end(y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A uniform date from ``start`` to ``end`` inclusive."""
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, max(span, 0)))


# Vietnamese names: common family names (with rough frequencies), middle and given names
FAMILY = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Huỳnh", 5),
    ("Hoàng", 4),
    ("Võ", 4),
    ("Phan", 4),
    ("Vũ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
    ("Đinh", 1),
    ("Mai", 1),
    ("Trương", 1),
    ("Cao", 1),
]
FAMILY_NAMES = [f for f, _ in FAMILY]
FAMILY_WEIGHTS = [w for _, w in FAMILY]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân", "Ngọc", "Thanh"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Hồng"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hùng",
    "Huy",
    "Khang",
    "Khoa",
    "Long",
    "Lộc",
    "Minh",
    "Nam",
    "Nghĩa",
    "Phong",
    "Phúc",
    "Quang",
    "Sơn",
    "Tài",
    "Thắng",
    "Thịnh",
    "Toàn",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
]
GIVEN_F = [
    "Anh",
    "Châu",
    "Diễm",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Loan",
    "Mai",
    "My",
    "Nga",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phương",
    "Quyên",
    "Thảo",
    "Trang",
    "Trinh",
    "Tuyết",
    "Vy",
    "Yến",
]
PHONE_PREFIXES = ["090", "091", "093", "096", "097", "098", "086", "088", "070", "077", "079"]


def full_name(rng: random.Random, sex: str) -> str:
    family = rng.choices(FAMILY_NAMES, FAMILY_WEIGHTS)[0]
    if sex == "F":
        return f"{family} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
    return f"{family} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"


class Writer:
    """One CSV file of SPEC section 2, written row by row."""

    def __init__(self, out: Path, kind: str) -> None:
        self.path = out / f"{kind}.csv"
        self.kind = kind
        self._fh: IO[str] = self.path.open("w", encoding="utf-8", newline="")
        self._w = csv.writer(self._fh, lineterminator="\n")
        self._w.writerow(HEADERS[kind])
        self.rows = 0

    def row(self, *values: Any) -> None:
        self._w.writerow(["" if v is None else v for v in values])
        self.rows += 1

    def rows_many(self, rows: list[list[Any]]) -> None:
        self._w.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        self._fh.close()
