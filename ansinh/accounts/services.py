"""Writes of logins and tokens."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from axes.utils import reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.access import Actor
from ansinh.accounts.models import ApiToken, User
from ansinh.core import sql as sql_dialect
from ansinh.core.codes import ORG_CODES, ROLES
from ansinh.core.services import audit_record
from ansinh.geography.models import Unit


class UserError(ValueError):
    """A refusal in the user's words."""


def user_create(
    *,
    actor: Actor,
    username: str,
    role: str,
    unit_code: str | None = None,
    org: str | None = None,
    password: str | None = None,
    validate: bool = True,
    must_change_password: bool = False,
) -> User:
    if role not in ROLES:
        raise UserError(f"role: {role}")
    if (
        not username
        or len(username) > 150
        or not all(c.isalnum() or c in "@.+-_" for c in username)
    ):
        raise UserError("username")
    if User.objects.filter(username=username).exists():
        raise UserError(f"exists: {username}")
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise UserError(f"unit: {unit_code}")
    if role in {User.Role.OFFICE, User.Role.VIEWER} and unit is None:
        raise UserError("unit required")
    if role == User.Role.PARTNER and not org:
        raise UserError("org required")
    if org and org not in ORG_CODES:
        raise UserError(f"org: {org}")
    user = User(
        username=username,
        role=role,
        unit=unit,
        org=org or "",
        must_change_password=must_change_password and bool(password),
    )
    if role == User.Role.ADMIN:
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


def _check_role(role: str, unit: Unit | None, org: str) -> None:
    if role not in ROLES:
        raise UserError(f"role: {role}")
    if role in {User.Role.OFFICE, User.Role.VIEWER} and unit is None:
        raise UserError("unit required")
    if role == User.Role.PARTNER and not org:
        raise UserError("org required")
    if org and org not in ORG_CODES:
        raise UserError(f"org: {org}")


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "role": user.role,
        "unit": user.unit_id,
        "org": user.org,
        "is_active": user.is_active,
    }


def user_update(
    *,
    actor: Actor,
    user: User,
    role: str,
    unit_code: str | None,
    org: str | None,
    is_active: bool,
) -> User:
    """Change a login's role, unit or organisation, or (de)activate it. An admin cannot take
    away their own admin role or deactivate themselves (nobody would be left to undo it)."""
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise UserError(f"unit: {unit_code}")
    org = org or ""
    _check_role(role, unit, org)
    if getattr(actor, "pk", None) == user.pk and (role != User.Role.ADMIN or not is_active):
        raise UserError("self")
    before = _snapshot(user)
    with transaction.atomic():
        user.role, user.unit, user.org, user.is_active = role, unit, org, is_active
        user.is_staff = user.is_superuser = role == User.Role.ADMIN
        user.save(update_fields=["role", "unit", "org", "is_active", "is_staff", "is_superuser"])
        after = _snapshot(user)
        if after != before:
            audit_record(
                actor=actor,
                action="user.update",
                object_type="user",
                object_id=user.username,
                before=before,
                after=after,
            )
    return user


def user_reset_password(*, actor: Actor, user: User, password: str) -> None:
    """An admin gives a login a new password (checked by Django's validators); the user must
    choose their own at the next login. The lockout of that name is lifted too."""
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_record(
            actor=actor, action="user.reset_password", object_type="user", object_id=user.username
        )


def user_change_own_password(*, user: User, old: str, new: str) -> None:
    """A user changes their own password: the old one must be right and the new one pass
    Django's validators (``ValidationError`` with their messages otherwise)."""
    if not user.check_password(old):
        raise ValidationError(_("Mật khẩu hiện tại không đúng."))
    if old == new:
        raise ValidationError(_("Mật khẩu mới phải khác mật khẩu hiện tại."))
    validate_password(new, user)
    with transaction.atomic():
        user.set_password(new)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit_record(
            actor=user, action="user.change_password", object_type="user", object_id=user.username
        )


def user_unlock(*, actor: Actor, username: str) -> int:
    """Lift the lockout (django-axes) of a login name: forget its failed attempts from every
    address. Returns how many records were removed."""
    with transaction.atomic():
        removed = int(reset(username=username) or 0)
        audit_record(
            actor=actor,
            action="user.unlock",
            object_type="user",
            object_id=username,
            after={"attempts_removed": removed},
        )
    return removed


def token_create(*, actor: Actor, user: User) -> str:
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
    if sql_dialect.vendor() != "sqlite":
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
