"""Dataset folders: pairing by stem, subsets, lazy shrinking, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.cli.main import main
from segmentation.errors import ImageError
from segmentation.evaluation.datasets import load_dataset
from tests._images import photo_like, png_header_only, red_dataset


def _make(root: Path, stems: list[str], mask_stems: list[str] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, s in enumerate(stems):
        Image.fromarray(np.full((30, 40, 3), i * 10, np.uint8)).save(root / "images" / f"{s}.jpg")
    for s in mask_stems if mask_stems is not None else stems:
        m = np.zeros((30, 40), np.uint8)
        m[5:25, 10:30] = 255
        m[5:25, 10] = 128  # a soft edge
        Image.fromarray(m).save(root / "masks" / f"{s}.png")
    return root


def test_pairs_subset_and_lazy_loading(tmp_path: Path) -> None:
    root = _make(tmp_path / "ds", [f"im{i:02d}" for i in range(10)])
    (root / "SOURCE.txt").write_text("made by a test")
    ds = load_dataset(root)
    assert len(ds) == 10 and ds.name == "ds" and ds.source == "made by a test"
    assert [s.stem for s in load_dataset(root, every=3)] == ["im00", "im03", "im06", "im09"]
    assert [s.stem for s in load_dataset(root, every=3, limit=2)] == ["im00", "im03"]
    assert [s.stem for s in ds.subset(limit=3)] == ["im00", "im01", "im02"]
    sample = ds.samples[1]
    img = sample.image()
    assert img.shape == (30, 40, 4) and img.dtype == np.uint8
    mask = sample.mask()
    assert mask.shape == (30, 40) and mask.max() == 1.0
    assert mask[10, 10] == pytest.approx(128 / 255)
    small = load_dataset(root, max_side=20).samples[0]
    assert max(small.image().shape[:2]) == 20
    assert small.mask((15, 20)).shape == (15, 20)


def test_named_datasets_resolve_under_the_datasets_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_DATASETS", str(tmp_path))
    _make(tmp_path / "sod_bsds300", ["a", "b"])
    assert len(load_dataset("sod_bsds300")) == 2
    with pytest.raises(FileNotFoundError, match="icm58_objects"):
        load_dataset("icm58_objects")


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "noimages" / "masks").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no images/ folder"):
        load_dataset(tmp_path / "noimages")
    root = _make(tmp_path / "bad", ["a", "b", "c"], mask_stems=["a", "b", "z"])
    with pytest.raises(
        ValueError, match=r"1 image\(s\) without a mask \[c\].*1 mask\(s\) without an image \[z\]"
    ):
        load_dataset(root)
    empty = _make(tmp_path / "empty", [])
    with pytest.raises(ValueError, match="no image/mask pairs"):
        load_dataset(empty)
    with pytest.raises(ValueError, match="every"):
        load_dataset(_make(tmp_path / "ok", ["a"]), every=0)


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


@pytest.mark.usefixtures("private_cache")
def test_dataset_pairs_masks_by_name_or_says_which_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = red_dataset(tmp_path / "red", 3)
    (root / "masks" / "r1.png").rename(root / "masks" / "r1_mask.png")
    (root / "masks" / "r2.png").rename(root / "masks" / "r2.mask.png")
    ds = load_dataset(root)
    assert [(s.stem, s.mask_path.name) for s in ds] == [
        ("r0", "r0.png"), ("r1", "r1_mask.png"), ("r2", "r2.mask.png")]  # fmt: skip
    (root / "masks" / "r2.mask.png").rename(root / "masks" / "other.png")
    assert main(["bench", "--dataset", str(root), "--runtime", "python-1"]) == 1
    err = capsys.readouterr().err.strip()
    assert "do not pair up" in err and "1 image(s) without a mask [r2]" in err, err
    assert "1 mask(s) without an image [other]" in err and "\n" not in err
