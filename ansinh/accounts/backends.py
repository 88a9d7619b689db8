"""The login backend: Django's ``ModelBackend`` reading the login's unit with it.

Every page and API call of a signed-in user asks for the user's unit (the access door's
scope, the header), so reading both in one query saves a round trip to the database on
every request (issue 22: the dashboard under load)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from ansinh.accounts.models import User


class UnitModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("unit").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
