"""The bare-DevTools driver that ``python -m widget.bench memory`` measures the renderer with.

It must run a real notebook like the Playwright harness does (open, run a cell,
evaluate in the kernel), read the renderer's RSS and report page errors; it
sends only Runtime, Page, Emulation and HeapProfiler commands (no domain
enabled), unlike Playwright, whose ``Network`` domain makes Chromium keep data
in the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from playwright.sync_api import Page

from tests.e2e.test_engine_browser import tiny_cells
from widget.testing.cdp import CdpBrowser, CdpError
from widget.testing.chromium import CHROMIUM, CHROMIUM_ARGS
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.page_log import PageLog, WsMeter
from widget.testing.widgets import wait_result


def test_cdp_driver_runs_a_widget_and_reads_renderer_memory(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    browser = CdpBrowser(CHROMIUM, CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        nb = Notebook(cast(Page, page), jupyter_server, "cdp-driver.ipynb", PageLog(), WsMeter())
        nb.write(tiny_cells(tmp_path, ["w"])).open()
        nb.run_cell(0)
        nb.run_cell(1)
        assert wait_result(nb)["backend_used"] == "browser"
        assert nb.kernel_eval("w.compare()['pixels_match']") is True
        page.collect_garbage()
        assert browser.renderer_rss() > 50 * 2**20
        assert page.evaluate("(x) => x + 1", 41) == 42
        with pytest.raises(CdpError, match="boom"):
            page.evaluate("() => { throw new Error('boom') }")
        page.close(close_tab=True)
    finally:
        browser.close()
        jupyter_server.shutdown_kernels()
