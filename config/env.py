"""The only place that reads ANSINH_* environment variables (DESIGN.md rule 7)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("ANSINH_HOME", "./.ansinh")).resolve()


def database_url() -> str | None:
    return os.environ.get("ANSINH_DATABASE_URL") or None


def lang() -> str:
    value = os.environ.get("ANSINH_LANG", "vi").strip().lower()
    return "en" if value.startswith("en") else "vi"


def secret_key() -> str | None:
    return os.environ.get("ANSINH_SECRET_KEY") or None


def debug() -> bool:
    return os.environ.get("ANSINH_DEBUG", "") in {"1", "true", "yes"}


def allowed_hosts() -> list[str]:
    raw = os.environ.get("ANSINH_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
    return [h.strip() for h in raw.split(",") if h.strip()]


def https() -> bool:
    """Set when served behind a TLS-terminating reverse proxy."""
    return os.environ.get("ANSINH_HTTPS", "") in {"1", "true", "yes"}


def jobs_inline() -> bool:
    """Run background jobs inside the calling thread (tests)."""
    return os.environ.get("ANSINH_JOBS_INLINE", "") in {"1", "true", "yes"}


def backup_keep_days() -> int:
    """How many days of nightly backups to keep (``ANSINH_BACKUP_KEEP``, default 7)."""
    raw = os.environ.get("ANSINH_BACKUP_KEEP", "7").strip()
    return max(1, int(raw)) if raw.isdigit() else 7


def worker_in_serve() -> bool:
    """Does ``ansinh serve`` start the job worker beside the web server (default yes;
    ``ANSINH_WORKER=0`` where the worker runs as a service of its own)?"""
    return os.environ.get("ANSINH_WORKER", "1") not in {"0", "false", "no"}


def rebuild_parts() -> int | None:
    """``ansinh kpi --rebuild`` as this many statements side by side (1: one); unset: one
    per core when the spells are many."""
    raw = os.environ.get("ANSINH_REBUILD_PARTS", "").strip()
    return max(1, int(raw)) if raw.isdigit() else None


def messaging() -> dict[str, str | int | bool]:
    """Where reminders go (issue 20): the SMTP server for e-mail, the SMS gateway's and Zalo
    ZNS's HTTP endpoints and keys. Unset = that channel is not configured (messages wait)."""

    def num(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name, "") or default)
        except ValueError:
            return default

    return {
        "smtp_host": os.environ.get("ANSINH_SMTP_HOST", ""),
        "smtp_port": num("ANSINH_SMTP_PORT", 25),
        "smtp_user": os.environ.get("ANSINH_SMTP_USER", ""),
        "smtp_password": os.environ.get("ANSINH_SMTP_PASSWORD", ""),
        "smtp_starttls": os.environ.get("ANSINH_SMTP_STARTTLS", "") in {"1", "true", "yes"},
        "smtp_from": os.environ.get("ANSINH_SMTP_FROM", "ansinh@localhost"),
        "sms_url": os.environ.get("ANSINH_SMS_URL", ""),
        "sms_key": os.environ.get("ANSINH_SMS_KEY", ""),
        "zns_url": os.environ.get("ANSINH_ZNS_URL", ""),
        "zns_key": os.environ.get("ANSINH_ZNS_KEY", ""),
        "timeout": num("ANSINH_MESSAGING_TIMEOUT", 10),
    }


def import_max_upload_mb() -> int:
    """The largest file the import page and the API take, in MB (default 200)."""
    return _positive_int("ANSINH_IMPORT_MAX_MB", 200)


def import_max_xlsx_mb() -> int:
    """The most an XLSX may decompress to, in MB (default 256): a zip bomb is refused."""
    return _positive_int("ANSINH_IMPORT_MAX_XLSX_MB", 256)


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default
