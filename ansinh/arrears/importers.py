"""Importers of employers and their monthly contributions (SPEC section 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from ansinh.arrears.models import Contribution, Employer
from ansinh.core.importer.merge import MergeTarget
from ansinh.core.importer.protocol import StagedImporter
from ansinh.core.importer.rows import BAD
from ansinh.geography.importers import UnitLookup
from ansinh.registry.importers import EMAIL_RE


def _no_employer() -> str:
    return _("không có đơn vị sử dụng lao động mã này")


class EmployersImporter(StagedImporter):
    kind = "employers"
    required = ("code", "name", "unit_code")
    optional = ("tax_code", "sector", "employees", "email", "phone")
    staging_columns: ClassVar = [
        ("code", "text"),
        ("name", "text"),
        ("unit_id", "text"),
        ("tax_code", "text"),
        ("sector", "text"),
        ("employees", "int"),
        ("email", "text"),
        ("phone", "text"),
    ]
    key_label = "code"
    owner_field = "unit"

    def table(self) -> MergeTarget:
        return MergeTarget(
            Employer,
            key=["code"],
            values=["name", "unit", "tax_code", "sector", "employees"],
            keep=["email", "phone"],
            extras={"batch_id": "batch"},
        )

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        code = ctx.ident(row_no, "code", get(row, "code"), required=True, max_length=64)
        name = ctx.text(row_no, "name", get(row, "name"), required=True, max_length=300)
        unit = self.units.check(row_no, "unit_code", get(row, "unit_code"))
        tax = ctx.ident(row_no, "tax_code", get(row, "tax_code"), max_length=32)
        sector = ctx.text(row_no, "sector", get(row, "sector"), max_length=100)
        employees = ctx.integer(row_no, "employees", get(row, "employees"), required=False)
        email = ctx.text(row_no, "email", get(row, "email"), max_length=254)
        if email and email is not BAD and EMAIL_RE.fullmatch(email) is None:
            ctx.error(row_no, "email", email, _("không phải địa chỉ e-mail"))
            email = BAD
        phone = ctx.text(row_no, "phone", get(row, "phone"), max_length=32)
        if BAD in (code, name, unit, tax, sector, employees, email, phone):
            return None
        return (
            row_no,
            code,
            name,
            unit,
            tax or "",
            sector or "",
            employees,
            email or None,
            phone or None,
        )


class ContributionsImporter(StagedImporter):
    kind = "contributions"
    required = ("employer_code", "period", "amount_due")
    optional = ("amount_paid", "paid_on")
    staging_columns: ClassVar = [
        ("employer_id", "text"),
        ("period", "date"),
        ("amount_due", "int"),
        ("amount_paid", "int"),
        ("paid_on", "date"),
    ]
    key_label = "employer_code, period"

    def table(self) -> MergeTarget:
        return MergeTarget(
            Contribution,
            key=["employer", "period"],
            values=["amount_due", "amount_paid", "paid_on"],
            extras={"batch_id": "batch"},
        )

    def setup(self) -> None:
        super().setup()
        self.employers: dict[str, str] = dict(Employer.objects.values_list("code", "unit_id"))
        self.periods: dict[str, str] = {}
        self.get = self.getter()

    def _period(self, row_no: int, value: str) -> Any:
        if value in self.periods:
            return self.periods[value]
        if not value:
            self.ctx.error(row_no, "period", value, _("thiếu giá trị bắt buộc"))
            return BAD
        ok = len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit()
        if ok:
            try:
                first = dt.date(int(value[:4]), int(value[5:]), 1).isoformat()
            except ValueError:
                ok = False
        if not ok:
            self.ctx.error(row_no, "period", value, _("kỳ không hợp lệ (định dạng YYYY-MM)"))
            return BAD
        self.periods[value] = first
        return first

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        code = get(row, "employer_code")
        employer: Any = code
        if not code:
            ctx.error(row_no, "employer_code", code, _("thiếu giá trị bắt buộc"))
            employer = BAD
        elif code not in self.employers:
            ctx.error(row_no, "employer_code", code, _no_employer())
            employer = BAD
        elif not ctx.in_scope(
            row_no, "employer_code", code, self.employers[code], missing=_no_employer()
        ):
            employer = BAD
        period = self._period(row_no, get(row, "period"))
        due = ctx.integer(row_no, "amount_due", get(row, "amount_due"))
        paid = ctx.integer(row_no, "amount_paid", get(row, "amount_paid"), required=False)
        paid_on = ctx.date(row_no, "paid_on", get(row, "paid_on"), required=False)
        if paid not in (None, BAD) and paid > 0 and paid_on is None:
            ctx.error(row_no, "paid_on", "", _("số tiền đã đóng lớn hơn 0 thì phải có ngày đóng"))
            paid_on = BAD
        if BAD in (employer, period, due, paid, paid_on):
            return None
        return (row_no, employer, period, due, paid or 0, paid_on)
