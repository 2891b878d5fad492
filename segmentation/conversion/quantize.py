"""Precision transforms of a *bare* float model: fp16, int8 dynamic, int8 static QDQ, int8 weights.

Every function takes and returns an in-memory :class:`onnx.ModelProto` (or
writes a file for the onnxruntime quantizers that insist on one). None of them
knows about pre/post-processing: the result is wrapped afterwards by
:func:`segmentation.conversion.wrapper.wrap_model`, exactly like a catalog model.

Static quantization needs calibration images
(:class:`segmentation.conversion.calibration.ImageCalibrationReader`). The histogram
calibrators (Entropy, Percentile) keep every activation of every image they
have seen in memory, so :func:`quantize_static_qdq` asks onnxruntime to
collect one image per pass (about 4 GB per 1024 x 1024 IS-Net image instead
of 4 GB times the number of images).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.conversion.wrapper import prune_to_output

if TYPE_CHECKING:
    from onnxruntime.quantization import CalibrationDataReader

CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
#: Ops that stay in float32 in the fp16 variant (CPU Resize has no fp16 kernel).
FP16_BLOCK = ("Resize",)
#: Ops whose tensors are quantized by static and weight-only quantization.
QUANT_OPS = ("Conv", "MatMul", "Gemm", "ConvTranspose")


def has_fp16(model: onnx.ModelProto) -> bool:
    """Whether any initializer of ``model`` is float16."""
    return any(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer)


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """Whole-graph fp16 conversion with float32 graph inputs and outputs."""
    # onnxruntime.transformers: 0.55 s to import (measured), only for fp16
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    return convert_float_to_float16(
        model,
        keep_io_types=True,
        op_block_list=[*DEFAULT_OP_BLOCK_LIST, *FP16_BLOCK],
        disable_shape_infer=False,
    )


def head_nodes(model: onnx.ModelProto, output: str) -> list[str]:
    """Names of the nodes between the last weighted layer(s) and ``output``, those layers included.

    Walking back from the output, every node is part of the head until a node
    of :data:`QUANT_OPS` is reached; that node is included and the walk stops
    on that branch. For IS-Net this is ``side1`` Conv, its Resize and the
    Sigmoid: the logit spans thousands of units there, so 8 bits would erase it.
    """
    producer = {o: n for n in model.graph.node for o in n.output}
    names: list[str] = []
    stack, seen = [output], set()
    while stack:
        node = producer.get(stack.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        names.append(node.name)
        if node.op_type not in QUANT_OPS:
            stack.extend(i for i in node.input if i)
    return names


def name_nodes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Give every unnamed node a unique name (quantizers address nodes by name)."""
    used = {n.name for n in model.graph.node if n.name}
    for i, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in used:
                name += "_"
            node.name = name
            used.add(name)
    return model


def quantize_dynamic_int8(src: Path, dest: Path) -> Path:
    """Dynamic quantization: uint8 weights, activations quantized at run time (ConvInteger)."""
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # ConvInteger on CPU only implements uint8 x uint8, so weights are uint8.
    quantize_dynamic(src, dest, weight_type=QuantType.QUInt8, per_channel=False)
    return dest


def quantize_static_qdq(
    model: onnx.ModelProto,
    dest: Path,
    reader: CalibrationDataReader,
    *,
    method: str = "entropy",
    per_channel: bool = True,
    exclude: Sequence[str] = (),
    reduce_range: bool = False,
) -> Path:
    """Quantize to static int8 QDQ (uint8 activations, int8 weights) calibrated on ``reader``.

    ``reduce_range`` limits weights to 7 bits, so that onnxruntime's AVX2 kernels
    cannot saturate and match onnxruntime-web's WASM
    (see :mod:`segmentation.conversion.int8_static`).
    """
    # onnxruntime.quantization: 0.56 s to import (measured), only when quantizing
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    if method not in methods:
        raise ValueError(f"unknown calibration method {method!r}; use one of {CALIBRATION_METHODS}")
    with tempfile.TemporaryDirectory(prefix="pl-quant-") as tmp:
        src = Path(tmp) / "float.onnx"
        onnx.save(model, str(src))
        quantize_static(
            str(src),
            str(dest),
            reader,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            reduce_range=reduce_range,
            nodes_to_exclude=list(exclude),
            calibrate_method=methods[method],
            extra_options={"CalibStridedMinMax": 1, "CalibTensorRangeSymmetric": False},
        )
    return dest


def _quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel (axis 0): returns (int8 weights, float scales)."""
    flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def quantize_weights_only(model: onnx.ModelProto, min_size: int = 16) -> onnx.ModelProto:
    """Store Conv/ConvTranspose weights as int8 + per-channel scale, dequantized to float in-graph.

    The arithmetic stays float32 (a ``DequantizeLinear`` feeds each weighted
    layer), so only the file size and the weights' precision change.
    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    weights = {
        n.input[1] for n in g.node if n.op_type in ("Conv", "ConvTranspose") and len(n.input) > 1
    }
    dq_nodes: list[onnx.NodeProto] = []
    for i, t in enumerate(list(g.initializer)):
        if t.name not in weights or t.data_type != TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(t)
        if w.size < min_size or w.ndim < 2:
            continue
        q, scale = _quantize_weight(w)
        name = t.name  # t aliases g.initializer[i], which is overwritten next
        g.initializer[i].CopyFrom(numpy_helper.from_array(q, name=f"{name}_q"))
        g.initializer.append(numpy_helper.from_array(scale, name=f"{name}_scale"))
        g.initializer.append(
            numpy_helper.from_array(np.zeros(scale.shape, np.int8), name=f"{name}_zp")
        )
        dq_nodes.append(
            helper.make_node(
                "DequantizeLinear",
                [f"{name}_q", f"{name}_scale", f"{name}_zp"],
                [name],
                name=f"{name}_dq",
                axis=0,
            )
        )
    if not dq_nodes:
        raise ValueError("weight-only int8: the model has no float Conv weights to quantize")
    nodes = [*dq_nodes, *g.node]
    del g.node[:]
    g.node.extend(nodes)
    return out


def _spatial(shapes: dict[str, list[int]], name: str) -> tuple[int, int] | None:
    dims = shapes.get(name)
    return (dims[2], dims[3]) if dims and len(dims) == 4 and all(dims[2:]) else None


def set_resolution(
    model: onnx.ModelProto, input_name: str, size: tuple[int, int]
) -> onnx.ModelProto:
    """Feed the model at ``size``: every Resize takes its output size from its target tensor.

    Exported models often bake the training resolution into each Resize's
    ``sizes`` (IS-Net: constants derived from 1024). Each Resize is rewired to
    ``Shape(x)[:2] ++ Shape(ref)[2:]`` where ``ref`` is the tensor its output is
    combined with (the other input of the Concat/Add/Mul that consumes it), or
    the model input when it restores the input resolution. At the original size
    the graph computes exactly what it computed before.
    """
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*inferred.input, *inferred.output, *inferred.value_info]
    }
    in_hw = _spatial(shapes, input_name)
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = name_nodes(out).graph
    g.initializer.extend(
        numpy_helper.from_array(np.array([v], np.int64), name=f"pl_res/c{v}") for v in (0, 2, 4)
    )
    new_nodes: list[onnx.NodeProto] = []
    for node in g.node:
        if node.op_type == "Resize" and len(node.input) > 3 and node.input[3]:
            target = _spatial(shapes, node.output[0])
            ref = next(
                (
                    other
                    for c in consumers.get(node.output[0], [])
                    if c.op_type in ("Concat", "Add", "Mul", "Sub")
                    for other in c.input
                    if other != node.output[0] and _spatial(shapes, other) == target
                ),
                input_name if target is not None and target == in_hw else None,
            )
            if ref is None:
                raise ValueError(
                    f"set_resolution: cannot tell which tensor Resize {node.name!r} matches; "
                    "this model cannot be re-fed at another size"
                )
            p = f"pl_res/{node.name}"
            new_nodes += [
                helper.make_node("Shape", [node.input[0]], [f"{p}/xs"], name=f"{p}/xs"),
                helper.make_node("Shape", [ref], [f"{p}/rs"], name=f"{p}/rs"),
                helper.make_node(
                    "Slice", [f"{p}/xs", "pl_res/c0", "pl_res/c2"], [f"{p}/nc"], name=f"{p}/nc"
                ),
                helper.make_node(
                    "Slice", [f"{p}/rs", "pl_res/c2", "pl_res/c4"], [f"{p}/hw"], name=f"{p}/hw"
                ),
                helper.make_node(
                    "Concat", [f"{p}/nc", f"{p}/hw"], [f"{p}/sizes"], axis=0, name=f"{p}/sizes"
                ),
            ]
            node.input[3] = f"{p}/sizes"
        new_nodes.append(node)
    del g.node[:]
    g.node.extend(new_nodes)
    for vi in g.input:
        if vi.name == input_name:
            dims = vi.type.tensor_type.shape.dim
            dims[2].dim_value, dims[3].dim_value = size
    for vi in g.output:
        for d in vi.type.tensor_type.shape.dim[2:]:
            d.dim_param = "out_hw"
    del g.value_info[:]
    live: set[str] = set()
    for o in g.output:
        live.update(n.name for n in prune_to_output(g, o.name))
    kept = [n for n in g.node if n.name in live]
    del g.node[:]
    g.node.extend(kept)
    return out
