"""Pixel-level conversions to RGBA uint8, and a checksum the browser can recompute.

:mod:`segmentation.images` decides *where* pixels come from; this module decides
*how* every PIL mode and numpy dtype/shape becomes ``[H, W, 4]`` uint8 RGBA.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from segmentation.errors import ImageError

_ALPHA_MODES = frozenset({"RGBA", "LA", "La", "RGBa", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_RGB_MODES = frozenset({"RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"})


def _gray_to_rgba(gray: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    out = np.empty((*gray.shape, 4), np.uint8)
    out[..., :3] = gray[..., None]
    out[..., 3] = 255 if alpha is None else alpha
    return out


def _rgb_to_rgba(rgb: np.ndarray) -> np.ndarray:
    out = np.empty((*rgb.shape[:2], 4), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = 255
    return out


def _scale16(values: np.ndarray) -> np.ndarray:
    """0..65535 to 0..255 by ``round(v * 255 / 65535)`` (i.e. ``(v + 128) // 257``-like, exact)."""
    v = np.clip(values.astype(np.int64), 0, 65535)
    return ((v * 255 + 32767) // 65535).astype(np.uint8)


def pil_to_rgba(im: Image.Image, name: str) -> tuple[np.ndarray, bool]:
    """Convert any PIL mode to RGBA uint8; return ``(pixels, has_alpha)``.

    16-bit greyscale (``I;16*``, and ``I`` as Pillow opens 16-bit PNGs) is
    scaled from 0..65535, not clipped; ``F`` is taken as 0..1 when its maximum
    is at most 1, else as 0..255 (clipped). Palette and RGB/L images with a
    ``transparency`` entry get that transparency as alpha.
    """
    mode = im.mode
    has_key = "transparency" in im.info
    try:
        if mode in _SIXTEEN_BIT_MODES:
            return _gray_to_rgba(_scale16(np.asarray(im))), False
        if mode == "F":
            f = np.asarray(im, np.float64)
            f = np.nan_to_num(f, nan=0.0, posinf=255.0, neginf=0.0)
            if f.size and f.max() <= 1.0:
                f = f * 255.0
            return _gray_to_rgba(np.clip(np.rint(f), 0, 255).astype(np.uint8)), False
        if mode == "P":
            rgba_palette = im.palette is not None and im.palette.mode == "RGBA"
            if has_key or rgba_palette:
                return np.asarray(im.convert("RGBA")).copy(), True
            return _rgb_to_rgba(np.asarray(im.convert("RGB"))), False
        if mode in ("1", "L"):
            if has_key:
                return np.asarray(im.convert("RGBA")).copy(), True
            return _gray_to_rgba(np.asarray(im.convert("L"))), False
        if mode in _ALPHA_MODES:
            return np.asarray(im.convert("RGBA")).copy(), True
        if mode in _RGB_MODES:
            if mode == "RGB" and has_key:
                return np.asarray(im.convert("RGBA")).copy(), True
            rgb = im if mode == "RGB" else im.convert("RGB")  # no copy of a 108 MP RGB photo
            return _rgb_to_rgba(np.asarray(rgb)), False
        return np.asarray(im.convert("RGBA")).copy(), True
    except (OSError, ValueError) as exc:
        raise ImageError(f"{name}: cannot convert image mode {mode!r} to RGBA ({exc})") from None


def _to_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return _scale16(arr)
    if kind == "b":
        return np.where(arr, np.uint8(255), np.uint8(0))
    if kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ImageError(
                f"{name}: integer array of dtype {arr.dtype} has values {lo}..{hi}; "
                "expected 0..255 (or use uint8 / uint16)"
            )
        return arr.astype(np.uint8)
    if kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError(f"{name}: float array contains NaN or infinity")
        flo, fhi = float(arr.min()), float(arr.max())
        if flo < 0.0 or fhi > 1.0:
            raise ImageError(
                f"{name}: float array has values {flo:g}..{fhi:g}; float images must be in "
                "[0, 1] (divide by 255, or pass uint8)"
            )
        return np.rint(arr.astype(np.float64) * 255.0).astype(np.uint8)
    raise ImageError(
        f"{name}: unsupported array dtype {arr.dtype}; use uint8, uint16, bool or float in [0, 1]"
    )


def array_to_rgba(arr: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """Convert an ``HxW``, ``HxWx1``, ``HxWx3`` or ``HxWx4`` array to RGBA uint8.

    Returns ``(pixels, has_alpha)``; ``has_alpha`` is True for 4-channel input.
    See :func:`segmentation.images.load_image` for the dtype rules.
    """
    if arr.size == 0:
        raise ImageError(f"{name}: empty array of shape {arr.shape}")
    shape_ok = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    if not shape_ok:
        hint = ""
        if arr.ndim == 3 and arr.shape[0] in (1, 3, 4):
            hint = " (channels-first? transpose to HxWxC)"
        raise ImageError(
            f"{name}: array of shape {arr.shape} is not an image; expected HxW, HxWx1, "
            f"HxWx3 or HxWx4{hint}"
        )
    u8 = _to_uint8(arr, name)
    if u8.ndim == 2:
        return _gray_to_rgba(u8), False
    channels = u8.shape[2]
    if channels == 1:
        return _gray_to_rgba(u8[..., 0]), False
    if channels == 3:
        return _rgb_to_rgba(u8), False
    return np.ascontiguousarray(u8, dtype=np.uint8).copy(), True


#: Period of the checksum's position weights (the largest prime below 2**16).
CHECKSUM_MODULUS = 65521
_BLOCK = CHECKSUM_MODULUS * 64


def pixels_checksum(rgba: np.ndarray) -> int:
    """Position-weighted checksum of pixel bytes, easy to recompute in the browser.

    With ``p`` the array's bytes flattened in C order (for RGBA ``[H, W, 4]``:
    ``R, G, B, A`` of pixel (0, 0), then (0, 1)…; i.e. exactly the bytes of a
    canvas ``ImageData.data``), the checksum is::

        sum over i of  p[i] * ((i % 65521) + 1)   modulo 2**32

    an unsigned 32-bit integer. Each term is below 2**24, so a JavaScript
    accumulator ``acc = (acc + p[i] * ((i % 65521) + 1)) % 4294967296`` stays
    exact in float64. Here it is summed in uint64 by blocks (no overflow: a
    block sums fewer than 2**22 terms below 2**24).

    Parameters
    ----------
    rgba : numpy.ndarray
        uint8 array of any shape (normally ``[H, W, 4]``).

    Returns
    -------
    int
        The checksum, ``0 <= value < 2**32``.

    """
    if rgba.dtype != np.uint8:
        raise ImageError(f"pixels_checksum needs uint8 pixels, got {rgba.dtype}")
    flat = np.ascontiguousarray(rgba).reshape(-1)
    weights = (np.arange(min(_BLOCK, flat.size), dtype=np.uint64) % CHECKSUM_MODULUS) + 1
    total = 0
    for start in range(0, flat.size, _BLOCK):
        block = flat[start : start + _BLOCK].astype(np.uint64)
        total = (total + int(np.dot(block, weights[: block.size]))) % (1 << 32)
    return total
