"""Importers of units and population (SPEC section 2), on the protocol of core.importer."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, ClassVar

from django.utils import translation
from django.utils.translation import gettext as _

from ansinh.core.codes import GROUP_CODES, LEVELS
from ansinh.core.importer.merge import MergeCounts, MergeTarget
from ansinh.core.importer.protocol import Importer, StagedImporter
from ansinh.core.importer.rows import BAD, Context
from ansinh.core.importer.staging import Staging
from ansinh.geography.models import (
    REORGANISED_ON,
    Population,
    Successor,
    Unit,
    is_legacy_key,
    legacy_key,
    official_code,
)
from ansinh.geography.services import unit_paths_rebuild


class UnitLookup:
    """Every stored unit code (with its path), loaded once per import; checks a row's unit
    code for existence and for the actor's scope.

    Once the units before 1 July 2025 are loaded (``units official --legacy``), a code is read
    by the fact's date (SPEC section 9): on a day before 1 July 2025 a code that a former
    commune had means that former commune (stored under its own key, ``22411@2025``), which
    counts in its successors; its scope is that of its successors."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.paths: dict[str, str] = dict(Unit.objects.values_list("code", "path"))
        # former communes with successors -> their successors; other former units
        self.legacy: dict[str, list[str]] = {}
        for legacy, succ in Successor.objects.filter(share__gt=0).values_list(
            "legacy_id", "successor_id"
        ):
            self.legacy.setdefault(legacy, []).append(succ)
        self.former = {c for c in self.paths if is_legacy_key(c)}

    def check(self, row: int, column: str, code: str, day: str | None = None) -> Any:
        """``code`` checked, or BAD; ``day`` (ISO) the fact's date, read for the units of
        before 1 July 2025 (None: the code means today's unit)."""
        if not code:
            self.ctx.error(row, column, code, _("thiếu giá trị bắt buộc"))
            return BAD
        missing = _("không có đơn vị mã này")
        if self.former:
            before = day is not None and day < REORGANISED_ON.isoformat()
            if is_legacy_key(code) and not before:
                self.ctx.error(
                    row, column, code, _("đơn vị này chỉ còn hiệu lực đến hết 30/06/2025")
                )
                return BAD
            key = legacy_key(code)
            if before and key in self.former:
                if key not in self.legacy:
                    self.ctx.error(
                        row,
                        column,
                        code,
                        _(
                            "trước 01/07/2025 mã này là một tỉnh hay huyện cũ, không có đơn vị "
                            "kế thừa: hãy nhập số liệu theo xã"
                        ),
                    )
                    return BAD
                allowed = self.ctx.allowed_units
                if allowed is not None and not any(s in allowed for s in self.legacy[key]):
                    self.ctx.error(row, column, code, missing)
                    return BAD
                return key
        if code not in self.paths:
            self.ctx.error(row, column, code, missing)
            return BAD
        if not self.ctx.in_scope(row, column, code, code, missing=missing):
            return BAD
        return code


class UnitsImporter(Importer):
    kind = "units"
    required = ("code", "name", "level", "parent_code")
    optional = ("valid_from", "valid_to")

    def setup(self) -> None:
        self.stored: dict[str, tuple[Any, ...]] = {
            u[0]: u[1:]
            for u in Unit.objects.values_list(
                "code", "name", "level", "parent_id", "valid_from", "valid_to"
            )
        }
        self.rows: dict[str, tuple[Any, ...]] = {}  # code -> (row_no, name, level, parent, vf, vt)
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        code = ctx.ident(row_no, "code", get(row, "code"), required=True, max_length=32)
        name = ctx.text(row_no, "name", get(row, "name"), required=True, max_length=200)
        level = ctx.code(row_no, "level", get(row, "level"), LEVELS)
        parent = ctx.ident(row_no, "parent_code", get(row, "parent_code"), max_length=32)
        vf = ctx.date(row_no, "valid_from", get(row, "valid_from"), required=False)
        vt = ctx.date(row_no, "valid_to", get(row, "valid_to"), required=False)
        if level is not BAD and parent is None and level != "province":
            ctx.error(
                row_no, "parent_code", "", _("chỉ đơn vị cấp tỉnh mới được để trống đơn vị cha")
            )
            parent = BAD
        if vf not in (None, BAD) and vt not in (None, BAD) and vt < vf:
            ctx.error(row_no, "valid_to", vt, _("ngày kết thúc trước ngày bắt đầu"))
            vt = BAD
        if code is not BAD and parent is not BAD and parent == code:
            ctx.error(row_no, "parent_code", parent, _("đơn vị không thể là cha của chính nó"))
            parent = BAD
        if code is not BAD and code in self.rows:
            ctx.error(
                row_no,
                "code",
                code,
                _("trùng khóa với dòng %(first)s trong cùng tệp") % {"first": self.rows[code][0]},
            )
            return None
        if BAD in (code, name, level, parent, vf, vt):
            if code is not BAD:
                self.rows[code] = (row_no, None, None, None, None, None)
            return None
        self.rows[code] = (
            row_no,
            name,
            level,
            parent,
            dt.date.fromisoformat(vf) if vf else None,
            dt.date.fromisoformat(vt) if vt else None,
        )
        return (code,)

    def add(self, rows: list[tuple]) -> None:
        pass  # kept in self.rows (a few thousand units at most)

    def merged(self) -> dict[str, tuple[Any, ...]]:
        """code -> (name, level, parent, vf, vt): what is stored with the file laid over it."""
        out = dict(self.stored)
        for code, (_r, name, level, parent, vf, vt) in self.rows.items():
            out[code] = (name, level, parent, vf, vt)
        return out

    def check(self) -> None:
        ctx = self.ctx
        merged = self.merged()
        for _code, (row_no, _n, _l, parent, _f, _t) in self.rows.items():
            if parent and parent not in merged:
                ctx.error(row_no, "parent_code", parent, _("không có đơn vị cha mã này"))
        if ctx.errors:
            return
        self.paths: dict[str, tuple[str, int]] = {}
        for code in merged:
            self._path(code, merged)
        if not ctx.errors and ctx.allowed_units is not None:
            self._check_scope()

    def _check_scope(self) -> None:
        """An actor with a scope (an office) writes only units strictly below its own unit,
        and only where both the stored unit and its new place are inside that scope: it can
        never move, re-level or re-parent its own unit, create a top-level unit, or take over
        another office's unit. A parent outside the scope gets the words of a missing one."""
        ctx = self.ctx
        allowed = ctx.allowed_units or set()
        own_unit = getattr(ctx.actor, "unit", None)
        own = getattr(own_unit, "code", None)
        # the scope's root: the actor's own unit (an office); a scope without one allows none
        root = getattr(own_unit, "path", None) or "\x00"
        for code, (row_no, _name, level, parent, _vf, _vt) in self.rows.items():
            stored = self.stored.get(code)
            if stored is not None and code not in allowed:
                ctx.error(row_no, "code", code, _("bạn không được tạo hay sửa đơn vị mã này"))
            elif code == own:
                if stored is not None and (stored[1], stored[2]) != (level, parent):
                    ctx.error(
                        row_no,
                        "parent_code" if stored[2] != parent else "level",
                        parent if stored[2] != parent else level,
                        _("không được đổi cấp hay đơn vị cha của đơn vị mình phụ trách"),
                    )
            elif level in {"province", "office"}:
                ctx.error(
                    row_no, "level", level, _("bạn chỉ được tạo hay sửa đơn vị cấp xã, huyện")
                )
            elif parent is None:
                ctx.error(row_no, "parent_code", "", _("thiếu giá trị bắt buộc"))
            elif not self.paths[code][0].startswith(root) or self.paths[code][0] == root:
                ctx.error(row_no, "parent_code", parent, _("không có đơn vị cha mã này"))

    def _path(self, code: str, merged: dict[str, tuple[Any, ...]]) -> tuple[str, int] | None:
        chain: list[str] = []
        cur: str | None = code
        while cur is not None and cur not in self.paths:
            if cur in chain:
                row = self.rows.get(code, (0,))[0]
                self.ctx.error(row, "parent_code", merged[code][2], _("vòng lặp trong cây đơn vị"))
                for c in chain:
                    self.paths[c] = (f"{c}/", 0)
                return None
            chain.append(cur)
            cur = merged[cur][2]
        base, depth = ("", -1) if cur is None else self.paths[cur]
        for c in reversed(chain):
            base, depth = f"{base}{c}/", depth + 1
            self.paths[c] = (base, depth)
        return self.paths[code]

    def count(self) -> MergeCounts:
        plan = MergeCounts()
        for code, (_r, *values) in self.rows.items():
            old = self.stored.get(code)
            if old is None:
                plan.created += 1
            elif tuple(old) != tuple(values):
                plan.updated += 1
                if old[2] != values[2]:
                    plan.touched_units.add(code)  # moved: the tree above it changes
            else:
                plan.unchanged += 1
        return plan

    def write(self, *, batch_id: int) -> None:
        objs = []
        for code, (_r, name, level, parent, vf, vt) in self.rows.items():
            if self.stored.get(code) == (name, level, parent, vf, vt):
                continue
            path, depth = self.paths[code]
            objs.append(
                Unit(
                    code=code,
                    name=name,
                    level=level,
                    parent_id=parent,
                    valid_from=vf,
                    valid_to=vt,
                    path=path,
                    depth=depth,
                )
            )
        objs.sort(key=lambda u: u.depth)
        if self.ctx.undo is not None and objs:
            stg = Staging(
                "stg_units_undo",
                [
                    ("code", "text"),
                    ("name", "text"),
                    ("level", "text"),
                    ("parent_id", "text"),
                    ("valid_from", "date"),
                    ("valid_to", "date"),
                ],
            )
            stg.create()
            stg.insert(
                [
                    (i, u.code, u.name, u.level, u.parent_id, u.valid_from, u.valid_to)
                    for i, u in enumerate(objs)
                ]
            )
            self.ctx.undo.save(
                t=MergeTarget(
                    Unit,
                    key=["code"],
                    values=["name", "level", "parent", "valid_from", "valid_to"],
                ),
                stg=stg.name,
            )
            stg.drop()
        Unit.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent", "valid_from", "valid_to", "path", "depth"],
        )
        unit_paths_rebuild(actor=self.ctx.actor)


class YearUnitImporter(StagedImporter):
    """A staged importer of rows keyed by (year, unit_code, ...)."""

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.get = self.getter()

    def year_unit(self, row_no: int, row: list[str]) -> tuple[Any, Any]:
        """The row's year and unit: a unit code is read by 31 December of the year (SPEC 9)."""
        year = self.ctx.year(row_no, "year", self.get(row, "year"))
        day = None if year is BAD else f"{int(year):04d}-12-31"
        unit = self.units.check(row_no, "unit_code", self.get(row, "unit_code"), day)
        return year, unit


class PopulationImporter(YearUnitImporter):
    kind = "population"
    required = ("year", "unit_code", "population")
    optional = ("group",)
    staging_columns: ClassVar = [
        ("year", "int"),
        ("unit_id", "text"),
        ("group", "text"),
        ("population", "int"),
    ]
    key_label = "year, unit_code, group"

    def table(self) -> MergeTarget:
        return MergeTarget(Population, key=["year", "unit", "group"], values=["population"])

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        year, unit = self.year_unit(row_no, row)
        pop = ctx.integer(row_no, "population", get(row, "population"))
        group = ctx.code(row_no, "group", get(row, "group"), GROUP_CODES, required=False)
        if BAD in (year, unit, pop, group):
            return None
        return (row_no, year, unit, group or "", pop)


def _share_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if (translation.get_language() or "vi").startswith("en") else text.replace(".", ",")


_SHARE = re.compile(r"^(0|1)([.,]\d{1,6})?$")


class SuccessorsImporter(Importer):
    """``legacy_code, successor_code, share`` (SPEC section 9): the communes of today a former
    commune was divided between, with the share of its figures each takes. The file gives a
    former commune's successors in full (shares adding up to 1); its successors not in the
    file get share 0. Former communes not in the file keep theirs."""

    kind = "successors"
    required = ("legacy_code", "successor_code", "share")

    def setup(self) -> None:
        self.units: dict[str, tuple[str, Any]] = {
            code: (level, valid_to)
            for code, level, valid_to in Unit.objects.values_list("code", "level", "valid_to")
        }
        self.stored: dict[tuple[str, str], Decimal] = {
            (a, b): share
            for a, b, share in Successor.objects.values_list("legacy_id", "successor_id", "share")
        }
        # (legacy key, successor code) -> (row_no, share)
        self.rows: dict[tuple[str, str], tuple[int, Decimal]] = {}
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        if ctx.allowed_units is not None:
            ctx.error(
                row_no,
                "legacy_code",
                get(row, "legacy_code"),
                _("bạn không được sửa đơn vị kế thừa"),
            )
            return None
        legacy = ctx.text(
            row_no, "legacy_code", get(row, "legacy_code"), required=True, max_length=32
        )
        succ = ctx.text(
            row_no, "successor_code", get(row, "successor_code"), required=True, max_length=32
        )
        raw = get(row, "share")
        share: Any = ctx.text(row_no, "share", raw, required=True, max_length=20)
        if legacy not in (None, BAD):
            key = legacy_key(legacy)
            if self.units.get(key, ("",))[0] != Unit.Level.COMMUNE:
                ctx.error(
                    row_no,
                    "legacy_code",
                    legacy,
                    _(
                        "không có xã cũ (còn hiệu lực đến 30/06/2025) mã này; hãy nạp ansinh units official --legacy"
                    ),
                )
                legacy = BAD
            else:
                legacy = key
        if succ not in (None, BAD):
            level, valid_to = self.units.get(succ, ("", None))
            if is_legacy_key(succ) or level != Unit.Level.COMMUNE or valid_to is not None:
                ctx.error(row_no, "successor_code", succ, _("không có xã hiện nay mã này"))
                succ = BAD
        if share not in (None, BAD):
            if not _SHARE.match(share) or Decimal(share.replace(",", ".")) > 1:
                ctx.error(
                    row_no,
                    "share",
                    raw,
                    _("tỉ lệ phải là số thập phân từ 0 đến 1, tối đa 6 chữ số thập phân (vd 0,25)"),
                )
                share = BAD
            else:
                share = Decimal(share.replace(",", "."))
        if BAD in (legacy, succ, share):
            return None
        if (legacy, succ) in self.rows:
            ctx.error(
                row_no,
                "successor_code",
                succ,
                _("trùng khóa với dòng %(first)s trong cùng tệp")
                % {"first": self.rows[(legacy, succ)][0]},
            )
            return None
        self.rows[(legacy, succ)] = (row_no, share)
        return (legacy, succ)

    def add(self, rows: list[tuple]) -> None:
        pass  # kept in self.rows (a few hundred former communes at most)

    def check(self) -> None:
        sums: dict[str, Decimal] = {}
        first: dict[str, int] = {}
        for (legacy, _succ), (row_no, share) in self.rows.items():
            sums[legacy] = sums.get(legacy, Decimal(0)) + share
            first[legacy] = min(first.get(legacy, row_no), row_no)
        for legacy, total in sums.items():
            if total != 1:
                self.ctx.error(
                    first[legacy],
                    "share",
                    str(total.normalize()),
                    _("tỉ lệ của xã cũ %(code)s cộng lại bằng %(sum)s, phải bằng 1")
                    % {"code": official_code(legacy), "sum": _share_text(total)},
                )

    def _target(self) -> dict[tuple[str, str], Decimal]:
        """(legacy, successor) -> share after the import, for the former communes in the file."""
        legacies = {legacy for legacy, _s in self.rows}
        out = {k: Decimal(0) for k in self.stored if k[0] in legacies}
        out.update({k: share for k, (_r, share) in self.rows.items()})
        return out

    def count(self) -> MergeCounts:
        plan = MergeCounts()
        for key, (_r, share) in self.rows.items():
            old = self.stored.get(key)
            if old is None:
                plan.created += 1
            elif old != share:
                plan.updated += 1
            else:
                plan.unchanged += 1
        return plan

    def write(self, *, batch_id: int) -> None:
        changed = [
            Successor(legacy_id=a, successor_id=b, share=share)
            for (a, b), share in self._target().items()
            if self.stored.get((a, b)) != share
        ]
        Successor.objects.bulk_create(
            changed,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["legacy", "successor"],
            update_fields=["share"],
        )
