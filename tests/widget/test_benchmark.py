"""Kernel side of the in-tab benchmark widget: bad arguments, untrusted view messages.

The browser side runs for real in tests/e2e/test_bench_widget.py; here the view's
messages are fed to the widget as the comm would deliver them.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from segmentation.evaluation.runner import PythonRuntime
from segmentation.pixels import pixels_checksum
from segmentation.store import ensure_wrapped
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from widget.benchmark import BrowserBenchmark


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def _deliver(
    b: BrowserBenchmark, content: dict[str, object], buffers: tuple[bytes, ...] = ()
) -> None:
    b._handle_custom_msg(content, list(buffers))  # what ipywidgets does with a view's message


def test_bad_arguments_are_named(tiny_model: TinyModel, tmp_path: Path) -> None:
    img = red_square_rgba()
    with pytest.raises(ValueError, match="at least one model"):
        BrowserBenchmark([], [img])
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        BrowserBenchmark([tiny_model.spec], [img], repeats=0)
    with pytest.raises(FileNotFoundError, match="no wrapped model file"):
        BrowserBenchmark([("x", tmp_path / "missing.onnx")], [img])
    with pytest.raises(TypeError, match="Entry, a ModelSpec"):
        BrowserBenchmark([42], [img])  # type: ignore[list-item]


def test_view_messages_are_validated_and_results_recorded(tiny_model: TinyModel) -> None:
    img = red_square_rgba(40, 60, 10)
    b = BrowserBenchmark([tiny_model.spec], [img], repeats=2)
    _deliver(b, {"type": "bench_hello", "view": "v1", "have": []})
    assert b.status == "running in the browser" and b.error == ""
    (model_sha,) = b._models
    (image_sha,) = b._images
    _deliver(b, {"type": "bench_need", "view": "v1", "sha256": "f" * 64})
    assert "unknown model" in b.error
    head = {"type": "bench_result", "view": "v1", "model": model_sha, "image": image_sha,
            "session_create": 12.0, "inference": [5.0, 3.0], "threads": 1, "stable": True,
            "checksum": pixels_checksum(img), "width": 60, "height": 40}  # fmt: skip
    _deliver(b, {**head, "width": 61})
    assert "browser mask is 61x40" in b.error
    _deliver(b, {**head, "inference": ["fast"]})
    assert "'inference' must hold numbers" in b.error
    _deliver(b, {"type": "nonsense", "view": "v1"})
    assert "unknown message type 'nonsense'" in b.error
    mask = PythonRuntime(1).load(ensure_wrapped(tiny_model.spec))(img)
    _deliver(b, head, [zlib.compress(mask.tobytes())])
    (row,) = b.rows()
    assert (
        row["pixels_match"] and row["latency_min_s"] == 0.003 and row["latency_median_s"] == 0.004
    )
    assert b.progress == 1.0
    (cmp,) = b.compare_kernel(threads=1)
    assert cmp["iou"] == 1.0 and cmp["max_abs_diff"] == 0.0
    np.testing.assert_array_equal(next(iter(b.masks.values())), mask)
    _deliver(b, {"type": "bench_done", "view": "v1"})
    assert b.done and b.summary()[0]["n"] == 1
