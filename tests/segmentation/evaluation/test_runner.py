"""The benchmark runner and its plots on the tiny model and a synthetic dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.plots import (
    pareto_front,
    plot_tradeoff,
    save_report_plots,
    worst_cases,
)
from segmentation.evaluation.runner import Entry, PythonRuntime, entry_for, run_benchmark
from segmentation.evaluation.variants import build_variant
from tests._images import red_dataset
from tests.conftest import TinyModel

pytestmark = pytest.mark.usefixtures("private_cache")


def _grey(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"g{i}.png" for i in range(2)]
    for i, p in enumerate(paths):
        Image.fromarray(np.full((40, 40, 3), 90 + 40 * i, np.uint8)).save(p)
    return paths


def test_benchmark_rows_metrics_and_files(tiny_model: TinyModel, tmp_path: Path) -> None:
    ds = load_dataset(red_dataset(tmp_path / "red"))
    weight = build_variant(tiny_model.spec, "int8-weight")
    broken = build_variant(tiny_model.spec, "int8-calibrated-minmax-qhead", _grey(tmp_path / "g"))
    entries = [Entry(v.name, v.spec, v.size_bytes) for v in (weight, broken)] + [
        entry_for(tiny_model.spec, "fp32")
    ]
    result = run_benchmark(
        entries, [ds], [PythonRuntime(1), PythonRuntime(2)], reference="fp32",
        repeats=2, keep_masks=True, progress=False,
    )  # fmt: skip
    assert len(result.summary) == 6 and len(result.images) == 6 * len(ds)
    rows = {(r["variant"], r["runtime"]): r for r in result.summary}
    ref = rows[("fp32", "python-1t")]
    assert ref["ref_iou"] == 1.0 and ref["gt_iou"] > 0.9 and ref["blank"] == 0
    assert ref["latency_min_s"] <= ref["latency_median_s"]
    assert rows[("int8-weight", "python-2t")]["ref_iou"] > 0.95
    bad = rows[(broken.name, "python-1t")]
    assert bad["blank"] == len(ds) and bad["gt_iou"] < 0.5
    assert len(result.masks) == 3 * len(ds)
    assert worst_cases(result, "fp32", k=2)[0]["gt_iou"] <= worst_cases(result, "fp32")[1]["gt_iou"]
    js, cs = result.save(tmp_path / "out")
    assert len(json.loads(js.read_text())["summary"]) == 6
    assert cs.read_text().splitlines()[0].startswith("variant,runtime,dataset")
    assert len(result.dataframe()) == 6
    plots = save_report_plots(result, tmp_path / "out", [ds])
    assert len(plots) == 2 + 3 and all(p.stat().st_size > 1000 for p in plots)


def test_benchmark_refuses_an_unknown_reference(tiny_model: TinyModel, tmp_path: Path) -> None:
    ds = load_dataset(red_dataset(tmp_path / "red", 1))
    with pytest.raises(ValueError, match="reference 'nope'"):
        run_benchmark([entry_for(tiny_model.spec)], [ds], reference="nope", progress=False)


def test_pareto_front_by_hand() -> None:
    cost = [1.0, 2.0, 3.0, 2.5, 1.0]
    gain = [0.5, 0.9, 0.95, 0.8, 0.4]
    assert pareto_front(cost, gain) == [0, 1, 2]  # 3 is beaten by 1, 4 by 0


def test_tradeoff_labels_do_not_collide_and_the_default_is_marked() -> None:
    """Five variants within a hair of each other still get five readable labels."""
    rows = [{"variant": f"variant-{i}", "dataset": "d", "size_mb": 40 + i * 0.5,
             "gt_iou": 0.9 + i * 0.001} for i in range(5)]  # fmt: skip
    fig = plot_tradeoff(rows, default="variant-2")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert sorted(t.get_text() for t in ax.texts) == [r["variant"] for r in rows]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert any("default (variant-2)" in t.get_text() for t in ax.get_legend().get_texts())
