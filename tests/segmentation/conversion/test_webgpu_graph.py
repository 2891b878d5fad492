"""The WebGPU variant (antialiased Resize as MatMuls) equals the wrapped graph it came from.

Both run on onnxruntime's CPU provider here: the preprocessed tensor must agree
within 1e-4 and the masks almost everywhere, shrinking, enlarging, mixed aspect
and 1xN images alike.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from segmentation.conversion.webgpu_graph import webgpu_variant, webgpu_variant_path
from segmentation.conversion.wrapper import MASK, PIXELS, RESOLUTION, resolution_feed, wrap_model
from segmentation.models.registry import default_registry
from segmentation.models.spec import ModelSpec
from segmentation.store import ensure_wrapped
from tests._images import rgba_photo
from tests.tinymodel import build_tiny_model

DEFAULT_SIZE = {RESOLUTION: resolution_feed((0, 0))}
SIZES = [(300, 200), (37, 53), (64, 64), (1, 1), (1, 90), (500, 1), (7, 300), (130, 20)]


def _session(model: onnx.ModelProto, spec: ModelSpec) -> ort.InferenceSession:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.graph.output.append(helper.make_tensor_value_info(spec.input_name, TensorProto.FLOAT, None))
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = a >= 128, b >= 128
    union = int((fa | fb).sum())
    return 1.0 if union == 0 else float((fa & fb).sum()) / union


def _ops(model: onnx.ModelProto) -> set[str]:
    return {n.op_type for n in model.graph.node}


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelSpec, onnx.ModelProto]:
    # min-max on: the post-resize then sees a full 0..1 range, like ISNet's
    path, spec = build_tiny_model(tmp_path_factory.mktemp("tiny"), normalization="minmax")
    return spec, wrap_model(onnx.load(str(path)), spec)


def test_variant_has_no_antialiased_resize(tiny_pair: tuple[ModelSpec, onnx.ModelProto]) -> None:
    _, wrapped = tiny_pair
    assert "Resize" in _ops(wrapped)
    variant = webgpu_variant(wrapped)
    assert "Resize" not in _ops(variant) and "MatMul" in _ops(variant)
    onnx.checker.check_model(variant, full_check=True)
    assert [i.name for i in variant.graph.input] == [PIXELS, RESOLUTION]
    assert [o.name for o in variant.graph.output] == [MASK]


@pytest.mark.parametrize("size", SIZES)
def test_variant_matches_resize(tiny_pair: tuple[ModelSpec, onnx.ModelProto], size) -> None:
    spec, wrapped = tiny_pair
    rgba = rgba_photo(*size)
    rgba[size[1] // 3 :, size[0] // 3 :, :3] = (220, 30, 30)  # a red block: a real foreground
    mask_a, pre_a = _session(wrapped, spec).run(
        [MASK, spec.input_name], {PIXELS: rgba, **DEFAULT_SIZE}
    )
    mask_b, pre_b = _session(webgpu_variant(wrapped), spec).run(
        [MASK, spec.input_name], {PIXELS: rgba, **DEFAULT_SIZE}
    )
    assert pre_b.shape == pre_a.shape == (1, 3, *spec.input_size)
    np.testing.assert_allclose(pre_b, pre_a, atol=1e-4)
    assert mask_b.shape == rgba.shape[:2]
    diff = np.abs(mask_a.astype(int) - mask_b.astype(int))
    assert diff.max() <= 1, f"{size}: masks differ by up to {diff.max()} levels"
    assert _iou(mask_a, mask_b) >= 0.999


def test_variant_rejects_other_resize_forms(tiny_pair: tuple[ModelSpec, onnx.ModelProto]) -> None:
    _, wrapped = tiny_pair
    odd = onnx.ModelProto()
    odd.CopyFrom(wrapped)
    for node in odd.graph.node:
        if node.op_type == "Resize":
            for a in node.attribute:
                if a.name == "coordinate_transformation_mode":
                    a.s = b"align_corners"
    with pytest.raises(ValueError, match="cannot rewrite Resize"):
        webgpu_variant(odd)


def test_variant_file_is_cached_next_to_the_wrapped_one(tiny_model) -> None:
    wrapped = ensure_wrapped(tiny_model.spec, registry=tiny_model.registry)
    path = webgpu_variant_path(wrapped)
    assert path.parent == wrapped.parent and path != wrapped
    assert webgpu_variant_path(wrapped).stat().st_mtime_ns == path.stat().st_mtime_ns
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["pixel_liberation.variant"].startswith("webgpu-")


def test_float16_models_are_recognised(tiny_pair: tuple[ModelSpec, onnx.ModelProto]) -> None:
    from onnx import numpy_helper

    from segmentation.conversion.webgpu_graph import uses_float16

    _, wrapped = tiny_pair
    assert not uses_float16(wrapped)
    half = onnx.ModelProto()
    half.CopyFrom(wrapped)
    w = next(t for t in half.graph.initializer if t.name == "w1")
    w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w).astype(np.float16), "w1"))
    assert uses_float16(half)


@pytest.mark.isnet
def test_isnet_fp16_needs_shader_f16() -> None:
    from widget.engine import webgpu_plan as webgpu

    registry = default_registry()
    no_f16 = {"webgpu": True, "webgpuF16": False}
    fp16 = registry.get("isnet-general-use", "fp16")
    ok, why = webgpu.use_webgpu("auto", no_f16, fp16, registry)
    assert not ok and "shader-f16" in why
    assert webgpu.use_webgpu("auto", {**no_f16, "webgpuF16": True}, fp16, registry)[0]
    fp32 = registry.get("isnet-general-use", "fp32")
    assert webgpu.use_webgpu("auto", no_f16, fp32, registry) == (True, "")


@pytest.mark.isnet
def test_isnet_static_int8_stays_on_wasm() -> None:
    from widget.engine import webgpu_plan as webgpu

    registry = default_registry()
    default = registry.get("isnet-general-use")
    ok, why = webgpu.use_webgpu("auto", {"webgpu": True, "webgpuF16": True}, default, registry)
    assert not ok and "QuantizeLinear" in why and "fp32" in why


@pytest.mark.isnet
def test_isnet_variant_matches_resize() -> None:
    from matplotlib import cbook
    from PIL import Image

    spec = default_registry().get("isnet-general-use", "fp16")
    wrapped = ensure_wrapped(spec)
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    rgba = np.array(photo.convert("RGBA").resize((700, 1100)))  # shrinks one side, grows one
    opts = ort.SessionOptions()
    a = ort.InferenceSession(str(wrapped), opts, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(
        str(webgpu_variant_path(wrapped)), opts, providers=["CPUExecutionProvider"]
    )
    (mask_a,) = a.run([MASK], {PIXELS: rgba, **DEFAULT_SIZE})
    (mask_b,) = b.run([MASK], {PIXELS: rgba, **DEFAULT_SIZE})
    diff = np.abs(mask_a.astype(int) - mask_b.astype(int))
    assert diff.mean() < 0.5 and _iou(mask_a, mask_b) >= 0.999, (diff.mean(), diff.max())


def test_webgpu_plan_carries_variant_runtime_and_probe(tiny_model) -> None:
    from widget.engine import webgpu_plan as webgpu
    from widget.engine.kernel_twin import run_twin
    from widget.transfer.assets import WEBGPU_WASM_NAME

    spec, reg = tiny_model.spec, tiny_model.registry
    assert webgpu.use_webgpu("auto", {"webgpu": True}, spec, reg) == (True, "")  # float32
    assert webgpu.use_webgpu("auto", {"webgpu": False}, spec, reg) == (False, "")
    assert webgpu.use_webgpu("wasm", {"webgpu": True}, spec, reg) == (False, "")
    plan = webgpu.gpu_plan(tiny_model.spec, tiny_model.registry)
    assert plan.wasm.name == WEBGPU_WASM_NAME and plan.model.name.endswith(".webgpu1.onnx")
    assert plan.fields["ep"] == "webgpu"
    probe = plan.fields["probe"]
    pixels = np.frombuffer(plan.buffers[0], np.uint8).reshape(probe["height"], probe["width"], 4)
    expected = np.frombuffer(plan.buffers[1], np.uint8).reshape(probe["height"], probe["width"])
    twin = run_twin(tiny_model.spec, tiny_model.registry, pixels)[0]
    np.testing.assert_array_equal(expected, twin)
    assert 0 < (expected >= 128).mean() < 1, "the probe has foreground and background"
    assert (expected[pixels[..., 3] == 0] == 0).all()


def test_bad_execution_provider_is_named(tiny_model) -> None:
    from tests.tinymodel import red_square_rgba
    from widget import BackgroundRemover

    with pytest.raises(ValueError, match=r"execution_provider must be one of .* got 'cuda'"):
        BackgroundRemover(red_square_rgba(), tiny_model.spec, execution_provider="cuda")
