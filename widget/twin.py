"""The kernel twin: the same wrapped model run by onnxruntime in this process.

It computes the fallback mask and is the reference that :func:`compare_masks`
holds the browser's mask against.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from segmentation.catalog import ModelSpec, Registry
from segmentation.session import Segmenter

_SEGMENTERS: dict[tuple[str, str, int], Segmenter] = {}


def segmenter_for(spec: ModelSpec, registry: Registry) -> Segmenter:
    """Return a cached :class:`~segmentation.session.Segmenter` for ``spec``."""
    key = (spec.key, repr(spec.sources), id(registry))
    seg = _SEGMENTERS.get(key)
    if seg is None:
        seg = _SEGMENTERS[key] = Segmenter(spec.name, spec.precision, registry=registry)
    return seg


def run_twin(spec: ModelSpec, registry: Registry, pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Mask of ``pixels`` by the kernel twin and the inference time in ms."""
    seg = segmenter_for(spec, registry)
    t0 = time.perf_counter()
    mask = seg.run_pixels(pixels)
    return mask, (time.perf_counter() - t0) * 1000.0


def twin_model_path(spec: ModelSpec, registry: Registry) -> Path:
    """Return the wrapped ONNX file the twin (and the browser) runs."""
    from segmentation.store import ensure_wrapped

    return ensure_wrapped(spec, registry=registry)


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
    if browser.shape != kernel.shape:
        raise ValueError(f"mask shapes differ: {browser.shape} vs {kernel.shape}")
    a, b = browser >= 128, kernel >= 128
    union = int(np.count_nonzero(a | b))
    iou = 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union
    diff = np.abs(browser.astype(np.int16) - kernel.astype(np.int16))
    return {
        "iou": float(iou),
        "mae": float(diff.mean() / 255.0),
        "max_abs_diff": float(diff.max() / 255.0),
        "differing_pixels": int(np.count_nonzero(diff)),
    }
