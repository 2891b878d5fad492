"""fp16 -> fp32 conversion of a bare model, and the float model every quantization starts from.

:func:`fp16_to_fp32_model` turns IMG.LY's fp16 IS-Net
(``/models/medium``) into an fp32 model. That file is a *whole-graph* fp16
conversion with float32 graph inputs and outputs: a ``Cast(to=float16)`` after
the input, ``Cast(to=float)`` before every output, and a float32 island around
each ``Resize`` (``Cast(to=float)`` in, ``Cast(to=float16)`` out). Upcasting
every fp16 initializer, constant and value type to float32 leaves every one of
those Casts converting float to float, so they are dropped and their consumers
rewired. The weights lose nothing (fp16 -> fp32 is exact); only the arithmetic
becomes fp32.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.conversion.quantize import has_fp16, name_nodes
from segmentation.conversion.wrapper import prune_to_output
from segmentation.errors import ModelIntegrityError
from segmentation.models.spec import ModelSpec

_FLOATS = (TensorProto.FLOAT, TensorProto.FLOAT16)


def _upcast_tensor(t: onnx.TensorProto) -> onnx.TensorProto:
    arr = numpy_helper.to_array(t).astype(np.float32)
    return numpy_helper.from_array(arr, name=t.name)


def _upcast_values(graph: onnx.GraphProto) -> int:
    """Turn every fp16 initializer, Constant and declared type into float32; return how many."""
    count = 0
    for i, t in enumerate(graph.initializer):
        if t.data_type == TensorProto.FLOAT16:
            graph.initializer[i].CopyFrom(_upcast_tensor(t))
            count += 1
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT16:
                attr.t.CopyFrom(_upcast_tensor(attr.t))
                count += 1
            if attr.type == onnx.AttributeProto.GRAPH:
                raise ModelIntegrityError("fp16_to_fp32 does not handle subgraphs (If/Loop/Scan)")
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        tt = vi.type.tensor_type
        if tt.elem_type == TensorProto.FLOAT16:
            tt.elem_type = TensorProto.FLOAT
    return count


def _float_names(graph: onnx.GraphProto) -> set[str]:
    """Names of tensors known to be float or fp16 (before upcasting)."""
    names = {t.name for t in graph.initializer if t.data_type in _FLOATS}
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        if vi.type.tensor_type.elem_type in _FLOATS:
            names.add(vi.name)
    for node in graph.node:
        if node.op_type == "Cast" and _cast_to(node) in _FLOATS:
            names.update(node.output)
    return names


def _cast_to(node: onnx.NodeProto) -> int:
    return next((a.i for a in node.attribute if a.name == "to"), -1)


def _drop_float_casts(graph: onnx.GraphProto, floats: set[str]) -> int:
    """Remove Casts between float types (identities once all is fp32); return how many."""
    graph_inputs = {i.name for i in graph.input}
    graph_outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    keep: list[onnx.NodeProto] = []
    dropped = 0
    for node in graph.node:
        src, dst = (node.input[0], node.output[0]) if node.op_type == "Cast" else ("", "")
        if node.op_type != "Cast" or _cast_to(node) not in _FLOATS or src not in floats:
            keep.append(node)
            continue
        if dst in graph_outputs:
            if src in graph_inputs or src in graph_outputs or src in rename:
                keep.append(onnx.helper.make_node("Identity", [src], [dst], name=node.name))
                continue
            rename[src] = dst  # the producer writes the graph output directly
        else:
            rename[dst] = src
        dropped += 1

    def resolve(name: str) -> str:
        seen = set()
        while name in rename and name not in seen:
            seen.add(name)
            name = rename[name]
        return name

    for node in keep:
        for i, name in enumerate(node.input):
            node.input[i] = resolve(name)
        for i, name in enumerate(node.output):
            node.output[i] = resolve(name)
    del graph.node[:]
    graph.node.extend(keep)
    produced = {o for n in graph.node for o in n.output}
    live = [vi for vi in graph.value_info if vi.name in produced and vi.name not in graph_outputs]
    del graph.value_info[:]
    graph.value_info.extend(live)
    return dropped


def _toposort(graph: onnx.GraphProto) -> None:
    """Order ``graph.node`` so producers come before consumers (stable otherwise)."""
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending = list(graph.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        rest = []
        for node in pending:
            if all(i in ready for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ModelIntegrityError(f"graph has a cycle or undefined inputs at {rest[0].name!r}")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def fp16_to_fp32_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return an fp32 copy of an fp16 model whose graph inputs and outputs are float32."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    _toposort(graph)
    # types of every intermediate tensor, for files saved without value_info
    floats = _float_names(onnx.shape_inference.infer_shapes(out).graph)
    if not _upcast_values(graph):
        raise ModelIntegrityError("fp16_to_fp32: the model has no fp16 tensors to upcast")
    _drop_float_casts(graph, floats)
    leftover = [n.name for n in graph.node if n.op_type == "Cast" and _cast_to(n) == 10]
    if leftover:
        raise ModelIntegrityError(f"fp16_to_fp32: Casts to fp16 remain: {leftover[:5]}")
    onnx.checker.check_model(out)
    return out


def prepare_float(model: onnx.ModelProto, spec: ModelSpec) -> onnx.ModelProto:
    """Return the fp32 model with one output and every node named: what quantizing starts from."""
    if has_fp16(model):
        model = fp16_to_fp32_model(model)
    g = model.graph
    body = prune_to_output(g, spec.output_name)
    used = {i for n in body for i in n.input}
    graph = helper.make_graph(
        body,
        g.name,
        list(g.input),
        [o for o in g.output if o.name == spec.output_name],
        initializer=[t for t in g.initializer if t.name in used],
        value_info=list(g.value_info),
    )
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return name_nodes(out)
