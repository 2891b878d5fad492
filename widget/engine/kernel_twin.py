"""The kernel twin: the same wrapped model run by onnxruntime in this process.

It computes the fallback mask and is the reference that :func:`compare_masks`
holds the browser's mask against.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from segmentation.conversion.wasm_graph import ensure_wasm_graph
from segmentation.evaluation.metrics import mask_difference
from segmentation.models.registry import Registry
from segmentation.models.spec import ModelSpec
from segmentation.session import get_segmenter
from segmentation.store import ensure_wrapped


def run_twin(
    spec: ModelSpec,
    registry: Registry,
    pixels: np.ndarray,
    resolution: tuple[int, int] | None = None,
) -> tuple[np.ndarray, float]:
    """Mask of ``pixels`` by the kernel twin at ``resolution`` (None: the spec's), and ms."""
    seg = get_segmenter(spec.name, spec.precision, registry=registry)
    t0 = time.perf_counter()
    mask = seg.run_pixels(pixels, resolution)
    return mask, (time.perf_counter() - t0) * 1000.0


#: One thread computes the widgets' kernel masks ahead of need, one at a time (onnxruntime
#: already uses the cores); the widget takes the result on the kernel's main thread.
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixel-liberation-twin")


def run_twin_ahead(
    spec: ModelSpec,
    registry: Registry,
    pixels: np.ndarray,
    resolution: tuple[int, int] | None = None,
) -> Future[tuple[np.ndarray, float]]:
    """Start :func:`run_twin` on a background thread; the future holds ``(mask, ms)``.

    onnxruntime releases the GIL while it runs, so the kernel keeps answering the views
    meanwhile; a cell that needs the mask waits on the future (or cancels it).
    """
    return _AHEAD.submit(run_twin, spec, registry, pixels, resolution)


def twin_model_path(spec: ModelSpec, registry: Registry) -> Path:
    """Return the wrapped ONNX file the twin runs (the browser runs it or its saved graph)."""
    return ensure_wrapped(spec, registry=registry)


def browser_model_path(spec: ModelSpec, registry: Registry) -> tuple[Path, bool]:
    """Return the file the browser's wasm session loads, and whether it is optimised already.

    The wrapped file's graph as the kernel's onnxruntime optimised and saved it, where that
    gives the twin's masks exactly (:mod:`segmentation.conversion.wasm_graph`); else the
    wrapped file itself, which the browser optimises when it creates the session.
    """
    wrapped = twin_model_path(spec, registry)
    optimised = ensure_wasm_graph(wrapped)
    return (wrapped, False) if optimised is None else (optimised, True)


def compare_masks(browser: np.ndarray, kernel: np.ndarray) -> dict[str, float]:
    """IoU of the masks thresholded at 0.5, and MAE / max abs difference of the soft masks.

    Parameters
    ----------
    browser, kernel : numpy.ndarray
        uint8 ``[H, W]`` masks of the same shape.

    Returns
    -------
    dict
        ``iou``, ``mae``, ``max_abs_diff`` (soft masks scaled to 0..1) and
        ``differing_pixels``.

    """
    return mask_difference(browser, kernel)
