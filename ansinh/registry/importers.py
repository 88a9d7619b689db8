"""Importers of participations (people and their spells) and of aggregate counts.

Participations are the big file (≈ 5 million rows for a province): ``clean`` is a tight loop
of set look-ups with the slow, message-writing checks only on the failing path; clean rows are
staged (COPY / executemany), duplicates and changes are found in SQL, and people and spells are
upserted set-based.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _

from ansinh.core.codes import GROUP_CODES, SCHEME_CODES
from ansinh.core.importing import (
    BAD,
    Plan,
    StagedImporter,
    Table,
    execute,
    merge_plan,
    merge_write,
    qn,
    vendor,
)
from ansinh.geography.importers import UnitLookup
from ansinh.registry.models import Count, Person, Spell

_SCHEMES = frozenset(SCHEME_CODES)
_GROUPS = frozenset(GROUP_CODES)

_PART_COLUMNS = (
    "person_id",
    "unit_code",
    "scheme",
    "group",
    "start_date",
    "end_date",
    "household_id",
    "employer_code",
    "birth_date",
    "sex",
    "full_name",
    "phone",
)
_LIMITS = {
    "person_id": 64,
    "household_id": 64,
    "employer_code": 64,
    "sex": 8,
    "full_name": 200,
    "phone": 32,
}


class ParticipationsImporter(StagedImporter):
    kind = "participations"
    required = ("person_id", "unit_code", "scheme", "group", "start_date")
    optional = (
        "end_date",
        "household_id",
        "employer_code",
        "birth_date",
        "sex",
        "full_name",
        "phone",
    )
    staging_columns: ClassVar = [
        ("person_id", "text"),
        ("unit_id", "text"),
        ("scheme", "text"),
        ("group", "text"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("employer_code", "text"),
        ("household_id", "text"),
        ("birth_date", "date"),
        ("sex", "text"),
        ("full_name", "text"),
        ("phone", "text"),
    ]
    unit_col = "unit_id"
    since_col = "start_date"
    key_label = "person_id, scheme, start_date, unit_code"

    def table(self) -> Table:
        return Table(
            Spell,
            key=["person", "scheme", "start_date", "unit"],
            values=["group", "end_date", "employer_code"],
            extras={"batch_id": "batch", "row_no": "row_no"},
        )

    def person_table(self) -> Table:
        return Table(
            Person,
            key=["person_id"],
            values=[],
            keep=["full_name", "birth_date", "sex", "phone", "household_id"],
        )

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.unit_ok = (
            frozenset(self.units.paths)
            if self.ctx.allowed_units is None
            else frozenset(self.units.paths).intersection(self.ctx.allowed_units)
        )
        cols = self.ctx.columns
        self.ix = [cols.get(n) for n in _PART_COLUMNS]
        self.dates: set[str] = set()

    def _date(self, row_no: int, column: str, value: str, required: bool) -> Any:
        if value in self.dates:
            return value
        if not value and not required:
            return None
        v = self.ctx.date(row_no, column, value, required=required)
        if v is not BAD and v is not None:
            self.dates.add(v)
        return v

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        n = len(row)
        pid, unit, scheme, group, start, end, hh, emp, birth, sex, name, phone = (
            (row[i] if i is not None and i < n else "") for i in self.ix
        )
        dates = self.dates
        if (
            pid
            and len(pid) <= 64
            and unit in self.unit_ok
            and scheme in _SCHEMES
            and group in _GROUPS
            and start in dates
            and (not end or (end in dates and end >= start))
            and (not birth or birth in dates)
            and len(hh) <= 64
            and len(emp) <= 64
            and len(sex) <= 8
            and len(name) <= 200
            and len(phone) <= 32
        ):
            return (
                row_no,
                pid,
                unit,
                scheme,
                group,
                start,
                end or None,
                emp,
                hh or None,
                birth or None,
                sex or None,
                name or None,
                phone or None,
            )
        return self._slow(
            row_no, pid, unit, scheme, group, start, end, hh, emp, birth, sex, name, phone
        )

    def _slow(
        self,
        row_no: int,
        pid: str,
        unit: str,
        scheme: str,
        group: str,
        start: str,
        end: str,
        hh: str,
        emp: str,
        birth: str,
        sex: str,
        name: str,
        phone: str,
    ) -> tuple | None:
        """The same checks again, this time writing the errors (and caching good dates)."""
        ctx = self.ctx
        bad = False
        if ctx.text(row_no, "person_id", pid, required=True, max_length=64) is BAD:
            bad = True
        if self.units.check(row_no, "unit_code", unit) is BAD:
            bad = True
        if ctx.code(row_no, "scheme", scheme, SCHEME_CODES) is BAD:
            bad = True
        if ctx.code(row_no, "group", group, GROUP_CODES) is BAD:
            bad = True
        s = self._date(row_no, "start_date", start, True)
        e = self._date(row_no, "end_date", end, False)
        b = self._date(row_no, "birth_date", birth, False)
        if BAD in (s, e, b):
            bad = True
        elif e is not None and e < s:
            ctx.error(row_no, "end_date", end, _("ngày kết thúc trước ngày bắt đầu"))
            bad = True
        for column, value in (
            ("household_id", hh),
            ("employer_code", emp),
            ("sex", sex),
            ("full_name", name),
            ("phone", phone),
        ):
            if ctx.text(row_no, column, value, max_length=_LIMITS[column]) is BAD:
                bad = True
        if bad:
            return None
        return (
            row_no,
            pid,
            unit,
            scheme,
            group,
            start,
            end or None,
            emp,
            hh or None,
            birth or None,
            sex or None,
            name or None,
            phone or None,
        )

    def _people(self) -> None:
        """Stage one row per person (blank = absent: the values of the file, else stored)."""
        stg = qn(self.stg_name)
        suffix = " ON COMMIT DROP" if vendor() == "postgresql" else ""
        execute(f"DROP TABLE IF EXISTS {qn('stg_person')}")
        execute(
            f"CREATE TEMP TABLE {qn('stg_person')}{suffix} AS SELECT person_id, "
            "MAX(full_name) AS full_name, MAX(birth_date) AS birth_date, MAX(sex) AS sex, "
            "MAX(phone) AS phone, MAX(household_id) AS household_id "
            f"FROM {stg} GROUP BY person_id"
        )
        pt = self.person_table()
        execute(f"DROP TABLE IF EXISTS {qn('chg_person')}")
        execute(
            f"CREATE TEMP TABLE {qn('chg_person')}{suffix} AS SELECT s.person_id "
            f"FROM {qn('stg_person')} s JOIN {qn(pt.table)} t ON t.person_id = s.person_id "
            f"WHERE {pt.diff_sql('s', 't')}"
        )
        if vendor() == "postgresql":
            execute(f"ANALYZE {qn('stg_person')}")
            execute(f"ANALYZE {qn('chg_person')}")
        self._people_done = True

    def plan(self) -> Plan:
        self._people()
        return merge_plan(
            self.stg_name,
            self.table(),
            unit_col="unit_id",
            since_col="start_date",
            extra_updated="EXISTS (SELECT 1 FROM chg_person c WHERE c.person_id = s.person_id)",
        )

    def write(self, *, batch_id: int) -> None:
        merge_write("stg_person", self.person_table(), batch_id=None)
        merge_write(self.stg_name, self.table(), batch_id=batch_id)

    def teardown(self) -> None:
        super().teardown()
        execute(f"DROP TABLE IF EXISTS {qn('stg_person')}")
        execute(f"DROP TABLE IF EXISTS {qn('chg_person')}")


class CountsImporter(StagedImporter):
    kind = "counts"
    required = ("as_of", "unit_code", "scheme", "participants")
    optional = ("group",)
    staging_columns: ClassVar = [
        ("as_of", "date"),
        ("unit_id", "text"),
        ("scheme", "text"),
        ("group", "text"),
        ("participants", "int"),
    ]
    unit_col = "unit_id"
    since_col = "as_of"
    key_label = "as_of, unit_code, scheme, group"

    def table(self) -> Table:
        return Table(
            Count,
            key=["as_of", "unit", "scheme", "group"],
            values=["participants"],
            extras={"batch_id": "batch"},
        )

    def setup(self) -> None:
        super().setup()
        self.units = UnitLookup(self.ctx)
        self.get = self.getter()

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        ctx, get = self.ctx, self.get
        as_of = ctx.date(row_no, "as_of", get(row, "as_of"))
        unit = self.units.check(row_no, "unit_code", get(row, "unit_code"))
        scheme = ctx.code(row_no, "scheme", get(row, "scheme"), SCHEME_CODES)
        group = ctx.code(row_no, "group", get(row, "group"), GROUP_CODES, required=False)
        n = ctx.integer(row_no, "participants", get(row, "participants"))
        if BAD in (as_of, unit, scheme, group, n):
            return None
        return (row_no, as_of, unit, scheme, group or "", n)


IMPORTERS: dict[str, type[StagedImporter]] = {
    "participations": ParticipationsImporter,
    "counts": CountsImporter,
}
