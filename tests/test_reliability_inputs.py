"""Inputs: only regular files are read, reads are bounded, big photos work.

Every case uses the real thing: a real FIFO, the real ``/dev/zero``, a real Unix
socket, a sparse file, real JPEGs, the tiny real ONNX model, and the command
line in a real subprocess. Opening a FIFO for reading blocks until a writer
comes, so the FIFO cases run under a real ``SIGALRM`` watchdog: a read that
blocks fails the test in seconds instead of hanging the suite.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.cli.main import main
from segmentation.conversion.calibration import calibration_folder, pick_calibration_images
from segmentation.errors import ImageError
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.metrics import iou
from segmentation.evaluation.variants import build_variant, default_calibration_images
from segmentation.images import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    check_image_file,
    image_files,
    image_size,
    load_image,
    max_file_bytes,
)
from segmentation.models import registry as catalog
from segmentation.session import Segmenter
from tests._images import encode, photo_like, png_header_only, write_bad, write_exif_rotated
from tests.conftest import TinyModel

WATCHDOG_S = 10


@contextmanager
def watchdog(seconds: int = WATCHDOG_S) -> Iterator[None]:
    """Fail with TimeoutError if the block blocks for longer than ``seconds`` (real SIGALRM)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segmentation", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def red_disc_photo(width: int, height: int) -> np.ndarray:
    """A smooth grey-to-blue photo with a red disc in the middle (the tiny model's subject)."""
    rgb = photo_like(width, height)
    rgb[..., 0] = rgb[..., 1] // 3  # no red outside the disc
    yy, xx = np.mgrid[0:height, 0:width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    rgb[disc] = (220, 30, 30)
    return rgb


# --- only regular files, bounded reads -------------------------------------------------


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


def test_cli_remove_refuses_fifo_and_dev_zero_at_once(tmp_path: Path) -> None:
    """The `remove` command, unchanged, inherits the loader's refusal (real subprocess)."""
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    for source, kind in ((str(fifo), "is a FIFO"), ("/dev/zero", "is a character device")):
        proc = run_cli("remove", source, "-o", str(tmp_path / "out"), cwd=tmp_path, timeout=60)
        line = one_line_error(proc)
        assert source in line and kind in line


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


# --- big photos: reduced decode for the model, mask at full size ------------------------


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


def test_segmenter_reduces_big_photos_and_masks_at_full_size(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    spec, reg = tiny_model.spec, tiny_model.registry
    rgb = red_disc_photo(1600, 1200)
    photo = tmp_path / "big.jpg"
    Image.fromarray(rgb).save(photo, quality=92)
    exact = Segmenter(spec.name, spec.precision, registry=reg, reduce_above=None)
    big = Segmenter(spec.name, spec.precision, registry=reg, reduce_above=1_000_000)
    assert big.model_min_side == 128  # twice the tiny model's 64 px input
    want = exact.mask(photo)
    got = big.mask(photo)
    assert got.shape == want.shape == (1200, 1600)
    assert iou(got, want) > 0.97, "the reduced decode barely changes the mask"
    assert not np.array_equal(got, want), "the reduced path really ran"
    cut = big.cutout(photo)
    assert cut.size == (1600, 1200)
    np.testing.assert_array_equal(np.asarray(cut)[..., 3], got)
    np.testing.assert_array_equal(np.asarray(cut)[..., :3], load_image(photo).pixels[..., :3])
    loaded = load_image(photo)  # an in-memory image above the threshold: box-reduced
    assert big.mask(loaded).shape == (1200, 1600)
    assert iou(big.mask(loaded), want) > 0.97
    rotated = write_exif_rotated(tmp_path)  # 40x20 stored, 20x40 upright
    tiny = Segmenter(spec.name, spec.precision, registry=reg, reduce_above=100)
    assert tiny.mask(rotated).shape == (40, 20)


def test_photos_under_the_threshold_run_exactly_the_decoded_pixels(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    """Browser/kernel parity: below the threshold the model sees the loader's exact pixels."""
    seg = Segmenter(tiny_model.spec.name, tiny_model.spec.precision, registry=tiny_model.registry)
    photo = tmp_path / "normal.jpg"
    Image.fromarray(red_disc_photo(400, 300)).save(photo, quality=92)
    np.testing.assert_array_equal(seg.mask(photo), seg.run_pixels(load_image(photo).pixels))
    with pytest.raises(ImageError, match="too large"):
        seg.mask(photo, max_pixels=1000)
    with pytest.raises(ValueError, match="reduce_above"):
        Segmenter(tiny_model.spec.name, registry=tiny_model.registry, reduce_above=0)


# --- calibration and dataset images through the same loader ----------------------------


def _calibration_dir(folder: Path) -> tuple[Path, list[Path]]:
    folder.mkdir()
    (folder / "a_bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (folder / "b_dir.png").mkdir()
    os.mkfifo(folder / "c_fifo.jpg")
    write_bad(folder, "truncated_jpeg")  # cut.jpg
    good = []
    for i in range(3):
        path = folder / f"g{i}.png"
        Image.fromarray(red_disc_photo(64 + 8 * i, 64)).save(path)
        good.append(path)
    return folder, good


def test_calibration_images_skip_what_the_loader_refuses(tmp_path: Path) -> None:
    folder, good = _calibration_dir(tmp_path / "calib")
    with watchdog():
        picked = calibration_folder(folder, 2)
    assert picked.images == good[:2]
    assert len(picked.skipped) == 2, picked.skipped  # bomb and truncated; dir and FIFO unlisted
    assert "a_bomb.png: image is too large" in picked.skipped[0]
    assert "cut.jpg: corrupt or truncated" in picked.skipped[1]
    assert calibration_folder(folder, 2, last=True).images == good[1:]
    mixed = pick_calibration_images([folder / "b_dir.png", folder / "c_fifo.jpg", good[0]], 5)
    assert mixed.images == [good[0]]
    assert "is a directory" in mixed.skipped[0] and "is a FIFO" in mixed.skipped[1]
    with pytest.raises(ValueError, match=r"holds no usable images.*too large"):
        calibration_folder(_only_bomb(tmp_path / "bad"), 8)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        calibration_folder(good[0], 8)


def _only_bomb(folder: Path) -> Path:
    folder.mkdir()
    (folder / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (folder / "dir.png").mkdir()
    return folder


def test_default_calibration_set_reads_only_usable_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_DATASETS", str(tmp_path))
    images = tmp_path / "sod_bsds300" / "images"
    images.mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        Image.fromarray(photo_like()).save(images / name)
    (images / "zz_dir.png").mkdir()  # sorts last: once taken as an image
    (images / "zz.txt").write_text("notes")
    (images / "y_bomb.png").write_bytes(png_header_only(20_000, 20_000))
    assert [p.name for p in default_calibration_images(2)] == ["b.png", "c.png"]


def test_explicit_calibration_fifo_is_refused_not_hashed(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    fifo = tmp_path / "calib.png"
    os.mkfifo(fifo)
    with watchdog(), pytest.raises(ImageError, match="is a FIFO"):
        build_variant(tiny_model.spec, "int8-calibrated", [fifo])


def test_cli_quantize_goes_on_past_bad_calibration_files(
    tiny_model: TinyModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    folder, _ = _calibration_dir(tmp_path / "calib")
    args = ["quantize", "tiny-test", "--to", "int8-calibrated", "--calib", str(folder)]
    with watchdog(120):
        assert main([*args, "--calib-count", "2"]) == 0
    captured = capsys.readouterr()
    assert "int8-calibrated-entropy-pc" in captured.out
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2 and "a_bomb.png" in skipped[0] and "cut.jpg" in skipped[1]
    assert "Traceback" not in captured.err
    assert main(["quantize", "tiny-test", "--to", "int8-calibrated", "--calib",
                 str(_only_bomb(tmp_path / "bad"))]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no usable images" in err[0], err
    assert main([*args, "--max-pixels", "10"]) == 1
    assert "limit 10 pixels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main([*args, "--max-pixels", "lots"])
    assert usage.value.code == 2


def test_dataset_masks_go_through_the_loader(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    Image.fromarray(photo_like(40, 30)).save(root / "images" / "a.png")
    (root / "masks" / "a.png").write_bytes(png_header_only(20_000, 20_000))
    (root / "images" / "dir.png").mkdir()  # not a sample, so no "without a mask" error
    ds = load_dataset(root)
    assert [s.stem for s in ds] == ["a"]
    with pytest.raises(ImageError, match=r"a\.png: image is too large"):
        ds.samples[0].mask()
    grey = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (30, 2))[:, :40]
    Image.fromarray(grey, "L").save(root / "masks" / "a.png")
    np.testing.assert_array_equal(ds.samples[0].mask(), grey / 255.0)
    small = load_dataset(root, max_pixels=100).samples[0]
    with pytest.raises(ImageError, match="limit 100 pixels"):
        small.image()


def test_cli_bench_max_pixels_option(
    tiny_model: TinyModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(catalog, "_DEFAULT", tiny_model.registry)
    root = tmp_path / "red"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    Image.fromarray(red_disc_photo(80, 64)).save(root / "images" / "r.png")
    Image.fromarray(np.zeros((64, 80), np.uint8)).save(root / "masks" / "r.png")
    args = ["bench", "--dataset", str(root), "--model", "tiny-test", "--precisions", "fp32",
            "--runtime", "python-1"]  # fmt: skip
    assert main([*args, "--max-pixels", "1000"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "r.png: image is too large" in last
    assert "--max-pixels" in last
    assert main([*args, "--max-pixels", "6000"]) == 0
    assert "fp32\tpython-1t\tred\t1" in capsys.readouterr().out
