"""The in-tab benchmark widget in real JupyterLab + Chromium, with the tiny model.

The kernel sends wasm, images and model in acked chunks; the tab runs them in the
engine's worker and reports timings and masks back, which must equal onnxruntime's.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import NotebookFactory


def test_tab_benchmark_reports_timings_and_kernel_equal_masks(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    setup = (
        "from widget.benchmark import BrowserBenchmark\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        "imgs = [red_square_rgba(96, 128, 24), red_square_rgba(200, 150, 40)]"
    )
    nb = notebook([setup, "b = BrowserBenchmark([spec], imgs, repeats=2)\nb"])
    nb.run_all()
    deadline = time.monotonic() + 180
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        state = nb.kernel_eval("{'done': b.done, 'error': b.error, 'status': b.status}")
        if state["done"] or state["error"]:
            break
        time.sleep(0.5)
    assert state.get("done") and not state["error"], state
    rows = nb.kernel_eval("b.rows()")
    assert len(rows) == 2
    for r in rows:
        assert r["pixels_match"] and r["stable"] and r["threads"] == 1
        assert len(r["inference_s"]) == 2 and r["latency_min_s"] > 0 and r["session_create_s"] > 0
    parity = nb.kernel_eval("b.compare_kernel(threads=1)")
    assert len(parity) == 2 and all(p["iou"] == 1.0 and p["max_abs_diff"] == 0 for p in parity)
    summary = nb.kernel_eval("b.summary()")
    assert summary[0]["runtime"] == "browser-tab-1t" and summary[0]["n"] == 2
    # the view lists both runs
    assert nb.page.locator(".pl-bench tr").count() == 3
