"""Writes of units: keep the materialised paths right."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ansinh.core.services import audit_record
from ansinh.geography.models import Unit


def unit_paths_rebuild(*, actor: Any = None) -> int:
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
            audit_record(
                actor=actor,
                action="unit.paths_rebuild",
                object_type="unit",
                after={"changed": len(changed)},
            )
    return len(changed)
