"""Small helpers about the request that several apps need."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
