"""How far a running import has come, written by the worker to a small file the page reads."""

from __future__ import annotations

import json
import os
import pathlib
import time
from typing import Any

from django.conf import settings

from ansinh.core.models import Job


def progress_path(job_id: int) -> pathlib.Path:
    """Where a running import writes how far it has come: its own transaction hides its
    progress from other connections (and on SQLite holds the only write lock), so the worker
    writes it to a small file that the page reads."""
    return pathlib.Path(settings.UPLOAD_DIR) / "progress" / f"job_{int(job_id)}.json"


def progress_for(job: Job) -> Any:
    state = {"last": 0.0}
    path = progress_path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - state["last"] >= 0.5 or done >= total:
            state["last"] = now
            part = path.with_suffix(".part")
            part.write_text(json.dumps([done, total]))
            os.replace(part, path)

    return progress


def live_progress(job_id: int) -> tuple[int, int] | None:
    try:
        done, total = json.loads(progress_path(job_id).read_text())
    except (OSError, ValueError, TypeError):
        return None
    return int(done), int(total)
