"""The hybrid first answer in a real JupyterLab and Chromium (``backend="auto"``, the default).

A cold page cannot give the full mask within the patience: the kernel's mask is drawn first,
the browser computes its own and the kernel finds it identical. The page then remembers what
it measured (IndexedDB), so the next widget of the same model, with the session warm, is
answered by the browser itself.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import NotebookFactory
from widget.testing.widgets import wait_result

PERF = """async () => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("pixel-liberation-perf");
    r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
  });
  return await new Promise((ok) => {
    const r = db.transaction("runs").objectStore("runs").getAll();
    r.onsuccess = () => ok(r.result.map((x) => [x.model, x.inference_ms > 0, x.resolution]));
  });
}"""


def test_kernel_first_when_cold_then_the_browser_checks_and_answers_when_warm(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    setup = (
        "import widget\n"
        "from tests.tinymodel import build_tiny_model, red_square_rgba\n"
        f"_, spec = build_tiny_model({str(tmp_path)!r})\n"
        "img = red_square_rgba(300, 400)"
    )
    cold = "w = widget.BackgroundRemover(img, spec, patience=0.2)\nw"
    warm = "w2 = widget.BackgroundRemover(img, spec, patience=5)\nw2"
    nb = notebook([setup, cold, warm])
    nb.run_cell(0)
    nb.run_cell(1)
    # cold: nothing cached, no session; the kernel's mask is on screen, marked as the kernel's
    nb.page.locator(".pl-root[data-result='full']").wait_for(state="attached", timeout=60_000)
    first = nb.kernel_eval("[w.first_source, w.route_reason, w.status_info['source'], w.error]")
    assert first[0] == "kernel" and "patience is 0.2 s" in first[1], first
    state = wait_result(nb, "w")  # the browser's own mask arrives and is compared
    assert state["parity"] == "identical" and state["backend_used"] == "browser", state
    assert nb.kernel_eval("w.wait(browser=True).source") == "browser"
    timings = nb.kernel_eval("w.timings")
    assert timings["inference"] > 0 and timings["kernel_inference"] > 0, timings
    assert timings["kernel_wait"] >= 0, timings  # its own run started after the kernel's mask
    status = nb.page.locator(".pl-status").first
    assert "identical" in status.inner_text() and status.get_attribute("data-kind") == "done"
    model = nb.kernel_eval("w.assets['model']")
    assert [model, True, [64, 64]] in nb.page.evaluate(PERF)  # what the page measured
    # warm: model cached, the worker holds the session, its time measured: the browser answers
    nb.run_cell(2)
    state = wait_result(nb, "w2")
    info = nb.kernel_eval("[w2.first_source, w2.route_reason, w2.backend_used]")
    assert info[0] == "browser" and "measured" in info[1] and info[2] == "browser", info
    assert "kernel_wait" not in nb.kernel_eval("w2.timings")  # nothing to wait for
