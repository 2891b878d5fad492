"""A finished product photo from a decoded image and its mask, with the file to write.

:func:`make_product_photo` is what every kernel-side caller uses once it has a mask:
``Segmenter.product`` and ``product_photo`` (which run the model first), the many-image
job (``remove_many(preset=...)``) and the notebook widgets (``w.product_photo(...)``,
whose browser view runs the same step in its worker). :func:`load_background` decodes a
preset's background image once, up front, so a file that does not decode is a one-line
error before any work.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from segmentation.errors import ImageError
from segmentation.files import atomic_path
from segmentation.images import LoadedImage, load_image, max_pixels_default
from segmentation.product.colour import to_srgb
from segmentation.product.compose import product_pixels
from segmentation.product.encode import MIME, encode, to_image
from segmentation.product.framing import Frame
from segmentation.product.spec import ProductSpec, check_canvas


@dataclass(frozen=True)
class ProductPhoto:
    """A framed product photo.

    Attributes
    ----------
    pixels : numpy.ndarray
        uint8 ``[H, W, 4]`` straight RGBA, before any lossy encoding (what the browser's
        step gives too, for the same mask).
    spec : ProductSpec
        The settings it was made with.
    frame : Frame
        Canvas size, scale and where the subject's box landed.

    """

    pixels: NDArray[np.uint8]
    spec: ProductSpec
    frame: Frame

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the canvas."""
        return self.frame.width, self.frame.height

    @property
    def fill(self) -> float:
        """Share of the canvas the subject's box fills on its limiting side."""
        sw, sh = self.frame.subject_size
        return max(sw / self.frame.width, sh / self.frame.height)

    @property
    def mime(self) -> str:
        """MIME type of :attr:`data`."""
        return MIME[self.spec.format]

    @property
    def image(self) -> Image.Image:
        """The pixels as a PIL image (RGB when opaque, else RGBA), not encoded."""
        return to_image(self.pixels)

    @cached_property
    def data(self) -> bytes:
        """The encoded file (``spec.format`` at ``spec.quality``)."""
        return encode(self.pixels, self.spec)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`data` to ``path`` atomically (a temp file renamed); return the path."""
        dest = Path(path).expanduser()
        with atomic_path(dest) as tmp, tmp.open("xb") as f:
            f.write(self.data)
        return dest

    def _repr_png_(self) -> bytes:
        """Return a small PNG preview for notebooks."""
        im = self.image
        im.thumbnail((512, 512))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        return buf.getvalue()


def load_background(spec: ProductSpec, max_pixels: int | None = None) -> NDArray[np.uint8] | None:
    """Check the canvas against the pixel limit, decode ``spec.background_image`` (if any).

    Called before any other work, so both are one-line errors up front.
    """
    check_canvas(spec, max_pixels if max_pixels is not None else max_pixels_default())
    if spec.background_image is None:
        return None
    try:
        return load_image(spec.background_image, max_pixels=max_pixels).pixels
    except ImageError as exc:
        raise ImageError(f"background image: {exc}") from None


def make_product_photo(
    image: LoadedImage | NDArray[np.uint8],
    mask: NDArray[np.uint8],
    spec: ProductSpec,
    *,
    background: NDArray[np.uint8] | None = None,
    max_pixels: int | None = None,
) -> ProductPhoto:
    """Frame the subject of ``image`` (its mask ``mask``) as ``spec`` says.

    Parameters
    ----------
    image : LoadedImage or numpy.ndarray
        The decoded photo (uint8 RGBA ``[H, W, 4]``, EXIF orientation applied). A
        ``LoadedImage`` with a colour profile other than sRGB is converted to sRGB first
        (:func:`~segmentation.product.colour.to_srgb`); an array is taken as sRGB.
    mask : numpy.ndarray
        uint8 ``[H, W]``, 255 = subject (a model's, or an edited one).
    spec : ProductSpec
        From :func:`~segmentation.product.presets.resolve_preset`.
    background : numpy.ndarray, optional
        Decoded ``spec.background_image`` (default: decoded here, see :func:`load_background`).
    max_pixels : int, optional
        Largest canvas (default: the image pixel limit, 200 MP or ``$PIXEL_LIBERATION_MAX_PIXELS``).

    Raises
    ------
    NoSubjectError
        The mask holds no subject.
    ProductSpecError, ImageError
        A canvas above the pixel limit, a background image that does not decode.

    """
    # colours as the photo showed them, in sRGB (the output is untagged)
    pixels = to_srgb(image).pixels if isinstance(image, LoadedImage) else image
    limit = max_pixels if max_pixels is not None else max_pixels_default()
    if background is None:
        background = load_background(spec, limit)
    result = product_pixels(pixels, mask, spec, background=background, max_pixels=limit)
    return ProductPhoto(result.pixels, spec, result.frame)
