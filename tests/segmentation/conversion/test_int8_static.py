"""The default static int8 derivation: packaged ranges replayed into onnxruntime's QDQ quantizer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from PIL import Image

from segmentation.conversion.calibration import ImageCalibrationReader
from segmentation.conversion.convert import prepare_float
from segmentation.conversion.int8_static import (
    calibrate_ranges,
    quantize_with_ranges,
    ranges_path,
    read_ranges,
)
from segmentation.conversion.quantize import head_nodes
from segmentation.models.registry import default_registry
from segmentation.models.spec import DEFAULT_MODEL, DEFAULT_PRECISION, DerivedSource
from tests.tinymodel import red_square_rgba, tiny_model_proto, tiny_spec


def _photos(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(3):
        out.append(folder / f"red{i}.png")
        Image.fromarray(red_square_rgba(80 + 10 * i, 96, 10 + 4 * i)).save(out[-1])
    return out


def _graph(model: onnx.ModelProto) -> bytes:
    g = onnx.ModelProto()
    g.CopyFrom(model)
    g.ClearField("producer_name")
    g.ClearField("producer_version")
    return g.graph.SerializeToString(deterministic=True)


def test_replayed_ranges_give_the_same_model_as_quantize_static(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path / "tiny.onnx")
    model = prepare_float(tiny_model_proto(), spec)
    exclude = head_nodes(model, spec.output_name)
    images = _photos(tmp_path / "calib")
    src = tmp_path / "float.onnx"
    onnx.save(model, str(src))
    reference = tmp_path / "reference.onnx"
    quantize_static(
        str(src),
        str(reference),
        ImageCalibrationReader(spec, spec.input_size, images),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        nodes_to_exclude=exclude,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"CalibStridedMinMax": 1},
    )
    ranges = calibrate_ranges(model, ImageCalibrationReader(spec, spec.input_size, images))
    assert ranges["input"][0] < 0 < ranges["input"][1]
    json.loads(json.dumps(ranges))  # what the ranges file stores
    replayed = quantize_with_ranges(model, ranges, exclude=exclude)
    assert any(n.op_type == "QuantizeLinear" for n in replayed.graph.node)
    assert _graph(replayed) == _graph(onnx.load(str(reference)))


def test_ranges_of_another_model_are_refused(tmp_path: Path) -> None:
    model = prepare_float(tiny_model_proto(), tiny_spec(tmp_path / "t.onnx"))
    with pytest.raises(ValueError, match="measured on another model"):
        quantize_with_ranges(model, {"input": [-0.5, 0.5], "1890": [0.0, 1.0]}, exclude=[])


@pytest.mark.parametrize("text", ["{not json", '{"format": 99, "ranges": {}}', '{"format": 1}'])
def test_bad_ranges_file_is_named(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "r.json"
    bad.write_text(text)
    with pytest.raises(ValueError, match=r"r\.json"):
        read_ranges(bad)


def test_packaged_isnet_ranges_are_complete() -> None:
    doc = read_ranges(ranges_path(DEFAULT_MODEL))
    assert doc["model"] == f"{DEFAULT_MODEL}:fp32"
    ranges = doc["ranges"]
    lo, hi = ranges["input"]  # (x / 255 - 0.5): the pixels' range after normalisation
    assert -0.5 <= lo < -0.4 and 0.4 < hi <= 0.5
    assert all(np.isfinite(v).all() and v[0] <= v[1] for v in ranges.values())
    assert len(doc["calibration"]) >= 4


def test_default_precision_is_the_static_int8_derivation() -> None:
    spec = default_registry().get(DEFAULT_MODEL)
    assert spec.precision == DEFAULT_PRECISION == "int8-static"
    assert spec.sources == (DerivedSource("fp32", "fp32_to_int8_static"),)


@pytest.mark.isnet
def test_isnet_int8_static_is_quantized_except_the_head() -> None:
    from segmentation.models.integrity import sha256_file
    from segmentation.store import ensure_model

    spec = default_registry().get(DEFAULT_MODEL, "int8-static")
    path = ensure_model(spec)
    model = onnx.load(str(path))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("DequantizeLinear") > 200
    float_convs = [n for n in model.graph.node if n.op_type == "Conv" and not _dq_fed(model, n)]
    assert len(float_convs) == 1, "only the output head's Conv stays float"
    weights = [
        onnx.numpy_helper.to_array(t)
        for t in model.graph.initializer
        if t.data_type == onnx.TensorProto.INT8 and t.dims and len(t.dims) == 4
    ]
    assert weights and max(int(np.abs(w).max()) for w in weights) <= 64, "7-bit weights"
    assert path.stat().st_size < 60e6
    assert json.loads(path.with_suffix(".onnx.json").read_text())["sha256"] == sha256_file(path)


def _dq_fed(model: onnx.ModelProto, node: onnx.NodeProto) -> bool:
    producer = {o: n.op_type for n in model.graph.node for o in n.output}
    return producer.get(node.input[1]) == "DequantizeLinear"
