"""One file through the pipeline (SPEC section 2, DESIGN.md rule 5): read
(``imports.reading``), match its header (``imports.header``), validate and stage every row
(the KIND's importer, ``core.importer.protocol``), then — only when nothing was wrong — merge
the staged rows into the real tables set-based in SQL, all in ONE transaction.
Created/updated/unchanged are computed in SQL against what is stored, so re-importing the same
file changes nothing."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_user
from ansinh.core.importer.db import execute, vendor
from ansinh.core.importer.protocol import Importer
from ansinh.core.importer.rows import Context, Refused, RowError
from ansinh.core.importer.undo import UndoLog
from ansinh.core.models import ImportBatch
from ansinh.core.services import audit_record
from ansinh.imports.header import header_columns
from ansinh.imports.kinds import KINDS, importer_class
from ansinh.imports.reading import open_source

BATCH_ROWS = 50_000
IMPORT_LOCK = 0x616E_7369_696D  # PostgreSQL advisory lock key serialising imports ("ansiim")


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    warnings: list[str]
    refused: bool
    dry_run: bool
    batch_id: int | None
    touched_units: set[str] = field(default_factory=set)
    touched_since: dt.date | None = None
    # every error found, of which ``errors`` keeps the first MAX_ERRORS
    error_total: int = 0
    # the preview of SPEC section 10: {"as_of", "unit", "schemes": {code: {before, after}}}
    preview: dict[str, Any] | None = None


class WriteHook(Protocol):
    """What is done around an import's write, in its transaction: ``imports.run`` passes the
    KPI snapshot's delta (``monitoring.services.SnapshotDelta``: the figures of what the file
    changes, before and after)."""

    def before_write(self, imp: Importer) -> None: ...

    def after_write(self, imp: Importer) -> None: ...


class Inspector(Protocol):
    """Looks at the figures around an import's write, in its transaction (the preview of
    SPEC section 10, ``imports.preview.FigurePreview``); ``after`` answers whether to roll
    everything back."""

    def before(self, imp: Importer) -> None: ...

    def after(self, imp: Importer, result: ImportResult) -> bool: ...


class _Rollback(Exception):
    pass


def import_file(
    *,
    kind: str,
    path: pathlib.Path,
    actor: Actor,
    dry_run: bool = False,
    display_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allowed_units: set[str] | None = None,
    write_hook: WriteHook | None = None,
    inspect: Inspector | None = None,
) -> ImportResult:
    """Validate every row of the file, then write all of it or nothing (one transaction).

    ``allowed_units`` limits the rows to those units (an office's scope; None = no limit);
    ``imports.run.import_run`` derives it from the actor. ``write_hook`` is
    called just before and just after the write, in the same transaction. ``inspect`` looks
    at the figures just before the write and after it (in the same transaction); where its
    ``after`` answers True everything is rolled back (a preview: the result says
    ``dry_run``)."""
    if kind not in KINDS:
        raise ValueError(kind)
    rolled_back = False
    path = pathlib.Path(path)
    cls = importer_class(kind)
    result = ImportResult(
        kind=kind,
        rows=0,
        created=0,
        updated=0,
        unchanged=0,
        errors=[],
        warnings=[],
        refused=False,
        dry_run=dry_run,
        batch_id=None,
    )
    try:
        src = open_source(path, kind=kind, required=cls.required, optional=cls.optional)
    except Refused as exc:
        result.errors = exc.errors
        result.error_total = len(exc.errors)
        result.refused = True
        return result

    columns, header_errors, header_warnings = header_columns(src, cls)
    result.warnings.extend(header_warnings)
    if header_errors:
        result.errors = header_errors
        result.error_total = len(result.errors)
        result.refused = True
        return result

    ctx = Context(
        kind=kind, actor=actor, allowed_units=allowed_units, dry_run=dry_run, columns=columns
    )
    imp = cls(ctx)
    total = src.total
    try:
        with transaction.atomic():
            if vendor() == "postgresql":
                # one import at a time (SQLite: the IMMEDIATE transaction does it): what the
                # counts find new must still be new when written, and snapshot corrections
                # of two imports must not interleave
                execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
                execute("SET LOCAL work_mem = '256MB'")
            imp.setup()
            rows = 0
            try:
                batch: list[tuple] = []
                clean = imp.clean
                fast = imp.stage_file(path=path, header=src.header, progress=progress, total=total)
                for row_no, row in src.rows if fast is None else ():
                    if not any(row):
                        continue
                    rows += 1
                    item = clean(row_no, row)
                    if item is not None:
                        batch.append(item)
                        if len(batch) >= BATCH_ROWS:
                            if not ctx.errors:
                                imp.add(batch)
                            batch = []
                            if progress:
                                progress(rows, max(total, rows))
                if batch and not ctx.errors:
                    imp.add(batch)
                if fast is not None:
                    rows = fast
                if progress:
                    progress(rows, rows)
                result.rows = rows
                if rows == 0:
                    ctx.error(0, "", "", _("Tệp không có dòng dữ liệu nào"))
                if not ctx.errors:
                    imp.check()
            except Refused as exc:
                ctx.errors.extend(exc.errors)
                ctx.error_total += len(exc.errors)
            if ctx.errors:
                raise _Rollback
            counts = imp.count()
            result.created, result.updated, result.unchanged = (
                counts.created,
                counts.updated,
                counts.unchanged,
            )
            result.touched_units, result.touched_since = counts.touched_units, counts.touched_since
            if dry_run:
                raise _Rollback
            batch_row = ImportBatch.objects.create(
                kind=kind,
                file_name=(display_name or path.name)[:300],
                sha256=src.sha256,
                rows=rows,
                created=counts.created,
                updated=counts.updated,
                unchanged=counts.unchanged,
                errors=0,
                user=actor_user(actor),
            )
            if inspect is not None:
                inspect.before(imp)
            if counts.created or counts.updated or counts.restamped:
                # an unchanged file writes only its batch row
                if write_hook is not None:
                    write_hook.before_write(imp)
                ctx.undo = UndoLog(batch_row.pk)
                imp.write(batch_id=batch_row.pk)
                if write_hook is not None:
                    write_hook.after_write(imp)
                batch_row.undo = ctx.undo.tables
                batch_row.touched = {
                    "units": sorted(counts.touched_units),
                    "since": counts.touched_since.isoformat() if counts.touched_since else None,
                }
                batch_row.save(update_fields=["undo", "touched"])
            if inspect is not None and inspect.after(imp, result):
                # a preview: what the written file makes of the figures, then all rolled back
                rolled_back = True
                imp.teardown()
                raise _Rollback
            imp.teardown()
            result.batch_id = batch_row.pk
            audit_record(
                actor=actor,
                action=f"import.{kind}",
                object_type="import_batch",
                object_id=str(batch_row.pk),
                after={
                    "file": batch_row.file_name,
                    "sha256": src.sha256,
                    "rows": rows,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                },
            )
    except _Rollback:
        try:
            imp.teardown()
        except Exception:  # the connection may be unusable after a failed statement
            pass
    if rolled_back:
        result.dry_run, result.batch_id = True, None
    result.errors = sorted(ctx.errors, key=lambda e: e.row)
    result.error_total = max(ctx.error_total, len(result.errors))
    result.warnings = result.warnings + ctx.warnings
    result.refused = bool(result.errors)
    if result.refused:
        result.created = result.updated = result.unchanged = 0
        result.error_total = max(result.error_total, len(result.errors))
        result.touched_units, result.touched_since = set(), None
    return result
