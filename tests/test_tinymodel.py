"""The tiny test model is a real ONNX model whose mask finds red things."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from segmentation.conversion.wrapper import MASK, PIXELS, RESOLUTION, resolution_feed, wrap_model
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba, tiny_model_proto


def test_bare_model_runs_in_onnxruntime(tiny_model: TinyModel) -> None:
    sess = ort.InferenceSession(str(tiny_model.path), providers=["CPUExecutionProvider"])
    x = np.full((1, 3, 64, 64), -0.5, np.float32)  # black after ISNet-style centring
    x[:, 0, 16:48, 16:48] = 0.5  # pure red
    (y,) = sess.run(["output"], {"input": x})
    assert y.shape == (1, 1, 64, 64)
    assert y[0, 0, 32, 32] > 0.99
    assert y[0, 0, 2, 2] < 0.01


def test_wrapped_model_masks_the_red_square(tiny_model: TinyModel) -> None:
    wrapped = wrap_model(tiny_model_proto(), tiny_model.spec)
    sess = ort.InferenceSession(wrapped.SerializeToString(), providers=["CPUExecutionProvider"])
    img = red_square_rgba(96, 128, margin=24)
    (mask,) = sess.run(
        [MASK], {PIXELS: img, RESOLUTION: resolution_feed(tiny_model.spec.input_size)}
    )
    assert mask.shape == (96, 128)
    assert mask.dtype == np.uint8
    inside = mask[32:64, 32:96]
    outside = np.concatenate([mask[:16].ravel(), mask[-16:].ravel()])
    assert inside.min() >= 250
    assert outside.max() <= 5


def test_transparent_pixels_are_background(tiny_model: TinyModel) -> None:
    wrapped = wrap_model(tiny_model_proto(), tiny_model.spec)
    sess = ort.InferenceSession(wrapped.SerializeToString(), providers=["CPUExecutionProvider"])
    img = red_square_rgba(64, 64, margin=8)
    img[..., 3] = 0
    (mask,) = sess.run(
        [MASK], {PIXELS: img, RESOLUTION: resolution_feed(tiny_model.spec.input_size)}
    )
    assert mask.max() == 0


def test_fixture_registry_holds_only_the_tiny_model(tiny_model: TinyModel) -> None:
    assert tiny_model.registry.names() == ["tiny-test"]
    spec = tiny_model.registry.get("tiny-test", "fp32")
    assert spec.input_size == (64, 64)
    assert spec.sources[0].path == tiny_model.path  # type: ignore[union-attr]
