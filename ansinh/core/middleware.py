from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.translation import gettext as _

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy without inline script on every answer, the API docs page
    included (its Swagger UI is served from the package's static files; its settings are a
    JSON data block, not a script)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        return response


class LanguageMiddleware:
    """Vietnamese first: the language is the one the user chose with the switch in the page
    header (the ``django_language`` cookie that Django's ``set_language`` view writes), else
    Vietnamese — whatever the browser's Accept-Language says (Django's LocaleMiddleware would
    follow it and greet an English-configured browser in English)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        code = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code  # type: ignore[attr-defined]
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", code)
        return response


class UploadLimitMiddleware:
    """An upload larger than ``IMPORT_MAX_UPLOAD_BYTES`` is refused from its announced size,
    before anything of it is read (no temporary file, no parsing): 413 with the limit in the
    user's words — JSON under /api/, a short page elsewhere (issue 21 item 4)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 0) or 0)
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if limit and size > limit and request.method in {"POST", "PUT", "PATCH"}:
            message = _(
                "Tệp tải lên quá lớn: tối đa %(n)s. Hãy chia tệp thành nhiều tệp nhỏ hơn."
            ) % {"n": f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} kB"}
            if request.path.startswith("/api/"):
                response: HttpResponse = JsonResponse({"detail": message}, status=413)
            else:
                response = HttpResponse(
                    f'<!doctype html><meta charset="utf-8"><title>413</title>'
                    f'<p class="error">{escape(message)}</p><p><a href="/imports/">←</a></p>',
                    status=413,
                    content_type="text/html; charset=utf-8",
                )
            response["Connection"] = "close"
            return response
        return self.get_response(request)
