"""fp16_to_fp32: on a small fp16 graph, and on the real IMG.LY fp16 IS-Net with a real photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from segmentation.conversion.convert import fp16_to_fp32_model
from segmentation.conversion.derivations import DERIVATIONS, run_derivation
from segmentation.errors import ModelIntegrityError
from tests._fetch_helpers import isnet_cache, tiny_onnx_bytes

#: Max |fp32 - fp16| of the bare ``output`` on grace_hopper.jpg at 1024 px.
#: Measured 3.3e-4 (grace_hopper) and 9.0e-4 (mpl logo2.png) with onnxruntime 1.32 CPU.
ISNET_OUTPUT_BOUND = 5e-3


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _fp16_types(model: onnx.ModelProto) -> list[str]:
    g = model.graph
    bad = [t.name for t in g.initializer if t.data_type == TensorProto.FLOAT16]
    bad += [
        v.name
        for v in [*g.input, *g.output, *g.value_info]
        if v.type.tensor_type.elem_type == TensorProto.FLOAT16
    ]
    return bad


def test_small_fp16_graph_round_trip(tmp_path: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    fp32 = onnx.load_from_string(tiny_onnx_bytes(size=8, seed=3))
    fp16 = convert_float_to_float16(fp32, keep_io_types=True)
    assert any(n.op_type == "Cast" for n in fp16.graph.node)
    assert _fp16_types(fp16), "the converter should have made fp16 tensors"
    src, dest = tmp_path / "m16.onnx", tmp_path / "m32.onnx"
    onnx.save(fp16, str(src))
    assert DERIVATIONS["fp16_to_fp32"](src, dest) == dest
    back = onnx.load(str(dest))
    assert [n.op_type for n in back.graph.node] == ["Conv", "Sigmoid"]
    assert _fp16_types(back) == []
    x = np.random.default_rng(0).normal(size=(1, 3, 8, 8)).astype(np.float32)
    want = _session_from(fp32).run(["output"], {"input": x})[0]
    got = _session(dest).run(["output"], {"input": x})[0]
    # weights went fp32 -> fp16 -> fp32: only their fp16 rounding remains
    np.testing.assert_allclose(got, want, atol=2e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m16.onnx", "m32.onnx"]


def test_graph_without_value_info(tmp_path: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    fp16 = convert_float_to_float16(
        onnx.load_from_string(tiny_onnx_bytes(size=8, seed=4)), keep_io_types=True
    )
    del fp16.graph.value_info[:]
    fp32 = fp16_to_fp32_model(fp16)
    assert [n.op_type for n in fp32.graph.node] == ["Conv", "Sigmoid"]
    assert _fp16_types(fp32) == []


def _session_from(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_refuses_a_model_without_fp16() -> None:
    fp32 = onnx.load_from_string(tiny_onnx_bytes(size=8))
    with pytest.raises(ModelIntegrityError, match="no fp16 tensors"):
        fp16_to_fp32_model(fp32)


def test_unknown_derivation(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="known derivations: fp16_to_fp32"):
        run_derivation("int8_to_fp4", tmp_path / "a.onnx", tmp_path / "b.onnx", progress=False)


def _photo_1024() -> np.ndarray:
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        rgb = im.convert("RGB").resize((1024, 1024), Image.Resampling.BILINEAR)
    x = np.asarray(rgb, np.float32) / 255.0 - 0.5  # IS-Net: mean 0.5, std 1
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


@pytest.mark.isnet
@pytest.mark.slow
def test_real_isnet_fp16_to_fp32(tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = isnet_cache(tmp_path_factory.getbasetemp(), "fp16")
    src = cache / "models" / "isnet-general-use-fp16.onnx"
    dest = tmp_path_factory.mktemp("fp32") / "isnet-fp32.onnx"
    run_derivation("fp16_to_fp32", src, dest, progress=True)

    model = onnx.load(str(dest))
    onnx.checker.check_model(model)
    assert [n.name for n in model.graph.node if n.op_type == "Cast"] == []
    assert _fp16_types(model) == []
    assert model.graph.output[0].name == "output"
    ratio = dest.stat().st_size / src.stat().st_size
    assert 1.95 < ratio < 2.05, ratio

    x = _photo_1024()
    out16 = _session(src).run(["output"], {"input": x})[0]
    out32 = _session(dest).run(["output"], {"input": x})[0]
    assert out32.shape == out16.shape == (1, 1, 1024, 1024)
    assert out32.dtype == np.float32
    diff = float(np.abs(out32 - out16).max())
    assert diff < ISNET_OUTPUT_BOUND, diff
    assert float(out32.max() - out32.min()) > 0.5, "the photo must give a real mask"
