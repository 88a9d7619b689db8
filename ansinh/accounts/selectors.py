"""The one door for access (DESIGN.md rule 3) and masking of person data."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, QuerySet

from ansinh.accounts.models import User
from ansinh.geography.models import Unit
from ansinh.geography.selectors import unit_root

PERSON_ROLES = frozenset({"admin", "province", "office"})


def actor_root_unit(actor: Any) -> Unit | None:
    """The top unit the actor may see: the province for admin/province (and the CLI),
    the user's own unit otherwise."""
    role = getattr(actor, "role", None)
    if actor is None or role in {"admin", "province"}:
        return getattr(actor, "unit", None) or unit_root()
    return getattr(actor, "unit", None)


def _scope_path(actor: Any) -> str | None:
    """The path prefix of the units the actor may see: "" everything (admin, province, the
    command line), None nothing (no unit), else the actor's own unit's path."""
    role = getattr(actor, "role", None)
    if actor is None or role in {"admin", "province"}:
        return ""
    unit = getattr(actor, "unit", None)
    return None if unit is None else unit.path


def allowed_units(actor: Any) -> QuerySet[Unit]:
    """Every unit the actor may see. ``None`` actor = the command line (everything)."""
    path = _scope_path(actor)
    if path is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=path) if path else Unit.objects.all()


def allowed_unit_ids(actor: Any) -> set[str]:
    return set(allowed_units(actor).values_list("code", flat=True))


def unit_in_scope(*, actor: Any, unit: Unit) -> bool:
    """Whether ``unit`` is among ``allowed_units(actor)``, without a query (a page asks it of
    a few units: the breadcrumb's ancestors)."""
    path = _scope_path(actor)
    return path is not None and unit.path.startswith(path)


def unit_visible(*, actor: Any, code: str) -> Unit | None:
    """The unit if the actor may see it, else None (answered as 404)."""
    return allowed_units(actor).filter(code=code).first()


def unit_filter(actor: Any, field: str = "unit") -> Q:
    """A Q filtering a queryset whose ``field`` is a unit FK to what the actor may see."""
    path = _scope_path(actor)
    if path is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": path}) if path else Q()


def can_see_people(actor: Any) -> bool:
    return actor is None or getattr(actor, "role", None) in PERSON_ROLES


def mask_name(name: str) -> str:
    """``Nguyễn Văn An`` → ``Ng*** V** A`` (first letters kept, the last word's initial)."""
    words = name.split()
    if not words:
        return ""
    out = []
    for i, w in enumerate(words):
        if i == len(words) - 1:
            out.append(w[:1])
        elif i == 0:
            out.append(w[:2] + "***")
        else:
            out.append(w[:1] + "**")
    return " ".join(out)


def mask_phone(phone: str) -> str:
    p = phone.strip()
    if len(p) <= 4:
        return "*" * len(p)
    return p[:2] + "*" * (len(p) - 4) + p[-2:]


def mask_id(value: str) -> str:
    v = value.strip()
    if len(v) <= 4:
        return "*" * len(v)
    return v[:2] + "*" * (len(v) - 4) + v[-2:]


def mask_date(value: Any) -> str:
    if not value:
        return ""
    return f"**/**/{value.year}" if hasattr(value, "year") else "****"


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
