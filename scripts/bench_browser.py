"""Benchmark the widget end to end: real JupyterLab + headless Chromium, ISNet in the browser.

For each precision (int8-static = default, fp32) a fresh browser profile opens a
notebook and runs ``BackgroundRemover(image, precision=...)`` twice:

- cold: model and WebAssembly not cached yet (they cross the websocket; under
  Playwright every frame is mirrored through CDP, so this transfer is slower
  than a user's and only indicative);
- warm: the cell re-run, assets cached and the session kept by the page's worker.

It prints the browser's inference and session-creation times (from the
widget's ``timings``), the kernel twin's inference time on the same pixels
(``w.compare()``), their ratio, and the wall time from starting the cell to the
cut-out drawn in the page. Usage::

    .venv/bin/python scripts/bench_browser.py [--image PATH] [--precisions int8-static fp32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from matplotlib import cbook
from playwright.sync_api import sync_playwright
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmentation.models.spec import DEFAULT_PRECISION
from tests.ui.conftest import CHROMIUM_ARGS
from tests.ui.harness import Notebook
from tests.ui.harness_page import PageLog, WsMeter
from tests.ui.harness_server import JupyterServer

RESULT = "() => !!document.querySelector(\".pl-root[data-result='1']\")"


def run_once(nb: Notebook, timeout_s: float) -> dict[str, float]:
    """Run the widget cell; return wall ms until the cut-out is drawn, plus the widget timings."""
    t0 = time.perf_counter()
    nb.run_cell(1, timeout_s=timeout_s)
    nb.page.wait_for_function(RESULT, timeout=timeout_s * 1000, polling=100)
    wall = (time.perf_counter() - t0) * 1000
    state = nb.kernel_eval("{'b': w.backend_used, 't': w.timings, 'e': w.error}", timeout_s)
    if state["b"] != "browser":
        raise RuntimeError(f"the browser did not compute the mask: {state}")
    return {"e2e": wall, **state["t"]}


def bench(image: Path, precisions: list[str], timeout_s: float) -> list[dict[str, object]]:
    """Cold and warm runs per precision; one row per run."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        server = JupyterServer(Path(tmp)).start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for precision in tqdm(precisions, desc="precisions"):
                context = browser.new_context()
                page = context.new_page()
                log, meter = PageLog().attach(page), WsMeter().attach(page)
                cells = [
                    "import widget",
                    f"w = widget.BackgroundRemover({str(image)!r}, precision={precision!r})\nw",
                ]
                nb = Notebook(page, server, f"bench-{precision}.ipynb", log, meter).write(cells)
                nb.open()
                nb.run_cell(0, timeout_s=timeout_s)
                for label in tqdm(("cold", "warm"), desc=precision, leave=False):
                    t = run_once(nb, timeout_s)
                    kernel_ms = nb.kernel_eval("w.compare()['kernel_ms']", timeout_s)
                    rows.append({"precision": precision, "run": label, "kernel": kernel_ms, **t})
                context.close()
                server.shutdown_kernels()
        finally:
            browser.close()
            server.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=Path, default=None, help="default: grace_hopper.jpg")
    ap.add_argument("--precisions", nargs="+", default=[DEFAULT_PRECISION, "fp32"])
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per step")
    args = ap.parse_args(argv)
    image = args.image or Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    load_before = os.getloadavg()[0]
    rows = bench(image, args.precisions, args.timeout)
    print(f"\nimage {image.name}; {os.cpu_count()} CPUs; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (a busy machine inflates every number)")  # fmt: skip
    head = ("precision", "run", "browser inf ms", "session ms", "kernel inf ms", "ratio", "e2e ms")
    print("{:<9} {:<5} {:>14} {:>10} {:>13} {:>6} {:>9}".format(*head))
    for r in rows:
        inf, ker = float(r["inference"]), float(r["kernel"])  # type: ignore[arg-type]
        print(
            f"{r['precision']:<9} {r['run']:<5} {inf:>14.0f} {float(r['session_create']):>10.0f}"  # type: ignore[arg-type]
            f" {ker:>13.0f} {inf / ker:>6.2f} {float(r['e2e']):>9.0f}"  # type: ignore[arg-type]
        )
    print("ratio = browser inference / kernel inference (same model file, same pixels);")
    print("e2e = cell started -> cut-out drawn; cold includes the asset transfer under Playwright.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
