"""Put a mask to use: a transparent cutout, or the subject over a colour or another image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageOps

from segmentation.errors import ImageError
from segmentation.images import ImageSource, LoadedImage, load_image

Color = str | tuple[int, int, int] | tuple[int, int, int, int]
Background = Color | ImageSource | None


def parse_color(color: Color) -> tuple[int, int, int, int]:
    """Return RGBA for a name or hex string (``"white"``, ``"#00ff0080"``) or a tuple.

    Raises
    ------
    ImageError
        The colour is not understood; the message says what is accepted.

    """
    if isinstance(color, str):
        try:
            rgb = ImageColor.getcolor(color, "RGBA")
        except ValueError:
            raise ImageError(
                f"unknown colour {color!r}; use a name like 'white' or hex like '#00ff00'"
            ) from None
        assert isinstance(rgb, tuple) and len(rgb) == 4  # mode "RGBA" always gives 4 values
        return (int(rgb[0]), int(rgb[1]), int(rgb[2]), int(rgb[3]))
    if not isinstance(color, list | tuple):
        raise ImageError(f"colour {color!r} must be a name, hex, or 3 or 4 integers in 0..255")
    values = tuple(color)
    ok = all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in values)
    if len(values) not in (3, 4) or not ok:
        raise ImageError(f"colour {color!r} must be 3 or 4 integers in 0..255")
    return (*values, 255) if len(values) == 3 else values  # type: ignore[return-value]


def _is_color(background: object) -> bool:
    if isinstance(background, tuple):
        return True  # parse_color says what is wrong with a bad tuple
    if isinstance(background, str):
        try:
            ImageColor.getrgb(background)
        except ValueError:
            return False
        return True
    return False


def compose(image: LoadedImage, mask: np.ndarray, background: Background = None) -> Image.Image:
    """Cut the subject of ``image`` out with ``mask`` (as alpha) and put it over ``background``.

    Parameters
    ----------
    image : LoadedImage
        The pixels the mask was computed from.
    mask : numpy.ndarray
        uint8 ``[H, W]``, the same size; becomes the cutout's alpha.
    background : colour, image or None
        None leaves the background transparent. A colour (name, hex string or
        tuple) fills it. Anything :func:`~segmentation.images.load_image` reads
        (a path, bytes, a PIL image, an array) is scaled to cover the image and
        centre-cropped (aspect ratio kept). A string that is a colour name is a
        colour, otherwise a path.

    Returns
    -------
    PIL.Image.Image
        Mode RGBA, the size of ``image``.

    """
    h, w = image.pixels.shape[:2]
    if mask.shape != (h, w):
        raise ImageError(f"mask of shape {mask.shape} does not match the image ({h}, {w})")
    rgba = image.pixels.copy()
    rgba[..., 3] = mask
    cut = Image.fromarray(rgba, "RGBA")
    if background is None:
        return cut
    if _is_color(background):
        base = Image.new("RGBA", (w, h), parse_color(background))  # type: ignore[arg-type]
    else:
        if isinstance(background, str) and not Path(background).expanduser().exists():
            raise ImageError(
                f"background {background!r} is neither a colour nor an existing image file"
            )
        bg = load_image(background).to_pil()  # type: ignore[arg-type]
        base = ImageOps.fit(bg, (w, h), Image.Resampling.LANCZOS)
    return Image.alpha_composite(base, cut)
