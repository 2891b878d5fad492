"""Fixtures for real-browser tests: one Chromium and one JupyterLab per session.

Every test under ``tests/e2e`` is marked ``browser`` and runs after the others. A missing
Chromium fails the test (never skips). On failure the page's console log, the server log
and a screenshot are attached to the report / written to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from widget.testing.chromium import CHROMIUM, CHROMIUM_ARGS, missing_chromium
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import ARTIFACTS, Notebook, Ui
from widget.testing.page_log import PageLog, WsMeter

E2E_DIR = Path(__file__).resolve().parent

NotebookFactory = Callable[..., Notebook]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``browser``, and run them after every other test.

    The session's Playwright (sync API) runs until the session ends; a test elsewhere that
    starts its own (the headless benchmark runtime) cannot start inside it, so this folder's
    tests come last, in their own order.
    """
    mine = [item for item in items if E2E_DIR in Path(item.path).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    chosen = set(mine)
    items[:] = [item for item in items if item not in chosen] + mine


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the browser console and the server log to a failed test's report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    item.stash.setdefault(_FAILED, False)
    if not report.failed:
        return
    item.stash[_FAILED] = True
    log = item.stash.get(_LOG, None)
    if log is not None:
        report.sections.append(("browser console", log.text()[-20000:] or "(empty)"))
    server = item.stash.get(_SERVER, None)
    if server is not None:
        report.sections.append(("jupyter server log (tail)", server.log_tail()))


_LOG = pytest.StashKey[PageLog]()
_SERVER = pytest.StashKey[JupyterServer]()
_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (fails the test if it is not installed)."""
    why = missing_chromium()
    if why:
        pytest.fail(why)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """One JupyterLab server for the session, in a private temp directory."""
    server = JupyterServer(tmp_path_factory.mktemp("jupyter")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser_context(chromium_browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (own cookies and storage) per test."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    yield context
    context.close()


@pytest.fixture
def page_log() -> PageLog:
    """Console messages and page errors of the test's page."""
    return PageLog()


@pytest.fixture
def ws_meter() -> WsMeter:
    """Websocket bytes of the test's page."""
    return WsMeter()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser_context: BrowserContext,
    page_log: PageLog,
    ws_meter: WsMeter,
) -> Iterator[Page]:
    """A page whose console and websocket traffic are recorded."""
    pg = browser_context.new_page()
    page_log.attach(pg)
    ws_meter.attach(pg)
    request.node.stash[_LOG] = page_log
    yield pg
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = _safe(request.node.nodeid)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        except Exception as exc:  # the page may have crashed; the log still matters
            page_log.lines.append(f"[harness] screenshot failed: {exc}")
        (ARTIFACTS / f"{stem}.console.txt").write_text(page_log.text())


@pytest.fixture
def notebook(
    request: pytest.FixtureRequest,
    page: Page,
    jupyter_server: JupyterServer,
    page_log: PageLog,
    ws_meter: WsMeter,
) -> Iterator[NotebookFactory]:
    """Factory: ``notebook(cells, name=None, ui="lab", open=True) -> Notebook``.

    Writes the cells into a notebook named after the test and opens it; kernels
    are shut down after the test.
    """
    request.node.stash[_SERVER] = jupyter_server

    def make(
        cells: list[str], name: str | None = None, ui: Ui = "lab", open: bool = True
    ) -> Notebook:
        nb_name = name or f"{_safe(request.node.name)}.ipynb"
        nb = Notebook(page, jupyter_server, nb_name, page_log, ws_meter).write(cells)
        return nb.open(ui) if open else nb

    yield make
    jupyter_server.shutdown_kernels()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-120:]
