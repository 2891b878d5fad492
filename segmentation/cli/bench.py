"""Subcommands ``quantize`` and ``bench`` of ``python -m segmentation``.

::

    python -m segmentation quantize isnet-general-use --to int8-calibrated int8-weight fp32@512
    python -m segmentation bench --dataset icm58_objects --precisions fp32 int8-static --limit 6
    python -m segmentation bench --dataset photos/ --variants int8-weight fp32@512

``quantize`` builds variants (see :mod:`segmentation.evaluation.variants` for the names)
and prints each file, size and sha256. ``bench`` runs the catalog's precisions
(``--precisions``, default all of the model's) and experimental recipes
(``--variants``) on dataset folders and prints the summary table; the two never
share a name (:mod:`segmentation.evaluation.entries`). ``--out`` also saves JSON/CSV
and plots, ``--record FILE`` a results file with the machine, versions, date and
command (:mod:`segmentation.evaluation.record`); ``--others-limit N`` runs the
runtimes after the first on N images per dataset only (latency and parity);
``--workers N`` / ``--cluster local|tcp://HOST:PORT`` spread the python runs
over a local process pool or a Dask cluster (the job's engines).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from segmentation.cli.options import add_engine_options
from segmentation.config import front_end_dir
from segmentation.conversion.calibration import calibration_folder
from segmentation.evaluation.browser_runtime import BrowserRuntime
from segmentation.evaluation.datasets import Dataset, load_dataset
from segmentation.evaluation.entries import (
    Plan,
    catalog_precisions,
    check_names,
    plan_entries,
    without_calibration,
)
from segmentation.evaluation.plots import save_report_plots
from segmentation.evaluation.record import command_line, git_commit, machine, versions, write_record
from segmentation.evaluation.runner import BenchResult, PythonRuntime, run_benchmark
from segmentation.evaluation.variants import Recipe, build_variant
from segmentation.files import sha256_file
from segmentation.images import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV
from segmentation.jobs.engines import open_engine
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_PRECISION
from segmentation.store import ensure_model


def positive_int(text: str) -> int:
    """Parse a whole number >= 1 for argparse (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_max_pixels_option(p: argparse.ArgumentParser) -> None:
    """Add ``--max-pixels N``: the loader's pixel limit for every image the command reads."""
    p.add_argument("--max-pixels", type=positive_int, default=None, metavar="N",
                   help=f"refuse images with more pixels (default ${MAX_PIXELS_ENV} or "
                        f"{DEFAULT_MAX_PIXELS:,})")  # fmt: skip


def add_subcommands(subparsers: Any) -> None:
    """Add ``quantize`` and ``bench`` to the ``python -m segmentation`` parser."""
    p = subparsers.add_parser("quantize", help="build precision/resolution variants of a model")
    p.add_argument("model", metavar="MODEL", help="catalog model name, e.g. isnet-general-use")
    p.add_argument("--to", nargs="+", required=True, metavar="VARIANT",
                   help="e.g. fp16 int8-dynamic int8-calibrated int8-weight fp32@512")  # fmt: skip
    p.add_argument("--from", dest="source", default="fp32", metavar="PRECISION",
                   help="catalog precision to start from (default fp32)")  # fmt: skip
    p.add_argument("--calib", type=Path, default=None, metavar="DIR",
                   help="folder of calibration images for int8-calibrated")  # fmt: skip
    p.add_argument("--calib-count", type=positive_int, default=8, metavar="N")
    p.add_argument("--rebuild", action="store_true", help="ignore cached variants")
    add_max_pixels_option(p)
    p.set_defaults(func=cmd_quantize)

    p = subparsers.add_parser("bench", help="accuracy / size / speed of variants on a dataset")
    p.add_argument("--dataset", action="append", required=True, metavar="PATH",
                   help="dataset folder (images/ + masks/) or icm58_objects / sod_bsds300; "
                        "repeat for several")  # fmt: skip
    p.add_argument("--model", default="isnet-general-use")
    p.add_argument("--precisions", nargs="+", default=None, metavar="PRECISION",
                   help="catalog precisions of --model (default: all, or none with "
                        "--variants); the first entry is the reference (ref_*)")  # fmt: skip
    p.add_argument("--variants", nargs="+", default=[], metavar="RECIPE",
                   help="experimental builds from fp32, e.g. int8-calibrated int8-weight "
                        "fp32@512 (never a catalog precision's name)")  # fmt: skip
    p.add_argument("--runtime", nargs="+", default=["python"], metavar="RUNTIME",
                   help="python (2 threads), python-N, browser (headless Chromium, "
                        "1 WASM thread), browser-N")  # fmt: skip
    p.add_argument("--limit", type=positive_int, default=None, metavar="N", help="first N images")
    p.add_argument("--every", type=positive_int, default=1, metavar="K", help="every K-th image")
    p.add_argument("--max-side", type=positive_int, default=1024,
                   help="shrink images to this long side")  # fmt: skip
    p.add_argument("--calib", type=Path, default=None, metavar="DIR")
    p.add_argument("--others-limit", type=positive_int, default=None, metavar="N",
                   help="later runtimes run only the first N images per dataset")  # fmt: skip
    p.add_argument("--repeats", type=positive_int, default=1, metavar="N",
                   help="timed runs per image (after one warm-up per session)")  # fmt: skip
    p.add_argument("--out", type=Path, default=None, help="save JSON, CSV and plots here")
    p.add_argument("--record", type=Path, default=None, metavar="FILE.json",
                   help="write a results file: rows, machine, versions, date, command")  # fmt: skip
    add_max_pixels_option(p)
    add_engine_options(p)
    p.set_defaults(func=cmd_bench)


def _calibration(folder: Path | None, count: int, max_pixels: int | None) -> list[Path] | None:
    """Return the usable calibration images of ``folder``; name each one left out on stderr."""
    if folder is None:
        return None
    picked = calibration_folder(folder, count, max_pixels=max_pixels)
    for line in picked.skipped:
        print(f"skipped calibration image {line}", file=sys.stderr)
    return picked.images


def cmd_quantize(args: argparse.Namespace) -> int:
    """Build each requested variant and print where it is."""
    from tqdm.auto import tqdm

    base = default_registry().get(args.model, args.source)
    recipes = [Recipe.parse(t) for t in args.to]  # fail on a bad name before any work
    calib = _calibration(args.calib, args.calib_count, args.max_pixels)
    for recipe in tqdm(recipes, desc="variants", unit="variant"):
        v = build_variant(base, recipe, calib, rebuild=args.rebuild, max_pixels=args.max_pixels)
        tqdm.write(f"{v.name}\t{v.size_bytes / 1e6:.1f} MB\t{v.sha256[:12]}\t{v.path}")
    return 0


def parse_runtime(text: str) -> Any:
    """``python`` (2 threads), ``python-N``, ``browser`` (1 thread) or ``browser-N`` -> a runtime.

    The browser runtime runs the same wrapped files in headless Chromium with
    onnxruntime-web (see :mod:`segmentation.evaluation.browser_runtime`); it needs Playwright
    and ``/usr/bin/chromium``, and starts the browser only when first used.
    """
    head, _, threads = text.partition("-")
    if text in ("python", "browser") or (threads.isdigit() and int(threads) > 0):
        n = int(threads) if threads else (2 if head == "python" else 1)
        if head == "python":
            return PythonRuntime(n)
        if head == "browser":
            return BrowserRuntime(n, front_end=front_end_dir())
    raise ValueError(f"unknown runtime {text!r}: use python, python-N, browser or browser-N")


def _precisions(args: argparse.Namespace) -> list[str]:
    if args.precisions is not None:
        return list(args.precisions)
    if args.variants:
        return []
    known = catalog_precisions(args.model)
    return sorted(known, key=lambda p: (p != "fp32", p))  # fp32 first: the reference


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark, print the summary table, save what was asked."""
    runtimes = [parse_runtime(r) for r in args.runtime]
    precisions = _precisions(args)
    check_names(args.model, precisions, args.variants)  # every name, before any work
    datasets = [
        load_dataset(
            d,
            limit=args.limit,
            every=args.every,
            max_side=args.max_side,
            max_pixels=args.max_pixels,
        )
        for d in args.dataset
    ]
    calib = _calibration(args.calib, 8, args.max_pixels)
    plan = plan_entries(args.model, precisions, args.variants, calib, max_pixels=args.max_pixels)
    sizes = [len(d) for d in datasets]
    datasets = without_calibration(datasets, plan)
    for d, n in zip(datasets, sizes, strict=True):
        if len(d) < n:
            print(f"{d.name}: left out {n - len(d)} calibration image(s) of int8-calibrated")
    engine = None
    if args.cluster is not None or args.workers is not None:
        engine = open_engine(args.cluster, args.workers, batches=sum(len(d) for d in datasets))
        print(f"python runs on {engine.description}")
        if engine.dashboard_link:
            print(f"dashboard: {engine.dashboard_link}")
    meta = _meta(args, plan, datasets, runtimes, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def save(result: BenchResult, complete: bool) -> Path:
        for row in result.summary:
            row["kind"] = plan.kinds[row["variant"]]
        browsers = {r.name: v for r in runtimes if (v := getattr(r, "browser_version", ""))}
        meta["versions"] = versions({f"browser ({k})": v for k, v in browsers.items()})
        return write_record(args.record, result.summary, result.images,
                            {**meta, "complete": complete})  # fmt: skip

    def checkpoint(result: BenchResult) -> None:
        if args.record is not None:
            print(f"saved the finished runtimes to {save(result, complete=False)}")

    try:
        result = run_benchmark(
            plan.entries, datasets, runtimes, keep_masks=args.out is not None, engine=engine,
            repeats=args.repeats, others_limit=args.others_limit, checkpoint=checkpoint,
        )  # fmt: skip
    finally:
        if engine is not None:
            engine.close()
        for runtime in runtimes:
            close = getattr(runtime, "close", None)
            if close is not None:
                close()
    for row in result.summary:
        row["kind"] = plan.kinds[row["variant"]]
    cols = ["variant", "runtime", "dataset", "n", "size_mb", "latency_median_s",
            "gt_iou", "gt_mae", "gt_max_f", "ref_iou", "blank"]  # fmt: skip
    print("\t".join(cols))
    for r in result.summary:
        print("\t".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    if args.out is not None:
        for path in [*result.save(args.out), *save_report_plots(result, args.out, datasets)]:
            print(f"wrote {path}")
    if args.record is not None:
        print(f"wrote {save(result, complete=True)}")
    return 0


def _meta(
    args: argparse.Namespace,
    plan: Plan,
    datasets: list[Dataset],
    runtimes: list[Any],
    started: str,
) -> dict[str, Any]:
    """Describe a run for its results file: command, commit, machine, what was measured."""
    entries = [
        {"name": e.name, "kind": plan.kinds[e.name], "size_bytes": e.size_bytes,
         "sha256": e.spec.sha256 or sha256_file(ensure_model(e.spec))}
        for e in plan.entries
    ]  # fmt: skip
    sets = [{"name": d.name, "n": len(d), "source": d.source.split("\n", 1)[0]}
            for d in datasets]  # fmt: skip
    options = {"max_side": args.max_side, "repeats": args.repeats, "limit": args.limit,
               "every": args.every, "others_limit": args.others_limit}  # fmt: skip
    return {
        "command": command_line(args.argv),
        "commit": git_commit(),
        "started": started,
        "machine": machine(),
        "model": args.model,
        "default_precision": DEFAULT_PRECISION,
        "entries": entries,
        "calibration_images": [p.name for p in plan.calibration],
        "runtimes": [r.name for r in runtimes],
        "datasets": sets,
        "options": options,
    }
