"""The browser tests' local stack (on a free port) and Chromium, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.console import WIDE, launch
from tests.support.stack import RunningStack, start_stack

# Expectations wait on what a person would see; a loaded machine gets time, never a sleep.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    base = tmp_path_factory.mktemp("console-stack")
    running = start_stack(base / "dynamodb", base / "stack.log")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile: nobody signed in yet."""
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
