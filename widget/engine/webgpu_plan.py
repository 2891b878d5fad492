"""When the browser runs the model on WebGPU, and how it proves it may.

A view that reports a WebGPU adapter gets, instead of the wasm runtime and the
wrapped model, the ``ort.webgpu`` runtime and the WebGPU variant of the graph
(:mod:`segmentation.conversion.webgpu_graph`: same masks, no antialiased Resize). Before
trusting the adapter with the user's image, the worker runs a small probe image
and compares its mask with the kernel twin's mask of the same probe
(:func:`probe`); if that fails, or WebGPU cannot create or run the session, the
worker runs the same graph on its wasm execution provider and says why.

Costs: the probe is one extra model run on WebGPU when its session is created,
and one kernel-twin run per process and model. The wasm fallback keeps the
MatMul resizes, which on a CPU cost about 4x the Resize's pre/post time
(measured natively: 20 s against 5.8 s for a 4000x3000 image on one thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from segmentation.conversion.webgpu_graph import (
    file_quantizes_activations,
    file_uses_float16,
    webgpu_variant_path,
)
from segmentation.models.registry import Registry
from segmentation.models.spec import ModelSpec
from widget.engine.kernel_twin import run_twin, twin_model_path
from widget.transfer.assets import Asset, file_asset, wasm_asset

EXECUTION_PROVIDERS = ("auto", "wasm")
#: Probe size: small to send, yet both resize directions run (models take 64..1024 squares).
PROBE_W, PROBE_H = 48, 40
#: The probe passes when the masks thresholded at 128 have at least this IoU...
MIN_IOU = 0.97
#: ...and differ by at most this many levels (0-255) on average.
MAX_MAE = 3.0

_REFERENCES: dict[tuple[str, str, int], np.ndarray] = {}


@dataclass(frozen=True)
class Probe:
    """What the worker checks a fresh WebGPU session with."""

    pixels: np.ndarray
    expected: np.ndarray

    def plan_fields(self) -> dict[str, Any]:
        """JSON for the plan's ``probe`` (``PlanMsg`` in js/src/protocol/remover.ts)."""
        h, w = self.expected.shape
        return {"width": w, "height": h, "min_iou": MIN_IOU, "max_mae": MAX_MAE}

    def buffers(self) -> list[bytes]:
        """Return the plan's binary buffers: probe pixels, then the expected mask."""
        return [self.pixels.tobytes(), self.expected.tobytes()]


def probe_pixels() -> np.ndarray:
    """Return the probe image, uint8 RGBA ``[PROBE_H, PROBE_W, 4]``: red block, grey ramp."""
    x = np.mgrid[0:PROBE_H, 0:PROBE_W][1]
    rgba = np.empty((PROBE_H, PROBE_W, 4), np.uint8)
    rgba[..., 0] = rgba[..., 1] = rgba[..., 2] = (90 + 80 * x / PROBE_W).astype(np.uint8)
    rgba[..., 3] = 255
    rgba[10:30, 14:34, :3] = (215, 40, 30)
    rgba[:4, :6, 3] = 0  # a transparent corner: the mask must stay 0 there
    return rgba


def probe_reference(spec: ModelSpec, registry: Registry) -> np.ndarray:
    """Return the kernel twin's mask of :func:`probe_pixels` (once per process and model)."""
    key = (spec.key, repr(spec.sources), id(registry))
    ref = _REFERENCES.get(key)
    if ref is None:
        ref = _REFERENCES[key] = run_twin(spec, registry, probe_pixels())[0]
    return ref


def probe(spec: ModelSpec, registry: Registry) -> Probe:
    """Return the probe image and the mask a trustworthy WebGPU session must give for it."""
    return Probe(probe_pixels(), probe_reference(spec, registry))


def webgpu_model_path(spec: ModelSpec, registry: Registry) -> Path:
    """Return the WebGPU variant of the twin's wrapped model (built once, cached beside it)."""
    return webgpu_variant_path(twin_model_path(spec, registry))


def checked_request(execution_provider: str) -> str:
    """Return ``execution_provider`` if it is one of :data:`EXECUTION_PROVIDERS`, else raise."""
    if execution_provider not in EXECUTION_PROVIDERS:
        raise ValueError(
            f"execution_provider must be one of {EXECUTION_PROVIDERS}, got {execution_provider!r}"
        )
    return execution_provider


def use_webgpu(
    requested: str, caps: dict[str, Any], spec: ModelSpec, registry: Registry
) -> tuple[bool, str]:
    """Tell whether a view with capabilities ``caps`` should try WebGPU, and if not, why.

    Parameters
    ----------
    requested : str
        The widget's ``execution_provider``: ``"auto"`` tries WebGPU when the view
        reported an adapter, ``"wasm"`` never does.
    caps : dict
        The view's capabilities (``webgpu``, ``webgpuF16``...).
    spec, registry
        The model: a float16 model needs an adapter with ``shader-f16``; a
        static int8 model (``QuantizeLinear`` nodes) stays on wasm.

    Returns
    -------
    tuple of (bool, str)
        Whether to try WebGPU, and a reason worth reporting when an adapter is
        there but will not be used (empty otherwise).

    """
    if requested != "auto" or caps.get("webgpu") is not True:
        return False, ""
    path = twin_model_path(spec, registry)
    if file_quantizes_activations(path):
        return False, (
            "static int8 stays on wasm: onnxruntime-web's WebGPU provider runs its"
            " QuantizeLinear nodes on the CPU (precision='fp32' or 'fp16' can use the GPU)"
        )
    if caps.get("webgpuF16") is not True and file_uses_float16(path):
        return False, (
            "the WebGPU adapter lacks shader-f16, which this float16 model needs"
            " (precision='fp32' can run on it)"
        )
    return True, ""


def gpu_variant(
    caps: dict[str, Any], spec: ModelSpec, registry: Registry
) -> tuple[str | None, str]:
    """Return the precision a WebGPU-capable view should run instead of ``spec``'s, and why.

    Only a static int8 ``spec`` (it stays on wasm, see :func:`use_webgpu`) is
    replaced: by ``fp16`` when the adapter has ``shader-f16``, else by ``fp32``,
    whichever the registry has. Returns ``(None, reason)`` when nothing changes.
    """
    if caps.get("webgpu") is not True:
        return None, f"{spec.key} on wasm: no WebGPU adapter"
    if not file_quantizes_activations(twin_model_path(spec, registry)):
        return None, f"{spec.key} on WebGPU: the adapter can run it"
    known = {s.precision for s in registry if s.name == spec.name}
    f16 = caps.get("webgpuF16") is True
    if f16 and "fp16" in known:
        precision, why = "fp16", "the WebGPU adapter has shader-f16"
    elif "fp32" in known:
        precision = "fp32"
        why = "the WebGPU adapter lacks shader-f16" if not f16 else "there is no fp16 variant"
    else:
        precision = ""
    if precision:
        return precision, (
            f"{spec.name}:{precision} on WebGPU instead of {spec.key} on wasm: {why}"
            " (static int8 runs its QuantizeLinear nodes on the CPU under WebGPU;"
            " precision= overrides)"
        )
    return None, f"{spec.key} on wasm: no float variant of {spec.name} for the GPU"


@dataclass(frozen=True)
class GpuPlan:
    """What a plan with ``ep: "webgpu"`` carries: assets, JSON fields and buffers."""

    model: Asset
    wasm: Asset
    fields: dict[str, Any]
    buffers: list[bytes]


def gpu_plan(spec: ModelSpec, registry: Registry) -> GpuPlan:
    """Return the WebGPU runtime and graph for ``spec``, and the probe to check them with.

    The first call per process and model runs the kernel twin once on the probe.
    """
    model = file_asset(webgpu_model_path(spec, registry), "model")
    p = probe(spec, registry)
    fields = {"ep": "webgpu", "probe": p.plan_fields()}
    return GpuPlan(model, wasm_asset("webgpu"), fields, p.buffers())
