"""The one shape of a plan item, from the builder to the exported file (SPEC section 6).

The builder (``planning.plan_compute``) makes ``PlannedItem``s; a saved plan stores each as a
``models.PlanItem`` row (``model_fields``) and reads it back (``from_model``); the JSON object
of SPEC section 6 (CLI, API, exports) carries ``as_json``, and the exports read it back with
``from_json``. The item's keys are the dataclass's fields, spelled here only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class PlannedItem:
    """One planned activity, or a series of like sessions in one month."""

    unit: str  # commune code
    month: str  # YYYY-MM
    channel: str
    group: str
    schemes: list[str]
    lead_org: str
    coordinating_orgs: list[str] = field(default_factory=list)
    sessions: int = 1
    planned_reach: int = 0
    expected_registrations: int = 0
    cost: int = 0
    note: str = ""  # an office's note; not part of a draft

    def as_json(self) -> dict[str, Any]:
        """The item of SPEC section 6 (``note`` only when there is one)."""
        out = asdict(self)
        if not self.note:
            del out["note"]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedItem:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    @classmethod
    def from_model(cls, row: Any) -> PlannedItem:
        """From a saved ``outreach.models.PlanItem``."""
        values = {f.name: getattr(row, f.name) for f in fields(cls) if f.name != "unit"}
        values["schemes"] = list(values["schemes"])
        values["coordinating_orgs"] = list(values["coordinating_orgs"])
        return cls(unit=row.unit_id, **values)

    def model_fields(self) -> dict[str, Any]:
        """The keyword arguments of an ``outreach.models.PlanItem`` for this item."""
        values = asdict(self)
        values["unit_id"] = values.pop("unit")
        return values
