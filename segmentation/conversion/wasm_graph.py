"""The wrapped graph as onnxruntime optimises it for the CPU, saved for the browser's session.

Creating a session optimises its graph first (quantize/dequantize pairs fused into
``QLinearConv``, convolutions turned channels-last, constants folded, ...). For IS-Net that is
about 0.4 s of a browser tab's first session creation, paid again in every new page.
:func:`ensure_wasm_graph` lets the kernel's onnxruntime do it once and saves the result beside
the wrapped file; the browser's wasm session then loads it with optimisation disabled.

What is saved must run in onnxruntime-web as it is, on any machine: all optimisations but the
``NchwcTransformer`` (its blocked layout depends on this CPU's vector width), and only
operators of the standard domain or of :data:`WASM_CONTRIB_OPS` (contrib operators checked to
run in onnxruntime-web's wasm build). The kernel's sessions load it too
(:class:`segmentation.session.Segmenter`, with its own remaining optimisation, the
CPU-specific layout): about 0.2 s instead of 0.4-0.8 s to create
IS-Net's session. The graph is used only when, on a probe image, it gives exactly the bytes the
wrapped graph gives, both as the browser loads it and as the kernel does: one that would
change a single mask pixel, or that holds another operator, is recorded as such and never
used. The file name carries onnxruntime's version, so an upgrade optimises again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from segmentation.files import atomic_path, sha256_file

log = logging.getLogger("pixel_liberation.conversion")

#: Bump when what is saved changes, so cached files are made again.
WASM_GRAPH_VERSION = 2
#: Contrib operators an optimised graph may hold (each one run by onnxruntime-web's wasm build
#: on IS-Net int8 and fp32 with the kernel's exact masks).
WASM_CONTRIB_OPS = frozenset(
    {"QLinearConv", "QLinearConcat", "QLinearAdd", "NhwcMaxPool", "FusedConv"}
)
#: Model input of the probe run: the model's own size (some graphs take no other).
PROBE_RESOLUTION = (0, 0)


def wasm_graph_path(wrapped: Path) -> Path:
    """Where the optimised graph of the wrapped file ``wrapped`` is kept."""
    tag = f"ort{ort.__version__}-v{WASM_GRAPH_VERSION}"
    return wrapped.with_name(f"{wrapped.stem}.wasm-{tag}.onnx")


def _probe_pixels() -> np.ndarray:
    """Return a 96x72 RGBA image with structure at every scale (deterministic)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:72, 0:96]
    disc = ((yy - 36) ** 2 + (xx - 48) ** 2 < 22**2).astype(np.uint8) * 180
    rgb = rng.integers(0, 60, (72, 96, 3), dtype=np.uint8) + disc[..., None]
    alpha = np.full((72, 96, 1), 255, np.uint8)
    return np.ascontiguousarray(np.concatenate([rgb, alpha], axis=2))


def _run(path: Path, level: ort.GraphOptimizationLevel) -> np.ndarray:
    """Return the probe's mask by ``path`` at optimisation ``level`` (one thread)."""
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds: dict[str, np.ndarray] = {names[0]: _probe_pixels()}
    if "resolution" in names:
        feeds["resolution"] = np.array(PROBE_RESOLUTION, np.int64)
    return np.asarray(session.run(None, feeds)[0])


def _foreign_ops(path: Path) -> list[str]:
    """Operators of ``path`` outside the standard domain and :data:`WASM_CONTRIB_OPS`."""
    graph = onnx.load(str(path), load_external_data=False).graph
    ops = {(n.domain, n.op_type) for n in graph.node}
    allowed = {("com.microsoft", op) for op in WASM_CONTRIB_OPS}
    return sorted(f"{d}.{op}" for d, op in ops - allowed if d not in ("", "ai.onnx"))


def _record(side: Path, fields: dict[str, object]) -> None:
    with atomic_path(side) as tmp:
        tmp.write_text(json.dumps(fields, indent=2))


def ensure_wasm_graph(wrapped: Path) -> Path | None:
    """Return the saved optimised graph of ``wrapped``, making it once; None: use ``wrapped``.

    None when the optimised graph changes the probe's mask, or when onnxruntime cannot make
    it (logged); the caller then uses the wrapped file, optimised when its session is made.
    """
    dest = wasm_graph_path(wrapped)
    side = dest.with_suffix(".json")
    source_sha = sha256_file(wrapped)
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError):
        meta = None
    if isinstance(meta, dict) and meta.get("source_sha256") == source_sha:
        if not meta.get("identical"):
            return None
        if dest.is_file() and sha256_file(dest) == meta.get("sha256"):
            return dest
    try:
        with atomic_path(dest) as tmp:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.log_severity_level = 3
            so.optimized_model_filepath = str(tmp)
            ort.InferenceSession(
                str(wrapped), so, ["CPUExecutionProvider"], disabled_optimizers=["NchwcTransformer"]
            )
            foreign = _foreign_ops(tmp)
            if foreign:
                log.info("%s: the optimised graph holds %s; the browser optimises it", wrapped,
                         ", ".join(foreign))  # fmt: skip
                raise _Differs
            reference = _run(wrapped, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
            browser = _run(tmp, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
            kernel = _run(tmp, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
            identical = all(
                reference.shape == other.shape and bool(np.array_equal(reference, other))
                for other in (browser, kernel)
            )
            if not identical:  # never sent: the file is not kept
                log.info("%s: the optimised graph changes the mask; the browser optimises it",
                         wrapped)  # fmt: skip
                raise _Differs
    except _Differs:
        _record(side, {"source_sha256": source_sha, "identical": False})
        return None
    except Exception as exc:  # onnxruntime's errors derive from Exception alone
        # no saved graph only means the browser optimises the wrapped one, as it always could
        log.warning("%s: could not save an optimised graph (%s)", wrapped, exc)
        return None
    fields = {"source_sha256": source_sha, "identical": True, "sha256": sha256_file(dest)}
    fields["onnxruntime"] = ort.__version__
    _record(side, fields)
    return dest


class _Differs(Exception):
    """The optimised graph's probe mask differs from the wrapped graph's."""
