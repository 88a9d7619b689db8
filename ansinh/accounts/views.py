"""Login hardening: the page a locked-out login gets (django-axes, AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or — behind the TLS reverse proxy that ANSINH_HTTPS
    declares (docs/deploy.md) — the last X-Forwarded-For entry, the one that proxy appended.
    Used by django-axes (AXES_CLIENT_IP_CALLABLE) and by the audit log."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")


def lockout(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """Too many failed logins: the login page again, with a clear Vietnamese message, 429."""
    minutes = int(round(float(getattr(settings, "AXES_COOLOFF_TIME", 0.25) or 0) * 60))
    message = _(
        "Tài khoản tạm thời bị khóa do đăng nhập sai quá %(n)s lần. "
        "Vui lòng thử lại sau %(m)s phút hoặc liên hệ quản trị viên."
    ) % {"n": getattr(settings, "AXES_FAILURE_LIMIT", 5), "m": minutes}
    return render(
        request,
        "accounts/login.html",
        {"form": AuthenticationForm(request), "locked_out": True, "lockout_message": message},
        status=429,
    )
