"""Browser tests: headless Chromium (Debian's package) driven by Playwright, against a real
`paperkg serve` process on 127.0.0.1 with a fresh seeded database."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "explorer"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    """Skip with the reason; on CI, where the browser is installed, fail instead."""
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests must run on CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`paperkg serve` on a free port over a fresh SQLite file; yields its base URL."""
    workdir = tmp_path_factory.mktemp("e2e")
    port = free_port()
    command = [
        sys.executable, "-m", "api.cli", "serve", "--port", str(port),
        "--database-url", f"sqlite:///{workdir / 'e2e.db'}",
    ]  # fmt: skip
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("paperkg serve did not start:\n" + (workdir / "serve.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Explorer:
    """A browser tab on the explorer that records every console error and uncaught exception."""

    page: "Page"
    base: str
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base}/explore{fragment}")

    def expect_failed_request(self, url_part: str) -> None:
        """A request the test expects to fail: Chromium logs it as a console error."""
        self.expected.append(url_part)

    def on_console(self, message: "ConsoleMessage") -> None:
        if message.type != "error":
            return
        location: dict[str, Any] = message.location
        url = str(location.get("url", ""))
        failed_load = message.text.startswith("Failed to load resource")
        if failed_load and any(part in url for part in self.expected):
            return
        self.errors.append(f"console: {message.text} ({url})")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_no_errors(self) -> None:
        assert self.errors == [], "JavaScript errors:\n" + "\n".join(self.errors)


def _explorer(browser: "Browser", server: str, viewport: dict[str, int]) -> Iterator[Explorer]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    explorer = Explorer(page, server)
    page.on("console", explorer.on_console)
    page.on("pageerror", lambda error: explorer.errors.append(f"uncaught: {error}"))
    page.set_default_timeout(10_000)
    yield explorer
    context.close()
    explorer.assert_no_errors()


@pytest.fixture
def explorer(browser: "Browser", server: str) -> Iterator[Explorer]:
    """The explorer in a desktop-sized tab; the test fails on any JavaScript error."""
    yield from _explorer(browser, server, DESKTOP)


@pytest.fixture
def phone(browser: "Browser", server: str) -> Iterator[Explorer]:
    """The explorer on a phone-sized screen (390 x 844)."""
    yield from _explorer(browser, server, PHONE)
