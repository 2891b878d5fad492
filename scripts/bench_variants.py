"""Accuracy vs size vs speed of IS-Net variants on small subsets of the two datasets.

Usage::

    .venv/bin/python scripts/bench_variants.py            # 6 + 6 images, 1 and 2 threads
    .venv/bin/python scripts/bench_variants.py --limit 12 --threads 2 --out /tmp/bench

Builds (or reuses from the cache) each variant of ``isnet-general-use`` fp32,
runs every variant on the subsets and prints the table; JSON/CSV and plots go
to ``--out``. Then names (a) an int8 variant at <= 1/4 of fp32's size that
loses <= 0.01 IoU against ground truth on icm58_objects, if any, and (b) the
fastest variant and what it loses.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from segmentation.config import cache_dir
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.runner import (
    Entry,
    PythonRuntime,
    interleaved_latency,
    run_benchmark,
)
from segmentation.evaluation.variants import BENCHMARK_VARIANTS as DEFAULT_VARIANTS
from segmentation.evaluation.variants import build_variant, default_calibration_images
from segmentation.models.registry import default_registry

COLUMNS = [
    "variant", "runtime", "dataset", "size_mb", "load_s", "latency_median_s",
    "gt_iou", "gt_mae", "gt_boundary_iou", "gt_max_f", "gt_s_measure",
    "ref_iou", "ref_mae", "blank",
]  # fmt: skip


def main() -> int:
    """Build the variants, run the benchmark, print the table and the two answers."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="isnet-general-use")
    ap.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS))
    ap.add_argument("--limit", type=int, default=6, help="images per dataset")
    ap.add_argument("--max-side", type=int, default=640, help="shrink images to this long side")
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--calib", type=int, default=8, help="calibration images (end of sod_bsds300)")
    ap.add_argument("--out", type=Path, default=cache_dir() / "bench")
    ap.add_argument("--timing-rounds", type=int, default=0,
                    help="only time the variants round-robin on one image")  # fmt: skip
    args = ap.parse_args()

    base = default_registry().get(args.model, "fp32")
    calib = default_calibration_images(args.calib)
    entries = []
    for name in args.variants:
        t0 = time.perf_counter()
        v = build_variant(base, name, calib)
        print(
            f"variant {v.name:28s} {v.size_bytes / 1e6:7.1f} MB  ({time.perf_counter() - t0:.0f} s)"
        )
        entries.append(Entry(v.name, v.spec, v.size_bytes))
    if args.timing_rounds:
        return timing_only(entries, args)
    # Spread over classes (icm58 is sorted by class); calibration uses the end of sod_bsds300.
    datasets = [
        load_dataset("icm58_objects", every=9, limit=args.limit, max_side=args.max_side),
        load_dataset("sod_bsds300", every=40, limit=args.limit, max_side=args.max_side),
    ]
    runtimes = [PythonRuntime(t) for t in args.threads]
    load_before = os.getloadavg()[0]
    result = run_benchmark(entries, datasets, runtimes, reference=entries[0].name, keep_masks=True)
    print(f"load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    js, cs = result.save(args.out)
    df = result.dataframe()
    print(df[[c for c in COLUMNS if c in df]].to_string(index=False, float_format="%.3f"))
    print(f"\nsaved {js} and {cs}")
    try:
        from segmentation.evaluation.plots import save_report_plots

        for p in save_report_plots(result, args.out, datasets):
            print(f"plot {p}")
    except Exception as exc:  # plots are a bonus: never lose the table over them
        print(f"no plots: {type(exc).__name__}: {exc}")
    answer(df, entries[0].name)
    return 0


def timing_only(entries: list[Entry], args: argparse.Namespace) -> int:
    """Round-robin latency of every variant on the first icm58 image, per thread count."""
    sample = load_dataset("icm58_objects", limit=1, max_side=args.max_side).samples[0]
    rgba = sample.image()
    print(f"image {sample.stem} {rgba.shape[1]}x{rgba.shape[0]}, load {os.getloadavg()[0]:.1f}")
    for threads in args.threads:
        res = interleaved_latency(entries, rgba, PythonRuntime(threads), args.timing_rounds)
        for name, (best, median) in res.items():
            print(f"python-{threads}t  {name:28s} min {best:6.2f} s  median {median:6.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


def answer(df: object, ref: str) -> None:
    """Print (a) the small int8 variant that keeps icm58 IoU, (b) the fastest variant."""
    import pandas as pd

    assert isinstance(df, pd.DataFrame)
    first = df["runtime"].iloc[0]
    icm = df[(df.dataset == "icm58_objects") & (df.runtime == first)].set_index("variant")
    fp32 = icm.loc[ref]
    ok = icm[
        icm.index.str.startswith("int8")
        # int8 weights are exactly 1/4; scales, zero points, biases, Q/DQ nodes add 0.5-1.5 %
        & (icm.size_mb <= fp32.size_mb / 4 * 1.02)
        & (icm.gt_iou >= fp32.gt_iou - 0.01)
    ]
    if len(ok):
        best = ok.sort_values("latency_median_s").iloc[0]
        print(
            f"(a) {best.name}: {best.size_mb:.1f} MB = {best.size_mb / fp32.size_mb:.1%} of "
            f"{fp32.size_mb:.1f} MB, icm58 IoU "
            f"{best.gt_iou:.3f} vs {fp32.gt_iou:.3f}, {best.latency_median_s:.2f} s ({first})"
        )
    else:
        print("(a) no int8 variant is <= 1/4 (+2%) of fp32's size and within 0.01 IoU on icm58")
    both = df[df.runtime == first].groupby("variant")[["latency_median_s", "gt_iou"]].mean()
    fast = both.sort_values("latency_median_s").iloc[0]
    print(
        f"(b) fastest ({first}): {fast.name} {fast.latency_median_s:.2f} s vs fp32 "
        f"{both.loc[ref].latency_median_s:.2f} s; IoU vs GT (both datasets) "
        f"{fast.gt_iou:.3f} vs {both.loc[ref].gt_iou:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
