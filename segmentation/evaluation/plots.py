"""Figures of a benchmark: accuracy against size and latency (Pareto front marked), worst cases.

Uses matplotlib's object API (no pyplot state), so it works headless and in
notebooks alike; every function returns the :class:`~matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.evaluation.datasets import Dataset
from segmentation.evaluation.runner import BenchResult


def pareto_front(cost: Sequence[float], gain: Sequence[float]) -> list[int]:
    """Return the indices of the points that no other point beats (Pareto-optimal).

    A point is dominated when another has ``cost <=`` and ``gain >=`` with at
    least one strict. The result is sorted by increasing cost.
    """
    c, g = np.asarray(cost, float), np.asarray(gain, float)
    if c.shape != g.shape:
        raise ValueError("cost and gain must have the same length")
    keep = []
    for i in range(len(c)):
        dominated = np.any((c <= c[i]) & (g >= g[i]) & ((c < c[i]) | (g > g[i])))
        if not dominated:
            keep.append(i)
    return sorted(keep, key=lambda i: (c[i], -g[i]))


def _figure(ncols: int = 1, width: float = 5.5, height: float = 4.0) -> tuple[Any, Any]:
    # matplotlib: the optional 'bench' extra (0.24 s to import), only for figures
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def plot_tradeoff(
    summary: Sequence[dict[str, Any]],
    x: str = "size_mb",
    y: str = "gt_iou",
    *,
    runtime: str | None = None,
) -> Any:
    """One panel per dataset: ``y`` against ``x`` for every variant, the Pareto front as a line."""
    rows = [r for r in summary if runtime is None or r["runtime"] == runtime]
    if not rows:
        raise ValueError(f"no summary rows for runtime {runtime!r}")
    if runtime is None:
        first = rows[0]["runtime"]
        rows = [r for r in rows if r["runtime"] == first]
    datasets = sorted({r["dataset"] for r in rows})
    fig, axes = _figure(len(datasets))
    for ax, ds in zip(axes, datasets, strict=True):
        pts = [r for r in rows if r["dataset"] == ds]
        xs, ys = [r[x] for r in pts], [r[y] for r in pts]
        front = pareto_front(xs, ys)
        ax.scatter(xs, ys, color="tab:blue", zorder=3)
        ax.plot([xs[i] for i in front], [ys[i] for i in front], "--", color="tab:red",
                label="Pareto front", zorder=2)  # fmt: skip
        for r in pts:
            ax.annotate(r["variant"], (r[x], r[y]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{ds} ({pts[0]['runtime']})")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    return fig


def worst_cases(
    result: BenchResult, variant: str, k: int = 3, metric: str = "gt_iou"
) -> list[dict[str, Any]]:
    """Return the ``k`` rows of ``variant`` (first runtime) with the lowest ``metric``."""
    rows = [r for r in result.images if r["variant"] == variant]
    if not rows:
        raise ValueError(f"no per-image rows for variant {variant!r}")
    first = rows[0]["runtime"]
    rows = [r for r in rows if r["runtime"] == first]
    return sorted(rows, key=lambda r: r[metric])[:k]


def plot_worst(result: BenchResult, datasets: Sequence[Dataset], variant: str, k: int = 3) -> Any:
    """Triptychs (image / ground truth / prediction) of the ``k`` worst images of ``variant``.

    Needs the masks: run the benchmark with ``keep_masks=True``.
    """
    samples = {(d.name, s.stem): s for d in datasets for s in d}
    worst = worst_cases(result, variant, k)
    fig, _ = _figure(1, 9.0, 3.0 * len(worst))
    fig.clear()
    grid = fig.subplots(len(worst), 3, squeeze=False)
    for row, r in zip(grid, worst, strict=True):
        key = (variant, r["dataset"], r["stem"])
        if key not in result.masks:
            raise ValueError(f"mask of {key} was not kept: run_benchmark(..., keep_masks=True)")
        sample = samples[(r["dataset"], r["stem"])]
        image = sample.image()
        pred = result.masks[key]
        panels = [image, sample.mask(pred.shape), pred]
        titles = [f"{r['dataset']}/{r['stem']}", "ground truth", f"{variant} IoU {r['gt_iou']:.3f}"]
        for ax, im, title in zip(row, panels, titles, strict=True):
            ax.imshow(im, cmap=None if im.ndim == 3 else "gray", vmin=0, vmax=None)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    return fig


def save_report_plots(
    result: BenchResult, folder: Path, datasets: Sequence[Dataset] = ()
) -> list[Path]:
    """Write the trade-off plots (and worst cases when masks and datasets are given) as PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for x in ("size_mb", "latency_median_s"):
        path = folder / f"iou_vs_{x}.png"
        plot_tradeoff(result.summary, x, "gt_iou").savefig(path, dpi=110)
        out.append(path)
    if result.masks and datasets:
        for variant in sorted({r["variant"] for r in result.summary}):
            path = folder / f"worst_{variant.replace('@', '_at')}.png"
            plot_worst(result, datasets, variant).savefig(path, dpi=90)
            out.append(path)
    return out
