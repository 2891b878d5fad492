"""Mask edit operations: the numpy twin of ``js/src/editor/ops.ts``.

The interactive editor keeps an *edit log* (a list of JSON ops) as its source of truth and
replays it on the model's soft mask. Python replays the same log with these functions, so
``w.mask`` is reproduced in the kernel without shipping 12-MP masks over the websocket. That
only works if both sides agree bit for bit, so every op is defined with arithmetic that is
exact on both: integers, or IEEE-754 doubles with +, -, *, /, sqrt only (both correctly
rounded in numpy and V8), with the same order of operations, and ``floor(x + 0.5)`` rounding.
``tests/segmentation/test_mask_edits.py`` runs the TypeScript ops in node and compares.

Ops (``op`` key): ``threshold`` (t), ``brush`` (mode add|erase, points [x0, y0, ...] in image
pixels, radius, hardness), ``keep`` / ``remove`` (x, y), ``fill``, ``feather`` (radius),
``invert``, ``reset`` and ``load`` (w, h, data = base64 of zlib-deflated mask bytes).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from segmentation.errors import SegmentationError

Mask = NDArray[np.uint8]
FG = 128  # a pixel is foreground when mask >= FG (keep/remove/fill work on this binarisation)
HALO = 8  # keep/remove also take the soft edge within this Chebyshev distance of the region
OPS = ("threshold", "brush", "keep", "remove", "fill", "feather", "invert", "reset", "load")


class MaskEditError(SegmentationError, ValueError):
    """An edit op that is malformed or does not fit the mask."""


def _num(op: Mapping[str, Any], key: str, lo: float, hi: float) -> float:
    value = op.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MaskEditError(f"op {op.get('op')!r}: field {key!r} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise MaskEditError(f"op {op.get('op')!r}: {key}={value} is outside [{lo}, {hi}]")
    return float(value)


def threshold(mask: Mask, t: int) -> Mask:
    """Binarise: 255 where ``mask >= t``, else 0."""
    return np.where(mask >= t, np.uint8(255), np.uint8(0))


def brush(mask: Mask, points: Sequence[float], radius: float, hardness: float, mode: str) -> Mask:
    """Paint (``add``) or erase a stroke through ``points`` (flat x, y list, image pixels).

    Coverage of a pixel is 1 within ``radius * hardness`` of the polyline, 0 beyond ``radius``,
    linear in between (distance from the pixel centre). Add takes the max with the coverage,
    erase the min with its complement, so a stroke equals its segments applied one by one.
    """
    out = mask.copy()
    h, w = mask.shape
    xs, ys = points[0::2], points[1::2]
    segments = [(xs[0], ys[0], xs[0], ys[0])] if len(xs) == 1 else []
    segments += [(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(len(xs) - 1)]
    inner = radius * hardness
    for ax, ay, bx, by in segments:
        x0 = max(0, int(np.floor(min(ax, bx) - radius)))
        x1 = min(w, int(np.ceil(max(ax, bx) + radius)) + 1)
        y0 = max(0, int(np.floor(min(ay, by) - radius)))
        y1 = min(h, int(np.ceil(max(ay, by) + radius)) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        px = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
        py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
        dx, dy = px - ax, py - ay
        ex, ey = bx - ax, by - ay
        l2 = ex * ex + ey * ey
        t = np.clip((dx * ex + dy * ey) / l2, 0.0, 1.0) if l2 > 0 else np.zeros_like(dx * dy)
        qx, qy = dx - t * ex, dy - t * ey
        d = np.sqrt(qx * qx + qy * qy)
        if radius > inner:
            a = np.clip((radius - d) / (radius - inner), 0.0, 1.0)
        else:
            a = np.zeros_like(d)
        a = np.where(d <= inner, 1.0, a)
        v = np.floor(a * 255.0 + 0.5).astype(np.uint8)
        region = out[y0:y1, x0:x1]
        if mode == "add":
            np.maximum(region, v, out=region)
        else:
            np.minimum(region, 255 - v, out=region)
    return out


def components(binary: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Label 4-connected components of ``binary``; background gets -1.

    Works on horizontal runs (far fewer than pixels): runs in adjacent rows that overlap are
    joined, and labels converge by min-propagation with pointer jumping (all vectorised).
    """
    h, w = binary.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = binary
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    key = np.int64(w + 2)
    gs, ge = rows * key + starts, rows * key + ends
    # Run b in row r+1 touches run a in row r when s_b < e_a and e_b > s_a.
    lo = np.searchsorted(ge, (rows + 1) * key + starts, side="right")
    hi = np.searchsorted(gs, (rows + 1) * key + ends, side="left")
    counts = np.maximum(hi - lo, 0)
    a_idx = np.repeat(np.arange(len(rows)), counts)
    b_idx = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    b_idx = b_idx + np.repeat(lo, counts)
    labels = np.arange(len(rows))
    while True:
        low = np.minimum(labels[a_idx], labels[b_idx])
        new = labels.copy()
        np.minimum.at(new, a_idx, low)
        np.minimum.at(new, b_idx, low)
        new = new[new]
        while not np.array_equal(new, new[new]):
            new = new[new]
        if np.array_equal(new, labels):
            break
        labels = new
    out = np.full((h, w), -1, dtype=np.int64)
    lengths = ends - starts
    flat = np.repeat(rows * w + starts, lengths) + (
        np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    out.reshape(-1)[flat] = np.repeat(labels, lengths)
    return out


def _dilate(region: NDArray[np.bool_], r: int) -> NDArray[np.bool_]:
    h, w = region.shape
    padded = np.pad(region, r)
    rows = np.zeros((h + 2 * r, w), dtype=bool)
    for k in range(2 * r + 1):
        rows |= padded[:, k : k + w]
    out = np.zeros((h, w), dtype=bool)
    for k in range(2 * r + 1):
        out |= rows[k : k + h, :]
    return out


def select_region(mask: Mask, x: int, y: int, keep: bool) -> Mask:
    """Keep only (or remove) the foreground object under pixel (x, y), with its soft edge.

    The object is the 4-connected component of ``mask >= 128`` at (x, y); its soft edge is
    every pixel within ``HALO`` pixels of it that is not part of another object. A click on
    background changes nothing.
    """
    fg = mask >= FG
    if not fg[y, x]:
        return mask.copy()
    labels = components(fg)
    obj = labels == labels[y, x]
    own = _dilate(obj, HALO) & ~(fg & ~obj)
    if keep:
        return np.where(own, mask, np.uint8(0))
    return np.where(own, np.uint8(0), mask)


def fill_holes(mask: Mask) -> Mask:
    """Set to 255 every background pixel (< 128) not 4-connected to the image border."""
    bg = mask < FG
    labels = components(bg)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    outside = np.isin(labels, border[border >= 0])
    return np.where(bg & ~outside, np.uint8(255), mask)


def _box(a: NDArray[np.int32], r: int, axis: int) -> NDArray[np.int32]:
    n = a.shape[axis]
    pad = [(0, 0), (0, 0)]
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.int32)
    if axis == 0:
        total = c[2 * r + 1 :] - c[:n]
    else:
        total = c[:, 2 * r + 1 :] - c[:, :n]
    total += r
    total //= 2 * r + 1
    return total


def feather(mask: Mask, radius: int) -> Mask:
    """Soften edges: three rounds of a horizontal then vertical box blur of ``radius``.

    Integer sums with clamped edges and round-half-up division (sigma ~ radius). A gaussian
    via PIL would not be reproducible bit for bit in the browser, this is.
    """
    a = mask.astype(np.int32)
    for _ in range(3):
        a = _box(_box(a, radius, 1), radius, 0)
    return a.astype(np.uint8)


def encode_mask(mask: Mask) -> dict[str, Any]:
    """Make a ``load`` op that sets the whole mask (zlib + base64, compact for masks)."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    data = base64.b64encode(zlib.compress(m.tobytes(), 6)).decode("ascii")
    return {"op": "load", "w": int(m.shape[1]), "h": int(m.shape[0]), "data": data}


def decode_mask(op: Mapping[str, Any]) -> Mask:
    """Decode the mask held by a ``load`` op."""
    w, h = int(_num(op, "w", 1, 1 << 16)), int(_num(op, "h", 1, 1 << 16))
    try:
        raw = zlib.decompress(base64.b64decode(str(op.get("data", "")), validate=True))
    except (binascii.Error, zlib.error) as exc:
        raise MaskEditError(f"op 'load': data is not base64 zlib ({exc})") from exc
    if len(raw) != w * h:
        raise MaskEditError(f"op 'load': {len(raw)} bytes do not make a {w}x{h} mask")
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w).copy()


def apply_op(mask: Mask, op: Mapping[str, Any], model_mask: Mask) -> Mask:
    """Apply one edit op to ``mask`` and return the new mask (``mask`` is not modified)."""
    if not isinstance(op, Mapping) or op.get("op") not in OPS:
        name = op.get("op") if isinstance(op, Mapping) else op
        raise MaskEditError(f"unknown edit op {name!r}; expected one of {', '.join(OPS)}")
    h, w = mask.shape
    kind = op["op"]
    if kind == "threshold":
        return threshold(mask, int(_num(op, "t", 0, 256)))
    if kind == "brush":
        pts = op.get("points")
        if not isinstance(pts, Sequence) or len(pts) < 2 or len(pts) % 2:
            raise MaskEditError("op 'brush': points must be a flat [x0, y0, x1, y1, ...] list")
        if op.get("mode") not in ("add", "erase"):
            raise MaskEditError(f"op 'brush': mode must be add or erase, not {op.get('mode')!r}")
        radius = _num(op, "radius", 0.5, 4096)
        hardness = _num(op, "hardness", 0, 1)
        return brush(mask, [float(p) for p in pts], radius, hardness, op["mode"])
    if kind in ("keep", "remove"):
        x, y = int(_num(op, "x", 0, w - 1)), int(_num(op, "y", 0, h - 1))
        return select_region(mask, x, y, keep=kind == "keep")
    if kind == "fill":
        return fill_holes(mask)
    if kind == "feather":
        return feather(mask, int(_num(op, "radius", 1, 256)))
    if kind == "invert":
        return 255 - mask
    if kind == "reset":
        return model_mask.copy()
    loaded = decode_mask(op)
    if loaded.shape != mask.shape:
        lh, lw = loaded.shape
        raise MaskEditError(f"op 'load': mask is {lw}x{lh}, image is {w}x{h}")
    return loaded


def replay(model_mask: Mask, ops: Sequence[Mapping[str, Any]], start: Mask | None = None) -> Mask:
    """Apply ``ops`` in order to ``start`` (default: ``model_mask``, which ``reset`` restores)."""
    model = np.ascontiguousarray(model_mask, dtype=np.uint8)
    if model.ndim != 2:
        raise MaskEditError(f"model mask must be 2-D (H, W), got shape {model.shape}")
    mask = (model if start is None else np.ascontiguousarray(start, dtype=np.uint8)).copy()
    for op in ops:
        mask = apply_op(mask, op, model)
    return mask
