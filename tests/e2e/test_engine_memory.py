"""Repeated inferences do not grow the renderer's memory.

Re-running the widget's cell 20 times (a new widget each time, the page's
engine worker and its session reused) must leave the renderer processes'
resident memory within 10 % of what it was after the first run. Measured from
the OS (``VmRSS`` of the renderer pids that CDP ``SystemInfo.getProcessInfo``
reports), since ``performance.memory`` does not see WASM heaps or workers.

Two models: the tiny model on a 1024x1024 image (the in-graph pre/post-processing
runs at full size, so the WASM heap holds several 16 MB float buffers), and the
real ISNet (static int8) on a real photo at a 512x512 input without a preview pass:
the real session, its graph and its feature maps, and a run of about 2 s instead of
9 s, so 20 runs fit the test budget. What leaks per run (images, bitmaps, masks,
modules, tensors that are never released) leaks at 512 as at 1024; the 1024 input's
own figures are ``python -m widget.bench memory --model isnet``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import NotebookFactory
from widget.testing.cdp import CdpBrowser
from widget.testing.chromium import CHROMIUM, CHROMIUM_ARGS, renderer_rss
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.page_log import PageLog, WsMeter
from widget.testing.widgets import wait_result

RUNS = 20


def rss_series(
    nb: Notebook, runs: int, collect: Callable[[], object], rss: Callable[[], int]
) -> list[int]:
    """Run cell 1 ``runs`` times; renderer RSS after each run, garbage collected."""
    series = []
    for i in range(1, runs + 1):
        nb.run_cell(1)
        state = wait_result(nb, timeout_s=600)
        assert state["backend_used"] == "browser", (i, state)
        collect()
        series.append(rss())
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
    run = "w = widget.BackgroundRemover(img, spec, backend='browser')\nruns.append(w)\nw"
    nb = notebook([setup, run])
    nb.run_cell(0)
    page_cdp = nb.page.context.new_cdp_session(nb.page)
    collect = partial(page_cdp.send, "HeapProfiler.collectGarbage")
    series = rss_series(nb, RUNS, collect, partial(renderer_rss, chromium_browser))
    assert series[-1] <= series[0] * 1.10, series


@pytest.mark.isnet
@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 single-thread WASM runs of ISNet at 512: ~1 min quiet
def test_renderer_memory_is_flat_over_20_isnet_runs_at_512(
    jupyter_server: JupyterServer,
) -> None:
    """Measured in a tab driven over a bare DevTools connection, as users have it.

    Playwright's page keeps data of its own per run (its domains mirror every websocket
    frame: ~3-4 MiB a run here), which at a 512 input would be most of a 10 % bound; the
    bare tab stays within the 5 % that ``python -m widget.bench memory`` holds the renderer to.
    """
    setup = (
        "import widget\n"
        "from importlib import resources\n"
        "photo = str(resources.files('skimage') / 'data' / 'astronaut.png')\n"
        "runs = []"
    )
    run = (
        "w = widget.BackgroundRemover(photo, backend='browser', resolution=512, preview=None)\n"
        "runs.append(w)\nw"
    )
    browser = CdpBrowser(CHROMIUM, CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        nb = Notebook(cast(Page, page), jupyter_server, "memory-isnet.ipynb", PageLog(), WsMeter())
        nb.write([setup, run]).open()
        nb.run_cell(0)
        series = rss_series(nb, RUNS, page.collect_garbage, browser.renderer_rss)
        assert nb.kernel_eval("runs[0].model_key") == "isnet-general-use:int8-static"
        assert nb.kernel_eval("runs[-1].resolution") == [512, 512]
        assert series[-1] <= series[0] * 1.05, series  # the bare tab: the benchmark's target
        page.close(close_tab=True)
    finally:
        browser.close()
        jupyter_server.shutdown_kernels()
