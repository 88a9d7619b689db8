"""The importer protocol: what one KIND gives the import pipeline (``ansinh.imports``).

Each KIND is an :class:`Importer` subclass living in the app that owns its tables
(``registry/importers.py``: participations, counts, …); that app lists its importers in
``IMPORTERS`` and ``ansinh.imports.kinds`` names them all. The pipeline calls, in this order:
``setup`` → ``stage_file`` or ``clean``/``add`` per row → ``check`` → ``count`` →
``snapshot_pairs_sql`` → ``write`` → ``teardown``."""

from __future__ import annotations

import abc
import pathlib
from collections.abc import Callable, Sequence
from typing import ClassVar

from django.utils.translation import gettext as _

from ansinh.core.importer.db import qn, sql
from ansinh.core.importer.merge import MergeCounts, MergeTarget, merge_counts, merge_write
from ansinh.core.importer.rows import Context
from ansinh.core.importer.staging import KeyTracker, Staging


class Importer(abc.ABC):
    """One KIND. Subclasses set ``kind``, ``required``, ``optional`` and implement
    ``clean`` (one row → a staging tuple, or None after recording errors), and usually
    ``setup``/``check``/``count``/``write``.

    What a KIND gives the KPI snapshot (``monitoring``), declared here and read by
    ``ansinh.imports.run``: ``refreshes_snapshot`` — its rows are facts the snapshot counts,
    so the units and dates a written file touched are refreshed; ``snapshot_pairs_sql`` — the
    (person, scheme) pairs the write will change, for which the snapshot is corrected in the
    import's transaction instead (``monitoring.services.SnapshotDelta``)."""

    kind: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()
    refreshes_snapshot: ClassVar[bool] = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def setup(self) -> None:
        """Load lookups and create staging tables (inside the import transaction)."""
        return None  # a hook: nothing to do unless a subclass says so

    def stage_file(
        self,
        *,
        path: pathlib.Path,
        header: list[str],
        progress: Callable[[int, int], None] | None,
        total: int,
    ) -> int | None:
        """A fast path staging the whole file at once; returns its number of data rows, or
        None (nothing staged) to have it read, checked and staged row by row."""
        return None

    @abc.abstractmethod
    def clean(self, row_no: int, row: list[str]) -> tuple | None:
        """One data row checked: the clean tuple to stage, or None (errors recorded)."""

    @abc.abstractmethod
    def add(self, rows: list[tuple]) -> None:
        """Stage a batch of clean rows."""

    def check(self) -> None:
        """Cross-row validation once every row was read (duplicates, references)."""
        return None  # a hook: nothing to do unless a subclass says so

    @abc.abstractmethod
    def count(self) -> MergeCounts:
        """What the staged rows would create, update and leave unchanged."""

    def snapshot_pairs_sql(self) -> str | None:
        """A SELECT of the (person_id, scheme) pairs whose facts the write will change, once
        counted and before the write; None where the KIND gives none (the default)."""
        return None

    @abc.abstractmethod
    def write(self, *, batch_id: int) -> None:
        """Merge the staged rows into the model tables."""

    def teardown(self) -> None:
        """Drop staging tables (SQLite keeps temp tables for the connection's life)."""
        return None  # a hook: nothing to do unless a subclass says so

    # helpers
    def getter(self) -> Callable[[list[str], str], str]:
        cols = self.ctx.columns

        def get(row: list[str], name: str) -> str:
            i = cols.get(name)
            if i is None or i >= len(row):
                return ""
            return row[i]

        return get


class StagedImporter(Importer):
    """An importer whose clean rows go to one staging table merged into one model table.
    Subclasses set ``staging_columns`` (column, type), ``table`` (a :class:`MergeTarget`),
    ``unit_col``/``since_col`` for the touched units and dates, and implement ``clean``."""

    staging_columns: ClassVar[Sequence[tuple[str, str]]]
    # KINDs keyed by a code of their own (employers, activities): the model field holding the
    # unit a stored record belongs to, so that a row may not take over another unit's record
    owner_field: ClassVar[str | None] = None
    unit_col: ClassVar[str | None] = None
    since_col: ClassVar[str | None] = None
    key_label: ClassVar[str] = ""

    @abc.abstractmethod
    def table(self) -> MergeTarget:
        """The model table the staging table merges into."""

    @property
    def stg_name(self) -> str:
        return f"stg_{self.kind}"

    def setup(self) -> None:
        self.staging = Staging(self.stg_name, self.staging_columns)
        self.staging.create()
        self.keys = KeyTracker(self.staging, self.key_columns())

    def add(self, rows: list[tuple]) -> None:
        self.staging.insert(rows)
        self.keys.add(rows)

    def key_columns(self) -> list[str]:
        t = self.table()
        return [t.col(k) for k in t.key]

    def check(self) -> None:
        self.staging.analyze()
        label = self.key_label or ", ".join(self.table().key)
        for row_no, first, key in self.keys.duplicates():
            self.ctx.error(
                row_no,
                label,
                " | ".join("" if v is None else str(v) for v in key),
                _("trùng khóa với dòng %(first)s trong cùng tệp") % {"first": first},
            )
        self.check_owner()

    def check_owner(self) -> None:
        """A restricted actor (an office) may write a record keyed by its own code only where
        the stored record belongs to one of its units (its new unit is checked per row): an
        office cannot move another unit's employer or activity into its own."""
        allowed = self.ctx.allowed_units
        if allowed is None or self.owner_field is None:
            return
        t = self.table()
        key = qn(t.col(t.key[0]))
        owner = qn(t.col(self.owner_field))
        label = self.key_label or t.key[0]
        for row_no, code, unit in sql(
            f"SELECT s.row_no, s.{key}, t.{owner} FROM {qn(self.stg_name)} s "
            f"JOIN {qn(t.table)} t ON {t.join_sql('s', 't')} ORDER BY s.row_no"
        ):
            if str(unit) not in allowed:
                self.ctx.error(
                    int(row_no),
                    label,
                    code,
                    _("mã này đã được dùng ngoài phạm vi của bạn: không ghi được"),
                )

    def count(self) -> MergeCounts:
        self.counted = merge_counts(
            self.stg_name, self.table(), unit_col=self.unit_col, since_col=self.since_col
        )
        return self.counted

    def all_new(self) -> bool:
        """Every staged row is a key the table does not hold (staged keys are distinct)."""
        counted: MergeCounts | None = getattr(self, "counted", None)
        return counted is not None and counted.updated == 0 and counted.unchanged == 0

    def write(self, *, batch_id: int) -> None:
        all_new = self.all_new()
        if self.ctx.undo is not None:
            self.ctx.undo.save(t=self.table(), stg=self.stg_name, all_new=all_new)
        merge_write(self.stg_name, self.table(), batch_id=batch_id, all_new=all_new)

    def teardown(self) -> None:
        self.staging.drop()
