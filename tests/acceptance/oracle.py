"""An independent computation of SPEC section 3, in plain Python over the rows of the files
(no product code): what ``ansinh kpi`` must print.

The files are loaded in order (``load``); a later import replaces a row with the same key
(units: code; population: year, unit, group; targets: year, unit, indicator; counts: as_of,
unit, scheme, group; participations: person, scheme, start_date, unit). Ties between spells
of one person and scheme with the same start date are won by the later row of the later
import that holds it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

SCHEMES = ("si_compulsory", "si_voluntary", "ui", "hi")
KEEP_RANK_WHEN_UNCHANGED = False
GROUPS = (
    "employee",
    "employer",
    "freelancer",
    "business_owner",
    "farmer",
    "student",
    "household",
    "state_supported",
    "other",
)


def d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def pct(num: int, den: int | Fraction) -> float | None:
    """num / den × 100, half-up to 2 decimals, exactly (fractions, never floats)."""
    if not den:
        return None
    value = Fraction(num) * 100 / Fraction(den)
    cents = (value * 100 + Fraction(1, 2)).__floor__()
    return float(Decimal(cents) / 100)


@dataclass
class World:
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    population: dict[tuple[int, str, str], int] = field(default_factory=dict)
    targets: dict[tuple[int, str, str], Decimal] = field(default_factory=dict)
    counts: dict[tuple[dt.date, str, str, str], int] = field(default_factory=dict)
    # (person, scheme, start, unit) -> (group, end, rank)
    spells: dict[tuple[str, str, dt.date, str], tuple[str, dt.date | None, tuple[int, int]]] = (
        field(default_factory=dict)
    )
    imports: int = 0

    # ------------------------------------------------------------------ loading

    def load(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Rows as dicts of strings, in file order (row 2 is the first data row)."""
        self.imports += 1
        for i, r in enumerate(rows, start=2):
            g = (r.get("group") or "").strip()
            if kind == "units":
                self.units[r["code"]] = {
                    "level": r["level"],
                    "parent": r.get("parent_code") or "",
                }
            elif kind == "population":
                self.population[(int(r["year"]), r["unit_code"], g)] = int(r["population"])
            elif kind == "targets":
                self.targets[(int(r["year"]), r["unit_code"], r["indicator"])] = Decimal(
                    r["target"]
                )
            elif kind == "counts":
                key = (d(r["as_of"]), r["unit_code"], r["scheme"], g)
                self.counts[key] = int(r["participants"])  # type: ignore[index]
            elif kind == "participations":
                key2 = (r["person_id"], r["scheme"], d(r["start_date"]), r["unit_code"])
                value = (g, d(r.get("end_date")))
                old = self.spells.get(key2)  # type: ignore[arg-type]
                if KEEP_RANK_WHEN_UNCHANGED and old is not None and old[:2] == value:
                    continue
                self.spells[key2] = (*value, (self.imports, i))  # type: ignore[index]
            else:
                raise ValueError(kind)

    # ------------------------------------------------------------------ tree

    def children(self, code: str) -> list[str]:
        return sorted(c for c, u in self.units.items() if u["parent"] == code)

    def root(self) -> str:
        return sorted(c for c, u in self.units.items() if not u["parent"])[0]

    def below(self, code: str) -> set[str]:
        out = {code}
        todo = [code]
        while todo:
            for c in self.children(todo.pop()):
                out.add(c)
                todo.append(c)
        return out

    # ------------------------------------------------------------------ facts at a date

    def leaf(
        self, day: dt.date
    ) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
        """Participants at ``day`` where facts are loaded: from spells, per (unit, scheme,
        group of the deciding spell); from counts, per (unit, scheme, group) with '' the
        ungrouped row."""
        spells: dict[tuple[str, str, str], int] = defaultdict(int)
        best: dict[tuple[str, str], tuple[Any, ...]] = {}
        spell_units: set[tuple[str, str]] = set()
        for (pid, scheme, start, unit), (group, end, rank) in self.spells.items():
            spell_units.add((unit, scheme))
            if start <= day and (end is None or day <= end):
                cand = (start, rank, unit, group)
                if (pid, scheme) not in best or cand[:2] > best[(pid, scheme)][:2]:
                    best[(pid, scheme)] = cand
        for (_pid, scheme), (_s, _r, unit, group) in best.items():
            spells[(unit, scheme, group)] += 1
        latest: dict[tuple[str, str, str], tuple[dt.date, int]] = {}
        for (as_of, unit, scheme, group), n in self.counts.items():
            if as_of > day or (unit, scheme) in spell_units:
                continue
            k = (unit, scheme, group)
            if k not in latest or as_of > latest[k][0]:
                latest[k] = (as_of, n)
        counts = {k: n for k, (_a, n) in latest.items()}
        return dict(spells), counts

    def participants(
        self,
        leaf: tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]],
        units: set[str],
        group: str | None,
    ) -> dict[str, int]:
        """Per scheme: the total (group None) or one group's participants over ``units``.
        A count's total is its ungrouped row where there is one, else the sum of its groups."""
        spells, counts = leaf
        out = dict.fromkeys(SCHEMES, 0)
        for (u, s, g), n in spells.items():
            if u in units and (group is None or g == group):
                out[s] += n
        with_total = {(u, s) for (u, s, g) in counts if g == ""}
        for (u, s, g), n in counts.items():
            if u not in units:
                continue
            if group is None and (g == "" or (u, s) not in with_total):
                out[s] += n
            elif group is not None and g == group:
                out[s] += n
        return out

    def target(self, year: int, unit: str, indicator: str) -> Decimal | None:
        own = self.targets.get((year, unit, indicator))
        if own is not None or indicator == "hi_coverage":
            return own
        vals = [
            v for c in self.children(unit) if (v := self.target(year, c, indicator)) is not None
        ]
        return sum(vals, Decimal(0)) if vals else None

    def pop(self, year: int, unit: str, group: str = "") -> int | None:
        own = self.population.get((year, unit, group))
        if own is not None:
            return own
        vals = [v for c in self.children(unit) if (v := self.pop(year, c, group)) is not None]
        return sum(vals) if vals else None

    # ------------------------------------------------------------------ figures

    @staticmethod
    def scheme_item(code: str, n: int, target: Decimal | None, day: dt.date) -> dict[str, Any]:
        if target is None:
            return {
                "code": code,
                "participants": n,
                "target": None,
                "attainment_pct": None,
                "gap": None,
                "required_per_month": None,
            }
        t = int(target)
        gap = t - n
        left = 12 - day.month
        if gap <= 0:
            req = 0
        elif left == 0:
            req = gap
        else:
            req = -(-gap // left)
        return {
            "code": code,
            "participants": n,
            "target": t,
            "attainment_pct": pct(n, t),
            "gap": gap,
            "required_per_month": req,
        }

    def items(
        self,
        *,
        counts: dict[str, int],
        unit: str | None,
        day: dt.date,
        group: str | None = None,
    ) -> list[dict[str, Any]]:
        year = day.year
        out = []
        for s in SCHEMES:
            target = None if group is not None or unit is None else self.target(year, unit, s)
            out.append(self.scheme_item(s, counts[s], target, day))
        population = self.pop(year, unit or "", group or "") if unit else None
        if population is not None:
            tp = None if group is not None else self.target(year, unit or "", "hi_coverage")
            out.append(
                {
                    "code": "hi_coverage",
                    "participants": counts["hi"],
                    "population": population,
                    "coverage_pct": pct(counts["hi"], population),
                    "target_pct": None if tp is None else float(tp),
                }
            )
        return out

    def kpi(
        self, *, day: dt.date, unit: str | None = None, by: str | None = None
    ) -> dict[str, Any]:
        unit = unit or self.root()
        leaf = self.leaf(day)
        head = {"as_of": day.isoformat(), "unit": unit}
        if by is None:
            counts = self.participants(leaf, self.below(unit), None)
            return {**head, "indicators": self.items(counts=counts, unit=unit, day=day)}
        if by == "unit":
            rows = []
            for c in self.children(unit):
                counts = self.participants(leaf, self.below(c), None)
                rows.append({"unit": c, "indicators": self.items(counts=counts, unit=c, day=day)})
            return {**head, "rows": rows}
        rows = []
        below = self.below(unit)
        for g in GROUPS:
            counts = self.participants(leaf, below, g)
            items = self.items(counts=counts, unit=None, day=day, group=g)
            pop = self.pop(day.year, unit, g)
            if pop is not None:
                items.append(
                    {
                        "code": "hi_coverage",
                        "participants": counts["hi"],
                        "population": pop,
                        "coverage_pct": pct(counts["hi"], pop),
                        "target_pct": None,
                    }
                )
            rows.append({"group": g, "indicators": items})
        return {**head, "rows": rows}


def normalise(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON of ``ansinh kpi`` with indicators keyed by code and rows by unit/group (the
    order of rows is not part of the contract; every scheme must be there)."""

    def ind(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        codes = [i["code"] for i in items]
        assert len(codes) == len(set(codes)), codes
        assert set(SCHEMES) <= set(codes), codes
        return {i["code"]: i for i in items}

    out: dict[str, Any] = {"as_of": result["as_of"], "unit": result["unit"]}
    if "indicators" in result:
        out["indicators"] = ind(result["indicators"])
    if "rows" in result:
        key = "unit" if result["rows"] and "unit" in result["rows"][0] else "group"
        out["rows"] = {r[key]: ind(r["indicators"]) for r in result["rows"]}
    return out


def diff(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Human-readable differences between two normalised results (empty when equal)."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                if k not in a:
                    out.append(f"{path}.{k}: missing, want {b[k]!r}")
                elif k not in b:
                    out.append(f"{path}.{k}: unexpected {a[k]!r}")
                else:
                    walk(a[k], b[k], f"{path}.{k}")
        elif (
            a != b
            or type(a) is not type(b)
            and not (isinstance(a, int | float) and isinstance(b, int | float) and a == b)
        ):
            out.append(f"{path}: got {a!r}, want {b!r}")

    walk(got, want, "")
    return out
