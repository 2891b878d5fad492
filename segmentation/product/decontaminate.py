"""Edge colour decontamination: the subject's own colour where the mask is soft.

A soft edge pixel of a photo mixes the subject's colour F and the old background's B,
``I = a F + (1 - a) B``; put it on white as is and the old background shows as a halo.
:func:`estimate_foreground` recovers F with the two-pass blur-fusion estimate of Forte &
Pitié ("Approximate fast foreground colour estimation", ICIP 2021): local means of the
subject and of the background, weighted by alpha, then F = mean_F + a (I - a mean_F -
(1 - a) mean_B), once with a wide window (radius 90) and again with a narrow one (radius
6) fed the first pass's F and background.

The numpy twin of ``js/src/product/decontaminate.ts``. Window sums are exact integers
(summed-area tables of 8-bit values; at most a few 1e11, exact in an int64 and in a
double), the rest float64 with the same operations in the same order, so both sides agree.
Only pixels whose alpha is strictly between 0 and 255 change; the means are evaluated only
where they are needed (the edge, and the background within the narrow radius of it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from segmentation.product.framing import cumsum_rows, in_threads

#: Window radius of the first pass (a window of 181 x 181 pixels, the paper's 90).
WIDE = 90
#: Window radius of the second pass.
NARROW = 6


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
    h, w = alpha.shape
    out = rgb.copy()
    ey, ex = np.nonzero((alpha > 0) & (alpha < 255))
    if len(ey) == 0:
        return out
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
    result = np.empty((len(ey), 3))

    def second(c: int) -> None:
        fa = rgb[y0:y1, x0:x1, c].astype(np.int64) * part_a
        fa[ey - y0, ex - x0] = fore1[:, c] * a_int[ey, ex]
        bb = np.zeros((y1 - y0, x1 - x0), np.int64)
        bb[by, bx] = back1[inside, c] * weight_b
        mf = _ratio(win2.sum(_table(fa)), s_a2)
        mb = _ratio(win2.sum(_table(bb)), den_b2)
        result[:, c] = _fuse(image_edge[:, c], a_edge[:, 0], mf, mb)

    in_threads(second, range(3))
    out[ey, ex] = _round(result).astype(np.uint8)
    return out
