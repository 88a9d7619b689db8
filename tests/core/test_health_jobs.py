"""/healthz, /metrics, the reaper, the daily jobs and the nightly backup's retention
(issue 21 items 3 and 5), through HTTP and the services the worker calls."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from ansinh.accounts.access import SYSTEM
from ansinh.accounts.models import User
from ansinh.accounts.services import token_create
from ansinh.core import jobs, words
from ansinh.core.backup import backup_nightly
from ansinh.core.models import Job, WorkerBeat
from ansinh.geography.models import Unit
from ansinh.imports.jobs import uploads_prune

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(name: str, role: str) -> User:
    unit = Unit.objects.get_or_create(
        code="KH", defaults={"name": "Khánh Hòa", "level": "province", "path": "KH/"}
    )[0]
    return User.objects.create_user(username=name, password="x-Strong-Pass-9", role=role, unit=unit)


def test_healthz_plain_and_full() -> None:
    c = Client()
    r = c.get("/healthz")
    assert (r.status_code, r.content) == (200, b"ok")
    r = c.get("/healthz?full=1")
    assert r.status_code == 503  # no worker has run yet
    assert r.json() == {
        "status": "degraded",
        "database": "ok",
        "worker": "down",
        "jobs": {"queued": 0, "running": 0},
    }
    jobs.worker_beat(ident=jobs.worker_id())
    r = c.get("/healthz?full=1")
    assert r.status_code == 200 and r.json()["worker"] == "ok"
    WorkerBeat.objects.update(seen_at=timezone.now() - dt.timedelta(minutes=5))
    assert c.get("/healthz?full=1").json()["worker"] == "down"


def test_metrics_for_admins_only() -> None:
    admin, tinh = _user("admin", "admin"), _user("tinh", "province")
    assert Client().get("/metrics").status_code == 404
    c = Client()
    c.force_login(tinh)
    assert c.get("/metrics").status_code == 404
    key = token_create(actor=SYSTEM, user=tinh)
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    key = token_create(actor=SYSTEM, user=admin)
    r = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200
    text = r.content.decode()
    assert 'ansinh_up{part="database"} 1.0' in text
    assert 'ansinh_users_active{role="admin"} 1.0' in text
    assert 'ansinh_users_active{role="province"} 1.0' in text
    c.force_login(admin)
    assert c.get("/metrics").status_code == 200


def test_reaper_fails_dead_and_lost_jobs_only() -> None:
    now = timezone.now()
    alive = Job.objects.create(kind="import", status="running", worker=jobs.worker_id())
    dead = Job.objects.create(kind="import", status="running", worker=f"{jobs.worker_id()}x")
    # another host: cannot be told from here, left alone
    elsewhere = Job.objects.create(kind="import", status="running", worker="otherhost:1:1")
    lost = Job.objects.create(kind="import", status="queued")
    Job.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(minutes=5))
    fresh = Job.objects.create(kind="import", status="queued")
    assert sorted(jobs.jobs_reap()) == sorted([dead.pk, lost.pk])
    states = dict(Job.objects.values_list("pk", "status"))
    assert states == {
        alive.pk: "running",
        dead.pk: "failed",
        elsewhere.pk: "running",
        lost.pk: "failed",
        fresh.pk: "queued",
    }
    message = Job.objects.get(pk=dead.pk).message
    assert "không có gì được ghi" in words.shown(message)
    with translation.override("en"):
        assert "nothing was written" in words.shown(message)
    # the job's page reads it in the reader's language
    client = Client()
    client.force_login(_user("a1", "admin"))
    client.cookies["django_language"] = "en"
    page = client.get(f"/jobs/{dead.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "nothing was written" in page and "msgid" not in page
    client.cookies["django_language"] = "vi"
    page = client.get(f"/jobs/{dead.pk}/").content.decode()
    assert "không có gì được ghi" in page
    assert jobs.jobs_reap() == []  # idempotent


def test_daily_jobs_start_once_a_day(monkeypatch: Any) -> None:
    ran: list[int] = []
    monkeypatch.setattr(jobs, "_DAILY", {"test.daily": dt.time(2, 0)})
    jobs.job_kind_register(kind="test.daily", fn=lambda j: ran.append(j.pk) or {})
    tz = timezone.get_current_timezone()
    before = dt.datetime(2026, 3, 2, 1, 59, tzinfo=tz)
    assert jobs.jobs_schedule_due(now=before) == []
    at = dt.datetime(2026, 3, 2, 2, 0, tzinfo=tz)
    started = jobs.jobs_schedule_due(now=at)
    assert len(started) == 1 and ran == [started[0].pk]
    Job.objects.filter(pk=started[0].pk).update(created_at=at)
    assert jobs.jobs_schedule_due(now=at + dt.timedelta(hours=3)) == []
    assert len(jobs.jobs_schedule_due(now=at + dt.timedelta(days=1))) == 1


@pytest.mark.django_db(transaction=True)
def test_nightly_backup_keeps_the_last_days(
    settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ANSINH_HOME", str(tmp_path))
    folder = tmp_path / "backups"
    folder.mkdir()
    for days in (1, 6, 7, 30):
        day = dt.date(2026, 3, 10) - dt.timedelta(days=days)
        (folder / f"ansinh-{day.isoformat()}.sqlite3").write_bytes(b"old")
    (folder / "notes.txt").write_text("kept")
    out = backup_nightly(keep_days=7, today=dt.date(2026, 3, 10))
    names = sorted(p.name for p in folder.iterdir())
    suffix = Path(out["file"]).suffix
    assert out["file"] == f"ansinh-2026-03-10{suffix}" and out["bytes"] > 0
    assert sorted(out["removed"]) == ["ansinh-2026-02-08.sqlite3", "ansinh-2026-03-03.sqlite3"]
    assert names == sorted(
        [
            "ansinh-2026-03-04.sqlite3",
            "ansinh-2026-03-09.sqlite3",
            f"ansinh-2026-03-10{suffix}",
            "notes.txt",
        ]
    )


def test_uploads_of_failed_imports_are_pruned_after_a_week(settings: Any, tmp_path: Path) -> None:
    settings.UPLOAD_DIR = tmp_path
    old, new, busy = tmp_path / "old.csv", tmp_path / "new.csv", tmp_path / "busy.csv"
    for f in (old, new, busy):
        f.write_text("x")
    week = time.time() - 8 * 86400
    os.utime(old, (week, week))
    os.utime(busy, (week, week))
    Job.objects.create(kind="import", status="queued", params={"path": str(busy)})
    assert uploads_prune(None) == {"removed": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.csv", "new.csv"]
