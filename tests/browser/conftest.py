"""Real-browser harness: `streamlit run app.py` on the small generated extracts, driven by
Debian's chromium through Playwright (sync API). Playwright never downloads a browser of its own.

Session-scoped: one server and one browser for all browser tests; each test gets a fresh
browser context (no shared cookies or session state) through the `app` fixture.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Playwright, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # The machine has no network beyond loopback: keep chromium from phoning home.
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ERROR_ELEMENTS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
SERVER_START_TIMEOUT_S = 120
# The machine is shared by several test runs at once; the first run of a page loads the extract.
PAGE_TIMEOUT_MS = 90_000

# Console errors that say nothing about the app, each with why it is harmless.
BENIGN_CONSOLE: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        # Opened on a page URL such as /oekonomi, Streamlit's frontend first looks for the server
        # under that path (/oekonomi/_stcore/health, …/host-config), gets 404, and falls back to /.
        re.compile(r"status of 404 .* @ https?://[^/]+/[^_][^ ]*/_stcore/(health|host-config)$"),
        "base-path probe of a page URL",
    ),
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=PAGE_TIMEOUT_MS)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, body: bytes | None = None) -> None:
    """Until `url` answers 200 (with `body`, if given); fail with the log's tail if the process dies."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:]
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and (body is None or r.read().strip() == body):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)  # polling a process we don't control: there is nothing to wait on
    pytest.fail(
        f"{url} did not answer in {SERVER_START_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-4000:]}"
    )


def streamlit_command(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "server.py",  # the production entry point (scripts/run.sh)
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        *extra,
    ]


def start_process(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Output to a file (a pipe nobody reads would fill up and block), in its own session."""
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # our own session: streamlit and anything it started
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def running_server(root: Path, workdir: Path) -> Iterator[Server]:
    """`streamlit run app.py` on the extracts under `root`, output to a file in `workdir` (a pipe
    nobody reads would fill up and block the server); stopped on exit."""
    port = free_port()
    log = workdir / "server.log"
    env = {
        **os.environ,
        "STYRING_EXTRACTS": str(root),
        # never the repository's data/styring.sqlite, nor an import of a data/audit.sqlite
        "STYRING_DB_URL": f"sqlite:///{workdir / 'styring.sqlite'}",
        "STYRING_AUDIT_DB": str(workdir / "no-legacy-audit.sqlite"),
        "PYTHONUNBUFFERED": "1",
    }
    process = start_process(streamlit_command(port), log, env)
    srv = Server(url=f"http://127.0.0.1:{port}", root=root, log=log, process=process)
    try:
        wait_http(f"{srv.url}/_stcore/health", process, log, b"ok")
        yield srv
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def server(small_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the session, on the small generated extracts."""
    with running_server(small_root, tmp_path_factory.mktemp("streamlit")) as srv:
        yield srv


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bash scripts/test.sh does).")
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@dataclass
class App:
    """One browser tab on the app, with the console errors it has seen."""

    page: Page
    server: Server
    console_errors: list[str] = field(default_factory=list)

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        text = f"{msg.text} @ {msg.location.get('url', '')}"
        if not any(pattern.search(text) for pattern, _why in BENIGN_CONSOLE):
            self.console_errors.append(text)

    def goto(self, path: str = "", **params: str) -> None:
        query = f"?{urlencode(params)}" if params else ""
        self.page.goto(f"{self.server.url}/{path}{query}")
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the script run has finished and the page is connected."""
        self.page.locator(READY).wait_for(state="attached")
        self.page.locator('[data-testid="stApp"][data-test-connection-state="CONNECTED"]').wait_for(
            state="attached"
        )

    @property
    def main(self) -> Locator:
        return self.page.locator('[data-testid="stMain"]')

    @property
    def sidebar(self) -> Locator:
        return self.page.locator('[data-testid="stSidebar"]')

    def select(self, label: str, option: str, *, in_sidebar: bool = True) -> None:
        """Choose `option` (its shown text) in the selectbox labelled `label`, and wait for the rerun."""
        scope = self.sidebar if in_sidebar else self.main
        box = scope.locator('[data-testid="stSelectbox"]').filter(
            has=self.page.locator('[data-testid="stWidgetLabel"]', has_text=label)
        )
        box.locator('[role="combobox"], input').first.click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def error_texts(self) -> list[str]:
        return self.page.locator(ERROR_ELEMENTS).all_inner_texts()

    def assert_clean(self) -> None:
        errors = self.error_texts()
        assert not errors, f"error elements on {self.page.url}: {errors}\n{self.server.log_tail()}"
        assert not self.console_errors, f"console errors on {self.page.url}: {self.console_errors}"


@contextmanager
def open_app(browser: Browser, server: Server, viewport: tuple[int, int] = (1600, 1100)) -> Iterator[App]:
    """A fresh browser context (no cookies, no session) on `server`, collecting console errors."""
    context = browser.new_context(
        accept_downloads=True,
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    a = App(page=page, server=server)
    page.on("console", a._on_console)
    page.on("pageerror", lambda exc: a.console_errors.append(f"uncaught: {exc}"))
    try:
        yield a
    finally:
        context.close()


@pytest.fixture
def app(browser: Browser, server: Server) -> Iterator[App]:
    with open_app(browser, server) as a:
        yield a
