"""Figures cached per data version.

Pages and API answers that cost a computation over the facts (a dashboard, ``/api/kpi``) are
kept in Django's cache under a key that starts with the *data version*: a token that every
import, every snapshot write and every change of the unit tree changes
(``ansinh.monitoring.selectors.data_version``). A new version makes every older entry unreachable, so nothing is ever invalidated by hand and a
stale figure cannot be served. Entries hold no person data and are per process (LocMem, one
per web worker); scope checks and masking run on every request, outside the cache.

While one thread computes an entry, the others asking for the same key wait for it instead
of computing it too (50 users opening the dashboard after an import cost one computation).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

T = TypeVar("T")
_MISS = object()
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _key(namespace: str, version: str, parts: tuple[Any, ...]) -> str:
    digest = hashlib.sha256(repr((version, parts)).encode()).hexdigest()[:40]
    return f"ansinh:{namespace}:{digest}"


def cached(*, namespace: str, version: str, parts: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per (``version``, ``parts``); later calls get a copy of its value."""
    key = _key(namespace, version, parts)
    hit = cache.get(key, _MISS)
    if hit is not _MISS:
        return hit  # type: ignore[no-any-return]
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    try:
        with lock:
            hit = cache.get(key, _MISS)
            if hit is not _MISS:
                return hit  # type: ignore[no-any-return]
            value = compute()
            cache.set(key, value)
            return value
    finally:
        with _GUARD:
            _LOCKS.pop(key, None)
