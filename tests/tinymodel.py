"""A tiny but real ONNX "segmentation" model for fast tests.

The model has the shape of a real background-removal network (float32
``[1, 3, 64, 64]`` input named ``input``, float32 ``[1, 1, 64, 64]`` output
named ``output`` after a Sigmoid) and a mask that means something: a pixel is
foreground when its red channel exceeds both green and blue. A red square on a
grey background therefore gives a mask of ~255 on the square and ~0 elsewhere,
so tests can assert masks on synthetic images without the 170 MB ISNet.

Layers (fixed, deterministic weights)::

    input -> Conv1x1 [r-g, r-b] -> Relu -> Conv3x3 box blur (per channel) -> Relu
          -> Conv1x1 (10 * (a + b) - 8) -> Sigmoid -> output
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader

from segmentation.models.spec import LocalSource, ModelSpec

SIZE = 64
NAME = "tiny-test"
PRECISION = "fp32"
OPSET = 17


def tiny_spec(path: Path) -> ModelSpec:
    """The spec that feeds the tiny model (ISNet-like scaling, no min-max)."""
    return ModelSpec(
        name=NAME,
        precision=PRECISION,
        sources=(LocalSource(Path(path)),),
        input_name="input",
        output_name="output",
        input_size=(SIZE, SIZE),
        channel_order="RGB",
        scale=1.0 / 255.0,
        mean=(0.5, 0.5, 0.5),
        std=(1.0, 1.0, 1.0),
        activation="none",
        normalization="none",
        resize_antialias=True,
        license="MIT (test fixture)",
        description="64x64 red-detector used by the test-suite",
    )


def _weights() -> list[onnx.TensorProto]:
    w1 = np.array([[1, -1, 0], [1, 0, -1]], np.float32).reshape(2, 3, 1, 1)
    b1 = np.zeros(2, np.float32)
    w2 = np.zeros((2, 2, 3, 3), np.float32)
    w2[0, 0] = 1.0 / 9.0
    w2[1, 1] = 1.0 / 9.0
    b2 = np.zeros(2, np.float32)
    w3 = np.array([10.0, 10.0], np.float32).reshape(1, 2, 1, 1)
    b3 = np.array([-8.0], np.float32)
    arrays = {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3}
    return [numpy_helper.from_array(v, name=k) for k, v in arrays.items()]


def tiny_model_proto() -> onnx.ModelProto:
    """Build the bare tiny model in memory."""
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["logits"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["logits"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-red-detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, SIZE, SIZE])],
        initializer=_weights(),
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pixel-liberation"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_tiny_model(path: str | Path, **overrides: object) -> tuple[Path, ModelSpec]:
    """Write the tiny model to ``path`` and return ``(path, spec)``.

    Parameters
    ----------
    path : str or Path
        Where to write the ``.onnx`` file (a directory gets ``tiny-test.onnx``).
    **overrides
        Fields of the returned :class:`ModelSpec` to change (e.g.
        ``normalization="minmax"``).

    Returns
    -------
    tuple of (Path, ModelSpec)
        The file and a spec whose only source is that file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / f"{NAME}.onnx"
    p.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny_model_proto(), str(p))
    spec = tiny_spec(p)
    if overrides:
        spec = replace(spec, **overrides)  # type: ignore[arg-type]
    return p, spec


def red_square_rgba(height: int = 96, width: int = 128, margin: int = 24) -> np.ndarray:
    """A grey RGBA image with an opaque red rectangle ``margin`` pixels from each side."""
    img = np.full((height, width, 4), (128, 128, 128, 255), np.uint8)
    img[margin : height - margin, margin : width - margin, :3] = (220, 30, 30)
    return img


class _RandomReader(CalibrationDataReader):  # type: ignore[misc]
    """Calibration data for the tiny model: a few seeded random inputs."""

    def __init__(self, n: int = 4) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self._all = [
            {"input": rng.uniform(-0.5, 0.5, (1, 3, SIZE, SIZE)).astype(np.float32)}
            for _ in range(n)
        ]
        self._n = n
        self._items = iter(self._all)

    def __len__(self) -> int:
        return self._n

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._items = iter(self._all[start_index:end_index])


def build_tiny_int8_static(folder: str | Path) -> tuple[Path, ModelSpec]:
    """Write a static int8 (QDQ) tiny model beside the float one; return it and its spec.

    Its QuantizeLinear nodes make the widget treat it like the default IS-Net
    (static int8 stays on wasm), which the GPU-aware variant choice is tested on.
    """
    from segmentation.conversion.quantize import quantize_static_qdq

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / "tiny-test-int8-static.onnx"
    quantize_static_qdq(tiny_model_proto(), dest, _RandomReader(), method="minmax")
    _, spec = build_tiny_model(folder / "tiny-test.onnx")
    return dest, replace(spec, precision="int8-static", sources=(LocalSource(dest),))


def write_tiny_spec_file(folder: Path) -> Path:
    """Build the tiny model in ``folder`` and write the JSON spec file that names it.

    The file is what ``python -m segmentation remove --model-spec`` and the benchmark
    scripts' ``--model-spec`` read: the smallest real model for smoke runs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path, spec = build_tiny_model(folder / "tiny-test.onnx")
    fields = {
        "path": path.name,
        "name": spec.name,
        "precision": spec.precision,
        "input_size": list(spec.input_size),
        "mean": list(spec.mean),
        "std": list(spec.std),
        "scale": spec.scale,
        "activation": spec.activation,
        "normalization": spec.normalization,
        "license": spec.license,
    }
    out = folder / "tiny-test.json"
    out.write_text(json.dumps(fields, indent=1))
    return out
