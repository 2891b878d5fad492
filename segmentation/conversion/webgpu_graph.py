"""A WebGPU-friendly variant of the wrapped graph: antialiased Resize as two MatMuls.

onnxruntime-web's WebGPU execution provider refuses ``Resize`` with
``antialias=1`` ("The antialias attribute of Resize operator is NOT
implemented") at run time. :func:`webgpu_variant` rewrites every such Resize of
a wrapped model (see :mod:`segmentation.conversion.wrapper`) into operators that provider
runs: per axis, a triangle-filter weight matrix is built in the graph from the
input and output lengths, then applied with ``MatMul``::

    ratio = in / out          support = max(ratio, 1)
    centre_i = (i + 0.5) * ratio - 0.5
    w[i, j] = max(0, 1 - |j - centre_i| / support)     (j = 0 .. in - 1)
    w[i, :] /= sum_j w[i, j]                            (exclude_outside)

which is what onnxruntime's CPU ``Resize(linear, antialias=1, half_pixel,
exclude_outside=1)`` computes (PIL's BILINEAR), shrinking or enlarging. The
result equals the original graph's within float rounding
(tests/segmentation/conversion/test_webgpu_graph.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.models.integrity import save_atomic

#: Bump when the rewrite changes, so cached variant files are rebuilt.
VARIANT_VERSION = 1
_PREFIX = "plgpu"


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name=name))


def _axis_weights(p: str, n_in: str, n_out: str) -> list[onnx.NodeProto]:
    """Nodes computing ``p/w`` float32 ``[out, in]`` from float scalars ``n_in`` and ``n_out``."""
    c = f"{_PREFIX}/c"
    return [
        helper.make_node("Range", [f"{c}0", n_in, f"{c}1"], [f"{p}/j"]),
        helper.make_node("Range", [f"{c}0", n_out, f"{c}1"], [f"{p}/i"]),
        helper.make_node("Div", [n_in, n_out], [f"{p}/ratio"]),
        helper.make_node("Max", [f"{p}/ratio", f"{c}1"], [f"{p}/support"]),
        helper.make_node("Add", [f"{p}/i", f"{c}half"], [f"{p}/ih"]),
        helper.make_node("Mul", [f"{p}/ih", f"{p}/ratio"], [f"{p}/ihr"]),
        helper.make_node("Sub", [f"{p}/ihr", f"{c}half"], [f"{p}/centre"]),
        helper.make_node("Unsqueeze", [f"{p}/centre", f"{c}ax1"], [f"{p}/centre_col"]),
        helper.make_node("Sub", [f"{p}/j", f"{p}/centre_col"], [f"{p}/dist"]),
        helper.make_node("Abs", [f"{p}/dist"], [f"{p}/adist"]),
        helper.make_node("Div", [f"{p}/adist", f"{p}/support"], [f"{p}/d"]),
        helper.make_node("Sub", [f"{c}1", f"{p}/d"], [f"{p}/tri"]),
        helper.make_node("Max", [f"{p}/tri", f"{c}0"], [f"{p}/wraw"]),
        helper.make_node("ReduceSum", [f"{p}/wraw", f"{c}ax1"], [f"{p}/wsum"], keepdims=1),
        helper.make_node("Div", [f"{p}/wraw", f"{p}/wsum"], [f"{p}/w"]),
    ]


def _shared_constants() -> list[onnx.NodeProto]:
    c = f"{_PREFIX}/c"
    return [
        _const(f"{c}0", np.array(0.0, np.float32)),
        _const(f"{c}1", np.array(1.0, np.float32)),
        _const(f"{c}half", np.array(0.5, np.float32)),
        _const(f"{c}ax1", np.array([1], np.int64)),
        _const(f"{c}i2", np.array([2], np.int64)),
        _const(f"{c}i3", np.array([3], np.int64)),
        _const(f"{c}i4", np.array([4], np.int64)),
    ]


def resize_as_matmul(index: int, x: str, sizes: str, y: str) -> list[onnx.NodeProto]:
    """Nodes resizing NCHW float ``x`` to the int64 ``sizes`` ``[N, C, OH, OW]`` into ``y``.

    Needs the nodes of :func:`_shared_constants` in the same graph.
    """
    p = f"{_PREFIX}/r{index}"
    c = f"{_PREFIX}/c"
    nodes = [
        helper.make_node("Shape", [x], [f"{p}/shape"]),
        helper.make_node("Cast", [f"{p}/shape"], [f"{p}/shape_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", [sizes], [f"{p}/sizes_f"], to=TensorProto.FLOAT),
    ]
    for axis, name in ((2, "h"), (3, "w")):
        lo, hi = f"{c}i{axis}", f"{c}i{axis + 1}"
        nodes += [
            helper.make_node("Slice", [f"{p}/shape_f", lo, hi], [f"{p}/{name}_in1"]),
            helper.make_node("Slice", [f"{p}/sizes_f", lo, hi], [f"{p}/{name}_out1"]),
            helper.make_node("Squeeze", [f"{p}/{name}_in1"], [f"{p}/{name}_in"]),
            helper.make_node("Squeeze", [f"{p}/{name}_out1"], [f"{p}/{name}_out"]),
            *_axis_weights(f"{p}/{name}", f"{p}/{name}_in", f"{p}/{name}_out"),
        ]
    nodes += [
        helper.make_node("Transpose", [f"{p}/w/w"], [f"{p}/w/wt"], perm=[1, 0]),
        helper.make_node("MatMul", [x, f"{p}/w/wt"], [f"{p}/cols"]),
        helper.make_node("MatMul", [f"{p}/h/w", f"{p}/cols"], [y]),
    ]
    return nodes


def _is_antialiased(node: onnx.NodeProto) -> bool:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return node.op_type == "Resize" and attrs.get("antialias", 0) == 1


def webgpu_variant(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy of ``model`` whose antialiased linear Resize nodes are MatMuls.

    Parameters
    ----------
    model : onnx.ModelProto
        A wrapped model (:func:`segmentation.conversion.wrapper.wrap_model`); its antialiased
        Resize nodes must be 4-D ``linear``, ``half_pixel``, ``exclude_outside=1``
        and take their output size from the ``sizes`` input.

    Returns
    -------
    onnx.ModelProto
        The same inputs and outputs; other nodes untouched.

    Raises
    ------
    ValueError
        If an antialiased Resize has another form than the one described.

    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    nodes: list[onnx.NodeProto] = []
    rewritten = 0
    for node in model.graph.node:
        if not _is_antialiased(node):
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        form = (
            attrs.get("mode", b"nearest"),
            attrs.get("coordinate_transformation_mode", b"half_pixel"),
            attrs.get("exclude_outside", 0),
        )
        if form != (b"linear", b"half_pixel", 1) or len(node.input) != 4 or not node.input[3]:
            raise ValueError(f"cannot rewrite Resize {node.output[0]!r}: {form}, {node.input}")
        nodes += resize_as_matmul(rewritten, node.input[0], node.input[3], node.output[0])
        rewritten += 1
    del out.graph.node[:]
    out.graph.node.extend([*_shared_constants(), *nodes] if rewritten else nodes)
    props = {p.key: p.value for p in out.metadata_props}
    props["pixel_liberation.variant"] = f"webgpu-{VARIANT_VERSION}"
    helper.set_model_props(out, props)
    return out


def uses_float16(model: onnx.ModelProto) -> bool:
    """Tell whether ``model`` computes in float16 (initializers or Casts to float16).

    onnxruntime-web's WebGPU provider cannot create such a session on an adapter
    without the ``shader-f16`` feature (shader generation fails).
    """
    f16 = TensorProto.FLOAT16
    if any(t.data_type == f16 for t in model.graph.initializer):
        return True
    for node in model.graph.node:
        if node.op_type == "Cast" and any(a.name == "to" and a.i == f16 for a in node.attribute):
            return True
        if node.op_type == "Constant" and any(a.t.data_type == f16 for a in node.attribute):
            return True
    return False


_TRAITS: dict[tuple[str, int, int], tuple[bool, bool]] = {}


def _traits(path: Path) -> tuple[bool, bool]:
    """Read ``(uses float16, quantizes activations)`` of an ONNX file, once per version."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _TRAITS:
        model = onnx.load(str(path), load_external_data=False)
        quant = any(n.op_type == "QuantizeLinear" for n in model.graph.node)
        _TRAITS[key] = (uses_float16(model), quant)
    return _TRAITS[key]


def file_quantizes_activations(path: Path) -> bool:
    """Tell whether an ONNX file has ``QuantizeLinear`` nodes (static int8 activations).

    onnxruntime-web's WebGPU provider has no ``QuantizeLinear`` kernel (1.30): each
    one runs on the CPU, so every layer of a static int8 model would cross
    between GPU and CPU memory.
    """
    return _traits(path)[1]


def file_uses_float16(path: Path) -> bool:
    """:func:`uses_float16` of an ONNX file, read once per (path, size, mtime)."""
    return _traits(path)[0]


def webgpu_variant_path(wrapped: Path) -> Path:
    """Return the WebGPU variant of the wrapped file ``wrapped``, writing it once.

    The variant sits next to the wrapped file, named after it (whose name already
    carries the digest of its inputs) and :data:`VARIANT_VERSION`.
    """
    dest = wrapped.with_name(f"{wrapped.stem}.webgpu{VARIANT_VERSION}.onnx")
    if dest.is_file() and dest.stat().st_mtime_ns >= wrapped.stat().st_mtime_ns:
        return dest

    save_atomic(webgpu_variant(onnx.load(str(wrapped))), dest)
    return dest
