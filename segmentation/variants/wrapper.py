"""Put pre- and post-processing inside the ONNX graph.

The wrapped model takes the image's pixels and returns the mask, so
onnxruntime in the kernel and onnxruntime-web in the browser run the very same
operators and cannot drift apart::

    pixels uint8 [H, W, 4] (RGBA, not premultiplied)
      -> float, RGB premultiplied by alpha (transparent pixels become black)
      -> [1, 3, H, W] -> Resize to the spec's size (linear, antialias, half_pixel,
         exclude_outside: equal to PIL's BILINEAR resize, borders included)
      -> (x * scale - mean) / std -> bare model -> [sigmoid] -> [min-max]
      -> Resize back to H x W -> times alpha -> x255, round, clip
    mask uint8 [H, W]

Fully transparent pixels are never foreground, and a canvas that premultiplies
alpha feeds the same values the kernel does for every opaque pixel.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.models.spec import ModelSpec

#: Bump when the wrapper's operators change, so cached wrapped files are rebuilt.
#: 2: Resize with ``exclude_outside=1`` (v1 darkened the border rows when shrinking).
WRAPPER_VERSION = 2
WRAPPER_OPSET = 18
PIXELS = "pixels"
MASK = "mask"


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name=name))


def prune_to_output(graph: onnx.GraphProto, output: str) -> list[onnx.NodeProto]:
    """Nodes of ``graph`` that ``output`` depends on, in their original order."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output}
    if output not in producer:
        raise ValueError(f"the model has no output named {output!r}")
    keep: set[int] = set()
    stack = [output]
    while stack:
        name = stack.pop()
        idx = producer.get(name)
        if idx is None or idx in keep:
            continue
        keep.add(idx)
        stack.extend(i for i in graph.node[idx].input if i)
    return [n for i, n in enumerate(graph.node) if i in keep]


def _pre_nodes(spec: ModelSpec) -> list[onnx.NodeProto]:
    h, w = spec.input_size
    mean = np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1)
    order = [0, 1, 2] if spec.channel_order == "RGB" else [2, 1, 0]
    return [
        _const("pl/c0", np.array([0], np.int64)),
        _const("pl/c3", np.array([3], np.int64)),
        _const("pl/c4", np.array([4], np.int64)),
        _const("pl/c2", np.array([2], np.int64)),
        _const("pl/c255", np.array(255.0, np.float32)),
        _const("pl/order", np.array(order, np.int64)),
        _const("pl/size_in", np.array([1, 3, h, w], np.int64)),
        _const("pl/scale", np.array(spec.scale, np.float32)),
        _const("pl/mean", mean),
        _const("pl/std", std),
        helper.make_node("Cast", [PIXELS], ["pl/f"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["pl/f", "pl/c0", "pl/c3", "pl/c2"], ["pl/rgb"]),
        helper.make_node("Slice", ["pl/f", "pl/c3", "pl/c4", "pl/c2"], ["pl/a255"]),
        helper.make_node("Div", ["pl/a255", "pl/c255"], ["pl/alpha"]),
        helper.make_node("Mul", ["pl/rgb", "pl/alpha"], ["pl/premul"]),
        helper.make_node("Gather", ["pl/premul", "pl/order"], ["pl/ordered"], axis=2),
        helper.make_node("Transpose", ["pl/ordered"], ["pl/chw"], perm=[2, 0, 1]),
        helper.make_node("Unsqueeze", ["pl/chw", "pl/c0"], ["pl/nchw"]),
        helper.make_node(
            "Resize",
            ["pl/nchw", "", "", "pl/size_in"],
            ["pl/resized"],
            mode="linear",
            antialias=1 if spec.resize_antialias else 0,
            coordinate_transformation_mode="half_pixel",
            exclude_outside=1,
        ),
        helper.make_node("Mul", ["pl/resized", "pl/scale"], ["pl/scaled"]),
        helper.make_node("Sub", ["pl/scaled", "pl/mean"], ["pl/centered"]),
        helper.make_node("Div", ["pl/centered", "pl/std"], [spec.input_name]),
    ]


def _post_nodes(spec: ModelSpec) -> list[onnx.NodeProto]:
    nodes = [
        _const("pl/c1x2", np.array([1, 1], np.int64)),
        _const("pl/zero", np.array(0.0, np.float32)),
        _const("pl/sq01", np.array([0, 1], np.int64)),
    ]
    y = spec.output_name
    if spec.activation == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", [y], ["pl/prob"]))
        y = "pl/prob"
    if spec.normalization == "minmax":
        nodes += [
            _const("pl/eps", np.array(1e-8, np.float32)),
            helper.make_node("ReduceMin", [y], ["pl/min"], keepdims=1),
            helper.make_node("ReduceMax", [y], ["pl/max"], keepdims=1),
            helper.make_node("Sub", [y, "pl/min"], ["pl/num"]),
            helper.make_node("Sub", ["pl/max", "pl/min"], ["pl/range"]),
            helper.make_node("Max", ["pl/range", "pl/eps"], ["pl/den"]),
            helper.make_node("Div", ["pl/num", "pl/den"], ["pl/norm"]),
        ]
        y = "pl/norm"
    nodes += [
        helper.make_node("Shape", [PIXELS], ["pl/shape"], start=0, end=2),
        helper.make_node("Concat", ["pl/c1x2", "pl/shape"], ["pl/size_out"], axis=0),
        helper.make_node(
            "Resize",
            [y, "", "", "pl/size_out"],
            ["pl/back"],
            mode="linear",
            antialias=1 if spec.resize_antialias else 0,
            coordinate_transformation_mode="half_pixel",
            exclude_outside=1,
        ),
        helper.make_node("Squeeze", ["pl/back", "pl/sq01"], ["pl/hw"]),
        helper.make_node("Squeeze", ["pl/alpha", "pl/c2"], ["pl/alpha_hw"]),
        helper.make_node("Mul", ["pl/hw", "pl/alpha_hw"], ["pl/masked"]),
        helper.make_node("Mul", ["pl/masked", "pl/c255"], ["pl/m255"]),
        helper.make_node("Round", ["pl/m255"], ["pl/rounded"]),
        helper.make_node("Clip", ["pl/rounded", "pl/zero", "pl/c255"], ["pl/clipped"]),
        helper.make_node("Cast", ["pl/clipped"], [MASK], to=TensorProto.UINT8),
    ]
    return nodes


def wrap_model(bare: onnx.ModelProto, spec: ModelSpec) -> onnx.ModelProto:
    """Return a model that maps RGBA uint8 pixels of any size to a uint8 mask.

    Parameters
    ----------
    bare : onnx.ModelProto
        The model as published: float32 NCHW input of ``spec.input_size``.
    spec : ModelSpec
        How the model is fed; its ``input_name`` and ``output_name`` must exist.

    Returns
    -------
    onnx.ModelProto
        One input ``pixels`` (uint8 ``[H, W, 4]``) and one output ``mask``
        (uint8 ``[H, W]``); outputs of the bare model other than
        ``spec.output_name`` are pruned away with the nodes only they need.

    """
    g = bare.graph
    inputs = {i.name for i in g.input}
    if spec.input_name not in inputs:
        raise ValueError(
            f"{spec.key}: the model has no input {spec.input_name!r} (it has {sorted(inputs)})"
        )
    body = prune_to_output(g, spec.output_name)
    used = {i for n in body for i in n.input}
    inits = [t for t in g.initializer if t.name in used]
    graph = helper.make_graph(
        [*_pre_nodes(spec), *body, *_post_nodes(spec)],
        f"pixel-liberation/{spec.key}",
        [helper.make_tensor_value_info(PIXELS, TensorProto.UINT8, ["height", "width", 4])],
        [helper.make_tensor_value_info(MASK, TensorProto.UINT8, ["height", "width"])],
        initializer=inits,
    )
    opsets = [o for o in bare.opset_import if o.domain not in ("", "ai.onnx")]
    opsets.append(helper.make_opsetid("", WRAPPER_OPSET))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="pixel-liberation")
    model.ir_version = max(bare.ir_version, 8)
    helper.set_model_props(
        model,
        {"pixel_liberation.spec": spec.key, "pixel_liberation.wrapper": str(WRAPPER_VERSION)},
    )
    return model
