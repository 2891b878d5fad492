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
        [--model-spec my-model.json]   # another ONNX model instead of the catalog's precisions
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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

#: The view drew a cut-out: the preview pass's (``data-result="preview"``) or the full mask's.
DRAWN = "() => !!document.querySelector('.pl-root[data-result]')"
FULL = "() => !!document.querySelector(\".pl-root[data-result='full']\")"
STATE = (
    "{'b': w.backend_used, 't': w.timings, 'e': w.error, 'r': w.fallback_reason,"
    " 'first': w.first_source, 'parity': w.parity, 'own': w.browser_mask is not None}"
)
CPU = "__import__('time').process_time()"


def run_once(nb: Notebook, timeout_s: float) -> dict[str, Any]:
    """Run the widget cell (cell 1); return what a user waits for, in wall ms from the cell.

    ``first``: the first cut-out drawn (a preview's, when the widget draws one); ``e2e``: the
    first full-resolution cut-out drawn (the kernel's, when it answered first); ``own``: the
    browser's own full mask in the kernel (``w.wait(browser=True)``). ``kernel_cpu``: CPU
    seconds of the notebook kernel meanwhile; then the widget's state (``first_source``,
    ``parity``) and its ``timings``.
    """
    cpu0 = float(nb.kernel_eval(CPU))
    t0 = time.perf_counter()
    nb.run_cell(1, timeout_s=timeout_s)
    nb.page.wait_for_function(DRAWN, timeout=timeout_s * 1000, polling=50)
    first = (time.perf_counter() - t0) * 1000
    nb.page.wait_for_function(FULL, timeout=timeout_s * 1000, polling=50)
    wall = (time.perf_counter() - t0) * 1000
    state = nb.kernel_eval(f"(w.wait({timeout_s!r}, browser=True), {STATE})[1]", timeout_s + 30)
    own = (time.perf_counter() - t0) * 1000
    kernel_cpu = float(nb.kernel_eval(CPU)) - cpu0
    if not state["own"]:
        raise RuntimeError(f"the browser did not compute its own mask: {state}")
    return {
        "first": first, "e2e": wall, "own": own, "kernel_cpu": kernel_cpu,
        "first_source": state["first"], "parity": state["parity"], **state["t"],
    }  # fmt: skip


def model_setup(precision: str, model_spec: Path | None = None) -> tuple[str, str]:
    """Return kernel code that prepares the model, and the widget arguments that name it.

    With ``model_spec`` (a JSON file as ``python -m segmentation remove --model-spec`` reads)
    the widgets run that model, registered in a registry of their own; else the catalog's
    default model at ``precision``.
    """
    if model_spec is None:
        return "", f"precision={precision!r}"
    setup = (
        "from segmentation.models.registry import Registry\n"
        "from segmentation.models.spec_file import read_spec_file\n"
        f"_file, _spec = read_spec_file({str(model_spec)!r})\n"
        "_registry = Registry()\n"
        "_spec = _registry.register_file(_file, _spec)"
    )
    return setup, "model=_spec, registry=_registry"


def widget_cells(
    image: Path, precision: str, model_spec: Path | None = None, backend: str = "browser"
) -> list[str]:
    """Return the benchmark notebook's cells: imports and model, then the widget cell (``w``).

    ``backend``: ``"browser"`` (the browser alone, the default here) or ``"auto"`` (the
    default a user gets: the kernel may answer first).
    """
    setup, model = model_setup(precision, model_spec)
    make = f"w = widget.BackgroundRemover({str(image)!r}, {model}, backend={backend!r})\nw"
    return [f"import numpy, widget\n{setup}", make]


def model_labels(precisions: list[str], model_spec: Path | None) -> list[str]:
    """Return the rows' labels: the precisions, or the spec file's model."""
    return [f"spec:{model_spec.stem}"] if model_spec is not None else precisions


def bench(
    image: Path, precisions: list[str], timeout_s: float, model_spec: Path | None = None
) -> list[dict[str, object]]:
    """Cold and warm runs per precision (or of the ``model_spec`` model); one row per run."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        server = JupyterServer(Path(tmp)).start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for label in tqdm(model_labels(precisions, model_spec), desc="models"):
                context = browser.new_context()
                page = context.new_page()
                log, meter = PageLog().attach(page), WsMeter().attach(page)
                cells = widget_cells(image, label, model_spec)
                name = f"bench-{label.replace(':', '-')}.ipynb"
                nb = Notebook(page, server, name, log, meter).write(cells)
                nb.open()
                nb.run_cell(0, timeout_s=timeout_s)
                for run in tqdm(("cold", "warm"), desc=label, leave=False):
                    t = run_once(nb, timeout_s)
                    kernel_ms = nb.kernel_eval("w.compare()['kernel_ms']", timeout_s)
                    rows.append({"precision": label, "run": run, "kernel": kernel_ms, **t})
                context.close()
                server.shutdown_kernels()
        finally:
            browser.close()
            server.stop()
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    """One line per run: browser and kernel inference, their ratio, first and full cut-out."""
    head = ("precision", "run", "browser inf ms", "session ms", "kernel inf ms", "ratio",
            "first ms", "e2e ms")  # fmt: skip
    lines = ["{:<16} {:<5} {:>14} {:>10} {:>13} {:>6} {:>9} {:>9}".format(*head)]
    for r in rows:
        t = {k: float(v) for k, v in r.items() if isinstance(v, int | float)}
        inf, ker = t["inference"], t["kernel"]
        lines.append(
            f"{r['precision']!s:<16} {r['run']!s:<5} {inf:>14.0f} {t['session_create']:>10.0f}"
            f" {ker:>13.0f} {inf / ker:>6.2f} {t['first']:>9.0f} {t['e2e']:>9.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=Path, default=None, help="default: grace_hopper.jpg")
    ap.add_argument("--precisions", nargs="+", default=[DEFAULT_PRECISION, "fp32"])
    ap.add_argument("--model-spec", type=Path, help="your own model (JSON); --precisions unused")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per step")
    args = ap.parse_args(argv)
    image = args.image or Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    load_before = os.getloadavg()[0]
    rows = bench(image, args.precisions, args.timeout, args.model_spec)
    print(f"\nimage {image.name}; {os.cpu_count()} CPUs; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (a busy machine inflates every number)")  # fmt: skip
    print(format_table(rows))
    print("ratio = browser inference / kernel inference (same model file, same pixels);")
    print("first = cell started -> first cut-out drawn (the preview's, if any);")
    print("e2e = cell started -> full cut-out drawn (cold: the assets cross the websocket too).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
