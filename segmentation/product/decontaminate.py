"""Edge colour decontamination: the subject's own colour where the mask is soft.

A soft edge pixel of a photo mixes the subject's colour F and the old background's B,
``I = a F + (1 - a) B``; put it on white as is and the old background shows as a halo.

:func:`edge_estimate` takes local means around each soft pixel with the two-pass
blur-fusion of Forte & Pitié ("Approximate fast foreground colour estimation", ICIP 2021):
alpha-weighted means of the subject and of the background, ``F = mean_F + a (I - a mean_F
- (1 - a) mean_B)``, once with a wide window (radius 90) and again with a narrow one
(radius 6) fed the first pass's F and background. :func:`refine` then turns the narrow
means into the colour, in three guarded steps, because a model's mask is often wrong at
the edge (soft inside the object, or soft over the background), and blur-fusion alone then
pulls the local subject colour into pixels that hold none of it:

1. *Consistent alpha*: the colour's own alpha ``c`` (where ``I`` lies between the
   background mean and the subject mean) may raise the alpha used for the estimate,
   ``a' = max(a, c)``: never remove more background than the pixel shows.
2. *Unmixing*: ``(I - (1 - a') mean_B) / a'``, the pixel with the local background's share
   taken out, blended with blur-fusion by ``a'`` (the pixel's own colour is the better
   witness where it is mostly subject; the local mean where it is mostly background).
3. *Guard*: the correction is applied only as far as the mask's alpha explains the pixel:
   with ``rho = |I - (a mean_F + (1 - a) mean_B)| / |mean_F - mean_B|``, fully up to
   ``rho = 0.1``, not at all from ``rho = 0.3`` (the pixel then keeps its colour).

``python -m widget.bench product --quality`` measures each step (``docs/product-photos.md``).

The numpy twin of ``js/src/product/decontaminate.ts``. Window sums are exact integers
(summed-area tables of 8-bit values; at most a few 1e11, exact in an int64 and in a
double), the rest float64 with the same operations in the same order (sums of three terms
written out, left to right), so both sides agree. Only pixels whose alpha is strictly
between 0 and 255 change; the means are evaluated only where they are needed (the edge,
and the background within the narrow radius of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from segmentation.product.framing import cumsum_rows, in_threads

#: Window radius of the first pass (a window of 181 x 181 pixels, the paper's 90).
WIDE = 90
#: Window radius of the second pass.
NARROW = 6
#: The guard: full correction while the residual is at most this share of the distance
#: between the local subject and background means...
TRUST_FULL = 0.1
#: ...and none from this share on (linear between).
TRUST_NONE = 0.3


def _table(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Summed-area table with a zero first row and column: ``[H + 1, W + 1]``."""
    h, w = values.shape
    t = np.zeros((h + 1, w + 1), np.int64)
    t[1:, 1:] = np.cumsum(values, axis=1)
    return cumsum_rows(t)


class _Windows:
    """Windows of radius ``r`` around points ``(ys, xs)`` of a part of the canvas.

    The part is ``ph`` x ``pw`` pixels at ``(oy, ox)`` of an ``h`` x ``w`` canvas; points
    are in the part's coordinates, windows are clipped to the canvas (and ``count`` is
    their size there), and must lie within the part (see :func:`_around`).
    """

    def __init__(
        self,
        ys: NDArray[np.int64],
        xs: NDArray[np.int64],
        r: int,
        ph: int,
        pw: int,
        oy: int,
        ox: int,
        h: int,
        w: int,
    ) -> None:
        self.y0 = np.maximum(ys + oy - r, 0) - oy
        self.y1 = np.minimum(ys + oy + r + 1, h) - oy
        self.x0 = np.maximum(xs + ox - r, 0) - ox
        self.x1 = np.minimum(xs + ox + r + 1, w) - ox
        self.count = (self.y1 - self.y0) * (self.x1 - self.x0)
        assert self.y0.min(initial=0) >= 0 and self.y1.max(initial=0) <= ph
        assert self.x0.min(initial=0) >= 0 and self.x1.max(initial=0) <= pw

    def sum(self, table: NDArray[np.int64]) -> NDArray[np.int64]:
        return (
            table[self.y1, self.x1]
            - table[self.y0, self.x1]
            - table[self.y1, self.x0]
            + table[self.y0, self.x0]
        )


def _ratio(num: NDArray[np.int64], den: NDArray[np.int64]) -> NDArray[np.float64]:
    """``num / den`` in float64, 0 where ``den`` is 0."""
    safe = np.where(den > 0, den, 1).astype(np.float64)
    return np.where(den > 0, num.astype(np.float64) / safe, 0.0)


def _fuse(
    image: NDArray[np.float64],
    a: NDArray[np.float64],
    mean_f: NDArray[np.float64],
    mean_b: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``mean_f + a (I - a mean_f - (1 - a) mean_b)``, clipped to 0..255 (not rounded)."""
    f = mean_f + a * (image - a * mean_f - (1.0 - a) * mean_b)
    return np.minimum(np.maximum(f, 0.0), 255.0)


def _round(x: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.floor(x + 0.5).astype(np.int64)


def _around(
    ys: NDArray[np.int64], xs: NDArray[np.int64], r: int, h: int, w: int
) -> tuple[int, int, int, int]:
    """Rows and columns ``y0, y1, x0, x1`` that hold every window of radius ``r`` of the points.

    Window sums need nothing beyond them, so summed-area tables are built over this part
    of the canvas only (the sums, and the canvas-clipped window sizes, do not change).
    """
    return (
        max(0, int(ys.min()) - r),
        min(h, int(ys.max()) + r + 1),
        max(0, int(xs.min()) - r),
        min(w, int(xs.max()) + r + 1),
    )


@dataclass(frozen=True)
class EdgeEstimate:
    """The soft pixels of a canvas and the local means around each (see :func:`refine`).

    Attributes
    ----------
    ys, xs : numpy.ndarray
        int64 ``[N]``, the pixels with 0 < alpha < 255, in row-major order.
    image : numpy.ndarray
        float64 ``[N, 3]``, their colours as they are.
    alpha : numpy.ndarray
        float64 ``[N]``, their alpha in 0..1.
    fore, back : numpy.ndarray
        float64 ``[N, 3]``, the narrow pass's alpha-weighted means of the subject and of
        the background around each.

    """

    ys: NDArray[np.int64]
    xs: NDArray[np.int64]
    image: NDArray[np.float64]
    alpha: NDArray[np.float64]
    fore: NDArray[np.float64]
    back: NDArray[np.float64]


def edge_estimate(rgb: NDArray[np.uint8], alpha: NDArray[np.uint8]) -> EdgeEstimate | None:
    """Return the soft pixels of ``alpha`` and the blur-fusion means around them.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 ``[H, W, 3]``, the photo's colours (subject and old background mixed).
    alpha : numpy.ndarray
        uint8 ``[H, W]``, the subject's alpha at the same pixels.

    Returns
    -------
    EdgeEstimate or None
        None where no pixel is soft.

    """
    h, w = alpha.shape
    ey, ex = np.nonzero((alpha > 0) & (alpha < 255))
    if len(ey) == 0:
        return None
    # where the second pass reads the first pass's background: not opaque, near the edge
    # (a window sum of the edge > 0, taken for the whole part at once by slicing the table)
    y0, y1, x0, x1 = _around(ey, ex, NARROW, h, w)
    edge = np.zeros((h, w), np.int64)
    edge[ey, ex] = 1
    t = _table(edge)
    ys, xs = np.arange(y0, y1), np.arange(x0, x1)
    ya, yb = np.maximum(ys - NARROW, 0)[:, None], np.minimum(ys + NARROW + 1, h)[:, None]
    xa, xb = np.maximum(xs - NARROW, 0)[None, :], np.minimum(xs + NARROW + 1, w)[None, :]
    near = (t[yb, xb] - t[ya, xb] - t[yb, xa] + t[ya, xa] > 0) & (alpha[y0:y1, x0:x1] < 255)
    py, px = np.nonzero(near)
    py, px = py + y0, px + x0
    a_int = alpha.astype(np.int64)

    # pass 1: F = B = the photo, wide windows, at every needed point
    y0, y1, x0, x1 = _around(py, px, WIDE, h, w)
    win = _Windows(py - y0, px - x0, WIDE, y1 - y0, x1 - x0, y0, x0, h, w)
    part_a = a_int[y0:y1, x0:x1]
    s_a = win.sum(_table(part_a))
    den_b = 255 * win.count - s_a
    mean_f = np.empty((len(py), 3))
    mean_b = np.empty((len(py), 3))

    def first(c: int) -> None:
        ch = rgb[y0:y1, x0:x1, c].astype(np.int64)
        s_ia = win.sum(_table(ch * part_a))
        s_i = win.sum(_table(ch))
        mean_f[:, c] = _ratio(s_ia, s_a)
        mean_b[:, c] = _ratio(255 * s_i - s_ia, den_b)

    in_threads(first, range(3))
    back1 = _round(np.minimum(np.maximum(mean_b, 0.0), 255.0))
    on_edge = alpha[py, px] > 0
    a_edge = (alpha[ey, ex].astype(np.float64) / 255.0)[:, None]
    image_edge = rgb[ey, ex].astype(np.float64)
    # the points are in row-major order on both lists, and the edge is a subset
    fore1 = _round(_fuse(image_edge, a_edge, mean_f[on_edge], mean_b[on_edge]))

    # pass 2: the first pass's F and B, narrow windows, on the edge only
    y0, y1, x0, x1 = _around(ey, ex, NARROW, h, w)
    win2 = _Windows(ey - y0, ex - x0, NARROW, y1 - y0, x1 - x0, y0, x0, h, w)
    part_a = a_int[y0:y1, x0:x1]
    s_a2 = win2.sum(_table(part_a))
    den_b2 = 255 * win2.count - s_a2
    inside = (py >= y0) & (py < y1) & (px >= x0) & (px < x1)
    by, bx = py[inside] - y0, px[inside] - x0
    weight_b = 255 - part_a[by, bx]
    fore = np.empty((len(ey), 3))
    back = np.empty((len(ey), 3))

    def second(c: int) -> None:
        fa = rgb[y0:y1, x0:x1, c].astype(np.int64) * part_a
        fa[ey - y0, ex - x0] = fore1[:, c] * a_int[ey, ex]
        bb = np.zeros((y1 - y0, x1 - x0), np.int64)
        bb[by, bx] = back1[inside, c] * weight_b
        fore[:, c] = _ratio(win2.sum(_table(fa)), s_a2)
        back[:, c] = _ratio(win2.sum(_table(bb)), den_b2)

    in_threads(second, range(3))
    return EdgeEstimate(ey, ex, image_edge, a_edge[:, 0], fore, back)


def _dot(u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise dot product of ``[N, 3]`` arrays, summed left to right (as TypeScript does)."""
    return u[:, 0] * v[:, 0] + u[:, 1] * v[:, 1] + u[:, 2] * v[:, 2]


def _clip(x: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.float64]:
    return np.minimum(np.maximum(x, lo), hi)


def refine(
    est: EdgeEstimate,
    *,
    consistent_alpha: bool = True,
    unmix: bool = True,
    guard: bool = True,
) -> NDArray[np.float64]:
    """Return the subject's colour at the soft pixels, float64 ``[N, 3]`` in 0..255.

    The three steps are described in the module's docstring; each can be left out (for
    the benchmark's comparison), and with none of them this is the plain blur-fusion
    estimate.
    """
    i, mf, mb = est.image, est.fore, est.back
    a = est.alpha[:, None]
    d = mf - mb
    dd = _dot(d, d)
    au = a
    if consistent_alpha:
        proj = _dot(i - mb, d)
        own = np.where(dd > 0, _clip(proj / np.where(dd > 0, dd, 1.0), 0.0, 1.0), 0.0)
        au = np.maximum(a, own[:, None])
    f = _fuse(i, au, mf, mb)
    if unmix:
        taken = _clip(i + ((1.0 - au) / au) * (i - mb), 0.0, 255.0)
        f = au * taken + (1.0 - au) * f
    if guard:
        r = i - (a * mf + (1.0 - a) * mb)
        rho = np.sqrt(_dot(r, r) / np.where(dd > 0, dd, 1.0))
        trust = _clip((TRUST_NONE - rho) / (TRUST_NONE - TRUST_FULL), 0.0, 1.0)
        trust = np.where(dd > 0, trust, 0.0)[:, None]
        f = i + trust * (f - i)
    return f


def estimate_foreground(rgb: NDArray[np.uint8], alpha: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Estimate the subject's colour: ``rgb`` where alpha is 0 or 255, estimated between.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 ``[H, W, 3]``, the photo's colours (subject and old background mixed).
    alpha : numpy.ndarray
        uint8 ``[H, W]``, the subject's alpha at the same pixels.

    Returns
    -------
    numpy.ndarray
        uint8 ``[H, W, 3]``.

    """
    out = rgb.copy()
    est = edge_estimate(rgb, alpha)
    if est is not None:
        out[est.ys, est.xs] = _round(refine(est)).astype(np.uint8)
    return out
