"""Shared fixtures. Tests go through the doors users use: the CLI, the HTTP client, a browser."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

os.environ.setdefault("ANSINH_JOBS_INLINE", "1")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty figure cache (``ansinh.core.cache``): tests write facts
    through the ORM too, which does not change the data version an import would."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """Each test starts in the default language (Vietnamese): a request in English leaves
    English active in the thread (the locale middleware does not switch back), which would
    leak into the next test's direct calls."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(db: None) -> Callable[..., CliResult]:
    """Run ``ansinh ARGS`` in-process, capturing stdout/stderr and the exit code."""
    from ansinh.cli import main

    def run(*args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")
