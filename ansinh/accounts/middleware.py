"""A login whose password an admin set (a new login, a reset) must choose its own first."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

# what stays open before the new password is set
OPEN_PREFIXES = ("/password/", "/logout/", "/login/", "/i18n/", "/static/", "/healthz")


class MustChangePasswordMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                # the API through the browser's session: the same rule, answered as JSON (a
                # token, given for a program by an admin, is not a password and is not held)
                return JsonResponse(
                    {"detail": _("Hãy đổi mật khẩu trước khi dùng hệ thống: /password/")},
                    status=403,
                )
            return redirect("/password/")
        return self.get_response(request)
