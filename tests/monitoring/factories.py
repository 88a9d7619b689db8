"""ORM-built data for the KPI tests (the import framework is written in parallel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ansinh.core.models import ImportBatch
from ansinh.geography.models import Population, Unit
from ansinh.registry.models import Count, Person, Spell
from ansinh.targets.models import Target


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def make_units() -> dict[str, Unit]:
    """KH (province) → O1 (office) → C1, C2; O2 → C3."""
    spec = [
        ("KH", "Khánh Hòa", "province", None),
        ("O1", "BHXH Nha Trang", "office", "KH"),
        ("O2", "BHXH Cam Ranh", "office", "KH"),
        ("C1", "Phường Nha Trang", "commune", "O1"),
        ("C2", "Phường Bắc Nha Trang", "commune", "O1"),
        ("C3", "Phường Cam Ranh", "commune", "O2"),
    ]
    out: dict[str, Unit] = {}
    for code, name, level, parent in spec:
        p = out.get(parent) if parent else None
        out[code] = Unit.objects.create(
            code=code,
            name=name,
            level=level,
            parent=p,
            path=(p.path if p else "") + code + "/",
            depth=(p.depth + 1) if p else 0,
        )
    return out


def batch(n: int = 1) -> ImportBatch:
    return ImportBatch.objects.create(kind="participations", file_name=f"b{n}.csv", sha256="x")


def spells(rows: list[tuple[Any, ...]], b: ImportBatch | None = None) -> list[Spell]:
    """rows: (person, unit, scheme, group, start, end|None[, row_no])."""
    people = {r[0] for r in rows}
    Person.objects.bulk_create([Person(person_id=p) for p in people], ignore_conflicts=True)
    objs = []
    for i, r in enumerate(rows):
        person, unit, scheme, group, start, end = r[:6]
        row_no = r[6] if len(r) > 6 else i + 1
        objs.append(
            Spell(
                person_id=person,
                unit_id=unit,
                scheme=scheme,
                group=group,
                start_date=d(start),
                end_date=d(end) if end else None,
                batch=b,
                row_no=row_no,
            )
        )
    return Spell.objects.bulk_create(objs)


def counts(rows: list[tuple[Any, ...]]) -> None:
    """rows: (as_of, unit, scheme, participants[, group])."""
    Count.objects.bulk_create(
        [
            Count(
                as_of=d(r[0]),
                unit_id=r[1],
                scheme=r[2],
                participants=r[3],
                group=r[4] if len(r) > 4 else "",
            )
            for r in rows
        ]
    )


def targets(rows: list[tuple[Any, ...]]) -> None:
    """rows: (year, unit, indicator, target)."""
    Target.objects.bulk_create(
        [Target(year=y, unit_id=u, indicator=i, target=Decimal(str(t))) for y, u, i, t in rows]
    )


def population(rows: list[tuple[Any, ...]]) -> None:
    """rows: (year, unit, population[, group])."""
    Population.objects.bulk_create(
        [
            Population(year=r[0], unit_id=r[1], population=r[2], group=r[3] if len(r) > 3 else "")
            for r in rows
        ]
    )


def make_user(username: str, role: str, unit: Unit | None = None, org: str = "") -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password="pw-" + username, role=role, unit=unit, org=org
    )


def snapshot_table() -> list[tuple]:
    """Every stored snapshot row, sorted (to compare a corrected snapshot with a rebuild)."""
    from ansinh.monitoring.models import KpiSnapshot

    return sorted(
        KpiSnapshot.objects.values_list(
            "as_of",
            "unit_id",
            "scheme",
            "group",
            "participants",
            "new",
            "lapsed",
            "renewed",
            "in_total",
            "from_counts",
        )
    )
