"""Photos in sRGB: convert pixels tagged with another colour profile (Display P3 from phones).

A product photo is written untagged, which every marketplace and browser reads as sRGB. A
photo whose file embeds another ICC profile (iPhones write Display P3) has pixel values that
mean other colours; :func:`to_srgb` converts them (Little CMS through Pillow's ``ImageCms``,
perceptual intent), so the output shows the colours the photo showed. A profile that
describes itself as sRGB, or none, leaves the pixels exactly as they are.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
from PIL import Image, ImageCms

from segmentation.errors import ImageError
from segmentation.images import LoadedImage

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def profile_name(icc: bytes) -> str:
    """Return the profile's own description (``"Display P3"``), or ``"?"`` if it has none."""
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return "?"


def is_srgb(icc: bytes | None) -> bool:
    """Whether pixels tagged with ``icc`` are sRGB already (no profile counts as sRGB)."""
    return icc is None or "srgb" in profile_name(icc).lower()


def to_srgb(image: LoadedImage) -> LoadedImage:
    """``image`` with its pixels converted to sRGB from its embedded profile (if any).

    Raises
    ------
    ImageError
        The embedded profile cannot be read or used (the message names the image).

    """
    icc = image.icc_profile
    if icc is None or is_srgb(icc):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        im = Image.fromarray(image.pixels, "RGBA")
        converted = ImageCms.profileToProfile(
            im, source, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGBA"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        raise ImageError(f"{image.name}: its colour profile cannot be used ({exc})") from None
    assert converted is not None
    pixels = np.array(converted, dtype=np.uint8)
    pixels[..., 3] = image.pixels[..., 3]  # alpha is not colour
    return replace(image, pixels=pixels, icc_profile=None)
