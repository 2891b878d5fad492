"""Browser speed in one JupyterLab run on IS-Net: first mask and full mask, by mode.

Rows (same photo, model already cached in the browser: each browser row is a
warm re-run of the cell after a cold one; the widget runs ``backend="browser"``, the browser
alone, as these rows compare the browser's own modes; ``python -m widget.bench imgly`` measures
the default, where the kernel may answer first):

- kernel, 2 threads: the twin's inference at 1024 and at each preview side;
- browser, 1 thread: a JupyterLab page that is not cross-origin isolated;
- browser, N threads: a second JupyterLab started with the config that
  ``python -m widget threads on`` writes (N = min(cores, 4));
- for each preview side: the widget with ``preview=side`` in the isolated page
  (time to the first, low-resolution mask and to the full one);
- for each ``--resolutions`` side: the widget with ``resolution=side`` (no preview).

Columns: time to first mask and to full mask (ms, the widget's ``timings``:
from the view's job start), the ratio to the 1-thread full time, the Chromium
CPU seconds of the run, and parity IoU against the kernel twin. Then each
resolution's accuracy against ground truth (IoU, MAE; both datasets, kernel
twin, which the browser matches) and against the 1024 mask. Usage::

    .venv/bin/python -m widget.bench browser-speed [--image PATH] [--previews 320 384]
        [--resolutions 512] [--limit 6]   # photos per dataset for accuracy (0: none)
        [--model-spec my-model.json]      # your own model instead of ISNet (speed rows only)

Wall times on a loaded machine mean little: run it on a quiet one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from segmentation.evaluation.cpu_time import cpu_s_since, tree_cpu
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.metrics import iou, mae
from segmentation.images import load_image
from segmentation.models.registry import Registry
from segmentation.models.spec import DEFAULT_PRECISION
from segmentation.models.spec_file import read_spec_file
from segmentation.session import Segmenter
from widget.bench.harness import (
    close_notebook,
    jupyter,
    model_setup,
    open_notebook,
    parser,
    sample_photo,
)
from widget.testing.chromium import chromium
from widget.testing.notebook import Notebook

DATASETS = ("icm58_objects", "sod_bsds300")
STATE = (
    "{'b': w.backend_used, 't': w.timings, 'e': w.error, 'threads': w.threads,"
    " 'iou': w.compare()['iou'] if w.backend_used == 'browser' else None}"
)


def widget_run(nb: Notebook, timeout_s: float) -> dict[str, Any]:
    """Re-run the widget cell; wait for the browser's mask; its timings and CPU seconds."""
    nb.execute("w = None")
    cpu0 = tree_cpu(None, "chrom")
    nb.run_cell(1, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if nb.kernel_eval("w.backend_used or w.error"):
            break
        time.sleep(0.2)
    state = nb.kernel_eval(STATE, timeout_s)
    if state["b"] != "browser":
        raise RuntimeError(f"the browser did not compute the mask: {state}")
    t = state["t"]
    return {
        "first": float(t.get("first_mask", t["total"])),
        "full": float(t["total"]),
        "cpu": cpu_s_since(cpu0, "chrom"),
        "threads": state["threads"],
        "iou": state["iou"],
    }


def browser_rows(
    image: Path,
    previews: list[int],
    resolutions: list[int],
    timeout_s: float,
    model_spec: Path | None = None,
) -> list[dict[str, Any]]:
    """Return the 1-thread row, the N-thread row, one row per preview side and resolution."""
    rows: list[dict[str, Any]] = []
    cases: list[tuple[str, bool, int | None, int | None]] = [
        ("browser 1 thread", False, None, None),
        ("browser N threads", True, None, None),
    ]
    cases += [(f"browser N threads, preview {p}", True, p, None) for p in previews]
    cases += [(f"browser N threads, resolution {r}", True, None, r) for r in resolutions]
    with (
        tempfile.TemporaryDirectory() as tmp,
        jupyter(Path(tmp) / "plain") as plain,
        jupyter(Path(tmp) / "isolated", isolated=True) as isolated_server,
        chromium() as browser,
    ):
        servers = {False: plain, True: isolated_server}
        for label, isolated, preview, res in tqdm(cases, desc="browser modes"):
            setup, model = model_setup(DEFAULT_PRECISION, model_spec)
            cells = [
                f"import widget\n{setup}",
                f"w = widget.BackgroundRemover({str(image)!r}, {model}, backend='browser',"
                f" preview={preview!r}, resolution={res!r})\nw",
            ]
            nb = open_notebook(browser, servers[isolated], f"speed-{len(rows)}.ipynb", cells)
            nb.run_cell(0, timeout_s=timeout_s)
            widget_run(nb, timeout_s)  # cold: the model crosses the websocket
            rows.append({"mode": label, **widget_run(nb, timeout_s)})
            close_notebook(nb)
    return rows


def kernel_segmenter(model_spec: Path | None) -> Segmenter:
    """Return the kernel twin on 2 threads: the default model, or the spec file's."""
    if model_spec is None:
        return Segmenter(threads=2)
    model_file, spec = read_spec_file(model_spec)
    registry = Registry()
    spec = registry.register_file(model_file, spec)
    return Segmenter(spec.name, spec.precision, threads=2, registry=registry)


def kernel_rows(
    image: Path, sides: list[int], model_spec: Path | None = None
) -> list[dict[str, Any]]:
    """Return the kernel twin's rows: 2 threads at each side (first = full: one pass)."""
    seg = kernel_segmenter(model_spec)
    pixels = load_image(image).pixels
    rows = []
    for side in sides:
        seg.run_pixels(pixels, side)  # warm-up
        start = time.perf_counter()
        seg.run_pixels(pixels, side)
        ms = (time.perf_counter() - start) * 1000
        rows.append({"mode": f"kernel 2 threads @{side}", "first": ms, "full": ms,
                     "cpu": float("nan"), "threads": 2, "iou": 1.0})  # fmt: skip
    return rows


def accuracy_rows(sides: list[int], limit: int) -> list[tuple[str, int, float, float, float]]:
    """IoU/MAE against ground truth and IoU against the 1024 mask, per dataset and side."""
    seg = Segmenter()
    out = []
    for ds in DATASETS:
        acc: dict[int, list[tuple[float, float, float]]] = {s: [] for s in sides}
        for sample in tqdm(load_dataset(ds, limit=limit, max_side=1024), desc=ds, leave=False):
            px = sample.image()
            gt = sample.mask(px.shape[:2])
            full = seg.run_pixels(px, 1024)
            for s in sides:
                m = full if s == 1024 else seg.run_pixels(px, s)
                acc[s].append((iou(m, gt), mae(m, gt), iou(m, full)))
        for s in sides:
            a = np.asarray(acc[s]) if acc[s] else np.full((1, 3), np.nan)
            i_gt, m_gt, i_full = (float(v) for v in a.mean(axis=0))
            out.append((ds, s, i_gt, m_gt, i_full))
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every mode, print the tables."""
    ap = parser("browser-speed", __doc__)
    ap.add_argument("--image", type=Path, default=None, help="default: grace_hopper.jpg")
    ap.add_argument("--previews", nargs="*", type=int, default=[320, 384])
    ap.add_argument("--resolutions", nargs="*", type=int, default=[512])
    ap.add_argument("--limit", type=int, default=6, help="photos per dataset (0: no accuracy)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per step")
    ap.add_argument("--accuracy-only", action="store_true", help="skip the speed table")
    ap.add_argument("--model-spec", type=Path, help="your own model (JSON) instead of ISNet")
    args = ap.parse_args(argv)
    if args.accuracy_only:
        print_accuracy(sorted({*args.previews, *args.resolutions, 1024}), args.limit)
        return 0
    image = args.image or sample_photo()
    load_before = os.getloadavg()[0]
    full_side = (
        1024 if args.model_spec is None else max(read_spec_file(args.model_spec)[1].input_size)
    )
    sides = [full_side, *args.previews, *args.resolutions]
    rows = kernel_rows(image, sides, args.model_spec) + browser_rows(
        image, args.previews, args.resolutions, args.timeout, args.model_spec
    )
    one = next(r["full"] for r in rows if r["mode"] == "browser 1 thread")
    print(f"\nimage {image.name}; {os.cpu_count()} CPUs; load {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (a busy machine inflates every number)")  # fmt: skip
    print(f"{'mode':<34} {'thr':>3} {'first ms':>9} {'full ms':>9} {'full/1t':>7} "
          f"{'CPU s':>6} {'IoU vs kernel':>13}")  # fmt: skip
    for r in rows:
        print(f"{r['mode']:<34} {r['threads']:>3} {r['first']:>9.0f} {r['full']:>9.0f} "
              f"{r['full'] / one:>7.2f} {r['cpu']:>6.1f} "
              f"{r['iou'] or float('nan'):>13.4f}")  # fmt: skip
    print("first/full: ms from the view's job start (browser) or one inference (kernel).")
    if args.limit > 0:
        print_accuracy(sorted({*args.previews, *args.resolutions, 1024}), args.limit)
    return 0


def print_accuracy(sides: list[int], limit: int) -> None:
    """Print :func:`accuracy_rows` (datasets from ``PIXEL_LIBERATION_DATASETS``)."""
    print(f"\n{'dataset':<14} {'side':>5} {'IoU gt':>7} {'MAE gt':>7} {'IoU vs 1024':>11}")
    for ds, side, i_gt, m_gt, i_full in accuracy_rows(sides, limit):
        print(f"{ds:<14} {side:>5} {i_gt:>7.3f} {m_gt:>7.3f} {i_full:>11.3f}")
    print(f"mean of the first {limit} photos per dataset; kernel twin (the browser matches it)")


if __name__ == "__main__":
    raise SystemExit(main())
