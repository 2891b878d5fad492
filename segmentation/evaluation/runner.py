"""Benchmark: model variants x datasets x runtimes -> size, load time, latency and accuracy.

Every variant runs its *wrapped* model (pixels in, mask out), so the timings
include the in-graph pre/post-processing, as in the widget. Accuracy is
measured against the dataset's ground truth (``gt_*``) and against the
reference variant's mask on the same image (``ref_*``, fp32 by default).
A :class:`Runtime` turns a wrapped model file into a callable; the Python
onnxruntime one is here, and a browser runner can be plugged in the same way.
Given a job engine (``engine=``, a local process pool or a Dask cluster), the
Python runtime's variants x images work is spread over its workers
(:mod:`segmentation.evaluation.spread`).
"""

from __future__ import annotations

import hashlib
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from segmentation.conversion.wrapper import wrapped_feeds
from segmentation.evaluation.datasets import Dataset
from segmentation.evaluation.metrics import aggregate, compare, mask_difference
from segmentation.evaluation.spread import Measured, SampleKey, measure_on_engine
from segmentation.jobs.engines import Engine, current_worker
from segmentation.models.spec import ModelSpec
from segmentation.store import ensure_model, ensure_wrapped

Runner = Callable[[np.ndarray], np.ndarray]


class Runtime(Protocol):
    """Something that can load a wrapped model and run it on RGBA pixels."""

    @property
    def name(self) -> str:
        """Label in the result tables, e.g. ``python-2t``."""
        ...

    def load(self, model_path: Path) -> Runner:
        """Load the wrapped model; the returned callable maps uint8 [H, W, 4] to uint8 [H, W]."""
        ...


@dataclass(frozen=True)
class PythonRuntime:
    """onnxruntime in this process, CPU, all graph optimisations, ``threads`` intra-op threads."""

    threads: int = 2

    @property
    def name(self) -> str:
        """``python-<threads>t``."""
        return f"python-{self.threads}t"

    def load(self, model_path: Path) -> Runner:
        """Create the session (its cost is the ``load_s`` column)."""
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        return lambda rgba: sess.run(["mask"], wrapped_feeds(names, rgba))[0]


@dataclass(frozen=True)
class Entry:
    """One model to benchmark: a label, a runnable spec and the bare file size."""

    name: str
    spec: ModelSpec
    size_bytes: int


@dataclass
class BenchResult:
    """Summary rows (variant x dataset x runtime), per-image rows and, if kept, masks."""

    summary: list[dict[str, Any]]
    images: list[dict[str, Any]]
    masks: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)

    def dataframe(self, per_image: bool = False) -> Any:
        """Return the rows as a pandas DataFrame (pandas must be installed)."""
        import pandas as pd

        return pd.DataFrame(self.images if per_image else self.summary)

    def save(self, folder: Path, stem: str = "bench") -> tuple[Path, Path]:
        """Write ``<stem>.json`` (everything) and ``<stem>.csv`` (summary); return both paths."""
        import csv
        import json

        folder.mkdir(parents=True, exist_ok=True)
        js, cs = folder / f"{stem}.json", folder / f"{stem}.csv"
        js.write_text(json.dumps({"summary": self.summary, "images": self.images}, indent=1))
        with cs.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(self.summary[0]) if self.summary else [])
            writer.writeheader()
            writer.writerows(self.summary)
        return js, cs


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in values.items()}


def parity(mask: np.ndarray, first: np.ndarray) -> dict[str, float]:
    """Compare a runtime's mask with the first runtime's mask of the same model and image.

    Returns ``parity_iou`` (thresholded at 0.5), ``parity_mae`` and
    ``parity_max_abs`` (soft masks on 0..1) and ``parity_differing`` (pixels).
    """
    d = mask_difference(mask, first)
    return {
        "parity_iou": d["iou"],
        "parity_mae": d["mae"],
        "parity_max_abs": d["max_abs_diff"],
        "parity_differing": int(d["differing_pixels"]),
    }


def _parity_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if not rows or "parity_iou" not in rows[0]:
        return {"parity_min_iou": None, "parity_max_abs": None, "parity_identical": None}
    return {
        "parity_min_iou": min(r["parity_iou"] for r in rows),
        "parity_max_abs": max(r["parity_max_abs"] for r in rows),
        "parity_identical": sum(r["parity_differing"] == 0 for r in rows),
    }


def _measure_here(
    runtime: Runtime,
    entry: Entry,
    datasets: Sequence[Dataset],
    repeats: int,
    pixels: dict[tuple[str, str], np.ndarray],
    on_image: Callable[[str], None],
) -> tuple[float, dict[SampleKey, Measured]]:
    """Run one entry on every image in this process: load time and per-image measurements."""
    path = ensure_wrapped(entry.spec)
    t0 = time.perf_counter()
    run = runtime.load(path)
    # A runner may time itself (the browser's, inside its worker): prefer its numbers.
    load_s = getattr(run, "load_s", None) or time.perf_counter() - t0
    warm = False
    worker = current_worker()
    measured: dict[SampleKey, Measured] = {}
    for ds in datasets:
        for sample in ds:
            on_image(f"{runtime.name} {entry.name} {ds.name}/{sample.stem}")
            key = (ds.name, sample.stem)
            if key not in pixels:
                pixels[key] = sample.image()
            rgba = pixels[key]
            if not warm:
                run(rgba)
                warm = True
            lat = []
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                mask = run(rgba)
                lat.append(getattr(run, "last_latency_s", None) or time.perf_counter() - t0)
            measured[key] = Measured(mask, tuple(lat), worker)
    del run
    return load_s, measured


def run_benchmark(
    entries: Sequence[Entry],
    datasets: Sequence[Dataset],
    runtimes: Sequence[Runtime] = (PythonRuntime(2),),
    *,
    reference: str | None = None,
    repeats: int = 1,
    saliency: bool = True,
    keep_masks: bool = False,
    progress: bool = True,
    engine: Engine | None = None,
    others_limit: int | None = None,
    checkpoint: Callable[[BenchResult], None] | None = None,
) -> BenchResult:
    """Run every entry on every image of every dataset with every runtime.

    Parameters
    ----------
    entries : sequence of Entry
        Models to compare (see :func:`entry_for`).
    datasets : sequence of Dataset
        Images and ground truth (use a subset: each image runs once per entry and runtime).
    runtimes : sequence of Runtime
        Where to run; ``ref_*`` columns compare with the reference under the *first* runtime.
    reference : str, optional
        Name of the reference entry (default: the first entry).
    repeats : int
        Timed runs per image (after one untimed warm-up run per session).
    saliency : bool
        Also compute the pysodmetrics measures (slower).
    keep_masks : bool
        Keep the first runtime's masks in :attr:`BenchResult.masks` (for plots).
    progress : bool
        Show a tqdm bar.
    engine : Engine, optional
        Spread the :class:`PythonRuntime` runs over a job engine (a local pool
        or a Dask cluster, see :mod:`segmentation.evaluation.spread`); other
        runtimes (the browser's) still run here. Masks and metrics are the same;
        latencies are measured with the other workers busy.
    others_limit : int, optional
        Runtimes after the first run only the first ``others_limit`` images of each
        dataset (accuracy on every image from the first runtime; latency and
        ``parity_*`` against the first runtime's masks from the others, on these).
    checkpoint : callable, optional
        Called with the rows so far after each runtime but the last (to save a
        long run's finished part).

    """
    if not entries or not datasets or not runtimes:
        raise ValueError("run_benchmark needs at least one entry, one dataset and one runtime")
    ref_name = reference or entries[0].name
    order = sorted(entries, key=lambda e: e.name != ref_name)
    if order[0].name != ref_name:
        raise ValueError(f"reference {ref_name!r} is not among the entries")
    if others_limit is not None and others_limit < 1:
        raise ValueError(f"others_limit must be >= 1, got {others_limit}")
    later = [d.subset(limit=others_limit) for d in datasets]
    later_keys = {(d.name, s.stem) for d in later for s in d} if len(runtimes) > 1 else set()
    total = len(entries) * (
        sum(len(d) for d in datasets) + (len(runtimes) - 1) * sum(len(d) for d in later)
    )
    bar = tqdm(total=total, desc="bench", unit="run", disable=not progress)

    def on_image(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    try:
        pixels: dict[tuple[str, str], np.ndarray] = {}
        refs: dict[tuple[str, str], np.ndarray] = {}
        cache: dict[tuple[str, str, str], dict[str, float]] = {}
        firsts: dict[tuple[str, str, str], tuple[bytes, tuple[int, ...]]] = {}
        result = BenchResult([], [])
        for r_i, runtime in enumerate(runtimes):
            sets = datasets if r_i == 0 else later
            for entry in order:
                if engine is not None and isinstance(runtime, PythonRuntime):
                    load_s, measured = measure_on_engine(
                        engine, entry.spec, runtime.threads, sets, repeats, on_image
                    )
                else:
                    load_s, measured = _measure_here(
                        runtime, entry, sets, repeats, pixels, on_image
                    )
                for ds in sets:
                    rows: list[dict[str, Any]] = []
                    lat_all: list[float] = []
                    for sample in ds:
                        key = (ds.name, sample.stem)
                        mask, lat = measured[key].mask, list(measured[key].latencies)
                        lat_all += lat
                        if r_i == 0 and entry.name == ref_name:
                            refs[key] = mask
                        if r_i == 0 and keep_masks:
                            result.masks[(entry.name, ds.name, sample.stem)] = mask
                        extra: dict[str, Any] = {}
                        fkey = (entry.name, ds.name, sample.stem)
                        if r_i == 0 and key in later_keys:  # compressed: masks are mostly flat
                            firsts[fkey] = (zlib.compress(mask.tobytes(), 1), mask.shape)
                        elif r_i > 0:
                            packed, shape = firsts[fkey]
                            first = np.frombuffer(zlib.decompress(packed), np.uint8).reshape(shape)
                            extra = parity(mask, first)
                        digest = hashlib.sha1(mask.tobytes()).hexdigest()
                        if (ds.name, sample.stem, digest) not in cache:
                            gt = sample.mask(mask.shape)
                            cache[(ds.name, sample.stem, digest)] = {
                                **_prefixed("gt", compare(mask, gt, saliency=saliency)),
                                **_prefixed("ref", compare(mask, refs[key], saliency=False)),
                            }
                        row = {
                            "variant": entry.name,
                            "runtime": runtime.name,
                            "dataset": ds.name,
                            "stem": sample.stem,
                            "height": int(mask.shape[0]),
                            "width": int(mask.shape[1]),
                            "latency_s": statistics.median(lat),
                            "worker": measured[key].worker,
                            **cache[(ds.name, sample.stem, digest)],
                            **extra,
                        }
                        rows.append(row)
                    result.images += rows
                    means = aggregate(
                        [
                            {k: v for k, v in r.items() if k.startswith(("gt_", "ref_"))}
                            for r in rows
                        ]
                    )
                    result.summary.append(
                        {
                            "variant": entry.name,
                            "runtime": runtime.name,
                            "dataset": ds.name,
                            "n": len(rows),
                            "size_mb": entry.size_bytes / 1e6,
                            "load_s": load_s,
                            "latency_median_s": statistics.median(lat_all),
                            "latency_min_s": min(lat_all),
                            "blank": int(sum(r["gt_blank"] for r in rows)),
                            **{k: v for k, v in means.items() if not k.endswith("_blank")},
                            **_parity_summary(rows),
                        }
                    )
            if checkpoint is not None and r_i < len(runtimes) - 1:
                checkpoint(result)
    finally:  # the bar closes before any error line is printed
        bar.close()
    return result


def entry_for(spec: ModelSpec, name: str | None = None) -> Entry:
    """Return an :class:`Entry` for a spec (catalog model or variant), fetching it if needed."""
    path = ensure_model(spec)
    return Entry(name or spec.precision, spec, path.stat().st_size)


def interleaved_latency(
    entries: Sequence[Entry], rgba: np.ndarray, runtime: Runtime, rounds: int = 5
) -> dict[str, tuple[float, float]]:
    """Time every entry on one image in round-robin, so all see the same machine load.

    Returns ``{name: (min_s, median_s)}`` over ``rounds`` runs each, after one
    warm-up run per session. Every session stays loaded meanwhile (memory!).
    """
    runs = {e.name: runtime.load(ensure_wrapped(e.spec)) for e in entries}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run(rgba)
    for _ in tqdm(range(rounds), desc="interleaved timing", unit="round"):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run(rgba)
            times[name].append(time.perf_counter() - t0)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}
