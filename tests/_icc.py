"""A small RGB display profile (ICC v2, matrix and gamma curves) written from numbers.

The test machine has no ICC files; this builds one like Display P3 (its D50-adapted
colorants, a plain 2.2 gamma), so a photo can be tagged with a profile other than sRGB.
"""

from __future__ import annotations

import struct

import numpy as np

D50 = (0.9642, 1.0, 0.8249)
#: Display P3's colorants adapted to D50 (the columns of its RGB -> XYZ matrix).
P3_COLORANTS = ((0.5151, 0.2412, -0.0011), (0.2919, 0.6922, 0.0419), (0.1572, 0.0666, 0.7841))
#: sRGB's colorants adapted to D50.
SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
GAMMA = 2.2


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(v: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(c) for c in v)


def display_profile(
    name: str = "Test P3-like display",
    colorants: tuple[tuple[float, float, float], ...] = P3_COLORANTS,
) -> bytes:
    """ICC v2 monitor profile bytes: D50 white, ``colorants`` (r, g, b XYZ), gamma 2.2."""
    text = name.encode("ascii") + b"\0"
    desc = (
        b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(GAMMA * 256)) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0no copyright\0"),
        (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(colorants[0])),
        (b"gXYZ", _xyz(colorants[1])),
        (b"bXYZ", _xyz(colorants[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table_end = 128 + 4 + 12 * len(tags)
    offset, entries, body = table_end, b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        entries += sig + struct.pack(">II", offset, len(data))
        body += data
        offset += len(data)
    header = bytearray(128)
    struct.pack_into(">I", header, 0, offset)
    header[8:12] = bytes([2, 0x10, 0, 0])
    header[12:24] = b"mntrRGB XYZ "
    struct.pack_into(">6H", header, 24, 2026, 1, 1, 0, 0, 0)
    header[36:40] = b"acsp"
    header[68:80] = b"".join(_s15(c) for c in D50)
    return bytes(header) + struct.pack(">I", len(tags)) + entries + body


def p3_to_srgb(rgb: np.ndarray) -> np.ndarray:
    """The expected conversion, by the matrices: gamma 2.2 -> XYZ (D50) -> sRGB, clipped."""
    lin = (rgb.astype(np.float64) / 255.0) ** GAMMA
    xyz = lin @ np.array(P3_COLORANTS)
    out = xyz @ np.linalg.inv(np.array(SRGB_COLORANTS))
    out = np.clip(out, 0, 1)
    enc = np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)
    return enc * 255.0
