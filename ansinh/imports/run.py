"""The door every import goes through (CLI, page, API): :func:`import_run` validates and
writes one file (``imports.pipeline.import_file``), then, in the same transaction, calls what
follows an import — plain calls, in this order:

1. the KPI snapshot (``monitoring.services``): corrected by ``SnapshotDelta`` during the write
   where the KIND gives the pairs it changes (``Importer.snapshot_pairs_sql``), else refreshed
   by ``snapshot_refresh`` for the units and dates the file touched (``refreshes_snapshot``);
2. the arrears worklists (``arrears.services.followup_after_import``): the follow-ups the
   import resolved closed, the new ones added; what they change goes into the batch's undo.

Large files run as a background job (``imports.jobs``)."""

from __future__ import annotations

import fcntl
import pathlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import transaction

from ansinh.accounts.access import Actor, can_import, import_scope
from ansinh.arrears.models import FollowUp
from ansinh.arrears.services import followup_after_import
from ansinh.arrears.worklists import Scope
from ansinh.core import sql as sql_dialect
from ansinh.core.models import ImportBatch, Job
from ansinh.imports.kinds import importer_class
from ansinh.imports.pipeline import ImportResult, import_file
from ansinh.imports.preview import FigurePreview
from ansinh.imports.progress import progress_for
from ansinh.imports.undo import TableCapture, undo_rows
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh
from ansinh.registry.models import Person, Spell
from config import env

# what ``followup_after_import`` writes (db table -> key columns): an undo gives it back
AFTER_IMPORT_TABLES = {FollowUp._meta.db_table: ["id"]}


def import_run(
    *,
    kind: str,
    path: pathlib.Path,
    actor: Actor,
    dry_run: bool = False,
    display_name: str | None = None,
    job: Job | None = None,
    preview: bool = False,
    confirm_above: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportResult:
    """Import one file (all or nothing) and correct the snapshot by what it changed (in the
    same transaction: ``SnapshotDelta``; else refreshed after it by the units and dates it
    touched). Roles other than admin/province/office are refused (PermissionDenied);
    an office may only import rows of its own units (other rows are row errors).

    ``preview``: validate, write, read the province's figures before and after, roll back
    (``result.preview``, SPEC section 10). ``confirm_above`` (a share, the web import): the
    same figures, and the import is rolled back, asking for confirmation, where a scheme
    would change by more than that share (``result.preview["confirm"]``)."""
    if not can_import(actor):
        raise PermissionDenied
    delta = SnapshotDelta()
    inspector = None
    if (preview or confirm_above is not None) and not dry_run:
        inspector = FigurePreview(kind=kind, delta=delta, guard=None if preview else confirm_above)
    # one transaction for the file, the snapshot it changes and the follow-ups it resolves:
    # a crash at any point leaves either all of them or none (never fresh data beside stale
    # figures)
    with (
        _import_turn(wait=not dry_run, on_wait=on_wait),
        sql_dialect.bulk_memory(),
        transaction.atomic(),
    ):
        result = import_file(
            kind=kind,
            path=pathlib.Path(path),
            actor=actor,
            dry_run=dry_run,
            display_name=display_name,
            progress=progress_for(job) if job is not None else None,
            allowed_units=import_scope(actor),
            write_hook=delta,
            inspect=inspector,
        )
        written = not result.refused and not result.dry_run
        refreshed = inspector is not None and inspector.refreshed
        if written and result.touched_units and not delta.applied and not refreshed:
            if importer_class(kind).refreshes_snapshot:
                snapshot_refresh(units=result.touched_units, since=result.touched_since)
        if written and (result.created or result.updated):
            # the worklists follow in the same transaction (close the follow-ups it resolves);
            # what they change is added to the batch's undo
            _worklists_follow(kind=kind, actor=actor, batch_id=result.batch_id)
    return result


def _worklists_follow(*, kind: str, actor: Actor, batch_id: int | None) -> None:
    """``arrears.services.followup_after_import``, its changes added to the batch's undo; the
    persons and households the batch wrote (from its undo tables) given as the scope."""
    batch = ImportBatch.objects.filter(pk=batch_id).first() if batch_id else None
    if batch is None or batch.undo is None:
        followup_after_import(kind=kind, actor=actor)
        return
    capture = TableCapture(batch.pk, AFTER_IMPORT_TABLES)
    with transaction.atomic():
        capture.begin()
        followup_after_import(
            kind=kind, actor=actor, batch_id=batch.pk, scope=lambda: _written_scope(batch)
        )
        batch.undo = capture.end(batch.undo)
        batch.save(update_fields=["undo"])
    for name in (SCOPE_PERSONS, SCOPE_HOUSEHOLDS):
        sql_dialect.drop_table(name)


SCOPE_PERSONS, SCOPE_HOUSEHOLDS = "wl_scope_persons", "wl_scope_households"


def _written_scope(batch: ImportBatch) -> Scope | None:
    """The persons whose spells or person row ``batch`` created or changed and the
    households they had before it or have now, as temp tables (from its undo tables: the
    rows it changed, as they were, and the keys it created). None when it wrote neither."""
    spell, person = sql_dialect.table(Spell), sql_dialect.table(Person)
    parts = [
        p
        for p in (undo_rows(batch, spell, "person_id"), undo_rows(batch, person, "person_id"))
        if p
    ]
    if not parts:
        return None
    sql_dialect.temp_as(SCOPE_PERSONS, " UNION ".join(parts))
    sql_dialect.execute(f"CREATE INDEX {SCOPE_PERSONS}_id ON {SCOPE_PERSONS} (person_id)")
    before = undo_rows(batch, person, "household_id", which="old")
    sql_dialect.temp_as(
        SCOPE_HOUSEHOLDS,
        f"SELECT pe.household_id AS household_id FROM {person} pe "
        f"WHERE pe.person_id IN (SELECT person_id FROM {SCOPE_PERSONS}) "
        + (f"UNION {before}" if before else ""),
    )
    return Scope(
        persons=f"SELECT person_id FROM {SCOPE_PERSONS}",
        households=f"SELECT household_id FROM {SCOPE_HOUSEHOLDS}",
    )


@contextmanager
def _import_turn(*, wait: bool, on_wait: Callable[[], None] | None) -> Iterator[None]:
    """One import at a time on SQLite, the others waiting their turn however long it takes
    (SQLite's busy timeout would give up after 30 s): a lock file beside the database, let go
    by the system when its process ends, even killed. PostgreSQL's imports queue on an
    advisory lock inside the transaction (``imports.pipeline``)."""
    if not wait or sql_dialect.vendor() != "sqlite":
        yield
        return
    path = env.home() / "import.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
