"""Writes of units: keep the materialised paths right."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from ansinh.core.services import audit_record
from ansinh.geography.models import (
    LEGACY_VALID_TO,
    Successor,
    TreeChange,
    Unit,
    is_legacy_key,
    legacy_key,
)
from ansinh.geography.official import official_province


def unit_paths_rebuild(*, actor: Any) -> int:
    """Recompute ``path`` and ``depth`` of every unit from the parent links (after an import
    that moved units). Returns the number of units whose path changed."""
    units = {u.code: u for u in Unit.objects.all()}
    changed: list[Unit] = []
    cache: dict[str, tuple[str, int]] = {}

    def path_of(code: str, seen: tuple[str, ...] = ()) -> tuple[str, int]:
        if code in cache:
            return cache[code]
        unit = units[code]
        if unit.parent_id is None or unit.parent_id in seen:
            result = (f"{code}/", 0)
        else:
            ppath, pdepth = path_of(unit.parent_id, (*seen, code))
            result = (f"{ppath}{code}/", pdepth + 1)
        cache[code] = result
        return result

    for code, unit in units.items():
        path, depth = path_of(code)
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth
            changed.append(unit)
    with transaction.atomic():
        Unit.objects.bulk_update(changed, ["path", "depth"], batch_size=1000)
        if changed:
            TreeChange.objects.create(what="unit.paths_rebuild")
            audit_record(
                actor=actor,
                action="unit.paths_rebuild",
                object_type="unit",
                after={"changed": len(changed)},
            )
    return len(changed)


@dataclass
class OfficialLoad:
    """What ``units_official_load`` did."""

    province: str
    name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    legacy_created: int = 0
    legacy_updated: int = 0
    legacy_unchanged: int = 0
    successors_created: int = 0
    # communes of the province's tree that the official list does not have (a draft code)
    not_official: list[str] = field(default_factory=list)


def units_official_load(*, actor: Any, province: str, legacy: bool = False) -> OfficialLoad | None:
    """Load the province ``province`` and its commune-level units with the official codes and
    names (SPEC section 9); None when the official list has no such province. Idempotent. A
    commune already loaded keeps its place (its office); a new one hangs under the province.

    ``legacy`` adds the units in force until 30 June 2025 under keys of their own
    (``legacy_key``): the former provinces (roots of their own, so that no figure of today's
    tree changes), their districts and communes (``valid_to`` 2025-06-30), and each former
    commune's successors: a whole merger gives share 1; a division gives share 1 to the
    successor the conversion names as the main one and 0 to the others. Successors already
    stored (``import successors``) are kept."""
    official = official_province(province, legacy=legacy)
    if official is None:
        return None
    out = OfficialLoad(province=official.code, name=official.name)
    stored = {u.code: u for u in Unit.objects.all()}
    paths: dict[str, str] = {c: u.path for c, u in stored.items()}
    creates: list[Unit] = []
    updates: list[Unit] = []

    def put(
        code: str,
        name: str,
        level: str,
        parent: str | None,
        *,
        keep_parent: bool,
        valid_to: dt.date | None = None,
    ) -> str:
        """Create or update one unit; returns 'created', 'updated' or 'unchanged'."""
        unit = stored.get(code)
        if unit is not None:
            if keep_parent:
                parent = unit.parent_id
            new = (name, level, parent, valid_to if is_legacy_key(code) else unit.valid_to)
            if (unit.name, unit.level, unit.parent_id, unit.valid_to) == new:
                return "unchanged"
            unit.name, unit.level, unit.parent_id, unit.valid_to = new
            path = f"{paths[parent]}{code}/" if parent else f"{code}/"
            unit.path, unit.depth = path, path.count("/") - 1
            paths[code] = path
            updates.append(unit)
            return "updated"
        path = f"{paths[parent]}{code}/" if parent else f"{code}/"
        paths[code] = path
        unit = Unit(
            code=code,
            name=name,
            level=level,
            parent_id=parent,
            path=path,
            depth=path.count("/") - 1,
            valid_to=valid_to,
        )
        stored[code] = unit
        creates.append(unit)
        return "created"

    tally: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
    tally[put(official.code, official.name, Unit.Level.PROVINCE, None, keep_parent=True)] += 1
    for c in official.communes:
        tally[put(c.code, c.name, Unit.Level.COMMUNE, official.code, keep_parent=True)] += 1
    out.created, out.updated, out.unchanged = tally["created"], tally["updated"], tally["unchanged"]

    if legacy:
        tally = {"created": 0, "updated": 0, "unchanged": 0}
        for code, name in sorted(official.legacy_provinces.items()):
            tally[
                put(
                    legacy_key(code),
                    name,
                    Unit.Level.PROVINCE,
                    None,
                    keep_parent=False,
                    valid_to=LEGACY_VALID_TO,
                )
            ] += 1
        for d in official.legacy_districts:
            tally[
                put(
                    legacy_key(d.code),
                    d.name,
                    Unit.Level.DISTRICT,
                    legacy_key(d.province_code),
                    keep_parent=False,
                    valid_to=LEGACY_VALID_TO,
                )
            ] += 1
            for c in d.communes:
                tally[
                    put(
                        legacy_key(c.code),
                        c.name,
                        Unit.Level.COMMUNE,
                        legacy_key(d.code),
                        keep_parent=False,
                        valid_to=LEGACY_VALID_TO,
                    )
                ] += 1
        out.legacy_created = tally["created"]
        out.legacy_updated = tally["updated"]
        out.legacy_unchanged = tally["unchanged"]

    official_codes = {c.code for c in official.communes}
    root = paths[official.code]
    out.not_official = sorted(
        code
        for code, u in stored.items()
        if u.level == Unit.Level.COMMUNE
        and not is_legacy_key(code)
        and paths[code].startswith(root)
        and code not in official_codes
    )
    with transaction.atomic():
        creates.sort(key=lambda u: u.depth)
        Unit.objects.bulk_create(creates, batch_size=500)
        Unit.objects.bulk_update(
            updates, ["name", "level", "parent", "valid_to", "path", "depth"], batch_size=500
        )
        if legacy:
            have = set(
                Successor.objects.filter(
                    legacy_id__in=[legacy_key(c) for c in official.successors]
                ).values_list("legacy_id", flat=True)
            )
            rows = [
                Successor(
                    legacy_id=legacy_key(old),
                    successor_id=new,
                    share=Decimal(1) if main else Decimal(0),
                    main=main,
                )
                for old, succ in official.successors.items()
                if legacy_key(old) not in have
                for new, main in succ
            ]
            Successor.objects.bulk_create(rows, batch_size=500)
            out.successors_created = len({r.legacy_id for r in rows})
        if creates or updates or out.successors_created:
            TreeChange.objects.create(what="units.official")
        audit_record(
            actor=actor,
            action="units.official",
            object_type="unit",
            object_id=official.code,
            after={
                "legacy": legacy,
                "created": out.created + out.legacy_created,
                "updated": out.updated + out.legacy_updated,
                "successors": out.successors_created,
            },
        )
    return out
