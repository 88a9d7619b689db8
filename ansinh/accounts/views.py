"""Login hardening: the page a locked-out login gets (django-axes, AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ansinh.core.http import client_ip

__all__ = ["LogoutView", "client_ip", "lockout"]


def lockout(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """Too many failed logins: the login page again, with a clear Vietnamese message, 429."""
    minutes = int(round(float(getattr(settings, "AXES_COOLOFF_TIME", 0.25) or 0) * 60))
    message = _(
        "Tài khoản tạm thời bị khóa do đăng nhập sai %(n)s lần liên tiếp. "
        "Vui lòng thử lại sau %(m)s phút hoặc liên hệ quản trị viên."
    ) % {"n": getattr(settings, "AXES_FAILURE_LIMIT", 5), "m": minutes}
    return render(
        request,
        "accounts/login.html",
        {"form": AuthenticationForm(request), "locked_out": True, "lockout_message": message},
        status=429,
    )


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, as Django's) and say so on the login page that follows."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("Bạn đã đăng xuất."))
        return response
