"""Logins, their role and their unit or organisation; API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin"
        PROVINCE = "province"
        OFFICE = "office"
        PARTNER = "partner"
        VIEWER = "viewer"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    unit = models.ForeignKey(
        "geography.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org = models.CharField(max_length=32, blank=True, default="")
    # set when an admin gives the password (a new login, a reset): the user must choose their
    # own at the next login before anything else opens
    must_change_password = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="partner") | ~Q(org=""), name="partner_has_org"
            ),
        ]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "ans_" + secrets.token_urlsafe(32)

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"
