"""Reads of the accounts app: the list of logins and their lock-outs (access: ``access``)."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet

from ansinh.accounts.access import Actor, may
from ansinh.accounts.models import User
from ansinh.core.models import Job


def users_list() -> QuerySet[Any]:
    """Every login, by name, with its unit (admins' page)."""
    return User.objects.select_related("unit").order_by("username")


def failed_attempts(username: str) -> int:
    """Failed logins of a name still counted by django-axes (all addresses)."""
    return sum(
        AccessAttempt.objects.filter(username=username).values_list(
            "failures_since_start", flat=True
        )
    )


def locked_usernames(usernames: list[str] | None = None) -> set[str]:
    """Names locked out from at least one address (AXES_FAILURE_LIMIT failures or more)."""
    qs = AccessAttempt.objects.filter(
        failures_since_start__gte=getattr(settings, "AXES_FAILURE_LIMIT", 5)
    )
    if usernames is not None:
        qs = qs.filter(username__in=usernames)
    return set(qs.values_list("username", flat=True))


def job_get(*, actor: Actor, job_id: int) -> Job | None:
    """A job the actor may see (``see_all_imports``, else its own), else None."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if may(actor, "see_all_imports") or (job.created_by_id and job.created_by_id == actor.pk):
        return job
    return None
