from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if user is not None and user.is_authenticated else ""
    return {
        "nav_role": role,
        "nav_can_people": role in {"admin", "province", "office"},
        "nav_is_admin": role == "admin",
        # the same roles as the pages' own doors (imports.selectors.IMPORT_ROLES,
        # outreach.selectors.PLAN_ROLES); tests/accounts/test_nav.py opens every link per role
        "nav_can_import": role in {"admin", "province", "office"},
        "nav_can_plan": role in {"admin", "province", "office", "viewer"},
    }
