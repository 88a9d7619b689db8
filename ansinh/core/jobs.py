"""Background jobs: a ``Job`` row that pages and the API poll, run by a worker process.

The queue is django-tasks with its database backend (django-tasks-db): no broker, the same
database as the data, so ``make demo`` needs nothing more, and a job survives the web process.
Each app registers the kinds of job it runs in its ``AppConfig.ready``
(``job_kind_register(kind=…, fn=…)``; ``fn(job)`` returns the result dict, a ``_status`` key
may set the final status, e.g. ``refused``). ``job_enqueue`` writes the ``Job`` row and, when
the caller's transaction commits, one task for it; ``ansinh worker`` (started by ``ansinh
serve`` and ``make demo``) runs them.

A job runs at most once: the worker claims it with one conditional UPDATE (``queued`` →
``running``, stamped with the worker's id) and a second claim finds nothing to do. A worker
that dies (killed, the machine restarted) leaves its job ``running``; ``jobs_reap`` — run by
every worker when it starts and every ``REAP_SECONDS`` after — marks such a job ``failed`` with
the reason. A worker's id names its host, process id and process start time, so a job whose
process is gone on this host is known dead at once, without waiting for a timeout. An
import's upload stays for the retry button; nothing of a killed job is half-written (each job
writes in one transaction).

Tests (``ANSINH_JOBS_INLINE``) run a job inside the call that starts it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import OperationalError, close_old_connections, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from ansinh.core import words
from ansinh.core.actors import SYSTEM, actor_required
from ansinh.core.models import Job, WorkerBeat
from ansinh.core.services import audit_record
from config import env

JobFn = Callable[[Job], dict[str, Any]]

logger = logging.getLogger(__name__)

REAP_SECONDS = 20  # a dead worker's job is failed within this long of a worker running
QUEUED_GRACE = dt.timedelta(seconds=60)  # a queued job with no task after this is lost

_KINDS: dict[str, JobFn | str] = {}


def job_kind_register(*, kind: str, fn: JobFn | str) -> None:
    """Declare how jobs of ``kind`` run (from an app's ``AppConfig.ready``): a function, or
    its dotted path, imported when a job of the kind first runs — an app's ready() then does
    not load the import pipeline or the mail code into every command and page process."""
    _KINDS[kind] = fn


def _job_fn(kind: str) -> JobFn:
    fn = _KINDS.get(kind)
    if fn is None:
        raise ValueError(f"unknown job kind {kind!r}")
    if isinstance(fn, str):
        fn = _KINDS[kind] = import_string(fn)
    return fn


def job_kinds() -> list[str]:
    return sorted(_KINDS)


def _proc_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), '' where unknown: with the
    pid it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # the command name (field 2) may hold spaces; fields after its ')' are plain
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def worker_id() -> str:
    """``host:pid:start`` of this process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid)}"


def worker_alive(ident: str) -> bool | None:
    """Is the worker ``ident`` still running? None where it cannot be told from here
    (another host)."""
    host, _sep, rest = ident.partition(":")
    pid_text, _sep, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    now = _proc_start(int(pid_text))
    return bool(now) and now == start


def job_create(*, kind: str, params: dict[str, Any], actor: Any) -> Job:
    """Write a queued job (audited). ``actor`` is a user, or None for the system."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, params=params, created_by=actor if getattr(actor, "pk", None) else None
        )
        audit_record(
            actor=actor,
            action="job.create",
            object_type="job",
            object_id=str(job.pk),
            after={"kind": kind},
        )
    return job


def job_enqueue(*, kind: str, params: dict[str, Any], actor: Any) -> Job:
    """Create a job of a registered ``kind`` and hand it to the worker once the caller's
    transaction commits (inline in tests). The job runs in the language of the caller."""
    if kind not in _KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    params = {**params, "lang": translation.get_language() or "vi"}
    actor_required(actor)
    job = job_create(kind=kind, params=params, actor=actor)
    if env.jobs_inline():
        job_execute(job_id=job.pk, worker="inline")
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


@task()
def run_job(job_id: int) -> None:
    """The one task of the queue: run the job ``job_id`` (django-tasks calls this)."""
    job_execute(job_id=job_id, worker=worker_id())


def job_execute(*, job_id: int, worker: str) -> bool:
    """Claim the job and run it; False when it was not queued (already run or running)."""
    if not _claim(job_id=job_id, worker=worker):
        return False
    job = Job.objects.get(pk=job_id)
    try:
        fn = _job_fn(job.kind)
        with translation.override(job.params.get("lang") or "vi"):
            result = fn(job)
        status = result.pop("_status", Job.Status.DONE) if isinstance(result, dict) else "done"
        Job.objects.filter(pk=job_id).update(
            status=status, result=result, finished_at=timezone.now()
        )
    except Exception as exc:  # the job records the failure; the page shows it
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED,
            message=f"{type(exc).__name__}: {exc}",
            result={"traceback": traceback.format_exc(limit=5)},
            finished_at=timezone.now(),
        )
    return True


def _claim(*, job_id: int, worker: str) -> bool:
    """queued → running, stamped with the worker; waits while SQLite is busy with an import
    run from the command line (the job then runs after it, never beside it)."""
    while True:
        try:
            return bool(
                Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
                    status=Job.Status.RUNNING, started_at=timezone.now(), worker=worker[:120]
                )
            )
        except OperationalError as exc:
            if "locked" not in str(exc).lower():
                raise
            close_old_connections()
            time.sleep(1)


# stored as words to be read in the reader's language (``core.words``): the reaper runs in
# the server's
DIED = words.stored(
    gettext_noop(
        "Máy chủ hoặc tiến trình xử lý đã dừng khi việc này đang chạy; không có gì được ghi."
    )
)


def jobs_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Fail the jobs whose worker died (``running`` under a process that is gone) and those
    queued long ago with no task to run them; returns their ids. Safe to run anywhere, any
    number of times; a database busy with an import is left for the next round."""
    now = now or timezone.now()
    dead: list[int] = []
    try:
        for job in Job.objects.filter(status=Job.Status.RUNNING).only("id", "worker"):
            if job.worker and job.worker != "inline" and worker_alive(job.worker) is False:
                dead.append(job.pk)
        lost = Job.objects.filter(
            status=Job.Status.QUEUED, created_at__lt=now - QUEUED_GRACE
        ).exclude(pk__in=_queued_task_job_ids())
        dead += list(lost.values_list("pk", flat=True))
        if dead:
            with transaction.atomic():
                n = Job.objects.filter(
                    pk__in=dead, status__in=[Job.Status.RUNNING, Job.Status.QUEUED]
                ).update(status=Job.Status.FAILED, message=DIED, finished_at=now)
                if n:
                    audit_record(
                        actor=SYSTEM,
                        action="job.reap",
                        object_type="job",
                        object_id=",".join(map(str, dead))[:128],
                        after={"jobs": dead},
                    )
    except OperationalError:  # SQLite busy with a long import: the next round does it
        return []
    return dead


def _queued_task_job_ids() -> set[int]:
    """Ids of the jobs that a task still waiting in the queue (or running) will run."""
    ids: set[int] = set()
    for args_kwargs in DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).values_list(
        "args_kwargs", flat=True
    ):
        args = (args_kwargs or {}).get("args") or []
        if args and isinstance(args[0], int):
            ids.add(args[0])
    return ids


def worker_seen(*, within: dt.timedelta = dt.timedelta(seconds=90)) -> bool:
    """Has a worker been running lately (its heartbeat, or a job it runs now)?"""
    since = timezone.now() - within
    if WorkerBeat.objects.filter(seen_at__gte=since).exists():
        return True
    return any(
        worker_alive(w)
        for w in Job.objects.filter(status=Job.Status.RUNNING).values_list("worker", flat=True)
        if w
    )


def worker_beat(*, ident: str) -> None:
    """Record that the worker ``ident`` is alive (skipped while SQLite is busy)."""
    try:
        WorkerBeat.objects.update_or_create(ident=ident[:120], defaults={"seen_at": timezone.now()})
        WorkerBeat.objects.filter(seen_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
    except OperationalError:
        pass


# ------------------------------------------------------------------ daily jobs

_DAILY: dict[str, dt.time] = {}


def job_daily_register(*, kind: str, at: dt.time) -> None:
    """Run a job of ``kind`` (registered) once a day, at or after ``at`` (local time), by the
    worker — the nightly backup, the follow-up worklist sync."""
    _DAILY[kind] = at


def jobs_schedule_due(*, now: dt.datetime | None = None) -> list[Job]:
    """Enqueue each daily job whose time has come today and that has not been started since
    (a job of that kind created after today's time). Returns the jobs enqueued."""
    now = timezone.localtime(now or timezone.now())
    started: list[Job] = []
    for kind, at in sorted(_DAILY.items()):
        due = timezone.make_aware(dt.datetime.combine(now.date(), at))
        if now < due or Job.objects.filter(kind=kind, created_at__gte=due).exists():
            continue
        started.append(
            job_enqueue(kind=kind, params={"daily": now.date().isoformat()}, actor=SYSTEM)
        )
    return started


# ------------------------------------------------------------------ the worker process


def worker_run(
    *, batch: bool = False, interval: float = 1.0, parent_pid: int | None = None
) -> None:
    """Run jobs until stopped (``ansinh worker``): django-tasks-db's worker loop, and beside
    it a thread that records a heartbeat, fails the jobs of dead workers and starts the daily
    jobs every REAP_SECONDS. ``parent_pid``: stop (after the job at hand) when that process —
    the ``ansinh serve`` that started this worker — is gone. ``batch``: run what is queued,
    then return (tests)."""
    ident = worker_id()
    worker = Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=ident,
        excluded_queue_names=[],
    )
    worker_beat(ident=ident)
    jobs_reap()
    stop = threading.Event()

    def housekeeping() -> None:
        while not stop.wait(REAP_SECONDS):
            try:
                worker_beat(ident=ident)
                jobs_reap()
                if not batch:
                    jobs_schedule_due()
            except Exception:  # a round that fails is retried by the next one
                logger.exception("worker housekeeping failed")
            finally:
                close_old_connections()
            if parent_pid is not None and os.getppid() != parent_pid:
                logger.warning("ansinh serve is gone: the worker stops after the job at hand")
                worker.running = False

    keeper = threading.Thread(target=housekeeping, name="ansinh-worker-housekeeping", daemon=True)
    keeper.start()
    if threading.current_thread() is threading.main_thread():
        worker.configure_signals()
    try:
        worker.run()
    finally:
        stop.set()
        if threading.current_thread() is threading.main_thread():
            worker.reset_signals()
