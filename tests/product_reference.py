"""Plain reference implementations of the product step's maths, for the tests only.

Written for clarity, not speed: full summed-area tables, per-pixel loops where small. The
step's own code (:mod:`segmentation.product`) restricts work to where it is needed; these
compute everything everywhere, so agreeing with them shows the shortcuts change nothing.
"""

from __future__ import annotations

import numpy as np


def window_sums(values: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``values`` over the canvas-clipped (2r+1)^2 window of every pixel, and its size."""
    h, w = values.shape
    t = np.zeros((h + 1, w + 1), np.int64)
    t[1:, 1:] = values.astype(np.int64).cumsum(0).cumsum(1)
    y = np.arange(h)[:, None]
    x = np.arange(w)[None, :]
    y0, y1 = np.maximum(y - r, 0), np.minimum(y + r + 1, h)
    x0, x1 = np.maximum(x - r, 0), np.minimum(x + r + 1, w)
    return t[y1, x1] - t[y0, x1] - t[y1, x0] + t[y0, x0], (y1 - y0) * (x1 - x0)


def foreground(rgb: np.ndarray, alpha: np.ndarray, wide: int = 90, narrow: int = 6) -> np.ndarray:
    """Two-pass blur-fusion foreground estimate, integer window sums, everywhere."""
    a = alpha.astype(np.int64)
    af = a.astype(np.float64) / 255.0
    edge = (a > 0) & (a < 255)

    def ratio(n: np.ndarray, d: np.ndarray) -> np.ndarray:
        return np.where(d > 0, n / np.where(d > 0, d, 1), 0.0)

    def fuse(i: np.ndarray, mf: np.ndarray, mb: np.ndarray) -> np.ndarray:
        return np.clip(mf + af * (i - af * mf - (1.0 - af) * mb), 0.0, 255.0)

    s_a, n = window_sums(a, wide)
    fore1 = np.zeros(rgb.shape, np.int64)
    back1 = np.zeros(rgb.shape, np.int64)
    for c in range(3):
        i = rgb[..., c].astype(np.int64)
        s_ia, _ = window_sums(i * a, wide)
        s_i, _ = window_sums(i, wide)
        mf = ratio(s_ia, s_a)
        mb = ratio(255 * s_i - s_ia, 255 * n - s_a)
        fore1[..., c] = np.floor(fuse(i, mf, mb) + 0.5)
        back1[..., c] = np.floor(np.clip(mb, 0, 255) + 0.5)
    s_a2, n2 = window_sums(a, narrow)
    out = rgb.copy()
    for c in range(3):
        i = rgb[..., c].astype(np.int64)
        f = np.where(edge, fore1[..., c], i)
        mf = ratio(window_sums(f * a, narrow)[0], s_a2)
        mb = ratio(window_sums(back1[..., c] * (255 - a), narrow)[0], 255 * n2 - s_a2)
        est = np.floor(fuse(i, mf, mb) + 0.5).astype(np.uint8)
        out[..., c] = np.where(edge, est, rgb[..., c])
    return out
