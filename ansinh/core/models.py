"""Shared building blocks: the audit log and background jobs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One row per write or per unmasked view of person data. Never edited by the app."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=128, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Audit rows are written once: the app never changes one."""
        if self.pk is not None and not self._state.adding:
            raise AuditImmutableError("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit rows cannot be deleted")


class AuditImmutableError(RuntimeError):
    """An attempt to change or delete an audit row through the app."""


class Job(models.Model):
    """A piece of long work (an import, a snapshot refresh, a report) run outside the request."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        REFUSED = "refused"

    kind = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    # host:pid:start of the worker process that runs it (core.jobs.worker_id)
    worker = models.CharField(max_length=120, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=models.F("total")) | models.Q(total=0),
                name="job_progress_le_total",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.status}"


class WorkerBeat(models.Model):
    """A worker process's last sign of life (``/healthz?full=1`` reads it)."""

    ident = models.CharField(max_length=120, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.ident} {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ImportBatch(models.Model):
    """One imported file: what it was, who loaded it, what it changed (SPEC section 10).

    ``state``: ``done`` (written), ``refused`` (an upload of the import page or the API that
    was refused: kept in the history with its errors file, nothing of it written) or
    ``undone`` (reversed by ``ansinh import undo``). ``undo`` describes the per-batch tables
    holding the prior values of the rows the batch updated and the keys of those it created
    (``core.importer.undo``); ``touched`` the units and the first date whose figures it changed."""

    class State(models.TextChoices):
        DONE = "done"
        REFUSED = "refused"
        UNDONE = "undone"

    kind = models.CharField(max_length=32)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DONE)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo = models.JSONField(null=True, blank=True)
    touched = models.JSONField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.at:%Y-%m-%d})"


class DocumentRegister(models.Model):
    """The register of outgoing documents of one issuing unit (the province's agency or an
    office) for one kind of document (KH, BC, TB): numbers run from 01 each calendar year
    (Decree 30/2020/NĐ-CP). A unit issues a kind of document only once its register is open
    (``ansinh.core.documents.register_open``)."""

    unit = models.ForeignKey("geography.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8)
    symbol = models.CharField(max_length=16, default="BHXH")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind"], name="document_register_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind}-{self.symbol}"


class DocumentNumber(models.Model):
    """One number given from a register: once, when the document is issued."""

    register = models.ForeignKey(DocumentRegister, on_delete=models.PROTECT, related_name="numbers")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=400)
    ref_type = models.CharField(max_length=32, blank=True, default="")
    ref_id = models.CharField(max_length=64, blank=True, default="")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_by_name = models.CharField(max_length=150, blank=True, default="")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "year", "number"], name="document_number_unique"
            ),
            models.UniqueConstraint(
                fields=["ref_type", "ref_id"],
                condition=~models.Q(ref_type=""),
                name="document_number_ref_unique",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="document_number_ge1"),
        ]

    def __str__(self) -> str:
        return f"{self.number:02d}/{self.register.kind}-{self.register.symbol} ({self.year})"
