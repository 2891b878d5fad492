"""The kernel twin: the same wrapped model run by onnxruntime in this process.

It computes the fallback mask and is the reference that :func:`compare_masks`
holds the browser's mask against.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

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


def twin_model_path(spec: ModelSpec, registry: Registry) -> Path:
    """Return the wrapped ONNX file the twin (and the browser) runs."""
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
    return mask_difference(browser, kernel)
