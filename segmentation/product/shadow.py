"""A soft shadow made from the subject's alpha: shifted, blurred, faded.

The blur approximates a Gaussian by three box passes per axis (the widths of Kovesi's
"Fast almost-Gaussian filtering", 2010), computed with running sums of integers and one
rounded division per axis, so numpy and ``js/src/product/shadow.ts`` agree exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from segmentation.product.framing import Frame, box_sum, rnd
from segmentation.product.spec import Shadow

PASSES = 3
#: Largest blur sigma in pixels: keeps every running sum below 2**53 (exact in a double).
MAX_SIGMA_PX = 512.0


def box_widths(sigma: float, passes: int = PASSES) -> list[int]:
    """Odd box widths whose ``passes`` successive box filters approximate a Gaussian ``sigma``."""
    if sigma < 0.5:
        return [1] * passes
    ideal = math.sqrt(12.0 * sigma * sigma / passes + 1.0)
    low = math.floor(ideal)
    if low % 2 == 0:
        low -= 1
    m = rnd((12.0 * sigma * sigma - passes * low * low - 4 * passes * low - 3 * passes)
            / (-4.0 * low - 4.0))  # fmt: skip
    return [low if i < m else low + 2 for i in range(passes)]


def _blur_axis(values: NDArray[np.int64], widths: list[int], axis: int) -> NDArray[np.int64]:
    total = 1
    for wd in widths:
        values = box_sum(values, wd, axis)
        total *= wd
    return (2 * values + total) // (2 * total)


def shadow_alpha(alpha: NDArray[np.uint8], frame: Frame, shadow: Shadow) -> NDArray[np.uint8]:
    """Return the shadow's alpha on the canvas: ``alpha`` shifted, blurred, times the opacity.

    Offsets and sigma are in % of the subject's height on the canvas (``frame``).
    """
    height = frame.subject_size[1]
    dx = rnd(shadow.offset_x * height / 100.0)
    dy = rnd(shadow.offset_y * height / 100.0)
    h, w = alpha.shape
    moved = np.zeros((h, w), np.int64)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    if abs(dy) < h and abs(dx) < w:
        moved[yd, xd] = alpha[ys, xs]
    widths = box_widths(min(shadow.blur * height / 100.0, MAX_SIGMA_PX))
    out = np.zeros((h, w), np.uint8)
    ys_, xs_ = np.nonzero(moved.any(axis=1))[0], np.nonzero(moved.any(axis=0))[0]
    if len(ys_) == 0:
        return out
    # everything farther than the blur's reach from the shifted alpha stays 0: blur only
    # the box around it (the sums are the same; zeros beyond it add nothing)
    reach = sum(wd // 2 for wd in widths)
    y0, y1 = max(0, int(ys_[0]) - reach), min(h, int(ys_[-1]) + 1 + reach)
    x0, x1 = max(0, int(xs_[0]) - reach), min(w, int(xs_[-1]) + 1 + reach)
    part = moved[y0:y1, x0:x1]
    blurred = _blur_axis(_blur_axis(part, widths, axis=1), widths, axis=0)
    out[y0:y1, x0:x1] = np.floor(shadow.opacity * blurred.astype(np.float64) + 0.5)
    return out
