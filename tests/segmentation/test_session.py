"""Segmenter: the tiny model for the API, the real ISNet (fp32/fp16/int8) on real photos.

Measured on grace_hopper.jpg (600x512): foreground fraction 0.579 for all three
precisions; IoU (mask > 127) fp16 vs fp32 = 1.000, int8 vs fp32 = 0.9986. The
bounds below leave margin for other onnxruntime builds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segmentation.errors import ImageError, UnknownModelError
from segmentation.evaluation.metrics import iou as metrics_iou
from segmentation.image_batch import Result
from segmentation.images import (
    load_image,
)
from segmentation.session import Segmenter, get_segmenter
from tests._images import red_disc_photo, write_bad, write_exif_rotated
from tests.conftest import TinyModel

FP16_VS_FP32_MIN_IOU = 0.99
INT8_VS_FP32_MIN_IOU = 0.97


def red_square(width: int = 120, height: int = 90) -> np.ndarray:
    rgb = np.full((height, width, 3), 128, np.uint8)
    rgb[20:70, 30:90] = (220, 10, 10)
    return rgb


@pytest.fixture
def tiny_segmenter(tiny_model) -> Segmenter:
    return Segmenter(tiny_model.spec.name, tiny_model.spec.precision, registry=tiny_model.registry)


def test_mask_and_timings(tiny_segmenter: Segmenter) -> None:
    mask = tiny_segmenter.mask(red_square())
    assert mask.dtype == np.uint8 and mask.shape == (90, 120)
    assert mask[30:60, 40:80].min() > 200 and mask[:10].max() < 30
    assert set(tiny_segmenter.last_timings) == {"decode", "inference", "total"}
    assert tiny_segmenter.last_timings["total"] >= tiny_segmenter.last_timings["inference"] > 0


def test_run_pixels_is_exact_and_validated(tiny_segmenter: Segmenter) -> None:
    rgba = np.dstack([red_square(), np.full((90, 120), 255, np.uint8)])
    np.testing.assert_array_equal(tiny_segmenter.run_pixels(rgba), tiny_segmenter.mask(rgba))
    with pytest.raises(ImageError, match=r"uint8 \[H, W, 4\]"):
        tiny_segmenter.run_pixels(red_square())
    with pytest.raises(ImageError, match="zero size"):
        tiny_segmenter.run_pixels(np.zeros((0, 4, 4), np.uint8))


def test_cutout_backgrounds(tiny_segmenter: Segmenter, tmp_path: Path) -> None:
    cut = tiny_segmenter.cutout(red_square())
    assert cut.mode == "RGBA" and cut.size == (120, 90)
    alpha = np.asarray(cut)[..., 3]
    np.testing.assert_array_equal(alpha, tiny_segmenter.mask(red_square()))
    on_blue = np.asarray(tiny_segmenter.cutout(red_square(), background="#0000ff"))
    assert (on_blue[..., 3] == 255).all()
    assert tuple(on_blue[2, 2, :3]) == (0, 0, 255) and on_blue[45, 60, 0] > 200
    on_tuple = np.asarray(tiny_segmenter.cutout(red_square(), background=(0, 255, 0)))
    assert tuple(on_tuple[2, 2, :3]) == (0, 255, 0)
    bg = tmp_path / "bg.png"
    Image.new("RGB", (40, 10), (250, 250, 0)).save(bg)  # other aspect: covered and cropped
    on_image = np.asarray(tiny_segmenter.cutout(red_square(), background=bg))
    assert on_image.shape == (90, 120, 4) and tuple(on_image[2, 2, :3]) == (250, 250, 0)
    with pytest.raises(ImageError, match="neither a colour nor an existing image file"):
        tiny_segmenter.cutout(red_square(), background=str(tmp_path / "nothing.png"))
    with pytest.raises(ImageError, match="no such file"):
        tiny_segmenter.cutout(red_square(), background=tmp_path / "nothing.png")
    with pytest.raises(ImageError, match="must be 3 or 4 integers"):
        tiny_segmenter.cutout(red_square(), background=(1, 2))  # type: ignore[arg-type]


def test_map_goes_on_past_bad_files(tiny_segmenter: Segmenter, tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(red_square()).save(good)
    bad, _ = write_bad(tmp_path, "truncated_png")
    results = tiny_segmenter.map([good, bad, red_square(), b"nope"], progress=False)
    assert [r.ok for r in results] == [True, False, True, False]
    assert all(isinstance(r, Result) and r.seconds >= 0 for r in results)
    assert results[0].source == str(good) and results[0].mask is not None
    assert str(bad) in (results[1].error or "") and results[1].mask is None
    assert results[2].source == "<ndarray #2>"
    assert "<bytes #3>: not an image" in (results[3].error or "")
    with pytest.raises(ImageError, match="truncated"):
        tiny_segmenter.map([good, bad], progress=False, on_error="raise")
    with pytest.raises(ValueError, match="on_error"):
        tiny_segmenter.map([good], progress=False, on_error="ignore")  # type: ignore[arg-type]


def test_exif_mask_has_upright_size(tiny_segmenter: Segmenter, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated: upright = stored turned 90 degrees
    path = tmp_path / "rot.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(red_square(), -1))).save(path, exif=exif)
    mask = tiny_segmenter.mask(path)
    assert mask.shape == (90, 120)
    np.testing.assert_array_equal(mask, tiny_segmenter.mask(red_square()))


def test_bad_settings(tiny_model) -> None:
    reg = tiny_model.registry
    with pytest.raises(UnknownModelError, match="known models: tiny-test"):
        Segmenter("nope", registry=reg)
    for bad in (0, 48, -32, 2080, (64, 50), (64,), 64.0, True):
        with pytest.raises(ValueError, match="multiples of 32 from 32 to 2048"):
            Segmenter("tiny-test", "fp32", resolution=bad, registry=reg)  # type: ignore[arg-type]
    assert Segmenter("tiny-test", "fp32", resolution=(64, 64), registry=reg).resolution == (64, 64)
    assert Segmenter("tiny-test", "fp32", resolution=96, registry=reg).resolution == (96, 96)
    with pytest.raises(ValueError, match="threads"):
        Segmenter("tiny-test", "fp32", threads=0, registry=reg)


# --- the real ISNet ------------------------------------------------------------------------


def iou(a: np.ndarray, b: np.ndarray) -> float:
    fa, fb = a > 127, b > 127
    return float((fa & fb).sum() / max((fa | fb).sum(), 1))


@pytest.fixture(scope="module")
def grace() -> Path:
    from matplotlib import cbook

    return Path(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))


@pytest.fixture(scope="module")
def isnet_masks(grace: Path) -> dict[str, np.ndarray]:
    out = {}
    for precision in ("fp32", "fp16", "int8", "int8-static"):
        out[precision] = get_segmenter("isnet-general-use", precision).mask(grace)
    return out


@pytest.mark.isnet
def test_isnet_grace_hopper_is_sane(isnet_masks: dict[str, np.ndarray]) -> None:
    for precision, mask in isnet_masks.items():
        assert mask.shape == (600, 512) and mask.dtype == np.uint8, precision
        fg = float((mask > 127).mean())
        assert 0.50 < fg < 0.66, f"{precision}: foreground fraction {fg:.3f}"
        assert (mask == 0).any() and (mask == 255).any(), precision
        assert mask[:40, :40].max() < 30 and mask[:40, -40:].max() < 30, "top corners: background"
        assert mask[200:300, 200:320].min() > 200, "face: foreground"
        assert mask[420:560, 150:400].min() > 200, "jacket: foreground"
        assert mask[-20:, 200:300].min() > 200, "the body reaches the bottom edge"


@pytest.mark.isnet
def test_isnet_precisions_agree(isnet_masks: dict[str, np.ndarray]) -> None:
    assert iou(isnet_masks["fp16"], isnet_masks["fp32"]) >= FP16_VS_FP32_MIN_IOU
    assert iou(isnet_masks["int8"], isnet_masks["fp32"]) >= INT8_VS_FP32_MIN_IOU
    assert iou(isnet_masks["int8-static"], isnet_masks["fp32"]) >= INT8_VS_FP32_MIN_IOU


@pytest.mark.isnet
def test_isnet_exif_rotated_photo(
    grace: Path, isnet_masks: dict[str, np.ndarray], tmp_path: Path
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display": store it turned the other way
    path = tmp_path / "sideways.png"
    Image.open(grace).transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    seg = get_segmenter("isnet-general-use", "fp16")
    mask = seg.mask(path)
    assert mask.shape == (600, 512)
    assert iou(mask, isnet_masks["fp16"]) > 0.999
    assert get_segmenter("isnet-general-use", "fp16") is seg, "one session per process"


@pytest.mark.isnet
def test_default_precision_shares_the_session(isnet_masks: dict[str, np.ndarray]) -> None:
    default = get_segmenter("isnet-general-use")
    assert default.spec.precision == "int8-static"
    assert get_segmenter("isnet-general-use", "int8-static") is default


def test_resolution_changes_the_model_input_not_the_mask_size(tiny_model) -> None:
    seg = Segmenter("tiny-test", "fp32", registry=tiny_model.registry)
    rgba = np.zeros((90, 120, 4), np.uint8)
    rgba[..., :3] = 128
    rgba[..., 3] = 255
    rgba[30:60, 40:80, :3] = (220, 30, 30)
    default = seg.run_pixels(rgba)
    assert np.array_equal(default, seg.run_pixels(rgba, (64, 64)))  # the spec's size
    for res in (32, (96, 128), 256):
        mask = seg.run_pixels(rgba, res)
        assert mask.shape == (90, 120)
        assert mask[38:52, 48:72].min() > 200 and mask[:20].max() < 40
        assert (
            Segmenter("tiny-test", registry=tiny_model.registry, resolution=res)
            .run_pixels(rgba)
            .tobytes()
            == mask.tobytes()
        )
    assert not np.array_equal(seg.run_pixels(rgba, 32), default), "a coarser input changes it"


# --- big photos: reduced decode for the model, mask at full size ------------------------


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
    assert metrics_iou(got, want) > 0.97, "the reduced decode barely changes the mask"
    assert not np.array_equal(got, want), "the reduced path really ran"
    cut = big.cutout(photo)
    assert cut.size == (1600, 1200)
    np.testing.assert_array_equal(np.asarray(cut)[..., 3], got)
    np.testing.assert_array_equal(np.asarray(cut)[..., :3], load_image(photo).pixels[..., :3])
    loaded = load_image(photo)  # an in-memory image above the threshold: box-reduced
    assert big.mask(loaded).shape == (1200, 1600)
    assert metrics_iou(big.mask(loaded), want) > 0.97
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
