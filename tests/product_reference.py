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
    """Two-pass blur-fusion means, integer window sums, everywhere; the guarded estimate."""
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
    mf = np.zeros(rgb.shape)
    mb = np.zeros(rgb.shape)
    for c in range(3):
        i = rgb[..., c].astype(np.int64)
        f = np.where(edge, fore1[..., c], i)
        mf[..., c] = ratio(window_sums(f * a, narrow)[0], s_a2)
        mb[..., c] = ratio(window_sums(back1[..., c] * (255 - a), narrow)[0], 255 * n2 - s_a2)
    est = guarded(rgb.astype(np.float64), af, mf, mb)
    out = rgb.copy()
    out[edge] = np.floor(est[edge] + 0.5).astype(np.uint8)
    return out


def guarded(
    i: np.ndarray,
    a: np.ndarray,
    mf: np.ndarray,
    mb: np.ndarray,
    trust_full: float = 0.1,
    trust_none: float = 0.3,
) -> np.ndarray:
    """The guarded estimate from the pixel ``i``, its alpha ``a`` and the narrow means."""

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1] + u[..., 2] * v[..., 2]

    a = a[..., None]
    d = mf - mb
    dd = dot(d, d)
    safe = np.where(dd > 0, dd, 1.0)
    own = np.where(dd > 0, np.clip(dot(i - mb, d) / safe, 0.0, 1.0), 0.0)[..., None]
    au = np.maximum(a, own)  # never remove more background than the colour shows
    with np.errstate(divide="ignore", invalid="ignore"):  # au is 0 off the edge
        blurred = np.clip(mf + au * (i - au * mf - (1.0 - au) * mb), 0.0, 255.0)
        taken = np.clip(i + ((1.0 - au) / au) * (i - mb), 0.0, 255.0)
    est = au * taken + (1.0 - au) * blurred
    r = i - (a * mf + (1.0 - a) * mb)
    rho = np.sqrt(dot(r, r) / safe)
    trust = np.where(dd > 0, np.clip((trust_none - rho) / (trust_none - trust_full), 0, 1), 0)
    return i + trust[..., None] * (est - i)
