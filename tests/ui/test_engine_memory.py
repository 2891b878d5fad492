"""Repeated inferences do not grow the renderer's memory.

Re-running the widget's cell 20 times (a new widget each time, the page's
engine worker and its session reused) must leave the renderer processes'
resident memory within 10 % of what it was after the first run. Measured from
the OS (``VmRSS`` of the renderer pids that CDP ``SystemInfo.getProcessInfo``
reports), since ``performance.memory`` does not see WASM heaps or workers.

The tiny model is used on a 1024x1024 image (the in-graph pre/post-processing
runs at full size, so the WASM heap holds several 16 MB float buffers): ISNet
would take 20 x ~10 s of single-thread WASM here.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.ui.conftest import NotebookFactory
from tests.ui.test_engine_browser import wait_result

RUNS = 20


def renderer_rss(browser: Browser) -> int:
    """Sum of VmRSS (bytes) of the browser's renderer processes."""
    cdp = browser.new_browser_cdp_session()
    try:
        info = cdp.send("SystemInfo.getProcessInfo")
    finally:
        cdp.detach()
    total = 0
    for proc in info["processInfo"]:
        if proc["type"] != "renderer":
            continue
        status = Path(f"/proc/{proc['id']}/status")
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    assert total > 0, info
    return total


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
    nb.run_cell(1)
    assert wait_result(nb)["backend_used"] == "browser"
    page_cdp = nb.page.context.new_cdp_session(nb.page)
    page_cdp.send("HeapProfiler.collectGarbage")
    first = renderer_rss(chromium_browser)
    series = [first]
    for i in range(2, RUNS + 1):
        nb.run_cell(1)
        state = wait_result(nb)
        assert state["backend_used"] == "browser", (i, state)
        page_cdp.send("HeapProfiler.collectGarbage")
        series.append(renderer_rss(chromium_browser))
    print("renderer RSS per run (MiB):", [round(x / 2**20) for x in series])
    assert nb.kernel_eval("len(runs)") == RUNS
    # every run after the first found the session loaded in the page's worker
    creates = nb.kernel_eval("[r.timings.get('session_create') for r in runs]")
    assert creates[0] > 0 and all(c == 0 for c in creates[1:]), creates
    last = series[-1]
    mib = 2**20
    print(
        f"renderer RSS after run 1: {first / mib:.0f} MiB, after run {RUNS}: {last / mib:.0f} MiB"
    )
    assert last <= first * 1.10, (first, last)
