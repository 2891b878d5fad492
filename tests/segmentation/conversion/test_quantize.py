"""Variant builders on tiny real ONNX models: each output stays close to fp32, and is cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from segmentation.conversion.quantize import head_nodes, name_nodes, set_resolution
from segmentation.evaluation.metrics import iou, is_blank, mae
from segmentation.evaluation.runner import PythonRuntime
from segmentation.evaluation.variants import Recipe, build_variant
from segmentation.models.integrity import sha256_file
from segmentation.store import ensure_wrapped
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba, tiny_model_proto


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def _red_images(folder: Path, count: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        img = red_square_rgba(80 + 8 * i, 96, margin=12 + 3 * i)
        paths.append(folder / f"red{i}.png")
        Image.fromarray(img).save(paths[-1])
    return paths


def _grey_images(folder: Path, count: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(folder / f"grey{i}.png")
        Image.fromarray(np.full((64, 64, 3), 100 + 20 * i, np.uint8)).save(paths[-1])
    return paths


def _masks(spec: object, images: list[np.ndarray]) -> list[np.ndarray]:
    run = PythonRuntime(1).load(ensure_wrapped(spec))  # type: ignore[arg-type]
    return [run(im) for im in images]


TEST_IMAGES = [
    red_square_rgba(96, 128, 24),
    red_square_rgba(70, 50, 10),
    red_square_rgba(64, 64, 8),
]


@pytest.mark.parametrize(
    "name",
    ["fp32", "fp16", "int8-dynamic", "int8-calibrated", "int8-calibrated-minmax-pt", "int8-weight"],
)
def test_variant_mask_is_close_to_fp32(tiny_model: TinyModel, tmp_path: Path, name: str) -> None:
    calib = _red_images(tmp_path / "calib")
    variant = build_variant(tiny_model.spec, name, calib)
    record = json.loads(variant.path.with_suffix(".json").read_text())
    assert record["sha256"] == sha256_file(variant.path) == variant.spec.sha256
    assert record["recipe"]["precision"] == Recipe.parse(name).precision
    ref = _masks(tiny_model.spec, TEST_IMAGES)
    got = _masks(variant.spec, TEST_IMAGES)
    for r, g in zip(ref, got, strict=True):
        assert not is_blank(r)
        assert iou(g, r) > 0.95
        assert mae(g, r) < 0.03
    if name.startswith("int8"):
        kinds = {n.op_type for n in onnx.load(str(variant.path)).graph.node}
        assert kinds & {"DequantizeLinear", "ConvInteger", "DynamicQuantizeLinear"}


def test_variant_is_cached_and_rebuilt_when_calibration_changes(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    calib = _red_images(tmp_path / "calib")
    first = build_variant(tiny_model.spec, "int8-calibrated", calib)
    mtime = first.path.stat().st_mtime_ns
    again = build_variant(tiny_model.spec, "int8-calibrated", calib)
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime
    other = build_variant(tiny_model.spec, "int8-calibrated", calib[:2])
    assert other.path != first.path and other.calibration_sha256 != first.calibration_sha256


def test_broken_calibration_gives_a_flagged_blank_mask(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    # Calibrated on grey images only, with the head quantized: the logit range never
    # covers a red object, so every output saturates to one value.
    broken = build_variant(tiny_model.spec, "int8-calibrated-minmax-qhead", _grey_images(tmp_path))
    ref = _masks(tiny_model.spec, TEST_IMAGES)
    got = _masks(broken.spec, TEST_IMAGES)
    assert not any(is_blank(r) for r in ref)
    assert all(is_blank(g) for g in got)


def test_recipe_names_round_trip_and_bad_names_fail() -> None:
    for name in ["fp32", "fp16@320", "int8-dynamic", "int8-weight@768",
                 "int8-calibrated-percentile-pt-qhead@512"]:  # fmt: skip
        assert Recipe.parse(name).name == name
    assert Recipe.parse("int8-calibrated").name == "int8-calibrated-entropy-pc"
    for bad, words in [("int4", "must start"), ("fp16-entropy", "no options"),
                       ("int8-calibrated-foo", "unknown option"),
                       ("int8-static", "catalog precision"), ("fp32@abc", "integer"),
                       ("fp32@8", "resolution")]:  # fmt: skip
        with pytest.raises(ValueError, match=words):
            Recipe.parse(bad)


def test_head_nodes_stop_at_the_last_conv(tiny_model: TinyModel) -> None:
    model = name_nodes(tiny_model_proto())
    by_name = {n.name: n.op_type for n in model.graph.node}
    head = head_nodes(model, "output")
    assert sorted(by_name[h] for h in head) == ["Conv", "Sigmoid"]
    conv = next(n for n in model.graph.node if n.name in head and n.op_type == "Conv")
    assert conv.input[1] == "w3"


def _tiny_unet(size: int = 32) -> onnx.ModelProto:
    """Conv, pool, conv, Resize (sizes baked from ``size``), concat skip, conv, sigmoid."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(0, 0.5, (4, 4, 3, 3)).astype(np.float32), "w2"),
        numpy_helper.from_array(rng.normal(0, 0.5, (1, 8, 1, 1)).astype(np.float32), "w3"),
        numpy_helper.from_array(np.array([0], np.int64), "i0"),
        numpy_helper.from_array(np.array([2], np.int64), "i2"),
        numpy_helper.from_array(np.array([size, size], np.int64), "hw"),
    ]
    mk = helper.make_node
    nodes = [
        mk("Conv", ["input", "w1"], ["a"], pads=[1] * 4),
        mk("Relu", ["a"], ["ra"]),
        mk("MaxPool", ["ra"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        mk("Conv", ["p", "w2"], ["b"], pads=[1] * 4),
        mk("Relu", ["b"], ["rb"]),
        mk("Shape", ["rb"], ["s"]),
        mk("Slice", ["s", "i0", "i2"], ["nc"]),
        mk("Concat", ["nc", "hw"], ["sizes"], axis=0),
        mk("Resize", ["rb", "", "", "sizes"], ["up"], mode="linear"),
        mk("Concat", ["up", "ra"], ["cat"], axis=1),
        mk("Conv", ["cat", "w3"], ["logit"]),
        mk("Sigmoid", ["logit"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-unet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def test_set_resolution_keeps_the_original_and_feeds_other_sizes() -> None:
    model = _tiny_unet(32)
    x = np.random.default_rng(1).normal(size=(1, 3, 32, 32)).astype(np.float32)
    same = set_resolution(model, "input", (32, 32))
    np.testing.assert_array_equal(_run(same, x), _run(model, x))
    for size in (48, 36, 30):  # 30: the pooled map is 15, odd
        resized = set_resolution(model, "input", (size, size))
        y = _run(resized, np.zeros((1, 3, size, size), np.float32))
        assert y.shape == (1, 1, size, size)
    baked = onnx.ModelProto()
    baked.CopyFrom(model)
    baked.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 48
    baked.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 48
    with pytest.raises(Exception):  # noqa: B017 - the baked sizes cannot be concatenated
        _run(baked, np.zeros((1, 3, 48, 48), np.float32))


def test_resolution_variant_of_tiny_model_runs_at_its_size(tiny_model: TinyModel) -> None:
    variant = build_variant(tiny_model.spec, "fp32@32")
    assert variant.spec.input_size == (32, 32)
    dims = onnx.load(str(variant.path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][2:] == [32, 32]
    ref, got = _masks(tiny_model.spec, TEST_IMAGES), _masks(variant.spec, TEST_IMAGES)
    assert all(iou(g, r) > 0.9 for g, r in zip(got, ref, strict=True))


def test_weight_only_needs_conv_weights() -> None:
    from segmentation.conversion.quantize import quantize_weights_only

    model = tiny_model_proto()
    for node in model.graph.node:
        if node.op_type == "Conv":
            node.op_type = "Add"  # no Conv left (the model is never run)
    with pytest.raises(ValueError, match="no float Conv weights"):
        quantize_weights_only(model)


@pytest.mark.isnet
@pytest.mark.slow
def test_isnet_resolution_rewrite_is_exact_at_1024_and_runs_at_512(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from segmentation.conversion.convert import prepare_float
    from segmentation.models.integrity import load_checked
    from segmentation.models.registry import default_registry
    from segmentation.store import ensure_model

    monkeypatch.delenv("PIXEL_LIBERATION_CACHE")  # the real model cache, not the tmp one
    spec = default_registry().get("isnet-general-use", "fp32")
    model = prepare_float(load_checked(ensure_model(spec)), spec)
    assert [o.name for o in model.graph.output] == ["output"]  # side outputs pruned
    x = np.random.default_rng(0).normal(0, 0.3, (1, 3, 1024, 1024)).astype(np.float32)
    same = set_resolution(model, "input", (1024, 1024))
    np.testing.assert_array_equal(_run(same, x), _run(model, x))
    half = set_resolution(model, "input", (512, 512))
    assert _run(half, np.ascontiguousarray(x[:, :, ::2, ::2])).shape == (1, 1, 512, 512)
