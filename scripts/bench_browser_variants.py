"""IS-Net variants in headless Chromium (onnxruntime-web WASM): latency and what each loses.

Usage::

    .venv/bin/python scripts/bench_browser_variants.py                 # 2 + 1 images, 1 thread
    .venv/bin/python scripts/bench_browser_variants.py --repeats 2 --threads 1 2 --limit 3

Builds (or reuses from the cache) each variant of ``isnet-general-use`` with
:mod:`segmentation.evaluation.variants`, runs it in Chromium through
:class:`segmentation.evaluation.browser_runtime.BrowserRuntime` (session creation and
inference timed inside the engine's worker; one untimed warm-up run per
variant) and prints the table; JSON/CSV go to ``--out``. Then names the fastest
variant under ``--budget`` seconds per image in the browser, if any, and what it
loses against fp32 (IoU against ground truth and against fp32's own masks).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from segmentation.config import cache_dir
from segmentation.evaluation.browser_runtime import BrowserRuntime
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.runner import Entry, run_benchmark
from segmentation.evaluation.variants import BENCHMARK_VARIANTS as DEFAULT_VARIANTS
from segmentation.evaluation.variants import build_variant, default_calibration_images
from segmentation.models.registry import default_registry
from segmentation.store import ensure_wrapped

COLUMNS = [
    "variant", "runtime", "size_mb", "load_s", "latency_median_s", "latency_min_s",
    "cpu_median_s", "gt_iou", "gt_mae", "ref_iou", "ref_mae", "blank",
]  # fmt: skip


def main() -> int:
    """Build the variants, run them in Chromium, print the table and the answer."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="isnet-general-use")
    ap.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS))
    ap.add_argument("--limit", type=int, default=2, help="icm58_objects images")
    ap.add_argument("--bsds", type=int, default=1, help="sod_bsds300 images")
    ap.add_argument("--max-side", type=int, default=1024, help="shrink images to this long side")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per image")
    ap.add_argument("--threads", type=int, nargs="+", default=[1], help="WASM threads")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds per image")
    ap.add_argument("--calib", type=int, default=8, help="calibration images (end of sod_bsds300)")
    ap.add_argument("--out", type=Path, default=cache_dir() / "bench-browser")
    args = ap.parse_args()

    base = default_registry().get(args.model, "fp32")
    calib = default_calibration_images(args.calib)
    entries = []
    for name in args.variants:
        t0 = time.perf_counter()
        v = build_variant(base, name, calib)
        took = time.perf_counter() - t0
        print(f"variant {v.name:28s} {v.size_bytes / 1e6:7.1f} MB  ({took:.0f} s)", flush=True)
        entries.append(Entry(v.name, v.spec, v.size_bytes))
    datasets = [load_dataset("icm58_objects", every=9, limit=args.limit, max_side=args.max_side)]
    if args.bsds > 0:
        datasets.append(
            load_dataset("sod_bsds300", every=40, limit=args.bsds, max_side=args.max_side)
        )
    runtimes = [BrowserRuntime(t) for t in args.threads]
    try:
        result = run_benchmark(
            entries, datasets, runtimes, reference=entries[0].name, repeats=args.repeats,
            saliency=False,
        )  # fmt: skip
    finally:
        for rt in runtimes:
            rt.close()
    try:
        add_cpu(result.summary, entries, runtimes)
    except Exception as exc:  # a bonus column: never lose the table over it
        print(f"no CPU column: {type(exc).__name__}: {exc}")
    js, cs = result.save(args.out, "bench-browser")
    df = result.dataframe()
    # One row per variant and runtime: images of all datasets together.
    cols = [c for c in COLUMNS if c in df]
    num = [c for c in cols if c not in ("variant", "runtime", "blank")]
    table = df.groupby(["variant", "runtime"], sort=False)[num].mean()
    table["blank"] = df.groupby(["variant", "runtime"], sort=False)["blank"].sum()
    table["images"] = df.groupby(["variant", "runtime"], sort=False)["n"].sum()
    print(table.reset_index().to_string(index=False, float_format="%.3f"))
    print(f"\nsaved {js} and {cs}")
    answer(table.reset_index(), entries[0].name, args.budget)
    return 0


def add_cpu(summary: list[dict], entries: list[Entry], runtimes: list[BrowserRuntime]) -> None:
    """Add ``cpu_median_s`` (browser processes' CPU per timed run) to the summary rows."""
    import statistics

    files = {ensure_wrapped(e.spec).name: e.name for e in entries}
    cpu: dict[tuple[str, str], list[float]] = {}
    for rt in runtimes:
        seen: set[str] = set()
        for item in rt.log:
            if item["model"] not in seen:  # the untimed warm-up run of each session
                seen.add(item["model"])
                continue
            if item["cpu_s"] is not None:
                cpu.setdefault((files[item["model"]], rt.name), []).append(item["cpu_s"])
    for row in summary:
        values = cpu.get((row["variant"], row["runtime"]))
        row["cpu_median_s"] = statistics.median(values) if values else float("nan")


def answer(table: object, ref: str, budget: float) -> None:
    """Print the fastest variant under ``budget`` s per image (per runtime) and its losses."""
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    for runtime, rows in table.groupby("runtime", sort=False):
        rows = rows.set_index("variant")
        fp32 = rows.loc[ref]
        ok = rows[rows.latency_median_s < budget].sort_values("latency_median_s")
        if not len(ok):
            best = rows.sort_values("latency_median_s").iloc[0]
            print(
                f"{runtime}: no variant under {budget:.1f} s per image; fastest is {best.name} "
                f"({best.latency_median_s:.2f} s)"
            )
            continue
        best = ok.iloc[0]
        print(
            f"{runtime}: fastest under {budget:.1f} s: {best.name} {best.latency_median_s:.2f} s "
            f"(fp32 {fp32.latency_median_s:.2f} s); IoU vs GT {best.gt_iou:.3f} vs "
            f"{fp32.gt_iou:.3f}, IoU vs fp32 masks {best.ref_iou:.3f}, "
            f"MAE vs fp32 {best.ref_mae:.4f}"
        )


if __name__ == "__main__":
    sys.exit(main())
