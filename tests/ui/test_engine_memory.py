"""Repeated inferences do not grow the renderer's memory.

Re-running the widget's cell 20 times (a new widget each time, the page's
engine worker and its session reused) must leave the renderer processes'
resident memory within 10 % of what it was after the first run. Measured from
the OS (``VmRSS`` of the renderer pids that CDP ``SystemInfo.getProcessInfo``
reports), since ``performance.memory`` does not see WASM heaps or workers.

Two models: the tiny model on a 1024x1024 image (the in-graph pre/post-processing
runs at full size, so the WASM heap holds several 16 MB float buffers), and the
real ISNet in its int8 variant on a real photo (its 1024x1024 feature maps are
the large buffers a leak would show; int8 because it is the quickest ISNet in
single-thread WASM, ~5 s a run on a quiet machine).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.ui.conftest import NotebookFactory
from tests.ui.harness import Notebook
from tests.ui.harness_cdp import renderers_rss
from tests.ui.test_engine_browser import wait_result

RUNS = 20


def renderer_rss(browser: Browser) -> int:
    """Sum of VmRSS (bytes) of the browser's renderer processes."""
    cdp = browser.new_browser_cdp_session()
    try:
        info = cdp.send("SystemInfo.getProcessInfo")
    finally:
        cdp.detach()
    return renderers_rss(info)


def rss_series(nb: Notebook, browser: Browser, runs: int) -> list[int]:
    """Run cell 1 ``runs`` times; renderer RSS after each run, garbage collected."""
    page_cdp = nb.page.context.new_cdp_session(nb.page)
    series = []
    for i in range(1, runs + 1):
        nb.run_cell(1)
        state = wait_result(nb, timeout_s=600)
        assert state["backend_used"] == "browser", (i, state)
        page_cdp.send("HeapProfiler.collectGarbage")
        series.append(renderer_rss(browser))
    print("renderer RSS per run (MiB):", [round(x / 2**20) for x in series])
    assert nb.kernel_eval("len(runs)") == runs
    # every run after the first found the session loaded in the page's worker
    creates = nb.kernel_eval("[r.timings.get('session_create') for r in runs]")
    assert creates[0] > 0 and all(c == 0 for c in creates[1:]), creates
    mib = 2**20
    first, last = series[0] / mib, series[-1] / mib
    print(f"renderer RSS after run 1: {first:.0f} MiB, run {runs}: {last:.0f} MiB")
    return series


def test_renderer_memory_is_flat_over_20_runs(
    notebook: NotebookFactory, chromium_browser: Browser, tmp_path: Path
) -> None:
    setup = (
        "import widget\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        "img = red_square_rgba(1024, 1024, margin=200)\n"
        "runs = []"
    )
    run = "w = widget.BackgroundRemover(img, spec)\nruns.append(w)\nw"
    nb = notebook([setup, run])
    nb.run_cell(0)
    series = rss_series(nb, chromium_browser, RUNS)
    assert series[-1] <= series[0] * 1.10, series


@pytest.mark.isnet
@pytest.mark.slow
@pytest.mark.timeout(2400)  # 20 single-thread WASM runs of ISNet: ~3 min quiet, far more under load
def test_renderer_memory_is_flat_over_20_isnet_runs(
    notebook: NotebookFactory, chromium_browser: Browser
) -> None:
    setup = (
        "import widget\n"
        "from importlib import resources\n"
        "photo = str(resources.files('skimage') / 'data' / 'astronaut.png')\n"
        "runs = []"
    )
    run = "w = widget.BackgroundRemover(photo)\nruns.append(w)\nw"
    nb = notebook([setup, run])
    nb.run_cell(0)
    series = rss_series(nb, chromium_browser, RUNS)
    assert nb.kernel_eval("runs[0].model_key") == "isnet-general-use:int8-static"
    assert series[-1] <= series[0] * 1.10, series
