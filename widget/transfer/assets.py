"""Assets the kernel sends to the browser: identified by sha256, read in chunks.

The browser caches model and runtime assets in IndexedDB under their sha256,
so a file is hashed once per process (keyed by path, size and mtime) and only
sent when a view says it lacks it. Images are assets too, but never cached.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from segmentation.files import sha256_file
from segmentation.images import LoadedImage

STATIC = Path(__file__).resolve().parents[1] / "static"
WASM_NAME = "ort-wasm-simd-threaded.wasm"
#: The ort.webgpu bundle's runtime (webgpu and wasm EPs), sent only to views that run WebGPU.
WEBGPU_WASM_NAME = "ort-wasm-simd-threaded.asyncify.wasm"
#: Encoding of images sent as raw pixels: zlib-compressed RGBA (lossless for any alpha).
RAW_RGBA = "application/x-rgba+deflate"
_PASSTHROUGH = {"JPEG": "image/jpeg", "PNG": "image/png"}

AssetKind = Literal["model", "wasm", "image"]


@dataclass(frozen=True)
class Asset:
    """Bytes to send, from a file or from memory."""

    sha256: str
    size: int
    kind: AssetKind
    name: str
    path: Path | None = None
    data: bytes | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None

    def info(self) -> dict[str, object]:
        """JSON description sent in a plan (``AssetInfo`` in js/src/protocol/common.ts)."""
        out: dict[str, object] = {
            "sha256": self.sha256,
            "size": self.size,
            "kind": self.kind,
            "name": self.name,
        }
        if self.mime is not None:
            out.update(mime=self.mime, width=self.width, height=self.height)
        return out

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(seq, offset, data)`` of at most ``chunk_size`` bytes each."""
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        if self.data is not None:
            for seq, off in enumerate(range(0, max(self.size, 1), chunk_size)):
                yield seq, off, self.data[off : off + chunk_size]
            return
        assert self.path is not None
        with self.path.open("rb") as f:
            seq = 0
            while seq == 0 or f.tell() < self.size:
                off = f.tell()
                yield seq, off, f.read(chunk_size)
                seq += 1

    def chunk_count(self, chunk_size: int) -> int:
        """Return the number of chunks :meth:`chunks` yields."""
        return max(1, -(-self.size // chunk_size))


def file_asset(path: Path, kind: AssetKind) -> Asset:
    """Describe a file, hashing it once per (path, size, mtime)."""
    return Asset(sha256_file(path), path.stat().st_size, kind, path.name, path=path)


def wasm_asset(ep: Literal["wasm", "webgpu"] = "wasm") -> Asset:
    """Describe the onnxruntime-web binary that the build copies into ``widget/static``.

    ``ep="wasm"``: the plain SIMD build (14 MB) of the ``ort.wasm`` bundle;
    ``ep="webgpu"``: the asyncify build (27 MB) that the ``ort.webgpu`` bundle needs.
    """
    path = STATIC / (WEBGPU_WASM_NAME if ep == "webgpu" else WASM_NAME)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: build the front end first (cd js && npm install && npm run build)"
        )
    return file_asset(path, "wasm")


def _original_bytes(source: object) -> bytes | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).expanduser().read_bytes()
    return None


def _decodes_like_pil(data: bytes, image: LoadedImage) -> bool:
    """Tell whether a browser decodes these bytes to exactly ``image.pixels``.

    True for opaque 8-bit RGB or grey JPEG/PNG without an EXIF rotation (a canvas
    premultiplies alpha; CMYK and 16-bit decode differently).
    """
    if image.format not in _PASSTHROUGH or image.has_alpha or image.exif_transposed:
        return False
    import io

    with Image.open(io.BytesIO(data)) as im:
        return im.mode in ("RGB", "L") and not im.info.get("transparency")


def image_asset(source: object, image: LoadedImage) -> Asset:
    """Choose what to send for ``image``.

    The original file when the browser decodes it exactly like
    :func:`segmentation.images.load_image`, otherwise its normalised RGBA pixels, deflated.
    """
    width, height = image.size
    data = _original_bytes(source)
    if data is not None and _decodes_like_pil(data, image):
        mime = _PASSTHROUGH[image.format]
    else:
        data = zlib.compress(image.pixels.tobytes(), 3)
        mime = RAW_RGBA
    sha = hashlib.sha256(data).hexdigest()
    return Asset(
        sha, len(data), "image", image.name, data=data, mime=mime, width=width, height=height
    )
