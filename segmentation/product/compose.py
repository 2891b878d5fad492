"""The product-photo step: a photo and its mask in, the framed photo's pixels out.

:func:`product_pixels` is the one function both the kernel's callers (``product_photo``,
``remove_many(preset=...)``, the widgets) and, in TypeScript, the browser's engine worker
(``js/src/product/compose.ts``, request ``product``) implement: subject box, frame,
resampling, foreground colour estimation, shadow, background, layers. Layers are put
over each other with straight alpha in integer arithmetic, rounded half up, so both
sides give the same pixels; only the final lossy encoding (:mod:`.encode`) may differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from segmentation.errors import ImageError
from segmentation.product.decontaminate import estimate_foreground
from segmentation.product.framing import (
    Frame,
    clear_far,
    drop_specks,
    find_subject,
    fringe_reach,
    plan_frame,
    resample,
    rnd,
)
from segmentation.product.shadow import shadow_alpha
from segmentation.product.spec import ProductSpec

U8 = NDArray[np.uint8]


@dataclass(frozen=True)
class ProductResult:
    """The framed photo's pixels (uint8 ``[H, W, 4]`` RGBA, straight alpha) and its frame."""

    pixels: U8
    frame: Frame

    @property
    def fill(self) -> float:
        """Share of the canvas the subject's box fills on its limiting side."""
        sw, sh = self.frame.subject_size
        return max(sw / self.frame.width, sh / self.frame.height)


def subject_alpha(rgba: U8, mask: U8) -> U8:
    """Return the subject's alpha: the mask, times the photo's own alpha where it has one."""
    a = rgba[..., 3]
    if bool((a == 255).all()):
        return mask
    m = mask.astype(np.int64) * a.astype(np.int64)
    return ((2 * m + 255) // 510).astype(np.uint8)


def decontaminated(rgba: U8, mask: U8) -> U8:
    """Return the photo with the subject's own colours at its soft edges (for a new background).

    Alpha is left as it is (the caller's cut-out uses the mask); only pixels where the
    subject's alpha is strictly between 0 and 255 change colour.
    """
    out = rgba.copy()
    out[..., :3] = estimate_foreground(rgba[..., :3], subject_alpha(rgba, mask))
    return out


def over(dst: U8, src_rgb: U8, src_a: U8) -> U8:
    """Put ``src`` over ``dst`` (straight alpha, RGBA), rounded half up; return a new array.

    With ``sa`` and ``da`` the alphas (0..255): the result's alpha is ``round(T / 255)``
    and its colour ``round((cs sa 255 + cd da (255 - sa)) / T)`` (0 where ``T`` is 0),
    ``T = sa 255 + da (255 - sa)``. Where ``sa`` is 0 that is ``dst`` (colour 0 where
    ``da`` is 0 too), where it is 255, ``src``: only the pixels between are computed.
    The terms are whole numbers below 7e7, exact in doubles, and ``floor((2 num + T) /
    (2 T))`` of two of them is the exact rounded quotient (a true quotient that is not
    whole is at least 1 / (2 T) from the next whole number, far more than a double's
    error): the same arithmetic as TypeScript's.
    """
    out = dst.copy()
    np.copyto(out[..., :3], 0, where=((src_a == 0) & (dst[..., 3] == 0))[..., None])
    full = src_a == 255
    np.copyto(out[..., :3], src_rgb, where=full[..., None])
    np.copyto(out[..., 3], 255, where=full)
    flat = np.flatnonzero((src_a > 0) & (src_a < 255))
    if len(flat):
        o = out.reshape(-1, 4)
        sa = src_a.reshape(-1)[flat].astype(np.float64)[:, None]
        d = dst.reshape(-1, 4)[flat]
        keep = d[:, 3:4] * (255.0 - sa)
        total = sa * 255.0 + keep
        num = src_rgb.reshape(-1, 3)[flat] * (sa * 255.0) + d[:, :3] * keep
        with np.errstate(divide="ignore", invalid="ignore"):
            colour = np.floor((2.0 * num + total) / (2.0 * total))
        o[flat, :3] = np.where(total > 0, colour, 0.0)
        o[flat, 3] = np.floor((2.0 * total[:, 0] + 255.0) / 510.0)
    return out


def background_frame(width: int, height: int, size: tuple[int, int], fit: str) -> Frame:
    """Where a background image of ``size`` lands on the canvas (``cover`` or ``contain``)."""
    bw, bh = size
    pick = max if fit == "cover" else min
    scale = pick(width / bw, height / bh)
    ox = rnd((width - bw * scale) / 2.0)
    oy = rnd((height - bh * scale) / 2.0)
    return Frame(width, height, scale, ox, oy, (0, 0, bw, bh))


def product_pixels(
    rgba: U8,
    mask: U8,
    spec: ProductSpec,
    *,
    background: U8 | None = None,
    max_pixels: int = 200_000_000,
) -> ProductResult:
    """Frame the subject of ``rgba`` (its alpha: ``mask``) as ``spec`` says.

    Parameters
    ----------
    rgba : numpy.ndarray
        uint8 ``[H, W, 4]``, the photo as decoded (EXIF orientation applied).
    mask : numpy.ndarray
        uint8 ``[H, W]``, 255 = subject.
    spec : ProductSpec
        The resolved settings (:func:`~segmentation.product.presets.resolve_preset`).
    background : numpy.ndarray, optional
        uint8 ``[h, w, 4]`` pixels of ``spec.background_image`` (the caller decodes it).
    max_pixels : int
        Largest canvas allowed.

    Returns
    -------
    ProductResult

    Raises
    ------
    NoSubjectError
        The mask holds no subject (nothing reaches level 128).
    ProductSpecError
        The canvas would exceed ``max_pixels``, or the margin leaves no room.

    """
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ImageError(
            f"product_pixels needs uint8 RGBA [H, W, 4], got {rgba.dtype} {rgba.shape}"
        )
    if mask.shape != rgba.shape[:2] or mask.dtype != np.uint8:
        raise ImageError(
            f"mask {mask.dtype} {mask.shape} does not match the photo {rgba.shape[:2]}"
        )
    alpha = subject_alpha(rgba, mask)
    box, specks = find_subject(alpha, spec.min_part)
    frame = plan_frame(box, spec, max_pixels)
    source = rgba.copy()
    source[..., 3] = drop_specks(alpha, specks)
    canvas = resample(source, frame)
    canvas[..., 3] = clear_far(canvas[..., 3], fringe_reach(frame.width, frame.height))
    rgb, a = canvas[..., :3], canvas[..., 3]
    subject = estimate_foreground(rgb, a) if spec.decontaminate else rgb

    layer = np.empty((frame.height, frame.width, 4), np.uint8)
    layer[...] = np.asarray(spec.background, np.uint8)
    if background is not None:
        placed = resample(background, background_frame(
            frame.width, frame.height, (background.shape[1], background.shape[0]),
            spec.background_fit,
        ))  # fmt: skip
        layer = over(layer, placed[..., :3], placed[..., 3])
    if spec.shadow is not None:
        shade = shadow_alpha(a, frame, spec.shadow)
        layer = over(layer, np.zeros_like(rgb), shade)
    return ProductResult(over(layer, subject, a), frame)
