"""Generate the image corpus for the tests: bad inputs that must fail clearly, odd-but-valid ones,
and the made photos the tiny model finds (red squares and discs, a red dataset with masks).

Nothing binary is committed: every file is written into a pytest ``tmp_path``.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from tests.tinymodel import red_square_rgba


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that *declares* ``width x height`` 1-bit pixels (a decompression bomb shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b""))
        + _png_chunk(b"IEND", b"")
    )


def photo_like(width: int = 96, height: int = 64) -> np.ndarray:
    """A smooth RGB test picture with a bright disc (uint8 HxWx3)."""
    yy, xx = np.mgrid[0:height, 0:width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    rgb = np.stack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1), disc * 200], -1)
    return rgb.astype(np.uint8)


def encode(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    """Encode ``im`` in memory."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _truncated_jpeg() -> bytes:
    data = encode(Image.fromarray(photo_like(256, 256)), "JPEG", quality=90)
    return data[: len(data) // 2]


def _truncated_png() -> bytes:
    rng = np.random.default_rng(1)
    data = encode(Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)), "PNG")
    return data[: len(data) // 2]


def _corrupt_png_body() -> bytes:
    data = bytearray(encode(Image.fromarray(photo_like()), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start : start + 64] = bytes(64)  # zeroed compressed data (and a bad CRC)
    return bytes(data)


#: name -> (file name, bytes or None for "do not create", fragment expected in the error).
BAD_FILES: dict[str, tuple[str, Callable[[], bytes] | None, str]] = {
    "empty": ("empty.png", lambda: b"", "empty file"),
    "random_bytes": ("noise.jpg", lambda: np.random.default_rng(0).bytes(4096), "not an image"),
    "text_file": ("notes.png", lambda: b"this is not a picture\n" * 20, "not an image"),
    "truncated_jpeg": ("cut.jpg", _truncated_jpeg, "truncated"),
    "truncated_png": ("cut.png", _truncated_png, "truncated"),
    "corrupt_png": ("broken.png", _corrupt_png_body, "corrupt"),
    "bomb_400mp": ("bomb.png", lambda: png_header_only(20_000, 20_000), "too large"),
    "bomb_256mp": ("bomb2.png", lambda: png_header_only(16_000, 16_000), "too large"),
    "missing": ("missing.jpg", None, "no such file"),
}


def write_bad(tmp_path: Path, case: str) -> tuple[Path, str]:
    """Write bad case ``case`` into ``tmp_path``; return its path and the expected fragment."""
    filename, make, fragment = BAD_FILES[case]
    path = tmp_path / filename
    if make is not None:
        path.write_bytes(make())
    return path, fragment


#: name -> (array, fragment expected in the error).
BAD_ARRAYS: dict[str, tuple[Callable[[], np.ndarray], str]] = {
    "zero_rows": (lambda: np.zeros((0, 5, 3), np.uint8), "empty array"),
    "zero_cols": (lambda: np.zeros((5, 0), np.uint8), "empty array"),
    "two_channels": (lambda: np.zeros((5, 5, 2), np.uint8), "not an image"),
    "channels_first": (lambda: np.zeros((3, 8, 8), np.uint8), "channels-first"),
    "four_dims": (lambda: np.zeros((1, 5, 5, 3), np.uint8), "not an image"),
    "one_dim": (lambda: np.zeros(10, np.uint8), "not an image"),
    "float_0_255": (lambda: np.full((4, 4, 3), 200.0), "must be in [0, 1]"),
    "float_nan": (lambda: np.full((4, 4), np.nan, np.float32), "NaN"),
    "int_negative": (lambda: np.full((4, 4), -1, np.int64), "expected 0..255"),
    "complex": (lambda: np.zeros((4, 4), np.complex64), "unsupported array dtype"),
    "strings": (lambda: np.full((4, 4), "a"), "unsupported array dtype"),
}


def write_exif_rotated(tmp_path: Path, orientation: int = 6) -> Path:
    """A 40x20 JPEG (wide) whose EXIF orientation says "rotate": upright it is 20x40."""
    rgb = photo_like(40, 20)
    rgb[:5, :5] = (255, 0, 0)  # red top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"exif{orientation}.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def write_modes(tmp_path: Path) -> dict[str, Path]:
    """One small file per tricky PIL mode; tests/segmentation/test_images.py has their pixels."""
    out: dict[str, Path] = {}
    gray = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))  # 8x16
    out["L"] = tmp_path / "gray.png"
    Image.fromarray(gray, "L").save(out["L"])
    la = np.stack([gray, np.full_like(gray, 128)], -1)
    out["LA"] = tmp_path / "gray_alpha.png"
    Image.fromarray(la, mode="LA").save(out["LA"])
    sixteen = (gray.astype(np.uint16) * 257).astype(np.uint16)
    sixteen[0, 0] = 65535
    out["I;16"] = tmp_path / "sixteen.png"
    Image.fromarray(sixteen).save(out["I;16"])
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.putpixel((1, 1), 1)
    out["P"] = tmp_path / "palette.png"
    pal.save(out["P"], transparency=0)
    out["RGBA"] = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([photo_like(16, 8), gray]), "RGBA").save(out["RGBA"])
    out["1"] = tmp_path / "bilevel.png"
    Image.fromarray(gray > 100).convert("1").save(out["1"])
    out["CMYK"] = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(out["CMYK"], "JPEG", quality=95)
    return out


def red_disc_photo(width: int, height: int) -> np.ndarray:
    """A smooth grey-to-blue photo with a red disc in the middle (the tiny model's subject)."""
    rgb = photo_like(width, height)
    rgb[..., 0] = rgb[..., 1] // 3  # no red outside the disc
    yy, xx = np.mgrid[0:height, 0:width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    rgb[disc] = (220, 30, 30)
    return rgb


def red_dataset(root: Path, count: int = 4) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        h, w, margin = 64 + 8 * i, 80, 10 + 2 * i
        Image.fromarray(red_square_rgba(h, w, margin)[..., :3]).save(root / "images" / f"r{i}.png")
        gt = np.zeros((h, w), np.uint8)
        gt[margin : h - margin, margin : w - margin] = 255
        Image.fromarray(gt).save(root / "masks" / f"r{i}.png")
    return root


def noisy_photos(folder: Path, count: int, size: tuple[int, int] = (120, 160)) -> list[Path]:
    """Red squares over noise: PNGs that take real time to decode and encode."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        img = red_square_rgba(*size, margin=20)
        img[..., :3] ^= rng.integers(0, 40, (*size, 3), dtype=np.uint8)
        path = folder / f"p{i:03d}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths


def red_photos(folder: Path, count: int, size: int = 96) -> list[Path]:
    """Red squares on grey of slightly different sizes (the tiny model finds them)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"r{i:02d}.png"
        Image.fromarray(red_square_rgba(size + i, size + 2 * i, 20)).save(path)
        paths.append(path)
    return paths


def rgba_photo(width: int, height: int) -> np.ndarray:
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = photo_like(width, height)
    rgba[..., 3] = 255
    rgba[: height // 4, : width // 3, 3] = 0  # a transparent corner
    rgba[height // 4 : height // 2, : width // 3, 3] = 100  # and a translucent band
    return rgba
