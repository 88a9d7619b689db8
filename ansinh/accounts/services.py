"""Writes of logins and tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
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


def token_authenticate(*, key: str) -> User | None:
    tok = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=ApiToken.hash(key))
        .first()
    )
    if tok is None or not tok.user.is_active:
        return None
    ApiToken.objects.filter(pk=tok.pk).update(last_used_at=timezone.now())
    return tok.user
