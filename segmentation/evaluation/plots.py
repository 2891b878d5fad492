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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer, so labels can be measured (see place_labels)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


#: Where a point's label may go, in points from the point, tried in order.
_LABEL_OFFSETS = ((5, 4), (5, -11), (-5, 4), (-5, -11), (5, 14), (5, -21), (-5, 14), (-5, -21),
                  (5, 24), (5, -31), (-5, 24), (-5, -31))  # fmt: skip


def place_labels(ax: Any, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str],
                 fontsize: float = 7.5) -> list[Any]:  # fmt: skip
    """Annotate each point with its label where it overlaps no other label nor point.

    Each label tries the offsets of :data:`_LABEL_OFFSETS` in turn and takes the
    first whose box (measured by the renderer) is free; a label no offset frees
    keeps the first. Returns the annotations.
    """
    fig = ax.figure
    fig.canvas.draw()  # the axes limits and transforms are final from here on
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([xs, ys])) if len(xs) else np.empty((0, 2))
    taken: list[Any] = []
    out = []
    from matplotlib.transforms import Bbox

    marks = [Bbox.from_bounds(px - 4, py - 4, 8, 8) for px, py in pts]
    for k, (x, y, text) in enumerate(zip(xs, ys, labels, strict=True)):
        best = None
        for dx, dy in _LABEL_OFFSETS:
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                              fontsize=fontsize, ha="left" if dx > 0 else "right")  # fmt: skip
            box = ann.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = ax.get_window_extent(renderer).contains(box.x0, box.y0) and \
                ax.get_window_extent(renderer).contains(box.x1, box.y1)  # fmt: skip
            clash = any(box.overlaps(b) for b in taken) or any(
                box.overlaps(m) for i, m in enumerate(marks) if i != k
            )
            if inside and not clash:
                best = (ann, box)
                break
            ann.remove()
        if best is None:
            dx, dy = _LABEL_OFFSETS[0]
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                              fontsize=fontsize)  # fmt: skip
            best = (ann, ann.get_window_extent(renderer))
        taken.append(best[1])
        out.append(best[0])
    return out


def plot_tradeoff(
    summary: Sequence[dict[str, Any]],
    x: str = "size_mb",
    y: str = "gt_iou",
    *,
    runtime: str | None = None,
    default: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    log_x: bool = False,
) -> Any:
    """One panel per dataset: ``y`` against ``x`` for every variant, the Pareto front as a line.

    Parameters
    ----------
    summary : sequence of dict
        Rows with ``variant``, ``dataset``, ``runtime`` (optional) and the ``x``, ``y`` keys.
    x, y : str
        Columns; lower ``x`` and higher ``y`` are better (size, latency / accuracy).
    runtime : str, optional
        Keep the rows of this runtime (default: the first row's, if rows have one).
    default : str, optional
        The variant users get: drawn as a star and named in the legend.
    xlabel, ylabel : str, optional
        Axis labels (default: the column names).
    log_x : bool
        Logarithmic ``x`` axis (sizes or latencies spanning a decade).

    """
    rows = [r for r in summary if runtime is None or r.get("runtime") == runtime]
    if not rows:
        raise ValueError(f"no summary rows for runtime {runtime!r}")
    if runtime is None and "runtime" in rows[0]:
        first = rows[0]["runtime"]
        rows = [r for r in rows if r.get("runtime") == first]
    rows = [r for r in rows if r.get(x) is not None and r.get(y) is not None]
    datasets = sorted({r["dataset"] for r in rows})
    fig, axes = _figure(len(datasets), 5.0, 3.8)
    for ax, ds in zip(axes, datasets, strict=True):
        pts = [r for r in rows if r["dataset"] == ds]
        xs, ys = [float(r[x]) for r in pts], [float(r[y]) for r in pts]
        front = pareto_front(xs, ys)
        ax.scatter(xs, ys, color="tab:blue", zorder=3, s=22)
        ax.plot([xs[i] for i in front], [ys[i] for i in front], "--", color="tab:red",
                label="Pareto front", zorder=2)  # fmt: skip
        for r in pts:
            if r["variant"] == default:
                ax.scatter([r[x]], [r[y]], marker="*", s=180, color="gold", edgecolor="black",
                           zorder=4, label=f"default ({default})")  # fmt: skip
        if log_x:  # ticks at the points' own values: a log axis spanning less than a decade
            ax.set_xscale("log")
            ax.minorticks_off()
            ticks = sorted({float(f"{v:.2g}") for v in xs})
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(ylabel or y)
        where = f" ({pts[0]['runtime']})" if "runtime" in pts[0] and runtime is None else ""
        ax.set_title(f"{ds}{where}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.margins(x=0.25, y=0.2)
        ax.legend(loc="lower right", fontsize=7)
        place_labels(ax, xs, ys, [r["variant"] for r in pts])
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
