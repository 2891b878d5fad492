"""load_image: every input kind and PIL mode to RGBA, and a clear error for each bad input.

Only regular files are read and reads are bounded: a real FIFO (under a real ``SIGALRM``
watchdog, as opening one for reading blocks until a writer comes), the real ``/dev/zero``, a
real Unix socket, a sparse file; decompression-bomb headers against the pixel limit; big
photos decoded reduced for the model.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from segmentation.errors import ImageError
from segmentation.images import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    check_image_file,
    image_files,
    image_size,
    load_image,
    max_file_bytes,
    pixels_checksum,
)
from tests._images import (
    BAD_ARRAYS,
    BAD_FILES,
    encode,
    photo_like,
    png_header_only,
    red_disc_photo,
    write_bad,
    write_exif_rotated,
    write_modes,
)
from tests._watchdog import watchdog


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_gives_clear_error(tmp_path: Path, case: str) -> None:
    path, fragment = write_bad(tmp_path, case)
    with pytest.raises(ImageError) as info:
        load_image(path)
    message = str(info.value)
    assert fragment in message
    assert str(path) in message, "the message must name the file"


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_bad_array_gives_clear_error(case: str) -> None:
    make, fragment = BAD_ARRAYS[case]
    with pytest.raises(ImageError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        load_image(make())


def test_bad_bytes_and_types() -> None:
    with pytest.raises(ImageError, match="empty data"):
        load_image(b"")
    with pytest.raises(ImageError, match="<bytes>: not an image"):
        load_image(b"GIF89a but not really")
    with pytest.raises(ImageError, match="cannot read an image from a int"):
        load_image(42)  # type: ignore[arg-type]


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_truncated_jpeg_refused_even_if_pil_global_allows_it(tmp_path: Path) -> None:
    path, _ = write_bad(tmp_path, "truncated_jpeg")
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ImageError, match="truncated"):
            load_image(path)
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the caller's setting is restored"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_pixel_limit_is_overridable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(photo_like(50, 40)).save(path)
    with pytest.raises(ImageError, match=r"50x40 = 2,000 pixels; limit 1,999"):
        load_image(path, max_pixels=1999)
    assert load_image(path, max_pixels=2000).size == (50, 40)
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    with pytest.raises(ImageError, match="too large"):
        load_image(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(ImageError, match="not a whole number"):
        load_image(path)


def test_modes_become_rgba(tmp_path: Path) -> None:
    files = write_modes(tmp_path)
    gray = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))
    loaded = {mode: load_image(path) for mode, path in files.items()}
    for mode, li in loaded.items():
        assert li.pixels.dtype == np.uint8 and li.pixels.shape[2] == 4, mode
        assert li.format in ("PNG", "JPEG"), mode

    lum = loaded["L"]
    assert not lum.has_alpha
    np.testing.assert_array_equal(lum.pixels[..., 0], gray)
    np.testing.assert_array_equal(lum.pixels[..., 2], gray)
    assert (lum.pixels[..., 3] == 255).all()

    la = loaded["LA"]
    assert la.has_alpha and (la.pixels[..., 3] == 128).all()
    np.testing.assert_array_equal(la.pixels[..., 1], gray)

    sixteen = loaded["I;16"]  # scaled from 0..65535, not clipped at 255
    expected = gray.copy()
    expected[0, 0] = 255
    np.testing.assert_array_equal(sixteen.pixels[..., 0], expected)

    pal = loaded["P"]  # index 0 (red) is the transparent entry
    assert pal.has_alpha
    assert tuple(pal.pixels[0, 0]) == (255, 0, 0, 0)
    assert tuple(pal.pixels[1, 1]) == (0, 255, 0, 255)

    rgba = loaded["RGBA"]
    assert rgba.has_alpha
    np.testing.assert_array_equal(rgba.pixels[..., 3], gray)

    bilevel = loaded["1"]
    np.testing.assert_array_equal(bilevel.pixels[..., 0], np.where(gray > 100, 255, 0))

    cmyk = loaded["CMYK"]  # C=0, M=Y=255, K=0 is red
    assert not cmyk.has_alpha
    r, g, b = (int(v) for v in cmyk.pixels[..., :3].reshape(-1, 3).mean(0))
    assert r > 230 and g < 25 and b < 25


def test_exif_orientation_applied(tmp_path: Path) -> None:
    li = load_image(write_exif_rotated(tmp_path, orientation=6))
    assert li.original_size == (40, 20)
    assert li.size == (20, 40) and li.pixels.shape == (40, 20, 4)
    assert li.exif_transposed
    red_corner = li.pixels[:4, -4:, :3].reshape(-1, 3).mean(0)
    assert red_corner[0] > 200 and red_corner[1] < 60, "stored top-left is upright top-right"
    plain = tmp_path / "plain.jpg"
    Image.fromarray(photo_like(40, 20)).save(plain)
    assert not load_image(plain).exif_transposed


def test_inputs_agree_across_kinds(tmp_path: Path) -> None:
    rgb = photo_like(33, 17)
    path = tmp_path / "p.png"
    Image.fromarray(rgb).save(path)
    kinds = [path, str(path), path.read_bytes(), Image.open(path), rgb]
    results = [load_image(k) for k in kinds]
    for li in results:
        np.testing.assert_array_equal(li.pixels[..., :3], rgb)
        assert (li.pixels[..., 3] == 255).all() and not li.has_alpha
    assert [li.format for li in results] == ["PNG", "PNG", "PNG", "PNG", "array"]


def test_array_dtype_rules() -> None:
    u16 = np.array([[0, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(load_image(u16).pixels[0, :, 0], [0, 1, 255])
    f = np.array([[0.0, 0.5, 1.0]], np.float32)
    np.testing.assert_array_equal(load_image(f).pixels[0, :, 0], [0, 128, 255])
    b = np.array([[True, False]])
    np.testing.assert_array_equal(load_image(b).pixels[0, :, 0], [255, 0])
    ints = np.array([[0, 7, 255]])  # int64 within 0..255 is accepted
    np.testing.assert_array_equal(load_image(ints).pixels[0, :, 0], [0, 7, 255])
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 3] = 9
    li = load_image(rgba)
    assert li.has_alpha and (li.pixels[..., 3] == 9).all()
    one = load_image(np.full((2, 2, 1), 5, np.uint8))
    assert (one.pixels[..., :3] == 5).all()


def test_checksum_matches_definition() -> None:
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (61, 1200, 4), dtype=np.uint8)  # > 65521 bytes: weights wrap
    flat = rgba.reshape(-1).tolist()
    reference = 0
    for i, value in enumerate(flat):
        reference = (reference + value * ((i % 65521) + 1)) % 2**32
    assert pixels_checksum(rgba) == reference
    changed = rgba.copy()
    changed[30, 600, 1] ^= 1
    assert pixels_checksum(changed) != reference
    with pytest.raises(ImageError, match="uint8"):
        pixels_checksum(rgba.astype(np.int32))


def test_jpeg_bytes_round_trip() -> None:
    data = encode(Image.fromarray(photo_like()), "JPEG", quality=95)
    li = load_image(data)
    assert li.format == "JPEG" and li.name == "<bytes>" and li.size == (96, 64)


# --- only regular files, bounded reads (a real FIFO, /dev/zero, a Unix socket) -------


def test_fifo_named_like_a_photo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    with watchdog():
        with pytest.raises(ImageError, match=r"x\.jpg: is a FIFO \(named pipe\), not a regular"):
            load_image(fifo)
        with pytest.raises(ImageError, match="FIFO"):
            image_size(fifo)
        with pytest.raises(ImageError, match="FIFO"):
            check_image_file(fifo)
    link = tmp_path / "link.png"
    link.symlink_to(fifo)
    with watchdog(), pytest.raises(ImageError, match=r"link\.png: is a FIFO"):
        load_image(link)


def test_devices_and_sockets_are_refused_without_reading(tmp_path: Path) -> None:
    with watchdog(), pytest.raises(ImageError, match="/dev/zero: is a character device"):
        load_image("/dev/zero")
    zero = tmp_path / "zero.png"
    zero.symlink_to("/dev/zero")
    with watchdog(), pytest.raises(ImageError, match=r"zero\.png: is a character device"):
        load_image(zero)
    sock_path = tmp_path / "s.png"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(sock_path))
        with watchdog(), pytest.raises(ImageError, match=r"s\.png: is a socket"):
            load_image(sock_path)
    finally:
        server.close()


def test_file_larger_than_the_pixel_limit_allows_is_refused_unread(tmp_path: Path) -> None:
    limit = 1000
    huge = tmp_path / "huge.png"
    huge.write_bytes(encode(Image.fromarray(photo_like(20, 20)), "PNG"))
    with huge.open("r+b") as f:  # sparse: no disk used, but st_size says it all
        f.truncate(max_file_bytes(limit) + 1)
    with pytest.raises(ImageError, match=r"huge\.png: file of [\d,]+ bytes is larger") as info:
        load_image(huge, max_pixels=limit)
    assert "limit of 1,000 pixels (max_pixels)" in str(info.value)
    assert "--max-pixels" in str(info.value)
    # the same file is fine under the default limit (8 bytes a pixel + 64 MiB)
    assert max_file_bytes(DEFAULT_MAX_PIXELS) > huge.stat().st_size
    assert load_image(huge).size == (20, 20)


def test_image_files_lists_only_regular_image_files(tmp_path: Path) -> None:
    (tmp_path / "x.png").mkdir()
    os.mkfifo(tmp_path / "f.jpg")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    (tmp_path / "notes.txt").write_text("not an image")
    Image.fromarray(photo_like()).save(tmp_path / "b.png")
    Image.fromarray(photo_like()).save(tmp_path / "a.JPG")
    assert [p.name for p in image_files(tmp_path)] == ["a.JPG", "b.png"]


# --- pixel limit ---------------------------------------------------------------------


def test_108_megapixel_photo_passes_the_default_limit_and_a_bomb_does_not(tmp_path: Path) -> None:
    phone = tmp_path / "phone.png"
    phone.write_bytes(png_header_only(12_000, 9_000))  # the header of a 108 MP photo
    assert image_size(phone) == (12_000, 9_000), "accepted by the default limit"
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20_000, 20_000))
    with pytest.raises(ImageError) as info:
        image_size(bomb)
    message = str(info.value)
    assert "20000x20000 = 400,000,000 pixels; limit 200,000,000 pixels, the default" in message
    for way in ("--max-pixels 400000000", "max_pixels=400000000", f"{MAX_PIXELS_ENV}=400000000"):
        assert way in message, way
    with pytest.raises(ImageError, match="too large"):
        load_image(bomb)


def test_refusal_names_the_limit_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(photo_like(50, 40)).save(path)
    with pytest.raises(ImageError, match=r"limit 1,999 pixels, max_pixels\)"):
        load_image(path, max_pixels=1999)
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    with pytest.raises(ImageError, match=rf"limit 100 pixels, \${MAX_PIXELS_ENV}\)"):
        load_image(path)
    with pytest.raises(ImageError, match="max_pixels must be a positive"):
        load_image(path, max_pixels=0)


# --- big photos: reduced decode for the model ----------------------------------------


def test_min_side_decodes_reduced_and_keeps_the_stored_size(tmp_path: Path) -> None:
    rgb = red_disc_photo(1600, 1200)
    jpeg, png = tmp_path / "big.jpg", tmp_path / "big.png"
    Image.fromarray(rgb).save(jpeg, quality=92)
    Image.fromarray(rgb).save(png)
    small = load_image(jpeg, min_side=128)  # DCT scaling 1/8 in the decoder
    assert small.size == (200, 150) and small.original_size == (1600, 1200)
    boxed = load_image(png, min_side=128)  # box filter by 9
    assert boxed.size == (178, 134) and boxed.original_size == (1600, 1200)
    assert load_image(jpeg, min_side=2000).size == (1600, 1200), "never below min_side"
    with pytest.raises(ImageError, match="not both"):
        load_image(jpeg, min_side=128, max_side=100)
