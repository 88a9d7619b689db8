"""Importers of participations (people and their spells) and of aggregate counts.

Participations are the big file (≈ 5 million rows for a province): ``clean`` is a tight loop
of set look-ups with the slow, message-writing checks only on the failing path; clean rows are
staged (COPY / executemany), duplicates and changes are found in SQL, and people and spells are
upserted set-based.
"""

from __future__ import annotations

import operator
import pathlib
import re
from collections.abc import Callable
from typing import Any, ClassVar

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.core import bulk
from ansinh.core.codes import GROUP_CODES, SCHEME_CODES
from ansinh.core.importer.db import execute, qn, sql, vendor
from ansinh.core.importer.merge import (
    MergeCounts,
    MergeTarget,
    as_date,
    merge_write,
)
from ansinh.core.importer.protocol import StagedImporter
from ansinh.core.importer.rows import BAD, BAD_IDENT, parse_date
from ansinh.core.importer.staging import KeyTracker, Staging
from ansinh.core.sql import temp_as
from ansinh.geography.importers import UnitLookup
from ansinh.registry import fastcopy
from ansinh.registry.columns import PART_COLUMNS, PART_OPTIONAL, PART_REQUIRED
from ansinh.registry.models import Count, Person, Spell

_SCHEMES = frozenset(SCHEME_CODES)
_BAD_IDENT = BAD_IDENT.search

# the optional ``consent`` column (to be messaged): English or Vietnamese, any case
CONSENT_VALUES = {
    "yes": "yes",
    "y": "yes",
    "có": "yes",
    "co": "yes",
    "1": "yes",
    "x": "yes",
    "đồng ý": "yes",
    "no": "no",
    "n": "no",
    "không": "no",
    "khong": "no",
    "0": "no",
    "không đồng ý": "no",
}


EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


def consent_value(ctx: Any, row_no: int, raw: str) -> Any:
    """ "yes", "no", "" (blank) or BAD (with the row's error) from a ``consent`` cell."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    value = CONSENT_VALUES.get(raw.lower())
    if value is None:
        ctx.error(row_no, "consent", raw, _("phải là có/không (yes/no)"))
        return BAD
    return value


_GROUPS = frozenset(GROUP_CODES)

_LIMITS = {
    "person_id": 64,
    "household_id": 64,
    "employer_code": 64,
    "sex": 8,
    "full_name": 200,
    "phone": 32,
    "address": 300,
    "village": 100,
    "email": 254,
}


class _Dates(dict[str, str]):
    """A date as written -> its ISO text, each distinct value parsed once on first sight;
    ``d[value]`` is None (nothing kept) for a blank or invalid one, which ``clean`` then
    hands to the message-writing checks (issue 22: before, the first row of every distinct
    date — ~30,000 of a province's file — went through them)."""

    def __missing__(self, value: str) -> str | None:
        iso = parse_date(value) if value else None
        if iso is not None:
            self[value] = iso
        return iso


class SpellKeys(KeyTracker):
    """Hashes a spell's (person, scheme, start_date) only. Rows sharing it are either one
    key twice (refused) or a tie between units (kept: ``ties`` holds their row numbers)."""

    def __init__(self, stg: Staging) -> None:
        super().__init__(stg, ["person_id", "scheme", "start_date"])
        self.ties: set[int] = set()

    def duplicates(self, limit: int = 100_000) -> list[tuple[int, int, tuple]]:
        found = self.candidate_rows([*self.key_cols, "unit_id"])
        groups: dict[tuple, list[tuple[int, str]]] = {}
        for row_no, pid, scheme, start, unit in found:
            groups.setdefault((pid, scheme, str(start)), []).append((int(row_no), unit))
        out: list[tuple[int, int, tuple]] = []
        for (pid, scheme, start), members in groups.items():
            if len(members) < 2:
                continue  # a hash collision
            first: dict[str, int] = {}
            for row_no, unit in members:
                if unit in first:
                    out.append((row_no, first[unit], (pid, scheme, start, unit)))
                else:
                    first[unit] = row_no
            if len(first) > 1:
                self.ties.update(r for r, _u in members)
        out.sort()
        return out[:limit]


class ParticipationsImporter(StagedImporter):
    kind = "participations"
    refreshes_snapshot = True
    required = PART_REQUIRED
    optional = PART_OPTIONAL
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
        ("address", "text"),
        ("village", "text"),
        ("consent", "text"),
        ("email", "text"),
    ]
    unit_col = "unit_id"
    since_col = "start_date"
    key_label = "person_id, scheme, start_date, unit_code"

    def table(self) -> MergeTarget:
        return MergeTarget(
            Spell,
            key=["person", "scheme", "start_date", "unit"],
            values=["group", "end_date", "employer_code"],
            extras={"batch_id": "batch", "row_no": "row_no"},
        )

    def person_table(self) -> MergeTarget:
        return MergeTarget(
            Person,
            key=["person_id"],
            values=[],
            keep=[
                "full_name",
                "birth_date",
                "sex",
                "phone",
                "household_id",
                "address",
                "village",
                "consent",
                "email",
            ],
        )

    def setup(self) -> None:
        super().setup()
        self.changed_made = False
        self.spell_keys = SpellKeys(self.staging)
        self.keys = self.spell_keys
        self.units = UnitLookup(self.ctx)
        self.today = timezone.localdate().isoformat()
        self.unit_ok = (
            frozenset(self.units.paths)
            if self.ctx.allowed_units is None
            else frozenset(self.units.paths).intersection(self.ctx.allowed_units)
        )
        cols = self.ctx.columns
        self.ix = [cols.get(n) for n in PART_COLUMNS]
        # a row holding every column the file names: one C-level pick (a column the file
        # lacks reads the '' appended at the row's end)
        self.width = max(i for i in self.ix if i is not None) + 1
        self.pick = operator.itemgetter(*(-1 if i is None else i for i in self.ix))
        # a date as written -> its ISO text (ISO or DD/MM/YYYY), for the values seen valid
        self.dates = _Dates()

    def _date(self, row_no: int, column: str, value: str, required: bool) -> Any:
        if value in self.dates:
            return self.dates[value]
        if not value and not required:
            return None
        v = self.ctx.date(row_no, column, value, required=required)
        if v is not BAD and v is not None:
            self.dates[value] = v
        return v

    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        n = len(row)
        if n >= self.width:
            row.append("")
            (pid, unit, scheme, group, start, end, hh, emp, birth, sex, name, phone, *more) = (
                self.pick(row)
            )
        else:
            (pid, unit, scheme, group, start, end, hh, emp, birth, sex, name, phone, *more) = (
                (row[i] if i is not None and i < n else "") for i in self.ix
            )
        address, village, consent_raw, email = more
        consent = CONSENT_VALUES.get(consent_raw.strip().lower()) if consent_raw else ""
        dates = self.dates
        s = dates[start]
        e = dates[end] if end else None
        b = dates[birth] if birth else None
        if (
            pid
            and not self.units.former  # codes read by the spell's date: the checks below
            and len(pid) <= 64
            and pid.isprintable()
            and "/" not in pid
            and "\\" not in pid
            and unit in self.unit_ok
            and scheme in _SCHEMES
            and group in _GROUPS
            and s is not None
            and (not end or (e is not None and e >= s))
            and (not birth or b is not None)
            and not (hh and _BAD_IDENT(hh))
            and not (emp and _BAD_IDENT(emp))
            and len(hh) <= 64
            and len(emp) <= 64
            and len(sex) <= 8
            and len(name) <= 200
            and len(phone) <= 32
            and len(address) <= 300
            and len(village) <= 100
            and len(email) <= 254
            and (not email or EMAIL_RE.fullmatch(email) is not None)
            and consent is not None
        ):
            return (
                row_no,
                pid,
                unit,
                scheme,
                group,
                s,
                e,
                emp,
                hh or None,
                b,
                sex or None,
                name or None,
                phone or None,
                address or None,
                village or None,
                consent or None,
                email or None,
            )
        return self._slow(
            row_no,
            pid,
            unit,
            scheme,
            group,
            start,
            end,
            hh,
            emp,
            birth,
            sex,
            name,
            phone,
            (address, village, consent_raw, email),
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
        more: tuple[str, str, str, str] = ("", "", "", ""),
    ) -> tuple | None:
        """The same checks again, this time writing the errors (and caching good dates)."""
        address, village, consent_raw, email = more
        ctx = self.ctx
        bad = False
        if ctx.ident(row_no, "person_id", pid, required=True, max_length=64) is BAD:
            bad = True
        scheme = ctx.code(row_no, "scheme", scheme, SCHEME_CODES)
        group = ctx.code(row_no, "group", group, GROUP_CODES)
        if BAD in (scheme, group):
            bad = True
        s = self._date(row_no, "start_date", start, True)
        e = self._date(row_no, "end_date", end, False)
        b = self._date(row_no, "birth_date", birth, False)
        # a unit code is read by the spell's last covered day: its end, or the day of the
        # import when it is open (SPEC section 9)
        day = self.today if e is None else (None if e is BAD else e)
        unit = self.units.check(row_no, "unit_code", unit, day)
        if unit is BAD:
            bad = True
        if BAD in (s, e, b):
            bad = True
        elif e is not None and e < s:
            ctx.error(row_no, "end_date", end, _("ngày kết thúc trước ngày bắt đầu"))
            bad = True
        for column, value in (("household_id", hh), ("employer_code", emp)):
            if ctx.ident(row_no, column, value, max_length=_LIMITS[column]) is BAD:
                bad = True
        for column, value in (
            ("sex", sex),
            ("full_name", name),
            ("phone", phone),
            ("address", address),
            ("village", village),
        ):
            if ctx.text(row_no, column, value, max_length=_LIMITS[column]) is BAD:
                bad = True
        consent = consent_value(ctx, row_no, consent_raw)
        if consent is BAD:
            bad = True
        if ctx.text(row_no, "email", email, max_length=254) is BAD:
            bad = True
        elif email and EMAIL_RE.fullmatch(email) is None:
            ctx.error(row_no, "email", email, _("không phải địa chỉ e-mail"))
            bad = True
        if bad:
            return None
        return (
            row_no,
            pid,
            unit,
            scheme,
            group,
            s,
            e,
            emp,
            hh or None,
            b,
            sex or None,
            name or None,
            phone or None,
            address or None,
            village or None,
            consent or None,
            email or None,
        )

    def stage_file(
        self,
        *,
        path: pathlib.Path,
        header: list[str],
        progress: Callable[[int, int], None] | None,
        total: int,
    ) -> int | None:
        """PostgreSQL: a plain CSV file is parsed and checked by the server (fastcopy).
        Not once the former units are loaded: a code is then read by the spell's date."""
        if self.units.former:
            return None

        rows = fastcopy.copy_participations(
            stg=self.stg_name,
            unit_ok=self.unit_ok,
            path=path,
            header=header,
            progress=progress,
            total=total,
        )
        if rows is not None:
            self.spell_keys.ties.update(fastcopy.tie_rows(self.stg_name))
        return rows

    def _people(self) -> None:
        """Stage one row per person (blank = absent: the values of the file, else stored)."""
        stg = qn(self.stg_name)
        # analysed below, once the foreign identities are blanked
        temp_as(
            "stg_person",
            "SELECT person_id, "
            "MAX(full_name) AS full_name, MAX(birth_date) AS birth_date, MAX(sex) AS sex, "
            "MAX(phone) AS phone, MAX(household_id) AS household_id, "
            "MAX(address) AS address, MAX(village) AS village, MAX(consent) AS consent, "
            "MAX(email) AS email "
            f"FROM {stg} GROUP BY person_id",
            on_commit_drop=True,
            analysed=False,
        )
        if self.ctx.allowed_units is not None:
            self._keep_foreign_identities()
        pt = self.person_table()
        temp_as(
            "chg_person",
            "SELECT s.person_id "
            f"FROM {qn('stg_person')} s JOIN {qn(pt.table)} t ON t.person_id = s.person_id "
            f"WHERE {pt.diff_sql('s', 't')}",
            on_commit_drop=True,
            analysed=False,  # once indexed, below
        )
        # probed per staged spell by the counts (``extra_updated``; unindexed: a scan per row)
        execute(f"CREATE INDEX {qn('chg_person_person_id')} ON {qn('chg_person')} (person_id)")
        if vendor() == "postgresql":
            execute(f"ANALYZE {qn('stg_person')}")
            execute(f"ANALYZE {qn('chg_person')}")
        self._people_done = True

    def _keep_foreign_identities(self) -> None:
        """An office does not rewrite the identity of a person who has spells or attendances
        outside its units (another office's person): the file's name, birth date, sex, phone
        and household are ignored for them, with one warning; the spells are still loaded."""
        root = getattr(getattr(self.ctx.actor, "unit", None), "path", None) or "\x00"
        attendee = apps.get_model("outreach", "Attendee")._meta.db_table
        activity = apps.get_model("outreach", "Activity")._meta.db_table
        outside = "SUBSTR(u.path, 1, %s) <> %s"
        where = (
            "EXISTS (SELECT 1 FROM registry_spell sp JOIN geography_unit u ON u.code = sp.unit_id "
            f"WHERE sp.person_id = stg_person.person_id AND {outside}) "
            f"OR EXISTS (SELECT 1 FROM {qn(attendee)} a "
            f"JOIN {qn(activity)} ac ON ac.code = a.activity_id "
            "JOIN geography_unit u ON u.code = ac.unit_id "
            f"WHERE a.person_id = stg_person.person_id AND {outside})"
        )
        params = [len(root), root, len(root), root]
        pt = self.person_table()
        changed = sql(
            f"SELECT COUNT(*) FROM stg_person JOIN {qn(pt.table)} t "
            f"ON t.person_id = stg_person.person_id "
            f"WHERE {pt.diff_sql('stg_person', 't')} AND ({where})",
            params,
        )[0][0]
        execute(
            "UPDATE stg_person SET full_name = NULL, birth_date = NULL, sex = NULL, "
            "phone = NULL, household_id = NULL, address = NULL, village = NULL, consent = NULL, "
            "email = NULL "
            f"WHERE {where}",
            params,
        )
        if changed:
            self.ctx.warnings.append(
                _(
                    "%(n)s người đã có dữ liệu ở đơn vị khác: giữ nguyên họ tên, ngày sinh, "
                    "giới tính, điện thoại và mã hộ đã lưu (chỉ đơn vị quản lý họ mới sửa được)"
                )
                % {"n": changed}
            )

    def check(self) -> None:
        super().check()
        if self.ctx.allowed_units is not None and not self.ctx.errors:
            self._check_employers()

    def _check_employers(self) -> None:
        """An office names only employers of its own units in ``employer_code``; another
        unit's employer gets the words of a missing one."""
        root = getattr(getattr(self.ctx.actor, "unit", None), "path", None) or "\x00"
        employer = apps.get_model("arrears", "Employer")._meta.db_table
        for row_no, code in sql(
            f"SELECT s.row_no, s.employer_code FROM {qn(self.stg_name)} s "
            "WHERE s.employer_code IS NOT NULL AND s.employer_code <> '' AND NOT EXISTS ("
            f"SELECT 1 FROM {qn(employer)} e JOIN geography_unit u ON u.code = e.unit_id "
            "WHERE e.code = s.employer_code AND SUBSTR(u.path, 1, %s) = %s) "
            "ORDER BY s.row_no",
            [len(root), root],
        ):
            self.ctx.error(
                int(row_no), "employer_code", code, _("không có đơn vị sử dụng lao động mã này")
            )

    def count(self) -> MergeCounts:
        self._people()
        plan = self._count_spells()
        self._others(plan)
        if self.changed_made and self.tie_count:
            # the tie rows are restamped even unchanged: the write reads them from there too
            execute(
                f"INSERT INTO {qn(self.changed_rows())} SELECT s.*, 0, 0 "
                f"FROM {qn(self.stg_name)} s WHERE s.row_no IN (SELECT row_no FROM stg_tie) "
                f"AND s.row_no NOT IN (SELECT row_no FROM {qn(self.changed_rows())})"
            )
        self.counted = plan
        return plan

    def _count_spells(self) -> MergeCounts:
        """``merge_counts`` of the spells (a person whose values change counts their spells
        as updated), in one pass that also keeps the rows the write changes (``changed_rows``:
        issue 22, the counts and that table joined every staged row twice). Into an empty
        registry every row is new: counted without a join, nothing kept."""
        stg = qn(self.stg_name)
        t = self.table()
        plan = MergeCounts()
        rows: list[tuple[Any, ...]]  # (unit, staged, created, changed, first changed date)
        if not sql(f"SELECT 1 FROM {qn(t.table)} LIMIT 1"):
            rows = [
                (unit, n, n, n, since)
                for unit, n, since in sql(
                    f"SELECT unit_id, COUNT(*), MIN(start_date) FROM {stg} GROUP BY unit_id"
                )
            ]
        else:
            name = qn(f"{self.stg_name}_chg")
            temp_as(
                f"{self.stg_name}_chg",
                "SELECT s.*, "
                "CASE WHEN t.id IS NULL THEN 1 ELSE 0 END AS chg_new, "
                f"CASE WHEN t.id IS NULL OR {t.diff_sql('s', 't')} THEN 1 ELSE 0 END AS chg_spell "
                f"FROM {stg} s LEFT JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} "
                f"WHERE t.id IS NULL OR {t.diff_sql('s', 't')} "
                "OR EXISTS (SELECT 1 FROM chg_person c WHERE c.person_id = s.person_id)",
                on_commit_drop=True,
            )
            self.changed_made = True
            totals = dict(sql(f"SELECT unit_id, COUNT(*) FROM {stg} GROUP BY unit_id"))
            changed = {
                unit: (created, n, since)
                for unit, created, n, since in sql(
                    "SELECT unit_id, SUM(chg_new), COUNT(*), "
                    f"MIN(CASE WHEN chg_spell = 1 THEN start_date END) FROM {name} GROUP BY unit_id"
                )
            }
            rows = [
                (unit, total, *changed.get(unit, (0, 0, None))) for unit, total in totals.items()
            ]
        for unit, total, created, n, since in (
            (u, int(a), int(b or 0), int(c), d) for u, a, b, c, d in rows
        ):
            plan.created += created
            plan.updated += n - created
            plan.unchanged += total - n
            day = as_date(since)
            if day is not None:
                plan.touched_units.add(str(unit))
                if plan.touched_since is None or day < plan.touched_since:
                    plan.touched_since = day
        return plan

    def snapshot_pairs_sql(self) -> str:
        """A SELECT of the (person_id, scheme) pairs whose spells the write will change: rows
        new or with other values, and the tie rows it restamps. (For the snapshot's delta.)"""
        # a first load: every staged row is new
        spells = self.stg_name if self.all_new() else self.changed_rows()
        where = "" if self.all_new() else " WHERE chg_spell = 1"
        query = f"SELECT DISTINCT person_id, scheme FROM {qn(spells)}{where}"
        if getattr(self, "tie_count", 0):
            query += f" UNION SELECT person_id, scheme FROM {qn('stg_tie')}"
        return query

    def snapshot_changes(self) -> tuple[str, str] | None:
        """After the write: its undo capture of the spells (``UndoLog``), the table of the
        stored rows it changed (as they were: new values or a tie's restamp) and the table
        of the keys it created — the same rows as ``snapshot_pairs_sql`` selects, with the
        spells before the write. None without a capture. (For the snapshot's delta.)"""
        undo = self.ctx.undo
        spell = self.table().table
        for saved in undo.tables if undo is not None else []:
            if saved["table"] == spell:
                return str(saved["old"]), str(saved["new"])
        return None

    def _changed_people(self) -> str:
        """The staged people the write changes: new ones and those with other values
        (``chg_person``), as a table of their own; the person merge and its undo capture read
        it instead of every person of the file (whose other rows they leave alone)."""
        name = "stg_person_chg"
        temp_as(
            name,
            f"SELECT s.* FROM {qn('stg_person')} s "
            f"WHERE s.person_id IN (SELECT person_id FROM {qn('chg_person')}) "
            f"OR NOT EXISTS (SELECT 1 FROM {qn(self.person_table().table)} t "
            "WHERE t.person_id = s.person_id)",
            on_commit_drop=True,
            analysed=False,
        )
        return name

    def changed_rows(self) -> str:
        """The name of the table of the staged spells the write changes, made by the counts
        (``_count_spells``): new, with other values (``chg_spell``), ties it restamps, and
        those of people whose values change. The undo capture, the snapshot's pairs and the
        merge read it instead of the whole file (issue 22: a re-sent file changes ~1 % of
        its rows, and each of them joined every staged row to ``registry_spell`` again); the
        merge's ``ON CONFLICT … WHERE`` and the undo capture's conditions leave the rows
        they do not change alone, as they did in the whole file."""
        if not self.changed_made:
            raise RuntimeError("changed_rows before count")
        return f"{self.stg_name}_chg"

    def _touch(self, plan: MergeCounts, rows: list[tuple[Any, ...]]) -> None:
        for unit, since in rows:
            d = as_date(since)
            if unit is None or d is None:
                continue
            plan.touched_units.add(str(unit))
            if plan.touched_since is None or d < plan.touched_since:
                plan.touched_since = d

    def _others(self, plan: MergeCounts) -> None:
        """What the file changes beyond its own rows (SPEC section 3: one spell decides the
        unit of a person and scheme at a date).

        - A new or changed spell can take a person away from another unit where a stored
          spell of the same person and scheme counted them (a move, an overlap): those
          units' figures change from the spell's start, though the file has no row of them.
        - A unit's first spells of a scheme take precedence over its counts of that scheme,
          at every date: its figures change from its first count on.
        - Ties (same person, scheme and start date in two units) go to the later row of the
          later import: every tie row of the file, even unchanged, takes this import's batch
          and its row number (``restamped``), and the units on both sides are touched.

        One index probe per row of the file (the natural key's prefix); the rows it keeps
        (persons with spells in several units) are few."""
        stg = qn(self.stg_name)
        # a unit's first spells of a scheme replace its counts of that scheme at every date,
        # also before the spells start: from its first count on
        counted = sql(
            "SELECT c.unit_id, c.scheme, MIN(c.as_of) FROM registry_count c "
            "WHERE NOT EXISTS (SELECT 1 FROM registry_spell t "
            "WHERE t.unit_id = c.unit_id AND t.scheme = c.scheme) "
            "GROUP BY c.unit_id, c.scheme"
        )
        if counted:
            units = sorted({str(u) for u, _s, _d in counted})
            marks = ", ".join(["%s"] * len(units))
            staged = {
                (str(u), str(sch))
                for u, sch in sql(
                    f"SELECT DISTINCT unit_id, scheme FROM {stg} WHERE unit_id IN ({marks})",
                    units,
                )
            }
            self._touch(plan, [(u, d) for u, sch, d in counted if (str(u), str(sch)) in staged])
        temp_as(
            "stg_other",
            "SELECT s.row_no AS row_no, s.person_id AS person_id, s.scheme AS scheme, "
            's.start_date AS start_date, s.unit_id AS unit_id, s."group" AS grp, '
            "s.end_date AS end_date, s.employer_code AS employer_code, "
            "t.unit_id AS other_unit, "
            "CASE WHEN t.start_date = s.start_date THEN 1 ELSE 0 END AS tie "
            f"FROM {stg} s JOIN registry_spell t ON t.person_id = s.person_id "
            "AND t.scheme = s.scheme AND t.unit_id <> s.unit_id",
            on_commit_drop=True,
            analysed=False,
        )
        op = "IS DISTINCT FROM" if vendor() == "postgresql" else "IS NOT"
        # units that lose (or gain back) a person to a new or changed spell of the file
        self._touch(
            plan,
            sql(
                "SELECT m.other_unit, MIN(m.start_date) FROM stg_other m "
                "LEFT JOIN registry_spell o ON o.person_id = m.person_id "
                "AND o.scheme = m.scheme AND o.start_date = m.start_date "
                "AND o.unit_id = m.unit_id "
                f'WHERE o.id IS NULL OR o."group" {op} m.grp OR o.end_date {op} m.end_date '
                f"OR o.employer_code {op} m.employer_code "
                "GROUP BY m.other_unit"
            ),
        )
        tie_rows = set(self.spell_keys.ties)
        tie_rows.update(int(r[0]) for r in sql("SELECT row_no FROM stg_other WHERE tie = 1"))
        execute(f"DROP TABLE IF EXISTS {qn('stg_tie')}")
        self.tie_count = len(tie_rows)
        if not tie_rows:
            return
        rows_tbl = Staging("stg_tie_rows", [])
        rows_tbl.create()
        rows_tbl.insert([(r,) for r in sorted(tie_rows)])
        temp_as(
            "stg_tie",
            "SELECT s.row_no AS row_no, s.person_id AS person_id, s.scheme AS scheme, "
            "s.start_date AS start_date, s.unit_id AS unit_id "
            f"FROM {stg} s WHERE s.row_no IN (SELECT row_no FROM stg_tie_rows)",
            on_commit_drop=True,
            analysed=False,
        )
        rows_tbl.drop()
        # the undo capture and the restamp probe it per staged row (issue 22: unindexed, SQLite
        # scanned every tie row for every row of the file)
        execute(f"CREATE INDEX {qn('stg_tie_row_no')} ON {qn('stg_tie')} (row_no)")
        self._touch(
            plan,
            sql(
                "SELECT x.unit_id, MIN(x.start_date) FROM ("
                "SELECT unit_id, start_date FROM stg_tie UNION ALL "
                "SELECT other_unit, start_date FROM stg_other WHERE tie = 1) x "
                "GROUP BY x.unit_id"
            ),
        )
        plan.restamped = self.tie_count

    def write(self, *, batch_id: int) -> None:
        counted = getattr(self, "counted", None)
        created = counted.created if counted else 0
        people = new_people = 0
        if created >= bulk.MIN_ROWS:  # a big load: are the people new too?
            people, new_people = (
                int(v or 0)
                for v in sql(
                    "SELECT COUNT(*), SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM registry_person t "
                    "WHERE t.person_id = s.person_id) THEN 1 ELSE 0 END) FROM stg_person s"
                )[0]
            )
        people_new = people > 0 and new_people == people
        spells_new = self.all_new()
        # the staged people and spells the write changes (a first load: all of them)
        persons = "stg_person" if people_new else self._changed_people()
        spells = self.stg_name if spells_new else self.changed_rows()
        undo = self.ctx.undo
        if undo is not None:
            undo.save(t=self.person_table(), stg=persons, all_new=people_new)
            ties = (
                "EXISTS (SELECT 1 FROM stg_tie x WHERE x.row_no = s.row_no)"
                if getattr(self, "tie_count", 0)
                else ""
            )
            undo.save(t=self.table(), stg=spells, also_changed=ties, all_new=spells_new)
        if counted is None or counted.created or counted.updated:
            # (only ties to restamp: the merges would change nothing)
            with bulk.indexes_deferred(Person, rows=new_people):
                merge_write(persons, self.person_table(), batch_id=None, all_new=people_new)
            with bulk.indexes_deferred(Spell, rows=created, unique=spells_new):
                merge_write(spells, self.table(), batch_id=batch_id, all_new=spells_new)
        if getattr(self, "tie_count", 0):
            # ties: the later row of the later import decides (SPEC section 3)
            execute(
                "UPDATE registry_spell SET batch_id = %s, row_no = x.row_no FROM stg_tie x "
                "WHERE registry_spell.person_id = x.person_id "
                "AND registry_spell.scheme = x.scheme "
                "AND registry_spell.start_date = x.start_date "
                "AND registry_spell.unit_id = x.unit_id",
                [batch_id],
            )

    def teardown(self) -> None:
        super().teardown()
        self.changed_made = False
        for name in (
            "stg_person",
            "chg_person",
            "stg_person_chg",
            "stg_other",
            "stg_tie",
            f"{self.stg_name}_chg",
        ):
            execute(f"DROP TABLE IF EXISTS {qn(name)}")


class CountsImporter(StagedImporter):
    kind = "counts"
    refreshes_snapshot = True
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

    def table(self) -> MergeTarget:
        return MergeTarget(
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
        # a unit code is read by the count's date (SPEC section 9)
        day = None if as_of is BAD else as_of
        unit = self.units.check(row_no, "unit_code", get(row, "unit_code"), day)
        scheme = ctx.code(row_no, "scheme", get(row, "scheme"), SCHEME_CODES)
        group = ctx.code(row_no, "group", get(row, "group"), GROUP_CODES, required=False)
        n = ctx.integer(row_no, "participants", get(row, "participants"))
        if BAD in (as_of, unit, scheme, group, n):
            return None
        return (row_no, as_of, unit, scheme, group or "", n)
