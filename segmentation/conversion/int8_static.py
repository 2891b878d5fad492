"""Static int8 IS-Net whose masks are the same in the kernel and in the browser's WASM.

The default browser model. Quantization is static QDQ: uint8 activations,
int8 per-channel weights limited to 7 bits (``reduce_range``), MinMax ranges,
the output head left in float (:func:`segmentation.conversion.quantize.head_nodes`).
With 7-bit weights the paired u8 x s8 products of onnxruntime's AVX2 kernels
cannot saturate 16 bits, so native onnxruntime and onnxruntime-web's WASM
kernels compute the same integers (measured on AVX2: identical outputs before
the float head; with 8-bit weights IoU drops to 0.989: ``docs/decisions.md``). Only
the float head differs, by at most 1/255 on a couple of pixels.

Users need no calibration images: the activation ranges were measured once
(``scripts/calibrate_isnet_int8.py``) and ship with the package in
``segmentation/data/isnet-general-use.int8-ranges.json``; the derivation only
replays them into onnxruntime's QDQ quantizer, a few seconds of work.
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from segmentation.conversion.convert import prepare_float
from segmentation.conversion.quantize import head_nodes
from segmentation.models.integrity import load_checked, save_atomic

if TYPE_CHECKING:
    from onnxruntime.quantization import CalibrationDataReader

    from segmentation.models.spec import ModelSpec

RANGES_FORMAT = 1


def ranges_path(model_name: str) -> Path:
    """Return the path of the packaged activation ranges of ``model_name``."""
    return Path(str(resources.files("segmentation") / "data" / f"{model_name}.int8-ranges.json"))


def _op_types() -> list[str]:
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    return sorted(set(QLinearOpsRegistry) | set(QDQRegistry))


def calibrate_ranges(
    model: onnx.ModelProto, reader: CalibrationDataReader
) -> dict[str, list[float]]:
    """MinMax ranges of every tensor the QDQ quantizer needs, one image per pass.

    Parameters
    ----------
    model : onnx.ModelProto
        The float model (as :func:`segmentation.evaluation.variants.prepare_float` makes it).
    reader : CalibrationDataReader
        Calibration inputs; must support ``len`` and ``set_range``.

    Returns
    -------
    dict
        ``{tensor name: [lowest, highest]}`` as float32 values.

    """
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization import CalibrationMethod, create_calibrator

    with tempfile.TemporaryDirectory(prefix="pl-calib-") as tmp:
        src = Path(tmp) / "float.onnx"
        onnx.save(_prepared(model), str(src))
        calibrator = create_calibrator(
            src,
            _op_types(),
            augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"symmetric": False},
        )
        for start in range(len(reader)):
            reader.set_range(start_index=start, end_index=start + 1)
            calibrator.collect_data(reader)
        data = calibrator.compute_data()
    return {
        name: [_f32(t.range_value[0]), _f32(t.range_value[1])]
        for name, t in sorted(data.data.items())
    }


def _f32(value: object) -> float:
    """Convert a calibrator's 0-d or 1-element array to a float32-exact float."""
    return float(np.asarray(value, np.float32).reshape(-1)[0])


def _prepared(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape-inferred, opset raised for per-channel weights: what the quantizer works on."""
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization.quant_utils import (
        save_and_reload_model_with_shape_infer,
        update_opset_version,
    )

    return update_opset_version(save_and_reload_model_with_shape_infer(model), QuantType.QInt8)


def quantize_with_ranges(
    model: onnx.ModelProto,
    ranges: dict[str, list[float]],
    *,
    exclude: list[str],
    reduce_range: bool = True,
) -> onnx.ModelProto:
    """Quantize ``model`` to static QDQ int8 using known activation ranges.

    Parameters
    ----------
    model : onnx.ModelProto
        The float model the ranges were measured on.
    ranges : dict
        ``{tensor name: [lowest, highest]}`` (from :func:`calibrate_ranges`).
    exclude : list of str
        Node names left in float (the output head).
    reduce_range : bool
        7-bit weights; keeps native and WASM results identical.

    Raises
    ------
    ValueError
        A tensor the quantizer needs has no range (ranges of another model).

    """
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization import (
        CalibrationMethod,
        QDQQuantizer,
        QuantType,
        TensorData,
        TensorsData,
    )

    prepared = _prepared(model)
    produced = {o for n in prepared.graph.node for o in n.output} | {
        i.name for i in prepared.graph.input
    }
    missing = [name for name in ranges if name not in produced]
    if missing:
        raise ValueError(
            f"the int8 ranges name {len(missing)} tensors this model does not have "
            f"(e.g. {missing[0]!r}): they were measured on another model"
        )
    data = {
        name: TensorData(lowest=np.float32(lo), highest=np.float32(hi))
        for name, (lo, hi) in ranges.items()
    }
    quantizer = QDQQuantizer(
        prepared,
        True,
        reduce_range,
        QuantType.QInt8,
        QuantType.QUInt8,
        TensorsData(CalibrationMethod.MinMax, data),
        [],
        exclude,
        _op_types(),
        {},
    )
    quantizer.quantize_model()
    quantizer.model.topological_sort()  # as quantize_static does when it saves
    return quantizer.model.model


def read_ranges(path: Path) -> dict[str, Any]:
    """Read a ranges file, checking its format."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read int8 ranges {path}: {exc}") from exc
    if doc.get("format") != RANGES_FORMAT or not isinstance(doc.get("ranges"), dict):
        raise ValueError(f"{path} is not an int8 ranges file of format {RANGES_FORMAT}")
    return doc


def build_int8_static(src: Path, dest: Path, spec: ModelSpec) -> Path:
    """Quantize the fp32 bare model ``src`` to static int8 ``dest`` with the packaged ranges."""
    doc = read_ranges(ranges_path(spec.name))
    model = prepare_float(load_checked(src), spec)
    out = quantize_with_ranges(
        model, doc["ranges"], exclude=head_nodes(model, spec.output_name), reduce_range=True
    )
    return save_atomic(out, dest)
