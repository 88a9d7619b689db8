"""What the navigation shows: the same permissions as the pages' own doors (``access``);
tests/accounts/test_nav.py opens every link per role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ansinh.accounts.access import can_import, may


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "nav_can_people": signed_in and may(user, "see_people"),
        "nav_is_admin": signed_in and may(user, "manage_users"),
        "nav_can_import": signed_in and can_import(user),
        "nav_can_plan": signed_in and may(user, "see_plans"),
        "nav_can_arrears": signed_in and may(user, "see_arrears"),
        "nav_can_reports": signed_in and may(user, "see_reports"),
        "nav_can_audit": signed_in and may(user, "see_audit"),
        "nav_can_sync_worklists": signed_in and may(user, "manage_arrears"),
    }
