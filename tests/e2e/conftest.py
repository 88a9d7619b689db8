"""Browser tests: Debian's chromium driven by Playwright against the live test server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("ANSINH_SHOTS", tempfile.gettempdir())) / "ansinh-shots"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # a date input in the page's language (dd/mm/yyyy under <html lang="vi">), as a
                # Vietnamese Chrome shows it; Debian's chromium ships only the en-US locale, so
                # --lang alone leaves mm/dd/yyyy
                "--lang=vi-VN",
                "--enable-blink-features=LangAttributeAwareFormControlUI",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    pg.base = live_server.url  # type: ignore[attr-defined]
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # type: ignore[attr-defined]
    yield pg
    ctx.close()


@pytest.fixture
def login(live_server: Any) -> Callable[..., None]:
    def do(pg: Any, username: str, password: str) -> None:
        pg.goto(f"{live_server.url}/login/")
        pg.fill("input[name=username]", username)
        pg.fill("input[name=password]", password)
        pg.click("button[type=submit]")
        pg.wait_for_load_state("networkidle")

    return do


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg: Any, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="module")
def demo_site(browser: Any, django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The demo province loaded once for a module, served by a live server of its own.

    pytest-django's ``live_server`` flushes the database after every test; loading the demo
    (~20 s) per test would be too slow, so the module's tests share one load and must not
    write what another test reads. The database is flushed when the module ends. Tests using
    this fixture must not request ``db`` or ``live_server``."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        own_setup = None
        # pytest-django creates the test database only when a collected test asks for `db`;
        # run alone, these tests must create it themselves (never touch the real database)
        if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            own_setup = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"] == connection.creation._get_test_db_name()
        from ansinh.demo.load import demo_load, demo_logins_ensure, demo_registers_ensure

        demo_load()
        demo_logins_ensure()
        demo_registers_ensure()
        server = LiveServer("localhost:0")
        server._live_server_modified_settings.enable()
        try:
            yield server
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)
            if own_setup is not None:
                teardown_databases(own_setup, verbosity=0)


@pytest.fixture
def demo_page(browser: Any, demo_site: Any) -> Iterator[Any]:
    """A desktop page (1280×900, Vietnamese) on the demo site; JS errors in ``js_errors``."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    pg.base = demo_site.url  # type: ignore[attr-defined]
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def form_login(pg: Any, username: str, password: str) -> None:
    """Log in through the real form (CSRF token and all)."""
    pg.goto(f"{pg.base}/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_load_state("load")
