"""Importer of yearly targets (SPEC section 2): key (year, unit, indicator)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import ClassVar

from django.utils.translation import gettext as _

from ansinh.core.codes import INDICATORS
from ansinh.core.importing import BAD, StagedImporter, Table
from ansinh.geography.importers import UnitLookup
from ansinh.targets.models import Target


class TargetsImporter(StagedImporter):
    kind = "targets"
    required = ("year", "unit_code", "indicator", "target")
    staging_columns: ClassVar = [
        ("year", "int"),
        ("unit_id", "text"),
        ("indicator", "text"),
        ("target", "num"),
    ]
    key_label = "year, unit_code, indicator"

    def table(self) -> Table:
        return Table(Target, key=["year", "unit", "indicator"], values=["target"])

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        year = ctx.year(row_no, "year", get(row, "year"))
        # a unit code is read by 31 December of the year (SPEC section 9)
        day = None if year is BAD else f"{int(year):04d}-12-31"
        unit = self.units.check(row_no, "unit_code", get(row, "unit_code"), day)
        indicator = ctx.code(row_no, "indicator", get(row, "indicator"), INDICATORS)
        raw = get(row, "target")
        target: Decimal | None = None
        if not raw:
            ctx.error(row_no, "target", raw, _("thiếu giá trị bắt buộc"))
        else:
            try:
                target = Decimal(raw)
                if not target.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                ctx.error(row_no, "target", raw, _("phải là số"))
                target = None
        if target is not None:
            if target < 0:
                ctx.error(row_no, "target", raw, _("không được âm"))
                target = None
            elif indicator == "hi_coverage":
                if target > 100:
                    ctx.error(row_no, "target", raw, _("tỷ lệ phần trăm phải từ 0 đến 100"))
                    target = None
                elif target != target.quantize(Decimal("0.01")):
                    ctx.error(row_no, "target", raw, _("tối đa 2 chữ số thập phân"))
                    target = None
            elif indicator is not BAD and target != target.to_integral_value():
                ctx.error(row_no, "target", raw, _("chỉ tiêu số người phải là số nguyên"))
                target = None
            elif target >= Decimal("1e12"):
                ctx.error(row_no, "target", raw, _("số quá lớn"))
                target = None
        if target is None or BAD in (year, unit, indicator):
            return None
        return (row_no, year, unit, indicator, target.quantize(Decimal("0.01")))


IMPORTERS: dict[str, type[StagedImporter]] = {"targets": TargetsImporter}
