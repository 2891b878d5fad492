"""Where the subject is and where it goes: its box, the canvas, the scale, the resampling.

The numpy twin of ``js/src/product/framing.ts``. Both sides must give the same pixels, so
everything here is integer arithmetic or IEEE-754 doubles with ``+ - * /``, ``min``,
``max`` and ``floor`` only, in the same order, rounded with ``floor(x + 0.5)``
(:func:`rnd`). ``tests/data/product-geometry.json`` holds cases both test suites check.

* :func:`find_subject`: the parts of the mask (8-connected regions at level >= 128), the
  specks among them (smaller than ``min_part`` of the largest part) left out, and the box
  around the rest; :func:`drop_specks` takes the specks out, :func:`clear_far` the faint
  values far from the subject.
* :func:`plan_frame`: canvas size, scale and the subject's place on the canvas.
* :func:`resample`: the photo and its alpha onto the canvas; an area average when
  shrinking, bilinear when enlarging, colour clamped at the photo's edges and alpha zero
  beyond them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from segmentation.errors import SegmentationError
from segmentation.product.spec import FRINGE_SHARE, SUBJECT_LEVEL, ProductSpec, ProductSpecError

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


class NoSubjectError(SegmentationError):
    """The mask holds no subject: nothing to frame."""


def rnd(x: float) -> int:
    """Round half up: ``floor(x + 0.5)`` (the rule both sides use)."""
    return math.floor(x + 0.5)


T = TypeVar("T")
_POOL: ThreadPoolExecutor | None = None


def in_threads(fn: Callable[[T], None], items: Iterable[T]) -> None:
    """Run ``fn`` on each item, on up to two threads (numpy releases the GIL in its loops).

    Each call writes its own part of the result, so the outcome does not depend on the
    order; errors are raised here.
    """
    global _POOL
    work = list(items)
    if len(work) < 2 or (os.cpu_count() or 1) < 2:
        for item in work:
            fn(item)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="product")
    for future in [_POOL.submit(fn, item) for item in work]:
        future.result()


def cumsum_rows(t: NDArray[np.int64]) -> NDArray[np.int64]:
    """Add up the rows of a 2-D array, a running sum, in place.

    A row at a time: numpy's cumsum along axis 0 walks memory with a stride and is several
    times slower.
    """
    for i in range(1, t.shape[0]):
        np.add(t[i - 1], t[i], out=t[i])
    return t


def box_sum(values: NDArray[np.int64], width: int, axis: int) -> NDArray[np.int64]:
    """Sum over a centred window of odd ``width`` along ``axis``, zero beyond the edges."""
    if width == 1:
        return values
    r = width // 2
    if axis == 0:
        n, w = values.shape
        c = np.zeros((n + 2 * r + 1, w), np.int64)
        c[r + 1 : n + r + 1] = values
        cumsum_rows(c[r + 1 : n + r + 1])
        c[n + r + 1 :] = c[n + r : n + r + 1]
        return c[2 * r + 1 :] - c[:n]
    h, n = values.shape
    # c[:, k] = sum of values[:, : k - r] for k in 0 .. n + 2r: the running sum, r zeros
    # in front and r + 1 copies of the total behind, so out[i] = c[i + 2r + 1] - c[i]
    c = np.zeros((h, n + 2 * r + 1), np.int64)
    np.cumsum(values, axis=1, out=c[:, r + 1 : n + r + 1])
    c[:, n + r + 1 :] = c[:, n + r : n + r + 1]
    return c[:, 2 * r + 1 :] - c[:, :n]


def _runs(binary: NDArray[np.bool_]) -> tuple[NDArray[np.int64], ...]:
    """Horizontal runs of True: rows, starts, ends (exclusive), sorted by row then start."""
    h, w = binary.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = binary
    d = np.diff(padded, axis=1)
    rows, starts = np.nonzero(d == 1)
    _, ends = np.nonzero(d == -1)
    return rows.astype(np.int64), starts.astype(np.int64), ends.astype(np.int64)


def _components(
    rows: NDArray[np.int64], s: NDArray[np.int64], e: NDArray[np.int64], w: int
) -> NDArray[np.int64]:
    """Label each run with the smallest run index of its 8-connected component."""
    n = len(rows)
    stride = w + 2
    key_s = rows * stride + s
    key_e = rows * stride + e
    # run a (row r) touches run b (row r + 1) iff s_b <= e_a and s_a <= e_b
    lo = np.searchsorted(key_e, (rows + 1) * stride + s, side="left")
    hi = np.searchsorted(key_s, (rows + 1) * stride + e, side="right")
    count = np.maximum(hi - lo, 0)
    u = np.repeat(np.arange(n, dtype=np.int64), count)
    first = np.repeat(lo - np.cumsum(count) + count, count)
    v = first + np.arange(len(u), dtype=np.int64)
    label = np.arange(n, dtype=np.int64)
    while True:
        lu, lv = label[u], label[v]
        low = np.minimum(lu, lv)
        new = label.copy()
        np.minimum.at(new, lu, low)
        np.minimum.at(new, lv, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


Runs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def find_subject(mask: NDArray[np.uint8], min_part: float) -> tuple[Box, Runs]:
    """Box around the mask's parts at level >= 128, and the runs of the specks left out.

    A part smaller than ``min_part`` of the largest is a speck. The runs (rows, starts,
    ends) let :func:`drop_specks` take them out of the photo too.

    Raises
    ------
    NoSubjectError
        No pixel of the mask reaches the level.

    """
    rows, s, e = _runs(mask >= SUBJECT_LEVEL)
    if len(rows) == 0:
        raise NoSubjectError("no subject found: the mask is empty")
    label = _components(rows, s, e, mask.shape[1])
    area = np.bincount(label, weights=(e - s).astype(np.float64), minlength=len(rows))
    keep = area[label] >= min_part * float(area.max())
    box = (
        int(s[keep].min()),
        int(rows[keep].min()),
        int(e[keep].max()),
        int(rows[keep].max()) + 1,
    )
    return box, (rows[~keep], s[~keep], e[~keep])


def subject_box(mask: NDArray[np.uint8], min_part: float) -> Box:
    """Box around the mask's parts at level >= 128, specks left out (see :func:`find_subject`)."""
    return find_subject(mask, min_part)[0]


def drop_specks(alpha: NDArray[np.uint8], specks: Runs) -> NDArray[np.uint8]:
    """``alpha`` with the specks' pixels (their runs at level >= 128) set to 0: a new array."""
    rows, s, e = specks
    out = alpha.copy()
    if len(rows):
        n = e - s
        first = np.repeat(np.cumsum(n) - n, n)
        cols = np.repeat(s, n) + np.arange(int(n.sum()), dtype=np.int64) - first
        out[np.repeat(rows, n), cols] = 0
    return out


def fringe_reach(width: int, height: int) -> int:
    """How far (pixels, Chebyshev) a soft pixel may lie from the subject's core and stay."""
    return max(2, rnd(FRINGE_SHARE * max(width, height)))


def clear_far(alpha: NDArray[np.uint8], reach: int) -> NDArray[np.uint8]:
    """``alpha`` with 0 wherever no pixel at level >= 128 lies within ``reach``: a new array.

    A model's mask holds faint values all over the background (IS-Net's reach 20 of 255 and
    more); on white they show as off-white pixels, even at the border. Soft pixels near the
    subject (its edge, hair, fur) stay.
    """
    core = (alpha >= SUBJECT_LEVEL).astype(np.int64)
    width = 2 * reach + 1
    near = box_sum((box_sum(core, width, axis=1) > 0).astype(np.int64), width, axis=0) > 0
    return np.where(near, alpha, np.uint8(0))


@dataclass(frozen=True)
class Frame:
    """How the photo lands on the canvas.

    Canvas pixel ``u`` covers photo columns ``[x0 + (u - ox) / scale, x0 + (u + 1 - ox) /
    scale)``, rows likewise; the subject's box ``box`` has its top-left corner at canvas
    pixel ``(ox, oy)``.
    """

    width: int
    height: int
    scale: float
    ox: int
    oy: int
    box: Box

    @property
    def subject_size(self) -> tuple[float, float]:
        """The subject box's size on the canvas, in pixels."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * self.scale, (y1 - y0) * self.scale


def plan_frame(box: Box, spec: ProductSpec, max_pixels: int) -> Frame:
    """Canvas size, scale and placement for a subject ``box`` under ``spec``.

    Raises
    ------
    ProductSpecError
        The margin leaves no room on the canvas, or the canvas has more than ``max_pixels``.

    """
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if spec.canvas is not None:
        cw, ch = spec.canvas
        if spec.fill is not None:
            scale = spec.fill * min(cw / bw, ch / bh)
        elif spec.margin.unit == "%":
            room = 1.0 + 2.0 * spec.margin.value / 100.0
            scale = min(cw / (bw * room), ch / (bh * room))
        else:
            scale = min((cw - 2.0 * spec.margin.value) / bw, (ch - 2.0 * spec.margin.value) / bh)
            if scale <= 0:
                raise ProductSpecError(
                    f"product setting margin: {spec.margin.to_json()} leaves no room for the "
                    f"subject on a {cw}x{ch} canvas"
                )
    else:
        scale = 1.0
        if spec.fill is not None:
            rw, rh = bw / spec.fill, bh / spec.fill
        else:
            rw = bw + 2.0 * spec.margin.pixels(bw)
            rh = bh + 2.0 * spec.margin.pixels(bh)
        if spec.aspect is not None:
            a, b = spec.aspect
            cwf = max(rw, rh * a / b)
            chf = cwf * b / a
        else:
            cwf, chf = rw, rh
        cw, ch = max(1, rnd(cwf)), max(1, rnd(chf))
    if cw * ch > max_pixels:
        raise ProductSpecError(
            f"product canvas {cw}x{ch} = {cw * ch:,} pixels is above the pixel limit "
            f"({max_pixels:,})"
        )
    sw, sh = bw * scale, bh * scale
    ox = rnd((cw - sw) / 2.0)
    if spec.position == "bottom":
        oy = rnd(ch - spec.floor.pixels(ch) - sh)
    else:
        oy = rnd((ch - sh) / 2.0)
    return Frame(cw, ch, scale, ox, oy, box)


# --- resampling --------------------------------------------------------------------------


@dataclass(frozen=True)
class Taps:
    """One axis of a resampling: output ``i`` = sum over k of ``weight[i, k] * src[index[i, k]]``.

    ``weight`` is for colour (indices clamped to the photo), ``inside`` the same weights
    with those of indices beyond the photo set to 0 (for alpha).
    """

    index: NDArray[np.int64]
    weight: NDArray[np.float64]
    inside: NDArray[np.float64]


def axis_taps(n_out: int, n_src: int, origin: int, offset: int, scale: float) -> Taps:
    """Taps of one axis: output pixel ``u`` covers ``[origin + (u - offset) / scale, ...)``."""
    u = np.arange(n_out, dtype=np.float64)
    if scale < 1.0:
        a = origin + (u - offset) / scale
        b = origin + (u + 1.0 - offset) / scale
        first = np.floor(a)
        k_max = math.ceil(1.0 / scale) + 1
        idx = first[:, None] + np.arange(k_max, dtype=np.float64)[None, :]
        overlap = np.minimum(b[:, None], idx + 1.0) - np.maximum(a[:, None], idx)
        weight = np.maximum(overlap, 0.0) * scale
    else:
        c = origin + (u + 0.5 - offset) / scale - 0.5
        first = np.floor(c)
        f = c - first
        idx = first[:, None] + np.arange(2, dtype=np.float64)[None, :]
        weight = np.stack([1.0 - f, f], axis=1)
    index = idx.astype(np.int64)
    inside = np.where((index >= 0) & (index < n_src), weight, 0.0)
    return Taps(np.clip(index, 0, n_src - 1), weight, inside)


def _apply(src: NDArray[np.generic], taps: Taps, axis: int) -> NDArray[np.float64]:
    """Apply ``taps`` along ``axis`` (0: rows, 1: columns) of ``[H, W, 4]``; alpha is ch. 3.

    The sum runs over the taps in order, starting from the first term, in float64.
    """
    n = taps.index.shape[0]
    out: NDArray[np.float64] | None = None
    for k in range(taps.index.shape[1]):
        w = np.empty((n, 4), np.float64)
        w[:, :3] = taps.weight[:, k : k + 1]
        w[:, 3] = taps.inside[:, k]
        picked = np.take(src, taps.index[:, k], axis=axis)
        term = picked * (w.reshape(-1, 1, 4) if axis == 0 else w.reshape(1, -1, 4))
        if out is None:
            out = term
        else:
            out += term
    assert out is not None
    return out


def _is_copy(taps: Taps) -> bool:
    """Whether the taps pick whole pixels (weights 1 then 0, all inside the photo)."""
    return bool(
        taps.index.shape[1] == 2
        and (taps.weight[:, 0] == 1.0).all()
        and (taps.inside[:, 0] == 1.0).all()
    )


def resample(rgba: NDArray[np.uint8], frame: Frame, rows_per_block: int = 128) -> NDArray[np.uint8]:
    """Put the photo ``rgba`` (alpha: the subject's) on the canvas of ``frame``, rounded.

    Colour is clamped at the photo's edges, alpha is 0 beyond them. Horizontal pass
    first, then vertical, each a sum over taps in order, in float64; a pass whose taps
    pick whole pixels (scale 1, whole offsets, inside the photo) is a plain copy, which
    is what the sum gives then.
    """
    h, w = rgba.shape[:2]
    x0, y0 = frame.box[:2]
    tx = axis_taps(frame.width, w, x0, frame.ox, frame.scale)
    ty = axis_taps(frame.height, h, y0, frame.oy, frame.scale)
    out = np.empty((frame.height, frame.width, 4), np.uint8)
    copy_x, copy_y = _is_copy(tx), _is_copy(ty)

    def block(v0: int) -> None:
        v1 = min(frame.height, v0 + rows_per_block)
        idx = ty.index[v0:v1]
        r0, r1 = int(idx.min()), int(idx.max()) + 1
        if copy_x:
            band: NDArray[np.generic] = np.take(rgba[r0:r1], tx.index[:, 0], axis=1)
        else:
            band = _apply(rgba[r0:r1], tx, axis=1)
        if copy_y:
            rows = np.take(band, idx[:, 0] - r0, axis=0)
            out[v0:v1] = rows if copy_x else np.floor(rows + 0.5).clip(0, 255)
            return
        if copy_x:
            band = band.astype(np.float64)
        sub = Taps(idx - r0, ty.weight[v0:v1], ty.inside[v0:v1])
        out[v0:v1] = np.floor(_apply(band, sub, axis=0) + 0.5).clip(0, 255).astype(np.uint8)

    in_threads(block, range(0, frame.height, rows_per_block))
    return out
