"""The saved, already optimised graph gives the wrapped graph's masks byte for byte.

The browser loads it with optimisation disabled; here onnxruntime's CPU provider does the
same (``ORT_DISABLE_ALL``) and must reproduce the kernel twin's mask (the wrapped file at
``ORT_ENABLE_ALL``) exactly, on several photo sizes and model input sizes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from segmentation.conversion import wasm_graph
from segmentation.conversion.wasm_graph import ensure_wasm_graph, wasm_graph_path
from segmentation.conversion.wrapper import MASK, PIXELS, RESOLUTION
from segmentation.models.registry import default_registry
from segmentation.store import ensure_wrapped
from tests._images import rgba_photo


def _mask(
    path: Path, level: ort.GraphOptimizationLevel, rgba: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    (mask,) = s.run([MASK], {PIXELS: rgba, RESOLUTION: np.array(size, np.int64)})
    return mask


def _same_masks(wrapped: Path, saved: Path, cases: list[tuple[int, int, tuple[int, int]]]) -> None:
    for w, h, size in cases:
        rgba = rgba_photo(w, h)
        a = _mask(wrapped, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, rgba, size)
        b = _mask(saved, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, rgba, size)
        assert a.shape == (h, w) and np.array_equal(a, b), (w, h, size)


@pytest.fixture
def wrapped(tiny_model, tmp_path: Path) -> Path:
    """The tiny model's wrapped file, copied into a folder of this test's own."""
    path = ensure_wrapped(tiny_model.spec, registry=tiny_model.registry)
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    return copy


def test_saved_graph_gives_the_same_masks_and_is_made_once(wrapped: Path) -> None:
    saved = ensure_wasm_graph(wrapped)
    assert saved == wasm_graph_path(wrapped) and saved.parent == wrapped.parent
    assert ort.__version__ in saved.name
    _same_masks(wrapped, saved, [(300, 200, (64, 64)), (37, 53, (0, 0)), (1, 90, (32, 48))])
    stamp = saved.stat().st_mtime_ns
    assert ensure_wasm_graph(wrapped) == saved and saved.stat().st_mtime_ns == stamp
    meta = json.loads(saved.with_suffix(".json").read_text())
    assert meta["identical"] is True and meta["onnxruntime"] == ort.__version__


def test_a_damaged_saved_graph_is_made_again(wrapped: Path) -> None:
    saved = ensure_wasm_graph(wrapped)
    assert saved is not None
    good = saved.read_bytes()
    saved.write_bytes(good[: len(good) // 2])  # a truncated copy: its sha256 no longer matches
    assert ensure_wasm_graph(wrapped) == saved and saved.read_bytes() == good


def test_a_graph_with_other_operators_is_not_used(
    wrapped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wasm_graph, "_foreign_ops", lambda path: ["com.microsoft.nchwc.Conv"])
    assert ensure_wasm_graph(wrapped) is None
    assert not wasm_graph_path(wrapped).exists()  # nothing half-made is left to send
    meta = json.loads(wasm_graph_path(wrapped).with_suffix(".json").read_text())
    assert meta["identical"] is False


def test_foreign_operators_are_named(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Conv", ["a", "w"], ["b"], domain="com.microsoft.nchwc"),
        helper.make_node("FusedConv", ["b", "w"], ["c"], domain="com.microsoft"),
        helper.make_node("QuickGelu", ["c"], ["y"], domain="com.microsoft"),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y])
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert wasm_graph._foreign_ops(path) == ["com.microsoft.QuickGelu", "com.microsoft.nchwc.Conv"]


@pytest.mark.isnet
def test_isnet_default_saved_graph_gives_the_same_masks() -> None:
    wrapped = ensure_wrapped(default_registry().get("isnet-general-use"))
    saved = ensure_wasm_graph(wrapped)
    assert saved is not None  # the default model's browser session skips the optimisation
    _same_masks(wrapped, saved, [(480, 360, (1024, 1024)), (200, 300, (320, 320))])
