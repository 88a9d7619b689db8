"""The preview of SPEC section 10: the province's participants per scheme just before an
import's write and just after it, in its transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ansinh.core.formats import fmt_int
from ansinh.geography.models import Unit
from ansinh.imports.kinds import importer_class
from ansinh.imports.pipeline import ImportResult
from ansinh.monitoring.selectors import data_as_of, participants_totals
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh

SCHEME_CODES = ("si_compulsory", "si_voluntary", "ui", "hi")

CONFIRM_SHARE = 0.10  # a scheme changing by more than this asks for confirmation


def _province() -> Unit | None:
    return Unit.objects.filter(parent__isnull=True).order_by("code").first()


class FigurePreview:
    """The province's participants per scheme at the latest data date, just before the
    write and just after it, in the import's transaction (``imports.pipeline.Inspector``).
    ``guard`` None: a preview (always rolled back); a share: the import goes on unless a
    scheme changes by more than it (the web import asks for confirmation then)."""

    def __init__(self, *, kind: str, delta: SnapshotDelta, guard: float | None) -> None:
        self.kind = kind
        self.delta = delta
        self.guard = guard
        self.unit: Unit | None = None
        self.as_of: dt.date | None = None
        self.before_figures: dict[str, int] = {}
        self.refreshed = False

    def before(self, imp: Any) -> None:
        self.unit = _province()
        self.as_of = data_as_of()
        if self.unit is not None and self.as_of is not None:
            self.before_figures = participants_totals(unit=self.unit, as_of=self.as_of)

    def after(self, imp: Any, result: ImportResult) -> bool:
        if (
            not self.delta.applied
            and importer_class(self.kind).refreshes_snapshot
            and result.touched_units
            and (result.created or result.updated)
        ):
            snapshot_refresh(units=result.touched_units, since=result.touched_since)
            self.refreshed = True
        as_of = self.as_of or data_as_of()
        after: dict[str, int] = {}
        if self.unit is not None and as_of is not None:
            after = participants_totals(unit=self.unit, as_of=as_of)
        schemes = {
            code: {
                "before": int(self.before_figures.get(code, 0)),
                "after": int(after.get(code, 0)),
            }
            for code in SCHEME_CODES
        }
        confirm = any(
            v["before"] > 0 and abs(v["after"] - v["before"]) > CONFIRM_SHARE * v["before"]
            for v in schemes.values()
        )
        result.preview = {
            "kind": self.kind,
            "rows": result.rows,
            "as_of": as_of.isoformat() if as_of else None,
            "unit": self.unit.code if self.unit else None,
            "schemes": schemes,
            "confirm": confirm,
        }
        if self.guard is None:
            return True
        return confirm


def preview_lines(preview: dict[str, Any]) -> list[str]:
    """``hi: 1.762.678 → 1.790.012 (+27.334)`` per scheme (numbers in the user's language)."""
    out = []
    for code, v in preview["schemes"].items():
        change = v["after"] - v["before"]
        sign = "+" if change >= 0 else "−"
        out.append(
            f"{code}: {fmt_int(v['before'])} → {fmt_int(v['after'])} ({sign}{fmt_int(abs(change))})"
        )
    return out


# ---------------------------------------------------------------------------------------------
# the history and undo (SPEC section 10)
