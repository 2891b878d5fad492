"""Turn anything image-like into 8-bit RGBA pixels, or say clearly why not.

:func:`load_image` accepts a path, encoded bytes, a ``PIL.Image`` or a numpy
array, applies the EXIF orientation, and returns a :class:`LoadedImage` whose
``pixels`` are exactly what the wrapped model (and the browser's canvas) is fed:
uint8 ``[H, W, 4]`` RGBA, not premultiplied, alpha 255 where opaque.

Decoding is strict: a truncated file is an error (``ImageFile.LOAD_TRUNCATED_IMAGES``
is forced off while decoding), and an image with more than ``max_pixels``
pixels is refused before it is decoded (decompression bombs). Only regular files
are read: a FIFO, a device or a socket is refused from its ``stat`` before it is
opened (and the file is opened non-blocking and checked again), and a file larger
than any image within the pixel limit could need (:func:`max_file_bytes`) is
refused before a byte of it is read, so no input can block or fill the memory.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from segmentation.errors import ImageError
from segmentation.pixels import array_to_rgba, pil_to_rgba, pixels_checksum

#: Largest image decoded by default, in pixels (width x height): a 108 MP (12000x9000)
#: or 200 MP (16320x12240) phone photo fits; a bomb declaring gigapixels does not.
DEFAULT_MAX_PIXELS = 200_000_000
#: Environment variable that overrides :data:`DEFAULT_MAX_PIXELS`.
MAX_PIXELS_ENV = "PIXEL_LIBERATION_MAX_PIXELS"
#: Command-line option of ``python -m segmentation`` that sets the pixel limit.
MAX_PIXELS_OPTION = "--max-pixels"
#: Bytes of file allowed per pixel of the limit: 16-bit RGBA uncompressed needs 8.
FILE_BYTES_PER_PIXEL = 8
#: Bytes of file allowed on top, for metadata (EXIF, ICC profiles, thumbnails).
FILE_HEADROOM_BYTES = 64 << 20
#: Image file names the folder listings (:func:`image_files`) pick up.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | np.ndarray

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "LoadedImage",
    "check_image_file",
    "image_files",
    "image_size",
    "load_image",
    "max_file_bytes",
    "max_pixels_default",
    "pixels_checksum",
    "reduced",
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
        ``(width, height)`` as stored in the source, before EXIF orientation and
        before any reduction (``max_side``, ``min_side``).
    format : str
        The decoder's format (``"JPEG"``, ``"PNG"``…), ``"PIL"`` for an
        in-memory image without one, ``"array"`` for a numpy array.
    name : str
        What the image came from, for messages (a path, ``"<bytes>"``…).
    exif_transposed : bool
        Whether an EXIF orientation tag rotated or flipped the pixels.
    icc_profile : bytes or None
        The colour profile embedded in the file, if any (the pixels are as stored, not
        converted; see :func:`segmentation.product.colour.to_srgb`).

    """

    pixels: np.ndarray
    has_alpha: bool
    original_size: tuple[int, int]
    format: str
    name: str
    exif_transposed: bool = False
    icc_profile: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of :attr:`pixels` (after EXIF orientation)."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    def to_pil(self) -> Image.Image:
        """Return the pixels as a ``PIL.Image`` in mode RGBA."""
        return Image.fromarray(self.pixels, "RGBA")


def max_pixels_default() -> int:
    """Return the pixel limit: ``$PIXEL_LIBERATION_MAX_PIXELS`` if set, else 200 MP."""
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


def _limit(max_pixels: int | None) -> tuple[int, str]:
    """Return the pixel limit in force and where it comes from (for messages)."""
    if max_pixels is not None:
        if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
            raise ImageError(f"max_pixels must be a positive whole number, got {max_pixels!r}")
        return max_pixels, "max_pixels"
    if os.environ.get(MAX_PIXELS_ENV):
        return max_pixels_default(), f"${MAX_PIXELS_ENV}"
    return DEFAULT_MAX_PIXELS, "the default"


def max_file_bytes(max_pixels: int) -> int:
    """Largest file read under a pixel limit: 8 bytes a pixel (16-bit RGBA) + 64 MiB."""
    return FILE_BYTES_PER_PIXEL * max_pixels + FILE_HEADROOM_BYTES


def raise_limit_hint(pixels: int) -> str:
    """Say how to raise the pixel limit to ``pixels``: CLI option, Python keyword, variable."""
    return (
        f"if you trust it, raise the limit: {MAX_PIXELS_OPTION} {pixels} (command line), "
        f"max_pixels={pixels} (Python) or {MAX_PIXELS_ENV}={pixels}"
    )


def _bomb_message(name: str, size: tuple[int, int], limit: tuple[int, str]) -> str:
    pixels = size[0] * size[1]
    return (
        f"{name}: image is too large ({size[0]}x{size[1]} = {pixels:,} pixels; limit "
        f"{limit[0]:,} pixels, {limit[1]}), a possible decompression bomb; "
        + raise_limit_hint(pixels)
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


def _kind(mode: int) -> str:
    """Name a file type that is not a regular file, for messages."""
    kinds = (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((label for test, label in kinds if test(mode)), "not a regular file")


def _check_stat(st: os.stat_result, name: str, limit: tuple[int, str]) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{name}: is a directory, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(
            f"{name}: is {_kind(st.st_mode)}, not a regular file; only image files are read"
        )
    if st.st_size == 0:
        raise ImageError(f"{name}: empty file (0 bytes)")
    most = max_file_bytes(limit[0])
    if st.st_size > most:
        raise ImageError(
            f"{name}: file of {st.st_size:,} bytes is larger than any image within the limit "
            f"of {limit[0]:,} pixels ({limit[1]}) needs ({most:,} bytes); "
            + raise_limit_hint(max(1, (st.st_size - FILE_HEADROOM_BYTES) // FILE_BYTES_PER_PIXEL))
        )


def check_image_file(path: Path, *, max_pixels: int | None = None) -> None:
    """Refuse, without opening it, what :func:`load_image` would not read as a file.

    Raises
    ------
    ImageError
        ``path`` is missing, a directory, a FIFO, a device or a socket, empty,
        or larger than :func:`max_file_bytes` allows under the pixel limit.

    """
    try:
        _check_stat(path.stat(), str(path), _limit(max_pixels))
    except (FileNotFoundError, NotADirectoryError):
        raise ImageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None


@contextmanager
def _open_regular(path: Path, name: str, limit: tuple[int, str]) -> Iterator[IO[bytes]]:
    """Open ``path`` for reading if, and only if, it is a regular file of a sane size.

    The type is checked from ``stat`` before opening (a FIFO is never opened, a
    device never read), then again on the open descriptor, which is opened
    non-blocking (a FIFO swapped in between cannot hang the open).
    """
    try:
        _check_stat(path.stat(), name, limit)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise ImageError(f"{name}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        _check_stat(os.fstat(fd), name, limit)
        yield f


@contextmanager
def _pil_errors(name: str) -> Iterator[None]:
    """Map every failure PIL raises while opening or decoding to :class:`ImageError`."""
    try:
        yield
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image, or a format Pillow cannot read") from None
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        detail = str(exc) or type(exc).__name__
        raise ImageError(f"{name}: corrupt or truncated image ({detail})") from None


def _open_checked(data: IO[bytes], name: str, limit: tuple[int, str]) -> Image.Image:
    """``Image.open`` (header only) and the pixel limit; call under :func:`_strict_pil`."""
    im = Image.open(data)
    if im.size[0] * im.size[1] > limit[0]:
        raise ImageError(_bomb_message(name, im.size, limit))
    return im


def _decode(
    data: IO[bytes], name: str, limit: tuple[int, str], draft_side: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Open and fully decode; return the image and its stored size (before any draft).

    Every PIL failure becomes an :class:`ImageError`. With ``draft_side``, a JPEG
    is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that keeps both sides
    >= ``draft_side``: a fraction of the memory and time.
    """
    with _pil_errors(name), _strict_pil():
        im = _open_checked(data, name, limit)
        stored = im.size
        if draft_side and im.format == "JPEG":
            im.draft(im.mode, (draft_side, draft_side))
        im.load()  # decode now: truncation surfaces here, not later
        return im, stored


def _swaps_sides(im: Image.Image) -> bool:
    """Whether the EXIF orientation of ``im`` turns it a quarter (orientations 5 to 8)."""
    try:
        return im.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
    except (OSError, SyntaxError, ValueError, struct.error):
        return False


def image_size(src: ImageSource, *, max_pixels: int | None = None) -> tuple[int, int]:
    """Return the upright ``(width, height)`` of an image at full size, without decoding it.

    Files and bytes are read only as far as their header (and EXIF orientation);
    the checks of :func:`load_image` apply (regular file, pixel limit), so a
    decompression bomb is refused here already.

    Raises
    ------
    ImageError
        As :func:`load_image`.

    """
    if isinstance(src, LoadedImage):
        return src.size
    if isinstance(src, np.ndarray):
        if src.ndim < 2:
            raise ImageError(f"<array>: array of shape {src.shape} is not an image")
        return int(src.shape[1]), int(src.shape[0])
    if isinstance(src, Image.Image):
        w, h = src.size
        return (h, w) if _swaps_sides(src) else (w, h)
    limit = _limit(max_pixels)
    if isinstance(src, bytes | bytearray | memoryview):
        with _pil_errors("<bytes>"), _strict_pil():
            im = _open_checked(io.BytesIO(bytes(src)), "<bytes>", limit)
            w, h = im.size
            return (h, w) if _swaps_sides(im) else (w, h)
    if isinstance(src, str | os.PathLike):
        path = Path(os.fspath(src)).expanduser()
        with _open_regular(path, str(src), limit) as f, _pil_errors(str(src)), _strict_pil():
            im = _open_checked(f, str(src), limit)
            w, h = im.size
            return (h, w) if _swaps_sides(im) else (w, h)
    raise ImageError(f"cannot read an image from a {type(src).__name__}")


def reduced(image: LoadedImage, min_side: int) -> LoadedImage:
    """Shrink by the largest whole factor that keeps both sides >= ``min_side`` (box filter).

    The filter averages premultiplied colours (PIL's ``reduce`` of RGBA), so
    transparent pixels do not bleed. An image already within twice ``min_side``
    on its short side is returned as is.
    """
    factor = min(image.pixels.shape[:2]) // max(1, min_side)
    if factor < 2:
        return image
    small = Image.fromarray(image.pixels, "RGBA").reduce(factor)
    return replace(image, pixels=np.array(small, dtype=np.uint8))


def image_files(folder: Path) -> list[Path]:
    """Return the regular files in ``folder`` named like images (:data:`IMAGE_SUFFIXES`), sorted.

    Sub-folders, FIFOs, devices and sockets are left out whatever their name
    (a folder called ``x.png`` is not an image); symbolic links count as what
    they point to.
    """
    found = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            if stat.S_ISREG(p.stat().st_mode):
                found.append(p)
        except OSError:
            continue  # a dangling link: nothing to read
    return found


def load_image(
    src: ImageSource,
    *,
    max_pixels: int | None = None,
    name: str | None = None,
    max_side: int | None = None,
    min_side: int | None = None,
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
        by 255 and rounded). A path must name a regular file (not a FIFO,
        device or socket) of at most :func:`max_file_bytes` bytes.
    max_pixels : int, optional
        Refuse to decode files with more pixels than this (default
        :func:`max_pixels_default`, 200 MP unless ``$PIXEL_LIBERATION_MAX_PIXELS``).
    name : str, optional
        How to call the image in error messages (default: the path, or
        ``"<bytes>"``, ``"<PIL image>"``, ``"<array>"``).
    max_side : int, optional
        Shrink (Lanczos, after the EXIF rotation) so the long side is at most
        this; JPEG files are decoded at a reduced scale first. For benchmark and
        calibration images.
    min_side : int, optional
        Decode reduced for a model that resizes anyway: by the largest whole
        factor that keeps both sides >= ``min_side`` (JPEG: DCT scaling in the
        decoder, 1/2 to 1/8; then, or for other formats, :func:`reduced`).
        Exclusive with ``max_side``.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageError
        Missing, empty, corrupt, truncated, unsupported, too large or not a
        regular file; the message names the image and the problem.

    """
    limit = _limit(max_pixels)
    for label_, value in (("max_side", max_side), ("min_side", min_side)):
        if value is not None and value < 1:
            raise ImageError(f"{name or 'load_image'}: {label_} must be >= 1, got {value}")
    if max_side is not None and min_side is not None:
        raise ImageError("load_image: give max_side or min_side, not both")
    draft_side = max_side or min_side
    if isinstance(src, np.ndarray):
        label = name or "<array>"
        rgba, has_alpha = array_to_rgba(src, label)
        shape = (int(rgba.shape[1]), int(rgba.shape[0]))
        loaded = LoadedImage(rgba, has_alpha, shape, "array", label)
        return reduced(loaded, min_side) if min_side else loaded
    if isinstance(src, Image.Image):
        label = name or "<PIL image>"
        try:
            src.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{label}: cannot decode the PIL image ({exc})") from None
        return _normalise(src, src.size, src.format or "PIL", label, max_side, min_side)
    if isinstance(src, bytes | bytearray | memoryview):
        label = name or "<bytes>"
        if len(src) == 0:
            raise ImageError(f"{label}: empty data (0 bytes)")
        im, stored = _decode(io.BytesIO(bytes(src)), label, limit, draft_side)
        return _normalise(im, stored, im.format or "unknown", label, max_side, min_side)
    if isinstance(src, str | os.PathLike):
        path = Path(os.fspath(src)).expanduser()
        label = name or str(src)
        with _open_regular(path, label, limit) as f:
            im, stored = _decode(f, label, limit, draft_side)
            return _normalise(im, stored, im.format or "unknown", label, max_side, min_side)
    raise ImageError(
        f"cannot read an image from a {type(src).__name__}; pass a path, bytes, "
        "a PIL.Image or a numpy array"
    )


def _normalise(
    im: Image.Image,
    stored: tuple[int, int],
    fmt: str,
    label: str,
    max_side: int | None,
    min_side: int | None,
) -> LoadedImage:
    """EXIF orientation, optional shrinking, RGBA: the decoded image as a :class:`LoadedImage`."""
    if im.width == 0 or im.height == 0:
        raise ImageError(f"{label}: image has zero size ({im.width}x{im.height})")
    upright, transposed = _upright(im, label)
    if max_side is not None and max(upright.size) > max_side:
        upright = upright.copy()
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    rgba, has_alpha = pil_to_rgba(upright, label)
    icc = im.info.get("icc_profile")
    icc = bytes(icc) if isinstance(icc, bytes | bytearray) and icc else None
    loaded = LoadedImage(rgba, has_alpha, stored, fmt, label, transposed, icc)
    return reduced(loaded, min_side) if min_side else loaded


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
