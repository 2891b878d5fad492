"""Turn anything image-like into 8-bit RGBA pixels, or say clearly why not.

:func:`load_image` accepts a path, encoded bytes, a ``PIL.Image`` or a numpy
array, applies the EXIF orientation, and returns a :class:`LoadedImage` whose
``pixels`` are exactly what the wrapped model (and the browser's canvas) is fed:
uint8 ``[H, W, 4]`` RGBA, not premultiplied, alpha 255 where opaque.

Decoding is strict: a truncated file is an error (``ImageFile.LOAD_TRUNCATED_IMAGES``
is forced off while decoding), and an image with more than ``max_pixels``
pixels is refused before it is decoded (decompression bombs).
"""

from __future__ import annotations

import io
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from segmentation.errors import ImageError
from segmentation.pixels import array_to_rgba, pil_to_rgba, pixels_checksum

#: Largest image decoded by default, in pixels (width x height).
DEFAULT_MAX_PIXELS = 100_000_000
#: Environment variable that overrides :data:`DEFAULT_MAX_PIXELS`.
MAX_PIXELS_ENV = "PIXEL_LIBERATION_MAX_PIXELS"

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | np.ndarray

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "LoadedImage",
    "load_image",
    "max_pixels_default",
    "pixels_checksum",
]

_PIL_LOCK = threading.Lock()  # guards the PIL globals changed while decoding


@dataclass(frozen=True)
class LoadedImage:
    """An image normalised for segmentation.

    Attributes
    ----------
    pixels : numpy.ndarray
        uint8 ``[H, W, 4]`` RGBA, not premultiplied, EXIF orientation applied.
    has_alpha : bool
        Whether the source declared transparency (an alpha channel, a
        transparent palette entry or colour key); ``False`` means alpha is 255.
    original_size : tuple of int
        ``(width, height)`` as stored in the source, before EXIF orientation.
    format : str
        The decoder's format (``"JPEG"``, ``"PNG"``…), ``"PIL"`` for an
        in-memory image without one, ``"array"`` for a numpy array.
    name : str
        What the image came from, for messages (a path, ``"<bytes>"``…).
    exif_transposed : bool
        Whether an EXIF orientation tag rotated or flipped the pixels.

    """

    pixels: np.ndarray
    has_alpha: bool
    original_size: tuple[int, int]
    format: str
    name: str
    exif_transposed: bool = False

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of :attr:`pixels` (after EXIF orientation)."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    def to_pil(self) -> Image.Image:
        """Return the pixels as a ``PIL.Image`` in mode RGBA."""
        return Image.fromarray(self.pixels, "RGBA")


def max_pixels_default() -> int:
    """Return the pixel limit: ``$PIXEL_LIBERATION_MAX_PIXELS`` if set, else 100 MP."""
    env = os.environ.get(MAX_PIXELS_ENV)
    if not env:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(env)
    except ValueError:
        raise ImageError(f"{MAX_PIXELS_ENV}={env!r} is not a whole number of pixels") from None
    if value <= 0:
        raise ImageError(f"{MAX_PIXELS_ENV} must be positive, got {value}")
    return value


def _bomb_message(name: str, size: tuple[int, int] | None, limit: int) -> str:
    dims = f"{size[0]}x{size[1]} = {size[0] * size[1]:,} pixels" if size else "too many pixels"
    return (
        f"{name}: image is too large ({dims}; limit {limit:,}); a possible decompression "
        f"bomb. If you trust it, pass max_pixels=... or set {MAX_PIXELS_ENV}"
    )


@contextmanager
def _strict_pil() -> Iterator[None]:
    """PIL decoding with truncation refused; the size check is ours (see :func:`_decode`).

    PIL's own bomb check runs inside ``Image.open`` before the size is known to
    us, so it is switched off here and :func:`_decode` checks the header's size
    against ``limit`` (with the dimensions in the message) before decoding.
    """
    with _PIL_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        old_limit, old_trunc = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = None, False
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = old_limit, old_trunc


def _decode(
    data: io.BytesIO | Path, name: str, limit: int, max_side: int | None = None
) -> Image.Image:
    """Open and fully decode, mapping every PIL failure to :class:`ImageError`.

    With ``max_side``, a JPEG is decoded at the smallest DCT scale (1/2, 1/4,
    1/8) that keeps both sides >= ``max_side``: a fraction of the memory and time.
    """
    size: tuple[int, int] | None = None
    try:
        with _strict_pil():
            im = Image.open(data)
            size = im.size
            if size[0] * size[1] > limit:
                raise ImageError(_bomb_message(name, size, limit))
            if max_side and im.format == "JPEG":
                im.draft(im.mode, (max_side, max_side))
            im.load()  # decode now: truncation surfaces here, not later
            return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_bomb_message(name, size, limit)) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image, or a format Pillow cannot read") from None
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        detail = str(exc) or type(exc).__name__
        raise ImageError(f"{name}: corrupt or truncated image ({detail})") from None


def _from_path(path: Path, limit: int, max_side: int | None = None) -> Image.Image:
    name = str(path)
    if not path.exists():
        raise ImageError(f"{name}: no such file")
    if path.is_dir():
        raise ImageError(f"{name}: is a directory, not an image file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    return _decode(io.BytesIO(data), name, limit, max_side)


def load_image(
    src: ImageSource,
    *,
    max_pixels: int | None = None,
    name: str | None = None,
    max_side: int | None = None,
) -> LoadedImage:
    """Read and normalise an image to 8-bit RGBA.

    Parameters
    ----------
    src : path, bytes, PIL.Image.Image or numpy.ndarray
        A file path (``str`` or ``PathLike``), the encoded bytes of a file, an
        in-memory PIL image, or an array ``HxW`` (grey), ``HxWx1``, ``HxWx3``
        (RGB) or ``HxWx4`` (RGBA). Array dtypes: uint8 as is; uint16 scaled
        by ``round(v * 255 / 65535)``; bool as 0/255; other integers only if
        every value is in 0..255; floats must be finite and in [0, 1] (scaled
        by 255 and rounded).
    max_pixels : int, optional
        Refuse to decode files with more pixels than this (default
        :func:`max_pixels_default`, 100 MP unless ``$PIXEL_LIBERATION_MAX_PIXELS``).
    name : str, optional
        How to call the image in error messages (default: the path, or
        ``"<bytes>"``, ``"<PIL image>"``, ``"<array>"``).
    max_side : int, optional
        Shrink (Lanczos, after the EXIF rotation) so the long side is at most
        this; JPEG files are decoded at a reduced scale first. For benchmark and
        calibration images (``original_size`` is then the size decoded).

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageError
        Missing, empty, corrupt, truncated, unsupported or too large input;
        the message names the image and the problem.

    """
    limit = max_pixels if max_pixels is not None else max_pixels_default()
    if isinstance(src, np.ndarray):
        label = name or "<array>"
        rgba, has_alpha = array_to_rgba(src, label)
        shape = (int(rgba.shape[1]), int(rgba.shape[0]))
        return LoadedImage(rgba, has_alpha, shape, "array", label)
    if isinstance(src, Image.Image):
        label = name or "<PIL image>"
        im = src
        fmt = src.format or "PIL"
        try:
            im.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{label}: cannot decode the PIL image ({exc})") from None
    elif isinstance(src, bytes | bytearray | memoryview):
        label = name or "<bytes>"
        if len(src) == 0:
            raise ImageError(f"{label}: empty data (0 bytes)")
        im = _decode(io.BytesIO(bytes(src)), label, limit, max_side)
        fmt = im.format or "unknown"
    elif isinstance(src, str | os.PathLike):
        path = Path(os.fspath(src)).expanduser()
        label = name or str(src)
        im = _from_path(path, limit, max_side)
        fmt = im.format or "unknown"
    else:
        raise ImageError(
            f"cannot read an image from a {type(src).__name__}; pass a path, bytes, "
            "a PIL.Image or a numpy array"
        )
    if im.width == 0 or im.height == 0:
        raise ImageError(f"{label}: image has zero size ({im.width}x{im.height})")
    original = (im.width, im.height)
    upright, transposed = _upright(im, label)
    if max_side is not None:
        if max_side < 1:
            raise ImageError(f"{label}: max_side must be >= 1, got {max_side}")
        if max(upright.size) > max_side:
            upright = upright.copy()
            upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    rgba, has_alpha = pil_to_rgba(upright, label)
    return LoadedImage(rgba, has_alpha, original, fmt, label, transposed)


def _upright(im: Image.Image, name: str) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation tag, if any (2..8); return the image and whether it moved."""
    try:
        orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, SyntaxError, ValueError, struct.error):
        return im, False  # unreadable EXIF: keep the pixels as stored
    if orientation not in range(2, 9):
        return im, False
    try:
        return ImageOps.exif_transpose(im), True
    except (OSError, ValueError) as exc:
        raise ImageError(f"{name}: cannot apply the EXIF orientation ({exc})") from None
