"""The wrapped graph (pre/post-processing in ONNX) equals a numpy/PIL reference pipeline.

The reference resizes with PIL's BILINEAR (antialiased when shrinking) on
float images; the graph's Resize must match it, borders included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from PIL import Image

from segmentation.conversion.wrapper import MASK, PIXELS, RESOLUTION, resolution_feed, wrap_model
from segmentation.models.registry import default_registry
from segmentation.models.spec import ModelSpec
from segmentation.store import ensure_model, ensure_wrapped
from tests._images import rgba_photo


def _resize(plane: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    im = Image.fromarray(plane.astype(np.float32), "F")
    return np.asarray(im.resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR))


def reference_pre(rgba: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """Premultiply, resize with PIL, scale and normalise: float32 [1, 3, h, w]."""
    f = rgba.astype(np.float32)
    rgb = f[..., :3] * (f[..., 3:] / 255.0)
    if spec.channel_order == "BGR":
        rgb = rgb[..., ::-1]
    planes = [_resize(rgb[..., c], spec.input_size) for c in range(3)]
    x = np.stack(planes)[None] * np.float32(spec.scale)
    mean = np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def reference_post(y: np.ndarray, spec: ModelSpec, rgba: np.ndarray) -> np.ndarray:
    """Activation, min-max, PIL resize back, times alpha, to uint8 [H, W]."""
    p = y.astype(np.float64)[0, 0]
    if spec.activation == "sigmoid":
        p = 1.0 / (1.0 + np.exp(-p))
    if spec.normalization == "minmax":
        p = (p - p.min()) / max(p.max() - p.min(), 1e-8)
    back = _resize(p, rgba.shape[:2]).astype(np.float64)
    masked = back * (rgba[..., 3].astype(np.float64) / 255.0) * 255.0
    return np.clip(np.rint(masked), 0, 255).astype(np.uint8)


def debug_session(wrapped: onnx.ModelProto, spec: ModelSpec) -> ort.InferenceSession:
    """The wrapped model with the bare model's input and output exposed as extra outputs."""
    model = onnx.ModelProto()
    model.CopyFrom(wrapped)
    for name in (spec.input_name, spec.output_name):
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def bare_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def check_against_reference(
    wrapped: onnx.ModelProto, bare: ort.InferenceSession, spec: ModelSpec, rgba: np.ndarray
) -> None:
    mask, tensor, y = debug_session(wrapped, spec).run(
        [MASK, spec.input_name, spec.output_name],
        {PIXELS: rgba, RESOLUTION: resolution_feed(spec.input_size)},
    )
    ref_tensor = reference_pre(rgba, spec)
    np.testing.assert_allclose(tensor, ref_tensor, atol=2e-4)
    post = np.abs(mask.astype(int) - reference_post(y, spec, rgba))
    assert post.max() <= 1 and (post == 0).mean() > 0.999  # float32 vs float64 rounding
    (y_ref,) = bare.run([spec.output_name], {spec.input_name: ref_tensor})
    ref_mask = reference_post(y_ref, spec, rgba)
    diff = np.abs(mask.astype(int) - ref_mask)
    assert diff.max() <= 2 and (diff == 0).mean() > 0.999
    assert (mask[rgba[..., 3] == 0] == 0).all(), "transparent pixels are never foreground"


@pytest.mark.parametrize("size", [(300, 200), (37, 53), (64, 64), (1, 1), (5000, 1), (7, 3000)])
def test_tiny_graph_matches_reference(tiny_model, size: tuple[int, int]) -> None:
    wrapped = wrap_model(onnx.load(str(tiny_model.path)), tiny_model.spec)
    rgba = rgba_photo(*size)
    check_against_reference(wrapped, bare_session(tiny_model.path), tiny_model.spec, rgba)


def test_tiny_graph_io_and_transparency(tiny_model) -> None:
    path = ensure_wrapped(tiny_model.spec, registry=tiny_model.registry)
    sess = bare_session(path)
    (inp, res), (out,) = sess.get_inputs(), sess.get_outputs()
    assert (inp.name, inp.type, inp.shape) == (PIXELS, "tensor(uint8)", ["height", "width", 4])
    assert (res.name, res.type, res.shape) == (RESOLUTION, "tensor(int64)", [2])
    size = resolution_feed(tiny_model.spec.input_size)
    assert (out.name, out.type, out.shape) == (MASK, "tensor(uint8)", ["height", "width"])
    red = np.zeros((50, 80, 4), np.uint8)
    red[..., :3] = (200, 20, 20)
    red[..., 3] = 255
    (mask,) = sess.run([MASK], {PIXELS: red, RESOLUTION: size})
    assert mask[3:-3, 3:-3].min() > 200, "the tiny model sees red as foreground"
    red[:, :40, 3] = 0
    (mask,) = sess.run([MASK], {PIXELS: red, RESOLUTION: size})
    assert (mask[:, :40] == 0).all() and mask[3:-3, 44:-3].min() > 200


@pytest.mark.isnet
def test_isnet_graph_matches_reference() -> None:
    spec = default_registry().get("isnet-general-use", "fp16")
    wrapped = onnx.load(str(ensure_wrapped(spec)))
    from matplotlib import cbook

    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    big = photo.convert("RGBA").resize((1100, 1300), Image.Resampling.BICUBIC)  # shrink path
    rgba = np.array(big)
    rgba[:100, :100, 3] = 0
    check_against_reference(wrapped, bare_session(ensure_model(spec)), spec, rgba)


@pytest.mark.isnet
def test_isnet_runs_at_lower_resolutions_from_one_file() -> None:
    spec = default_registry().get("isnet-general-use", None)
    sess = bare_session(ensure_wrapped(spec))
    rgba = rgba_photo(300, 200)
    full = sess.run([MASK], {PIXELS: rgba, RESOLUTION: resolution_feed((1024, 1024))})[0]
    default = sess.run([MASK], {PIXELS: rgba, RESOLUTION: resolution_feed((0, 0))})[0]
    assert np.array_equal(full, default)
    for side in (320, 384, 512):
        small = sess.run([MASK], {PIXELS: rgba, RESOLUTION: resolution_feed((side, side))})[0]
        assert small.shape == full.shape and not np.array_equal(small, full)
