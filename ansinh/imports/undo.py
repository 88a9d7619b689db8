"""Undoing an import batch (SPEC section 10): :func:`import_undo`, the service, reverses what
the batch's ``UndoLog`` kept (``core.importer.undo``) and brings the snapshot to the same state;
:class:`TableCapture` adds to a batch's undo what the after-import work changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor, actor_user, can_import
from ansinh.core import sql as sql_dialect
from ansinh.core.importer.db import distinct_op, execute, qn, sql
from ansinh.core.importer.undo import UNDO_PREFIX, index_keys, key_match
from ansinh.core.models import ImportBatch
from ansinh.core.services import audit_record
from ansinh.geography.services import unit_paths_rebuild
from ansinh.imports.kinds import importer_class
from ansinh.imports.pipeline import IMPORT_LOCK
from ansinh.imports.selectors import batch_get
from ansinh.monitoring.services import SnapshotDelta, snapshot_refresh


class TableCapture:
    """Around a write that is not a merge (the after-import work of ``imports.run``: the
    arrears worklists), what
    it changed in ``tables`` (db table -> key columns), added to a batch's undo: a copy of
    each table before, compared with the table after (rows changed or deleted: their values
    before; rows added: their keys)."""

    def __init__(self, batch_id: int, tables: dict[str, list[str]]) -> None:
        self.batch_id = int(batch_id)
        self.tables = {t: k for t, k in tables.items() if _table_exists(t)}

    def _copy(self, table: str) -> str:
        return f"{UNDO_PREFIX}{self.batch_id}_cap_{table}"

    def begin(self) -> None:
        for table in self.tables:
            execute(f"DROP TABLE IF EXISTS {qn(self._copy(table))}")
            execute(f"CREATE TABLE {qn(self._copy(table))} AS SELECT * FROM {qn(table)}")

    def end(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch's undo ``entries`` with what the write changed appended."""
        out = list(entries)
        op = distinct_op()
        for table, keys in self.tables.items():
            copy = self._copy(table)
            cols = [
                c.name
                for c in connection.introspection.get_table_description(connection.cursor(), table)
            ]
            n = len(out)
            old = f"{UNDO_PREFIX}{self.batch_id}_{n}_old"
            new = f"{UNDO_PREFIX}{self.batch_id}_{n}_new"
            differs = " OR ".join(f"c.{qn(x)} {op} t.{qn(x)}" for x in cols) or "1 = 0"
            k0 = qn(keys[0])
            for name in (old, new):
                # left by a batch of the same number in a database flushed since (tests)
                execute(f"DROP TABLE IF EXISTS {qn(name)}")
            execute(
                f"CREATE TABLE {qn(old)} AS SELECT c.* FROM {qn(copy)} c "
                f"LEFT JOIN {qn(table)} t ON {key_match('c', 't', keys)} "
                f"WHERE t.{k0} IS NULL OR {differs}"
            )
            key_cols = ", ".join(f"t.{qn(k)} AS {qn(k)}" for k in keys)
            execute(
                f"CREATE TABLE {qn(new)} AS SELECT {key_cols} FROM {qn(table)} t "
                f"LEFT JOIN {qn(copy)} c ON {key_match('c', 't', keys)} WHERE c.{k0} IS NULL"
            )
            execute(f"DROP TABLE {qn(copy)}")
            if int(
                sql(f"SELECT (SELECT COUNT(*) FROM {qn(old)}) + (SELECT COUNT(*) FROM {qn(new)})")[
                    0
                ][0]
            ):
                index_keys(old, keys)
                index_keys(new, keys)
                out.append({"table": table, "key": list(keys), "old": old, "new": new})
            else:
                execute(f"DROP TABLE {qn(old)}")
                execute(f"DROP TABLE {qn(new)}")
        return out

    def abandon(self) -> None:
        for table in self.tables:
            execute(f"DROP TABLE IF EXISTS {qn(self._copy(table))}")


def _table_exists(name: str) -> bool:
    return name in connection.introspection.table_names()


def undo_conflicts(batch: Any) -> list[int]:
    """The later batches (still in force) that changed rows this batch created or updated:
    undoing it would take their changes away too."""
    mine = batch.undo or []
    later = ImportBatch.objects.filter(
        id__gt=batch.pk, state=ImportBatch.State.DONE, undo__isnull=False
    ).order_by("id")
    tables = connection.introspection.table_names()
    out: list[int] = []
    for other in later:
        hit = False
        for a in mine:
            for b in other.undo or []:
                if a["table"] != b["table"] or a["key"] != b["key"]:
                    continue
                for x in (a["old"], a["new"]):
                    for y in (b["old"], b["new"]):
                        if x not in tables or y not in tables:
                            continue
                        if sql(
                            f"SELECT 1 FROM {qn(x)} x WHERE EXISTS (SELECT 1 FROM {qn(y)} y "
                            f"WHERE {key_match('x', 'y', a['key'])}) LIMIT 1"
                        ):
                            hit = True
                            break
                    if hit:
                        break
                if hit:
                    break
            if hit:
                break
        if hit:
            out.append(other.pk)
    return out


def undo_missing(batch: Any) -> bool:
    """Whether the batch's undo tables are gone (a batch of before undo existed, or a
    database restored without them)."""
    if batch.undo is None:
        return True
    tables = set(connection.introspection.table_names())
    return any(t["old"] not in tables or t["new"] not in tables for t in batch.undo)


def undo_apply(batch: Any) -> dict[str, int]:
    """Reverse the batch's writes, in the caller's transaction: last table first, the rows it
    created deleted, the rows it updated given back every value they had. Returns the number
    of rows deleted and restored."""
    deleted = restored = 0
    models_by_table = {m._meta.db_table: m for m in apps.get_models()}
    for entry in reversed(batch.undo or []):
        model = models_by_table[entry["table"]]
        table, keys = qn(entry["table"]), entry["key"]
        deleted += execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {qn(entry['new'])} n "
            f"WHERE {key_match('n', table, keys)})"
        )
        columns = [
            str(f.column)
            for f in model._meta.concrete_fields
            if f.column and f.column not in keys and not f.primary_key
        ]
        if columns:
            sets = ", ".join(f"{qn(c)} = o.{qn(c)}" for c in columns)
            restored += execute(
                f"UPDATE {table} SET {sets} FROM {qn(entry['old'])} o "
                f"WHERE {key_match('o', table, keys)}"
            )
        else:
            restored += int(sql(f"SELECT COUNT(*) FROM {qn(entry['old'])}")[0][0])
        # rows the write deleted (a hook's): back as they were
        all_cols = ", ".join(
            qn(c.name)
            for c in connection.introspection.get_table_description(
                connection.cursor(), entry["old"]
            )
        )
        restored += execute(
            f"INSERT INTO {table} ({all_cols}) SELECT {all_cols} FROM {qn(entry['old'])} o "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE {key_match('o', 'x', keys)})"
        )
    return {"deleted": deleted, "restored": restored}


def undo_drop(batch: Any) -> None:
    for entry in batch.undo or []:
        for name in (entry["old"], entry["new"]):
            execute(f"DROP TABLE IF EXISTS {qn(name)}")


def undo_rows(batch: Any, table: str, column: str, which: str = "both") -> str:
    """A SELECT of ``column`` over the rows of ``table`` the batch created and/or updated
    (its undo tables), for the callers that need what it touched (the snapshot's pairs)."""
    parts = []
    for entry in batch.undo or []:
        if entry["table"] != table:
            continue
        if which in ("both", "old"):
            parts.append(f"SELECT {column} FROM {qn(entry['old'])}")
        if which in ("both", "new"):
            parts.append(f"SELECT {column} FROM {qn(entry['new'])}")
    return " UNION ".join(parts) if parts else ""


class UndoRefused(Exception):
    """An undo that cannot be done: nothing changed; the message says why."""


def undo_blockers(batch: ImportBatch) -> str | None:
    """Why the batch cannot be undone (in the user's words), or None."""
    if batch.state == ImportBatch.State.UNDONE:
        return _("Lần nhập số %(n)s đã được hoàn tác rồi.") % {"n": batch.pk}
    if batch.state == ImportBatch.State.REFUSED:
        return _("Lần nhập số %(n)s bị từ chối nên không ghi gì: không có gì để hoàn tác.") % {
            "n": batch.pk
        }
    if (batch.created or batch.updated) and undo_missing(batch):
        return _(
            "Lần nhập số %(n)s không còn dữ liệu để hoàn tác (được nhập trước khi có chức năng "
            "hoàn tác, hoặc cơ sở dữ liệu đã được khôi phục từ bản sao lưu)."
        ) % {"n": batch.pk}
    later = undo_conflicts(batch)
    if later:
        return _(
            "Không hoàn tác được: lần nhập sau (số %(later)s) đã sửa chính các dòng này. Hãy "
            "hoàn tác lần đó trước."
        ) % {"later": ", ".join(str(n) for n in later)}
    return None


class _UndonePairs:
    """The (person, scheme) pairs an undone participations batch changes, for
    ``SnapshotDelta`` (which asks an importer for them: ``snapshot_pairs_sql``)."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch

    def snapshot_pairs_sql(self) -> str:
        rows = undo_rows(self.batch, "registry_spell", "person_id, scheme")
        if not rows:
            return "SELECT person_id, scheme FROM registry_spell WHERE 1 = 0"
        return f"SELECT DISTINCT person_id, scheme FROM ({rows}) z"


def import_undo(*, batch_id: int, actor: Actor) -> dict[str, Any]:
    """Reverse one import batch (SPEC section 10): the rows it created deleted, those it
    updated given back their values, then the snapshot and the worklists brought to the same
    state, in one transaction, audited. Raises ``UndoRefused`` (nothing changed) where it
    cannot be done; ``PermissionDenied`` for a role that may not import."""
    if not can_import(actor):
        raise PermissionDenied
    batch = batch_get(actor=actor, batch_id=batch_id)
    if batch is None:
        raise UndoRefused(_("Không có lần nhập số %(n)s.") % {"n": batch_id})
    try:
        with transaction.atomic():
            if sql_dialect.is_postgres():
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            reason = undo_blockers(batch)
            if reason:
                raise UndoRefused(reason)
            delta = SnapshotDelta()
            pairs = _UndonePairs(batch)
            if batch.kind == "participations" and batch.undo:
                delta.before_write(pairs)
            counts = undo_apply(batch) if batch.undo else {"deleted": 0, "restored": 0}
            try:
                connection.check_constraints()
            except IntegrityError:
                raise UndoRefused(
                    _(
                        "Không hoàn tác được: dữ liệu nhập hoặc nhập tay sau đó còn dùng các "
                        "dòng mà lần nhập này đã tạo."
                    )
                ) from None
            if batch.kind == "units" and batch.undo:
                unit_paths_rebuild(actor=actor)
            if delta.active:
                delta.after_write(pairs)
            touched = batch.touched or {}
            if (
                importer_class(batch.kind).refreshes_snapshot
                and not delta.applied
                and batch.undo
                and touched.get("units")
            ):
                since = touched.get("since")
                snapshot_refresh(
                    units=set(touched["units"]),
                    since=dt.date.fromisoformat(since) if since else None,
                )
            undo_drop(batch)
            batch.state = ImportBatch.State.UNDONE
            batch.undone_at = timezone.now()
            batch.undone_by = actor_user(actor)
            batch.save(update_fields=["state", "undone_at", "undone_by"])
            audit_record(
                actor=actor,
                action=f"import.undo.{batch.kind}",
                object_type="import_batch",
                object_id=str(batch.pk),
                before={"state": "done", "created": batch.created, "updated": batch.updated},
                after={"state": "undone", **counts},
            )
    except IntegrityError:
        raise UndoRefused(
            _(
                "Không hoàn tác được: dữ liệu nhập hoặc nhập tay sau đó còn dùng các dòng mà "
                "lần nhập này đã tạo."
            )
        ) from None
    return {"id": batch.pk, "kind": batch.kind, "state": batch.state, **counts}
