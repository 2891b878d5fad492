"""The GPU-aware variant: with a WebGPU adapter and no precision asked, a float model runs.

On the tiny model's static int8 (QDQ) variant and float one, so it runs anywhere;
the browser side (SwiftShader) is tests/e2e/test_engine_webgpu.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segmentation.models.registry import Registry
from tests.tinymodel import build_tiny_int8_static, build_tiny_model, red_square_rgba
from widget import BackgroundRemover
from widget.engine.webgpu_plan import gpu_variant


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    folder = tmp_path_factory.mktemp("tiny-variants")
    _, fp32 = build_tiny_model(folder / "tiny-test.onnx")
    _, int8 = build_tiny_int8_static(folder)
    reg = Registry()
    reg.register(fp32)
    reg.register(int8)
    return reg


def hello(w: BackgroundRemover, caps: dict[str, object]) -> None:
    w._link.receive(
        w, {"type": "hello", "view": "v", "have": [], "caps": caps, "blocker": None}, []
    )


def test_choice_by_adapter(registry: Registry) -> None:
    int8 = registry.get("tiny-test", None)
    assert int8.precision == "int8-static"
    assert gpu_variant({}, int8, registry)[0] is None
    precision, why = gpu_variant({"webgpu": True, "webgpuF16": False}, int8, registry)
    assert precision == "fp32" and "lacks shader-f16" in why
    precision, why = gpu_variant({"webgpu": True, "webgpuF16": True}, int8, registry)
    assert precision == "fp32" and "no fp16 variant" in why  # the tiny model has none
    fp32 = registry.get("tiny-test", "fp32")
    assert gpu_variant({"webgpu": True}, fp32, registry) == (
        None,
        f"{fp32.key} on WebGPU: the adapter can run it",
    )


def test_widget_switches_to_the_float_file_and_its_twin(registry: Registry) -> None:
    img = red_square_rgba(60, 80, margin=15)
    w = BackgroundRemover(img, "tiny-test", registry=registry)
    assert w.model_key == "tiny-test:int8-static"
    sent: list[dict[str, object]] = []
    w._link.sender = lambda content, buffers: sent.append(content)  # type: ignore[method-assign]
    hello(w, {"webgpu": True, "webgpuF16": False, "crossOriginIsolated": False})
    assert w.error == ""
    assert w.model_key == "tiny-test:fp32"
    assert "instead of tiny-test:int8-static on wasm" in w.variant_reason
    plan = next(m for m in sent if m.get("type") == "plan")
    assert plan["ep"] == "webgpu"
    assert w.threads_hint.startswith("one WebAssembly thread") and "threads on" in w.threads_hint
    fp32_twin = BackgroundRemover(img, "tiny-test", "fp32", registry=registry, backend="kernel")
    assert np.array_equal(w._kernel_answer().mask, fp32_twin._kernel_answer().mask)


def test_precision_given_is_kept(registry: Registry) -> None:
    w = BackgroundRemover(red_square_rgba(), "tiny-test", "int8-static", registry=registry)
    w._link.sender = lambda content, buffers: None  # type: ignore[method-assign]
    hello(w, {"webgpu": True, "webgpuF16": True, "crossOriginIsolated": True})
    assert w.model_key == "tiny-test:int8-static" and w.variant_reason == ""
    assert "static int8 stays on wasm" in w.webgpu_fallback_reason
    assert w.threads_hint == ""


def test_resolution_and_preview_validation(registry: Registry, tmp_path: Path) -> None:
    img = red_square_rgba()
    with pytest.raises(ValueError, match="multiples of 32 from 32 to 2048"):
        BackgroundRemover(img, "tiny-test", "fp32", registry=registry, resolution=100)
    with pytest.raises(ValueError, match="multiples of 32"):
        BackgroundRemover(img, "tiny-test", "fp32", registry=registry, preview=4096)
    w = BackgroundRemover(img, "tiny-test", "fp32", registry=registry, resolution=256)
    assert w.resolution == [256, 256] and w.preview_resolution == 0  # 384 is not below 256
    w = BackgroundRemover(img, "tiny-test", "fp32", registry=registry, resolution=512, preview=128)
    assert w.preview_resolution == 0  # backend "auto": the kernel's full mask comes sooner
    w = BackgroundRemover(
        img, "tiny-test", "fp32", "browser", registry=registry, resolution=512, preview=128
    )
    assert w.preview_resolution == 128
