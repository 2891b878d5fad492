"""An image kept as the bytes sent to the browser, decoded to pixels only on demand.

A widget that kept its decoded RGBA pixels would hold ``4 * W * H`` bytes (48 MB for a
12-MP photo) for as long as ipywidgets keeps it alive, which is until it is closed,
however often the notebook cell is re-run. :class:`EncodedImage` keeps what the browser
is sent instead (the original JPEG/PNG when the browser decodes it exactly like
:func:`segmentation.images.load_image`, else the deflated RGBA pixels) and decodes it
again when the kernel needs pixels (the kernel twin, a cut-out). The decoded pixels are
held weakly: while a caller keeps them they are reused, then they go.

A photo tagged with another colour profile (Display P3 from phones) is converted to sRGB
once, here (:func:`segmentation.product.colour.to_srgb`): the browser decodes without
converting, so the view is sent the converted pixels, and the model, the cut-outs, the
product photos (kernel and export panel) and the view all see the colours the photo showed.
"""

from __future__ import annotations

import logging
import weakref
import zlib

import numpy as np

from segmentation.errors import ImageError
from segmentation.images import ImageSource, LoadedImage, load_image
from segmentation.pixels import pixels_checksum
from segmentation.product.colour import to_srgb
from widget.transfer.assets import RAW_RGBA, Asset, image_asset

_PIECE = 1 << 20  # bytes of compressed input inflated at a time
log = logging.getLogger("pixel_liberation.widget")


def inflate_rgba(data: bytes, width: int, height: int) -> np.ndarray:
    """Inflate deflated RGBA bytes straight into a writable ``[H, W, 4]`` uint8 array.

    Raises
    ------
    ValueError
        If the data does not inflate to exactly ``width * height * 4`` bytes.

    """
    out = np.empty(width * height * 4, np.uint8)
    inflater = zlib.decompressobj()
    pos = 0
    for start in range(0, len(data), _PIECE):
        part = inflater.decompress(data[start : start + _PIECE])
        if pos + len(part) > out.size:
            raise ValueError(f"deflated RGBA is larger than {width}x{height}")
        out[pos : pos + len(part)] = np.frombuffer(part, np.uint8)
        pos += len(part)
    tail = inflater.flush()
    if pos + len(tail) != out.size:
        raise ValueError(f"deflated RGBA is not {width}x{height} pixels")
    out[pos:] = np.frombuffer(tail, np.uint8)
    return out.reshape(height, width, 4)


class EncodedImage:
    """The encoded form of one image, with what is known about its pixels.

    Parameters
    ----------
    source : path, bytes, PIL.Image or numpy.ndarray
        Anything :func:`segmentation.images.load_image` accepts (decoded once here).

    Attributes
    ----------
    asset : Asset
        What the browser is sent; its ``data`` is the only copy of the image kept.
    checksum : int
        :func:`segmentation.pixels.pixels_checksum` of the decoded pixels.

    """

    def __init__(self, source: ImageSource) -> None:
        loaded = load_image(source)
        try:
            converted = to_srgb(loaded)
        except ImageError as exc:  # an unusable profile: keep the stored values, say so
            log.warning("%s (its pixels are used as stored)", exc)
            converted = loaded
        # converted pixels differ from the file's: the browser gets them raw, not the file
        self.asset: Asset = image_asset(source if converted is loaded else None, converted)
        loaded = converted
        self.checksum = pixels_checksum(loaded.pixels)
        self.size = loaded.size
        self._meta = (loaded.has_alpha, loaded.original_size, loaded.format, loaded.name)
        self._exif = loaded.exif_transposed
        self._ref: weakref.ref[np.ndarray] = weakref.ref(loaded.pixels)

    @property
    def name(self) -> str:
        """What the image came from, for messages."""
        return self._meta[3]

    @property
    def encoded_bytes(self) -> int:
        """Bytes this object keeps (the asset's data)."""
        return self.asset.size

    def pixels(self) -> np.ndarray:
        """Return the RGBA pixels: the ones a caller still holds, else decoded again."""
        arr = self._ref()
        if arr is None:
            arr = self._decode()
            self._ref = weakref.ref(arr)
        return arr

    def loaded(self) -> LoadedImage:
        """Return the image as :func:`segmentation.images.load_image` returned it."""
        has_alpha, original, fmt, name = self._meta
        return LoadedImage(self.pixels(), has_alpha, original, fmt, name, self._exif)

    def _decode(self) -> np.ndarray:
        data = self.asset.data
        assert data is not None  # image assets are in memory
        w, h = self.size
        if self.asset.mime == RAW_RGBA:
            return inflate_rgba(data, w, h)
        pixels = load_image(data, name=self.name).pixels
        if (pixels.shape[1], pixels.shape[0]) != (w, h):
            raise RuntimeError(f"{self.name}: re-decoded to {pixels.shape}, expected {w}x{h}")
        return pixels
