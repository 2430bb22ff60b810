"""Fixtures of the end-to-end tests: the built frontend, the real stack serving it, and a
headless Debian Chromium driven by Playwright (which never downloads a browser here)."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, sync_playwright

import databases
from e2e.kit import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    FRONTEND_OUT,
    Shots,
    Stack,
    frontend_missing_reason,
    running_stack,
)

# Any wait of a step: generous for a 2-core machine, yet bounded.
STEP_MS = 15_000
FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note a failed test, so that its fixtures keep a trace and a last screenshot."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


def _unavailable(reason: str) -> None:
    """Fail under CI=true (CI must never pass without the e2e tests), skip otherwise."""
    if databases.in_ci():
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def frontend_dir() -> Path:
    """The frontend's static export (frontend/out), built by `make test`."""
    reason = frontend_missing_reason()
    if reason is not None:
        _unavailable(reason)
    return FRONTEND_OUT


# Package scope: started once for tests/e2e/ and stopped when its last test ends, so that it
# does not idle beside the rest of the suite.
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, frontend_dir: Path) -> Iterator[Stack]:
    """The whole stack on embedded defaults in a data folder of its own, like `make run`."""
    with running_stack(tmp_path_factory.mktemp("e2e-stack"), frontend_dir) as running:
        yield running


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/e2e/, emptied at the start of the session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (apt-get install chromium; `make test` installs it when missing)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: run `make test`, or apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def test_artifacts(artifacts: Path, request: pytest.FixtureRequest) -> Path:
    """tests/artifacts/e2e/<test name>/: this test's screenshots, downloads and trace."""
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    folder = artifacts / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def context(
    browser: Browser, stack: Stack, test_artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A fresh browser profile (no token, no storage) on the stack's address; a failed test
    leaves its Playwright trace (`playwright show-trace trace.zip`) and a last screenshot."""
    made = browser.new_context(
        base_url=stack.base, viewport=DESKTOP, accept_downloads=True, locale="fr-FR"
    )
    made.set_default_timeout(STEP_MS)
    made.tracing.start(screenshots=True, snapshots=True)
    yield made
    if request.node.stash.get(FAILED, False):
        for number, page in enumerate(made.pages, 1):
            with contextlib.suppress(Error):  # a crashed page: the trace still shows it
                page.screenshot(path=str(test_artifacts / f"failure-{number}.png"))
        made.tracing.stop(path=str(test_artifacts / "trace.zip"))
    else:
        made.tracing.stop()
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any uncaught JavaScript error."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    yield opened
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def shots(test_artifacts: Path) -> Shots:
    """Screenshots of this test's steps, numbered, in its artifacts folder."""
    return Shots(test_artifacts)
