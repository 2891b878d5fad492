"""Calibration images go through the one image loader: what it refuses is skipped and named.

Real files: a real FIFO (under a real SIGALRM watchdog), a decompression-bomb header, a
truncated JPEG; the command line runs in this process (``main([...])``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from segmentation.cli.main import main
from segmentation.conversion.calibration import calibration_folder, pick_calibration_images
from segmentation.errors import ImageError
from segmentation.evaluation.variants import build_variant, default_calibration_images
from segmentation.models import registry as catalog
from tests._images import photo_like, png_header_only, red_disc_photo, write_bad
from tests._watchdog import watchdog
from tests.conftest import TinyModel


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
