"""A real server (``mall serve``) and Debian's Chromium driven by Playwright; never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pytest

from tests.support import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.watched import WatchedPage
    from tests.shop_fixtures import Shop

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "Debian's chromium is not installed (apt-get install chromium); browser tests need it"
        )
    return path


@pytest.fixture(scope="session")
def live_database_url(template_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database the live server runs on: a copy of the migrated template."""
    from tests.conftest import ENGINE, ENGINE_URL, pg_admin, with_database

    if ENGINE == "sqlite":
        path = tmp_path_factory.mktemp("live") / "live.db"
        shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"mall_live_{os.getpid()}"
    template = template_url.rsplit("/", 1)[1]
    pg_admin(
        ENGINE_URL,
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name} TEMPLATE {template}",
    )
    yield with_database(ENGINE_URL, name)
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def live_server(live_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mall serve`` on a free port, on ``live_database_url``."""
    with serving(live_database_url, tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API runs an event loop in this thread while it lives."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[WatchedPage]:
    """A page the size of a small phone (360 px wide), in Chinese."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = cast("WatchedPage", context.new_page())
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[call-overload, func-returns-value]  # `and` appends only errors; the handler's value is unused
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def live_shop(live_server: str, live_database_url: str) -> Shop:
    """Two communities with a supermarket each on the live server's database, made once: every
    browser module that needs a shop shares it (a second ``build_shop`` would find its
    communities' codes taken). Tests make their own residents."""
    from tests.browser.test_staff_pages import call
    from tests.shop_fixtures import build_shop

    return call(live_database_url, build_shop)
