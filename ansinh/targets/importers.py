"""Importer of yearly targets (SPEC section 2): key (year, unit, indicator)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.utils.translation import gettext as _

from ansinh.core.codes import INDICATORS
from ansinh.core.importer.merge import MergeTarget
from ansinh.core.importer.rows import BAD, parse_percent
from ansinh.geography.importers import YearUnitImporter
from ansinh.targets.models import Target


class TargetsImporter(YearUnitImporter):
    kind = "targets"
    required = ("year", "unit_code", "indicator", "target")
    staging_columns: ClassVar = [
        ("year", "int"),
        ("unit_id", "text"),
        ("indicator", "text"),
        ("target", "num"),
    ]
    key_label = "year, unit_code, indicator"

    def table(self) -> MergeTarget:
        return MergeTarget(Target, key=["year", "unit", "indicator"], values=["target"])

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        year, unit = self.year_unit(row_no, row)
        indicator = ctx.code(row_no, "indicator", get(row, "indicator"), INDICATORS)
        raw = get(row, "target")
        target: Decimal | None = None
        if not raw:
            ctx.error(row_no, "target", raw, _("thiếu giá trị bắt buộc"))
        elif indicator is BAD:
            pass  # the indicator decides how the target reads
        elif indicator == "hi_coverage":
            # a percentage: 95.5 or 95,5
            pct = parse_percent(raw)
            if pct is None:
                ctx.error(
                    row_no, "target", raw, _("tỷ lệ phần trăm không hợp lệ (viết 95,5 hoặc 95.5)")
                )
            else:
                target = Decimal(pct)
                if target > 100:
                    ctx.error(row_no, "target", raw, _("tỷ lệ phần trăm phải từ 0 đến 100"))
                    target = None
                elif target != target.quantize(Decimal("0.01")):
                    ctx.error(row_no, "target", raw, _("tối đa 2 chữ số thập phân"))
                    target = None
        else:
            # a number of participants: a whole number (3.000 or 3000)
            n = ctx.integer(row_no, "target", raw)
            if n is not BAD:
                if n >= 10**12:
                    ctx.error(row_no, "target", raw, _("số quá lớn"))
                else:
                    target = Decimal(n)
        if target is None or BAD in (year, unit, indicator):
            return None
        return (row_no, year, unit, indicator, target.quantize(Decimal("0.01")))
