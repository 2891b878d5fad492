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

    .venv/bin/python -m widget.bench widget [--image PATH] [--precisions int8-static fp32]
        [--model-spec my-model.json]   # another ONNX model instead of the catalog's precisions

:func:`measure_widget` is the measurement; ``python -m widget.bench imgly`` runs it too, for
each policy, next to @imgly/background-removal.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from segmentation.evaluation.cpu_time import cpu_s_since, tree_cpu
from segmentation.models.spec import DEFAULT_PRECISION
from widget.bench.harness import (
    close_notebook,
    jupyter,
    model_labels,
    model_setup,
    open_notebook,
    parser,
    reopen_notebook,
    sample_photo,
)
from widget.testing.chromium import chromium
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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


@dataclass
class WidgetRuns:
    """The cold and warm runs of every (policy, label) case, and the browser's last masks.

    Each run is :func:`run_once`'s dict with ``label``, ``policy``, ``run`` (cold/warm),
    ``chromium_cpu`` (CPU seconds of Chromium's processes meanwhile) and ``compare``
    (``w.compare()``: the kernel twin on the same pixels) added. ``masks`` holds the
    browser's own mask of each case after its warm run, when asked for.
    """

    runs: list[dict[str, Any]] = field(default_factory=list)
    masks: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def measure_widget(
    browser: Browser,
    server: JupyterServer,
    photo: Path,
    labels: list[str],
    timeout_s: float,
    model_spec: Path | None = None,
    policies: tuple[str, ...] = ("browser",),
    keep_masks: bool = False,
    desc: str = "models",
    runs: tuple[str, ...] = ("cold", "warm"),
) -> WidgetRuns:
    """Run the widget per policy and model label, each case in a fresh profile.

    ``runs``: ``cold`` (nothing cached), ``warm`` (the cell again: the page's worker keeps
    the session), ``cached`` (a new page of the same profile: model cached, no session).
    """
    out = WidgetRuns()
    cases = [(policy, label) for policy in policies for label in labels]
    for policy, label in tqdm(cases, desc=desc, leave=False):
        slug = f"{policy}-{label.replace(':', '-')}"
        cells = widget_cells(photo, label, model_spec, backend=policy)
        nb = open_notebook(browser, server, f"bench-{slug}.ipynb", cells)
        nb.run_cell(0, timeout_s=timeout_s)
        for run in runs:
            if run == "cached":
                nb = reopen_notebook(nb, f"bench-{slug}-cached.ipynb", cells)
                nb.run_cell(0, timeout_s=timeout_s)
            cpu0 = tree_cpu(None, "chrom")
            t = run_once(nb, timeout_s)
            cpu = cpu_s_since(cpu0, "chrom")
            cmp = nb.kernel_eval("w.compare()", timeout_s)
            out.runs.append(
                {"label": label, "policy": policy, "run": run, "chromium_cpu": cpu,
                 "compare": cmp, **t}
            )  # fmt: skip
        if keep_masks:
            path = server.root / f"mask-{slug}.npy"
            nb.execute(f"numpy.save({str(path)!r}, w.browser_mask)", timeout_s)
            out.masks[(policy, label)] = np.load(path)
        close_notebook(nb)
    return out


def bench(
    image: Path, precisions: list[str], timeout_s: float, model_spec: Path | None = None
) -> list[dict[str, object]]:
    """Cold and warm runs per precision (or of the ``model_spec`` model); one row per run."""
    with tempfile.TemporaryDirectory() as tmp, jupyter(Path(tmp)) as server, chromium() as browser:
        labels = model_labels(precisions, model_spec)
        measured = measure_widget(
            browser, server, image, labels, timeout_s, model_spec, runs=("cold", "warm", "cached")
        )
    return [
        {"precision": r["label"], "run": r["run"], "kernel": r["compare"]["kernel_ms"], **r}
        for r in measured.runs
    ]


def format_table(rows: list[dict[str, object]]) -> str:
    """One line per run: browser and kernel inference, their ratio, first and full cut-out."""
    head = ("precision", "run", "browser inf ms", "session ms", "kernel inf ms", "ratio",
            "first ms", "e2e ms")  # fmt: skip
    lines = ["{:<16} {:<6} {:>14} {:>10} {:>13} {:>6} {:>9} {:>9}".format(*head)]
    for r in rows:
        t = {k: float(v) for k, v in r.items() if isinstance(v, int | float)}
        inf, ker = t["inference"], t["kernel"]
        lines.append(
            f"{r['precision']!s:<16} {r['run']!s:<6} {inf:>14.0f} {t['session_create']:>10.0f}"
            f" {ker:>13.0f} {inf / ker:>6.2f} {t['first']:>9.0f} {t['e2e']:>9.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table."""
    ap = parser("widget", __doc__)
    ap.add_argument("--image", type=Path, default=None, help="default: grace_hopper.jpg")
    ap.add_argument("--precisions", nargs="+", default=[DEFAULT_PRECISION, "fp32"])
    ap.add_argument("--model-spec", type=Path, help="your own model (JSON); --precisions unused")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per step")
    args = ap.parse_args(argv)
    image = args.image or sample_photo()
    load_before = os.getloadavg()[0]
    rows = bench(image, args.precisions, args.timeout, args.model_spec)
    print(f"\nimage {image.name}; {os.cpu_count()} CPUs; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (a busy machine inflates every number)")  # fmt: skip
    print(format_table(rows))
    print("ratio = browser inference / kernel inference (same model file, same pixels);")
    print("first = cell started -> first cut-out drawn (the preview's, if any);")
    print("e2e = cell started -> full cut-out drawn (cold: the assets cross the websocket too);")
    print("cached = a new page of the same browser: model cached, the session made again.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
