"""Django settings for ansinh: one file; values from config/env.py."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = BASE_DIR / "ansinh"
HOME = env.home()


def _secret_key() -> str:
    key = env.secret_key()
    if key:
        return key
    path = HOME / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        HOME.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
    except OSError:
        pass
    return key


SECRET_KEY = _secret_key()
DEBUG = env.debug()
ALLOWED_HOSTS = env.allowed_hosts()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "ansinh.core",
    "ansinh.geography",
    "ansinh.accounts",
    "ansinh.registry",
    "ansinh.targets",
    "ansinh.monitoring",
    "ansinh.outreach",
    "ansinh.arrears",
    "ansinh.imports",
    "ansinh.reports",
    "ansinh.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ansinh.core.middleware.LanguageMiddleware",
    "ansinh.core.middleware.UploadLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ansinh.accounts.middleware.MustChangePasswordMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ansinh.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "ansinh.accounts.context_processors.nav",
            ],
        },
    }
]

_url = env.database_url()
if _url:
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=60)}
else:
    HOME.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(HOME / "ansinh.sqlite3"),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                # case_sensitive_like: codes are case-sensitive (SPEC section 2), and
                # "a unit and all below it" is ``path LIKE 'KH/O1/%'`` — SQLite's LIKE
                # otherwise folds ASCII case (O1 would take in o1's communes) and cannot use
                # the index on ``path``
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY; "
                    "PRAGMA mmap_size=1073741824; PRAGMA case_sensitive_like=ON;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that reads the login's unit in the same query (one round trip a request)
    "ansinh.accounts.backends.UnitModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "ansinh.accounts.validators.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
# locked per (username, address) pair: five wrong passwords lock that name from that address
# only — neither every user behind one address nor a known name from anywhere (issue 21)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "ansinh.accounts.views.lockout"  # a Vietnamese page, HTTP 429
AXES_CLIENT_IP_CALLABLE = "ansinh.accounts.views.client_ip"  # X-Forwarded-For behind a proxy

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env.https():
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = True
# HSTS preload binds the agency's whole domain to HTTPS in every browser for good: a decision
# for its network administrators (docs/deploy.md), not a default of this application
SILENCED_SYSTEM_CHECKS = ["security.W021"]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# The language switch in the page header writes this cookie; it outlives the session so that
# the choice persists across logins (ansinh.core.middleware.LanguageMiddleware reads it).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = env.https()
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_DIR = HOME / "uploads"
# bounded bad input (issue 21 item 4): an upload over this is refused before it is read; a
# line, a cell and an XLSX's decompressed contents over these refuse the file at once
IMPORT_MAX_UPLOAD_BYTES = env.import_max_upload_mb() << 20
IMPORT_MAX_LINE_BYTES = 1 << 20
IMPORT_MAX_CELL_BYTES = 32 << 10
IMPORT_MAX_XLSX_BYTES = env.import_max_xlsx_mb() << 20

# Figures of the dashboard and /api/kpi, per data version (ansinh.core.cache): in each web
# worker's memory; an import or snapshot write makes the old entries unreachable.
# Background jobs (ansinh.core.jobs): django-tasks with its database backend; ``ansinh worker``
# (started by ``ansinh serve``) runs them. Tests run them inline (ANSINH_JOBS_INLINE).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "ansinh",
        "TIMEOUT": 6 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# reminders by e-mail, SMS and Zalo ZNS (ansinh/arrears/reminders.py; ANSINH_SMTP_*, _SMS_*,
# _ZNS_* in config/env.py)
ANSINH_MESSAGING = env.messaging()
ANSINH_REBUILD_PARTS = env.rebuild_parts()
