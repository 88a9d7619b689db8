"""Writes of logins and tokens."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.utils import timezone

from ansinh.accounts.models import ApiToken, User
from ansinh.core.codes import ORG_CODES, ROLES
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit


class UserError(ValueError):
    """A refusal in the user's words."""


def user_create(
    *,
    actor: Any,
    username: str,
    role: str,
    unit_code: str | None = None,
    org: str | None = None,
    password: str | None = None,
    validate: bool = True,
) -> User:
    if role not in ROLES:
        raise UserError(f"role: {role}")
    if User.objects.filter(username=username).exists():
        raise UserError(f"exists: {username}")
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise UserError(f"unit: {unit_code}")
    if role in {"office", "viewer"} and unit is None:
        raise UserError("unit required")
    if role == "partner" and not org:
        raise UserError("org required")
    if org and org not in ORG_CODES:
        raise UserError(f"org: {org}")
    user = User(username=username, role=role, unit=unit, org=org or "")
    if role == "admin":
        user.is_staff = True
        user.is_superuser = True
    if password:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            object_type="user",
            object_id=username,
            after={"role": role, "unit": unit_code, "org": org},
        )
    return user


def user_set_password(*, actor: Any, user: User, password: str) -> None:
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor, action="user.set_password", object_type="user", object_id=user.username
        )


def token_create(*, actor: Any, user: User) -> str:
    key = ApiToken.new_key()
    with transaction.atomic():
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
        audit_record(
            actor=actor, action="token.create", object_type="user", object_id=user.username
        )
    return key


TOKEN_USE_RESOLUTION = dt.timedelta(minutes=15)


def token_authenticate(*, key: str) -> User | None:
    tok = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=ApiToken.hash(key))
        .first()
    )
    if tok is None or not tok.user.is_active:
        return None
    now = timezone.now()
    if tok.last_used_at is None or now - tok.last_used_at > TOKEN_USE_RESOLUTION:
        _token_touch(pk=tok.pk, now=now)
    return tok.user


def _token_touch(*, pk: int, now: dt.datetime) -> None:
    """Record a token's use: at most once a quarter hour, and never waiting — an import on
    SQLite holds its only write lock for minutes, and a read must not wait for (or fail on)
    bookkeeping, so there the write is tried once on a connection of its own and given up
    when the database is busy."""
    if connection.vendor != "sqlite":
        ApiToken.objects.filter(pk=pk).update(last_used_at=now)
        return
    table = ApiToken._meta.db_table
    raw = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=0.05)
    try:
        with raw:
            raw.execute(
                f'UPDATE "{table}" SET last_used_at = ? WHERE id = ?',
                [now.isoformat(sep=" ").replace("+00:00", ""), pk],
            )
    except sqlite3.OperationalError:
        pass
    finally:
        raw.close()
