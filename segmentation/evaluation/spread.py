"""The benchmark's variants x images work on a job engine (a local pool or a Dask cluster).

:func:`measure_on_engine` sends one variant's images in batches to an
:class:`~segmentation.jobs.engines.Engine`; each worker opens the variant once
(:func:`segmentation.jobs.model.open_model`, the wrapped file checked by sha256;
the previous variant's session is released), runs one untimed warm-up, then
times ``repeats`` runs per image. The client gets the masks back and computes
the metrics as for a local run. Latencies are then measured with the other
workers busy: they say what a loaded machine gives, not one image alone.
Dataset files must be readable by the workers (the same machine, or a shared
folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from segmentation.evaluation.datasets import Dataset, Sample
from segmentation.jobs.engines import Engine, current_worker
from segmentation.jobs.job import auto_batch_size
from segmentation.jobs.model import ModelRef, open_model, prepare_model
from segmentation.models.spec import ModelSpec

SampleKey = tuple[str, str]

_WARM: set[tuple[str, int | None]] = set()


@dataclass(frozen=True)
class Measured:
    """One image under one variant: its mask, timed runs and who ran it."""

    mask: np.ndarray
    latencies: tuple[float, ...]
    worker: str
    load_s: float | None = None


@dataclass(frozen=True)
class BenchBatch:
    """Images of one variant for one worker."""

    ref: ModelRef
    threads: int
    repeats: int
    samples: tuple[tuple[str, Sample], ...]


def run_bench_batch(batch: BenchBatch) -> list[tuple[SampleKey, Measured]]:
    """Worker side: open the variant once per process, warm it up, time every image."""
    warm_key = (batch.ref.wrapped_sha256, batch.threads)
    first = warm_key not in _WARM
    t0 = time.perf_counter()
    seg = open_model(batch.ref, batch.threads, only=True)  # other variants' sessions released
    load_s: float | None = time.perf_counter() - t0 if first else None
    if first:
        _WARM.difference_update({k for k in _WARM if k[0] != warm_key[0]})
    out: list[tuple[SampleKey, Measured]] = []
    for ds_name, sample in batch.samples:
        rgba = sample.image()
        if warm_key not in _WARM:
            seg.run_pixels(rgba)  # untimed warm-up, once per session
            _WARM.add(warm_key)
        lat = []
        for _ in range(max(1, batch.repeats)):
            t1 = time.perf_counter()
            mask = seg.run_pixels(rgba)
            lat.append(time.perf_counter() - t1)
        out.append(((ds_name, sample.stem), Measured(mask, tuple(lat), current_worker(), load_s)))
        load_s = None
    return out


def measure_on_engine(
    engine: Engine,
    spec: ModelSpec,
    threads: int,
    datasets: Sequence[Dataset],
    repeats: int,
    on_image: Callable[[str], None] | None = None,
) -> tuple[float, dict[SampleKey, Measured]]:
    """Run one variant on every image through ``engine``.

    Returns
    -------
    load_s : float
        Median, over the processes that opened the variant, of the seconds it took.
    measured : dict
        ``(dataset name, stem) -> Measured``.

    """
    ref = prepare_model(spec)
    engine.prepare(ref, threads, None)
    items = [(ds.name, s) for ds in datasets for s in ds]
    size = auto_batch_size(len(items), engine.workers)
    batches = [
        BenchBatch(ref, threads, repeats, tuple(items[i : i + size]))
        for i in range(0, len(items), size)
    ]
    measured: dict[SampleKey, Measured] = {}
    for rows in engine.imap_unordered(run_bench_batch, batches):
        for key, m in rows:
            measured[key] = m
            if on_image is not None:
                on_image(f"{spec.key} {key[0]}/{key[1]} on {m.worker}")
    loads = [m.load_s for m in measured.values() if m.load_s is not None]
    return (float(np.median(loads)) if loads else 0.0), measured
