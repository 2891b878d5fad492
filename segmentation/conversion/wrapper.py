"""Put pre- and post-processing inside the ONNX graph.

The wrapped model takes the image's pixels and returns the mask, so
onnxruntime in the kernel and onnxruntime-web in the browser run the very same
operators and cannot drift apart::

    pixels uint8 [H, W, 4] (RGBA, not premultiplied)
      -> float, RGB premultiplied by alpha (transparent pixels become black)
      -> [1, 3, H, W] -> Resize to ``resolution`` (int64 [2] input: height, width;
         a side <= 0 means the spec's size, the published model's; linear, antialias,
         half_pixel, exclude_outside: equal to PIL's BILINEAR resize, borders included)
      -> (x * scale - mean) / std -> bare model -> [sigmoid] -> [min-max]
      -> Resize back to H x W -> times alpha -> x255, round, clip
    mask uint8 [H, W]

Fully transparent pixels are never foreground, and a canvas that premultiplies
alpha feeds the same values the kernel does for every opaque pixel.

One file runs at any resolution (a positive multiple of :data:`RESOLUTION_STEP`
up to :data:`MAX_RESOLUTION`): the exported U^2-Net/IS-Net graphs resize their
decoder maps to sizes that are constants of the 1024 trace, and
:func:`dynamic_resize_sizes` takes each from the shape of the tensor the
upsampled map is concatenated with (U^2-Net's ``upsample_like``), or from the
model input's shape for the side outputs.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from segmentation.models.spec import ModelSpec

#: Bump when the wrapper's operators change, so cached wrapped files are rebuilt.
#: 2: Resize with ``exclude_outside=1`` (v1 darkened the border rows when shrinking).
#: 3: ``resolution`` input, decoder Resize sizes taken from tensor shapes.
WRAPPER_VERSION = 3
WRAPPER_OPSET = 18
PIXELS = "pixels"
RESOLUTION = "resolution"
MASK = "mask"
#: Model input sides must be multiples of this (IS-Net halves its maps 5 times)...
RESOLUTION_STEP = 32
#: ...and at most this (memory grows with the square; 1024 is what it was trained at).
MAX_RESOLUTION = 2048
#: Ops between a Resize and the Concat that consumes it, which keep the shape.
_SHAPE_KEEPING = {"QuantizeLinear", "DequantizeLinear", "Cast", "Identity"}


def check_resolution(resolution: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """Return ``resolution`` as ``(height, width)`` if it is allowed, else raise ValueError.

    An int means a square. Each side must be a positive multiple of
    :data:`RESOLUTION_STEP` up to :data:`MAX_RESOLUTION`.
    """
    allowed = (
        f"sides must be multiples of {RESOLUTION_STEP} from {RESOLUTION_STEP} to {MAX_RESOLUTION}"
    )
    if isinstance(resolution, int) and not isinstance(resolution, bool):
        pair: tuple[object, ...] = (resolution, resolution)
    elif isinstance(resolution, (tuple, list)):
        pair = tuple(resolution)
    else:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise ValueError(
            f"resolution must be an int or (height, width) ints ({allowed}), got {resolution!r}"
        )
    h, w = int(pair[0]), int(pair[1])  # type: ignore[call-overload]
    for side in (h, w):
        if side < RESOLUTION_STEP or side > MAX_RESOLUTION or side % RESOLUTION_STEP:
            raise ValueError(f"resolution {resolution!r} is not allowed: {allowed}")
    return h, w


def resolution_feed(resolution: tuple[int, int]) -> np.ndarray:
    """Return the ``resolution`` input's value: int64 ``[height, width]``."""
    return np.asarray(resolution, np.int64)


def wrapped_feeds(
    input_names: list[str], rgba: np.ndarray, resolution: tuple[int, int] = (0, 0)
) -> dict[str, np.ndarray]:
    """Return the feeds of a wrapped session with inputs ``input_names``.

    Files wrapped before :data:`RESOLUTION` existed have only ``pixels``;
    ``(0, 0)`` means the spec's size.
    """
    out = {PIXELS: rgba}
    if RESOLUTION in input_names:
        out[RESOLUTION] = resolution_feed(resolution)
    return out


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


def _pre_nodes(spec: ModelSpec, dynamic: bool = False) -> list[onnx.NodeProto]:
    """Pixels to the model's input; ``dynamic``: resized to the ``resolution`` input."""
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
        *(
            [
                _const("pl/c13", np.array([1, 3], np.int64)),
                _const("pl/res_default", np.array([h, w], np.int64)),
                _const("pl/res_zero", np.array(0, np.int64)),
                helper.make_node("Greater", [RESOLUTION, "pl/res_zero"], ["pl/res_given"]),
                helper.make_node(
                    "Where", ["pl/res_given", RESOLUTION, "pl/res_default"], ["pl/res"]
                ),
                helper.make_node("Concat", ["pl/c13", "pl/res"], ["pl/size_in"], axis=0),
            ]
            if dynamic
            else [_const("pl/size_in", np.array([1, 3, h, w], np.int64))]
        ),
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


def _constant_value(
    name: str, producer: dict[str, onnx.NodeProto], inits: dict[str, onnx.TensorProto]
) -> np.ndarray | None:
    if name in inits:
        return numpy_helper.to_array(inits[name])
    node = producer.get(name)
    if node is not None and node.op_type == "Constant":
        for a in node.attribute:
            if a.name == "value":
                return numpy_helper.to_array(a.t)
    return None


def dynamic_resize_sizes(
    nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto], spec: ModelSpec
) -> list[onnx.NodeProto]:
    """Return ``nodes`` with every traced constant ``Resize`` size made a tensor shape.

    A ``Resize`` whose ``sizes`` is ``Concat(<N, C from a Shape>, constant [h, w])``
    gets ``[h, w]`` from the shape of the other input of the ``Concat`` its output
    feeds (through Q/DQ/Cast nodes), or, when it feeds none, from the shape of the
    model input ``spec.input_name`` (then the constant must be the spec's size).
    Other Resize nodes are left alone.

    Raises
    ------
    ValueError
        If a constant-size Resize has neither a Concat partner nor the input's size.

    """
    producer = {o: n for n in nodes for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    inits = {t.name: t for t in initializers}

    def partner(tensor: str) -> str | None:
        stack, seen = [tensor], set()
        while stack:
            cur = stack.pop()
            for c in consumers.get(cur, []):
                if c.op_type == "Concat" and (c.name, cur) not in seen:
                    seen.add((c.name, cur))
                    others = [i for i in c.input if i != cur]
                    if others:
                        return others[0]
                elif c.op_type in _SHAPE_KEEPING:
                    stack.append(c.output[0])
        return None

    out: list[onnx.NodeProto] = []
    rewired: dict[str, str] = {}  # sizes-Concat output -> new Concat output
    extra: list[onnx.NodeProto] = []
    for n in nodes:
        if n.op_type != "Resize" or len(n.input) < 4 or not n.input[3]:
            continue
        cat = producer.get(n.input[3])
        if cat is None or cat.op_type != "Concat" or len(cat.input) != 2:
            continue
        hw = _constant_value(cat.input[1], producer, inits)
        if hw is None or hw.shape != (2,):
            continue
        target = partner(n.output[0])
        if target is None:
            if tuple(int(v) for v in hw) != tuple(spec.input_size):
                raise ValueError(
                    f"{spec.key}: Resize {n.name!r} has constant size {hw.tolist()} and no"
                    " Concat partner: cannot make it follow the input size"
                )
            target = spec.input_name
        tag = f"pl/dyn/{len(extra) // 2}"
        extra += [
            helper.make_node("Shape", [target], [f"{tag}/hw"], start=2, end=4),
            helper.make_node("Concat", [cat.input[0], f"{tag}/hw"], [f"{tag}/sizes"], axis=0),
        ]
        rewired[n.name] = f"{tag}/sizes"
    if not rewired:
        return nodes
    for n in nodes:
        if n.name in rewired and n.op_type == "Resize":
            new = onnx.NodeProto()
            new.CopyFrom(n)
            new.input[3] = rewired[n.name]
            out.append(new)
        else:
            out.append(n)
    return _toposort([*extra, *out])


def _toposort(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """Order ``nodes`` so each comes after the producers of its inputs (stable otherwise)."""
    producer = {o: i for i, n in enumerate(nodes) for o in n.output}
    done: list[bool] = [False] * len(nodes)
    order: list[onnx.NodeProto] = []
    for start in range(len(nodes)):
        stack = [(start, False)]
        while stack:
            idx, expanded = stack.pop()
            if done[idx]:
                continue
            if expanded:
                done[idx] = True
                order.append(nodes[idx])
                continue
            stack.append((idx, True))
            for name in reversed(nodes[idx].input):
                dep = producer.get(name)
                if dep is not None and not done[dep]:
                    stack.append((dep, False))
    return order


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
        Inputs ``pixels`` (uint8 ``[H, W, 4]``) and ``resolution`` (int64
        ``[2]``: the model input's height and width, see :func:`check_resolution`;
        ``[0, 0]`` means the spec's ``input_size``), one output ``mask``
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
    body = dynamic_resize_sizes(body, inits, spec)
    graph = helper.make_graph(
        [*_pre_nodes(spec, dynamic=True), *body, *_post_nodes(spec)],
        f"pixel-liberation/{spec.key}",
        [
            helper.make_tensor_value_info(PIXELS, TensorProto.UINT8, ["height", "width", 4]),
            helper.make_tensor_value_info(RESOLUTION, TensorProto.INT64, [2]),
        ],
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
