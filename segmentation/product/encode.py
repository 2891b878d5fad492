"""Encode a product photo's pixels: PNG (lossless), JPEG or WebP at a quality.

The pixels are sRGB (:mod:`.colour` converted a photo tagged otherwise) and are written
untagged (no ICC profile), which every marketplace and browser reads as sRGB; nothing of
the source's metadata is carried over (its EXIF orientation was applied when it was
decoded, so no reader turns it again).
A fully opaque PNG is written as RGB; JPEG has no alpha, so it needs opaque pixels.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from segmentation.errors import ImageError
from segmentation.product.spec import ProductSpec

#: MIME type of each output format.
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def to_image(pixels: NDArray[np.uint8]) -> Image.Image:
    """RGBA pixels as a PIL image: mode RGB when every pixel is opaque, else RGBA."""
    if bool((pixels[..., 3] == 255).all()):
        return Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    return Image.fromarray(pixels, "RGBA")


def encode(pixels: NDArray[np.uint8], spec: ProductSpec) -> bytes:
    """Return the encoded file of ``pixels`` in ``spec.format`` at ``spec.quality``.

    Raises
    ------
    ImageError
        JPEG asked for pixels that are not all opaque.

    """
    image = to_image(pixels)
    buf = io.BytesIO()
    if spec.format == "jpeg":
        if image.mode != "RGB":
            raise ImageError("JPEG cannot hold transparent pixels; choose png or webp")
        image.save(buf, format="JPEG", quality=spec.quality)
    elif spec.format == "webp":
        image.save(buf, format="WEBP", quality=spec.quality, method=4)
    else:
        image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()
