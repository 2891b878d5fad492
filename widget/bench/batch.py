"""Benchmark ``widget.BatchRemover``: 1 worker vs the pool, real ISNet, JupyterLab + Chromium.

The batches run ``backend="browser"``: the page's pool alone (the default, ``"auto"``, also
lets the kernel take images from the same queue).

JupyterLab is not cross-origin isolated, so onnxruntime-web runs one thread per
session; the batch widget spreads images over a page-wide pool of workers. One run
of this script, in one page:

1. warm-up: a batch on the pool (the model and the wasm cross the websocket once and
   land in IndexedDB; every pool worker creates its session; session times printed);
2. the subset with ``workers=1``;
3. the same subset with the default pool (``workers=None``: min(cores, 4), memory cap);
4. with ``--isolated`` (a JupyterLab started with ``python -m widget threads on``'s
   config), each ``--layouts`` entry ``WxT``: W workers of T threads each, to choose the
   layout with the best throughput.

Sessions are warm in 2 and 3. It prints, per run, the in-page wall time (first image
start to last image end), throughput, the CPU seconds of every process this script
started (Chromium, the Jupyter server and the kernel) and the speed-up. Usage::

    .venv/bin/python -m widget.bench batch [--images P ...] [--count 4] [--precision int8-static]
        [--isolated --layouts 2x1 1x2] [--model-spec my-model.json]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from segmentation.config import datasets_dir
from segmentation.evaluation.cpu_time import tree_cpu_s
from segmentation.models.spec import DEFAULT_PRECISION
from widget.bench.harness import (
    jupyter,
    model_labels,
    model_setup,
    open_notebook,
    parser,
    sample_photo,
)
from widget.testing.chromium import chromium
from widget.testing.notebook import Notebook


def default_images(count: int) -> list[Path]:
    """``count`` photos spread over the icm58_objects dataset, else matplotlib's sample photo."""
    folder = datasets_dir() / "icm58_objects" / "images"
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if len(files) >= count:
        step = len(files) // count
        return files[::step][:count]
    return [sample_photo()] * count


def run_batch(nb: Notebook, cell: int, var: str, timeout_s: float) -> dict[str, Any]:
    """Run a batch cell and wait for every mask; return timings, workers and CPU seconds."""
    cpu0, t0 = tree_cpu_s(), time.perf_counter()
    nb.run_cell(cell, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    while True:
        state = nb.kernel_eval(f"{{'done': {var}.done, 'total': {var}.total, 'e': {var}.error}}")
        if state["e"] or state["done"] == state["total"]:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {var} not done in {timeout_s} s: {state}")
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    cpu1 = tree_cpu_s()
    info = nb.kernel_eval(
        f"{{'t': {var}.timings, 'w': {var}.workers, 'b': {var}.backends, 'e': {var}.errors}}"
    )
    if state["e"] or any(b != "browser" for b in info["b"]):
        raise RuntimeError(f"not every image ran in the browser: {state} {info['b']} {info['e']}")
    cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return {"timings": info["t"], "workers": info["w"], "e2e_s": wall, "cpu_s": cpu}


def parse_layout(text: str) -> tuple[int, int]:
    """``"2x1"`` -> (2 workers, 1 thread each)."""
    try:
        w, t = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a layout is WxT (e.g. 2x1), got {text!r}") from None
    if w < 1 or t < 1:
        raise argparse.ArgumentTypeError(f"workers and threads must be >= 1, got {text!r}")
    return w, t


def bench(
    images: list[Path],
    precision: str,
    timeout_s: float,
    isolated: bool = False,
    layouts: list[tuple[int, int]] | None = None,
    model_spec: Path | None = None,
) -> list[dict[str, Any]]:
    """Warm-up, then 1 worker, then the pool, then each layout; one row per run."""
    paths = [str(p) for p in images]
    setup, model = model_setup(precision, model_spec)
    cells = [
        f"import widget\n{setup}\nimgs = {paths!r}",
        f"warm = widget.BatchRemover(imgs, {model}, backend='browser')\nwarm",
        f"one = widget.BatchRemover(imgs, {model}, backend='browser', workers=1)\none",
        f"pool = widget.BatchRemover(imgs, {model}, backend='browser')\npool",
    ]
    runs = [("warm-up", "warm"), ("1 worker", "one"), ("pool", "pool")]
    for i, (w, t) in enumerate(layouts or []):
        cells.append(
            f"lay{i} = widget.BatchRemover(imgs, {model}, backend='browser', workers={w},"
            f" threads_per_worker={t})\nlay{i}"
        )
        runs.append((f"{w}x{t}", f"lay{i}"))
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        jupyter(Path(tmp), isolated=isolated) as server,
        chromium() as browser,
    ):
        nb = open_notebook(browser, server, "bench-batch.ipynb", cells)
        nb.run_cell(0, timeout_s=timeout_s)
        for cell, (label, var) in tqdm(list(enumerate(runs, 1))):
            row = {"run": label, **run_batch(nb, cell, var, timeout_s)}
            row["layout"] = nb.kernel_eval(f"{var}.layout")
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table."""
    ap = parser("batch", __doc__)
    ap.add_argument("--images", type=Path, nargs="+", default=None)
    ap.add_argument("--count", type=int, default=4, help="default subset size")
    ap.add_argument("--precision", default=DEFAULT_PRECISION, help="default: the widget's default")
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per batch")
    ap.add_argument("--isolated", action="store_true", help="cross-origin isolated JupyterLab")
    ap.add_argument("--layouts", nargs="*", type=parse_layout, default=[], metavar="WxT")
    ap.add_argument("--model-spec", type=Path, help="your own model (JSON) instead of ISNet")
    args = ap.parse_args(argv)
    images = args.images or default_images(args.count)
    load_before = os.getloadavg()[0]
    rows = bench(images, args.precision, args.timeout, args.isolated, args.layouts, args.model_spec)
    model = model_labels([f"ISNet {args.precision}"], args.model_spec)[0]
    print(f"\n{model}, {len(images)} images ({', '.join(p.name for p in images)});")
    print(f"{os.cpu_count()} CPUs; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (other jobs share this machine)")  # fmt: skip
    head = ("run", "workers", "page wall s", "img/min", "busy s", "conc", "e2e s", "CPU s",
            "sess s")  # fmt: skip
    print("{:<9} {:>7} {:>11} {:>7} {:>7} {:>5} {:>7} {:>7} {:>6}".format(*head))
    for r in rows:
        t = r["timings"]
        wall = t["wall"] / 1000
        sess = sum(i.get("session_create", 0.0) for i in t["images"]) / 1000
        cpu = "n/a" if r["cpu_s"] is None else f"{r['cpu_s']:.1f}"
        print(
            f"{r['run']:<9} {r['workers']:>7} {wall:>11.1f} {60 * len(images) / wall:>7.2f}"
            f" {t['busy'] / 1000:>7.1f} {t['busy'] / t['wall']:>5.2f} {r['e2e_s']:>7.1f}"
            f" {cpu:>7} {sess:>6.1f}"
        )
    one, pool = rows[1]["timings"]["wall"], rows[2]["timings"]["wall"]
    print(f"speed-up of the pool ({rows[2]['workers']} workers) over 1 worker: {one / pool:.2f}x")
    for r in rows:
        print(f"{r['run']:<9} {r['layout']}")
    if args.layouts:
        best = min(rows[3:], key=lambda r: r["timings"]["wall"])
        print(f"best throughput of the layouts: {best['run']} ({best['layout']})")
    print("page wall = first image start to last mask in the page; busy = sum of per-image")
    print("worker time; conc = busy / page wall (workers busy at once on average); e2e = cell")
    print("run to all masks in the kernel; CPU = every child process (Chromium, Jupyter, kernel).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
