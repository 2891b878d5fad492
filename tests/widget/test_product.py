"""Product photos from the widgets, in the kernel (the view: tests/e2e/test_product_jupyter.py).

``BackgroundRemover.product_photo`` frames the widget's pixels and its edited mask; the
presets the view offers are a synced trait; a photo tagged Display P3 reaches the widget in
sRGB (so the kernel and the view frame the same colours); ``BatchRemover(preset=...)``
writes one product photo per image, and an empty mask is that image's error.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from segmentation.errors import ImageError
from segmentation.images import load_image
from segmentation.product.colour import to_srgb
from segmentation.product.framing import NoSubjectError
from segmentation.product.photo import make_product_photo
from segmentation.product.presets import panel_presets, resolve_preset
from segmentation.product.spec import ProductSpecError
from tests._icc import display_profile
from tests.conftest import TinyModel
from tests.tinymodel import red_square_rgba
from widget.batch.widget import BatchRemover
from widget.remover.widget import BackgroundRemover
from widget.transfer.assets import RAW_RGBA


def remover(tiny_model: TinyModel, image: Any = None) -> BackgroundRemover:
    img = red_square_rgba(120, 160, 30) if image is None else image
    return BackgroundRemover(img, tiny_model.spec, registry=tiny_model.registry, backend="kernel")


def test_product_photo_frames_the_edited_mask(tiny_model: TinyModel) -> None:
    w = remover(tiny_model)
    photo = w.product_photo("transparent")
    want = make_product_photo(w.image, w.model_mask, resolve_preset("transparent"))
    np.testing.assert_array_equal(photo.pixels, want.pixels)
    # an edit (the left half of the square removed) is what the next photo frames
    edited = w.mask.copy()
    edited[:, :80] = 0
    w.mask = edited
    narrow = w.product_photo("transparent", margin="0px")
    assert narrow.size[0] < photo.size[0] - 30
    np.testing.assert_array_equal(
        narrow.pixels,
        make_product_photo(w.image, edited, resolve_preset("transparent", margin="0px")).pixels,
    )
    assert w.product_photo(fill=0.5).size == (2000, 2000)  # the default preset: amazon
    w.mask = np.zeros_like(edited)
    with pytest.raises(NoSubjectError, match="no subject found"):
        w.product_photo("amazon")
    with pytest.raises(ProductSpecError, match="unknown preset"):
        w.product_photo("etsy")


def test_the_view_is_offered_the_presets_and_the_ones_added(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    w = remover(tiny_model)
    assert w.product_presets == panel_presets()
    bg = tmp_path / "wall.png"
    Image.new("RGB", (40, 30), (200, 180, 150)).save(bg)
    names = w.add_product_presets(
        {
            "etsy": {"extends": "shopify", "canvas": [270, 200], "fill": 0.8},
            "etsy-grey": {"extends": "etsy", "background": "#eeeeee", "format": "png"},
            "on-wall": {"extends": "amazon", "background_image": str(bg), "canvas": [90, 60]},
        }
    )
    # a background image lives in the kernel's files: offered to product_photo, not the view
    assert names == ["amazon", "shopify", "transparent", "etsy", "etsy-grey"]
    grey = next(p for p in w.product_presets if p["name"] == "etsy-grey")
    assert grey["spec"]["canvas"] == [270, 200] and grey["spec"]["format"] == "png"
    assert w.product_photo("etsy-grey").size == (270, 200)
    assert w.product_photo("on-wall").pixels[3, 3, :3].tolist() == [200, 180, 150]
    with pytest.raises(ProductSpecError, match="'bad'"):
        w.add_product_presets({"bad": {"extends": "amazon", "margin": "60%", "fill": None}})
    assert [p["name"] for p in w.product_presets] == names  # nothing half-added


def test_a_display_p3_photo_reaches_the_widget_in_srgb(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    img = red_square_rgba(120, 160, 30)[..., :3].copy()
    img[30:90, 30:130] = (200, 60, 50)
    path = tmp_path / "phone.png"
    Image.fromarray(img).save(path, icc_profile=display_profile())
    loaded = load_image(path)
    srgb = to_srgb(loaded).pixels
    assert not np.array_equal(srgb, loaded.pixels)  # the profile changes the colours
    w = remover(tiny_model, path)
    # the view gets the converted pixels (raw RGBA), not the file it would decode unconverted
    assert w._image_asset.mime == RAW_RGBA
    np.testing.assert_array_equal(w.image, srgb)
    photo = w.product_photo("transparent")
    np.testing.assert_array_equal(
        photo.pixels, make_product_photo(loaded, w.mask, resolve_preset("transparent")).pixels
    )


def test_batch_writes_a_product_photo_per_image(tiny_model: TinyModel, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(red_square_rgba(90, 120, 20)[..., :3]).save(src / "mug.png")
    Image.fromarray(np.full((60, 80, 3), 128, np.uint8)).save(src / "empty.png")
    images: list[Any] = [src / "mug.png", src / "empty.png", red_square_rgba(70, 70, 15)]
    out = tmp_path / "out"
    b = BatchRemover(
        images,
        tiny_model.spec,
        registry=tiny_model.registry,
        backend="kernel",
        out_dir=out,
        preset={"extends": "amazon", "name": "shop", "canvas": [200, 150], "format": "png"},
    )
    assert b.wait().source == "kernel"
    paths = b.product_paths
    assert paths[0] == out / "0000-mug-shop.png" and paths[2] == out / "0002-shop.png"
    assert paths[1] is None and not list(out.glob("0001-empty-shop*"))
    assert b.errors[1] == "image 1: no subject found (the mask is empty), no product photo"
    assert b.errors[0] == b.errors[2] == "" and b.mask_paths[1] is not None  # its mask is kept
    mask0 = np.asarray(Image.open(b.mask_paths[0]))  # type: ignore[arg-type]
    want = make_product_photo(load_image(src / "mug.png"), mask0, resolve_preset(
        {"extends": "amazon", "name": "shop", "canvas": [200, 150], "format": "png"}))  # fmt: skip
    got = np.asarray(Image.open(paths[0]).convert("RGBA"))
    np.testing.assert_array_equal(got, want.pixels)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"preset": "etsy"}, ProductSpecError, "unknown preset"),
        ({"preset": "amazon", "out_dir": None}, ValueError, "needs out_dir"),
        (
            {"preset": {"extends": "amazon", "margin": "-1%", "fill": None}},
            ProductSpecError,
            "margin",
        ),
        ({"preset": {"extends": "amazon", "canvas": [16000, 16000]}}, ProductSpecError, "pixel"),
        ({"preset": {"extends": "amazon", "background_image": "BG"}}, ImageError, "background"),
    ],
)
def test_a_bad_batch_preset_fails_before_any_work(
    tiny_model: TinyModel, tmp_path: Path, kwargs: dict, error: type, message: str
) -> None:
    bad_bg = tmp_path / "bg.png"
    bad_bg.write_bytes(b"not an image")
    preset = kwargs.get("preset")
    if isinstance(preset, dict) and preset.get("background_image") == "BG":
        kwargs = {**kwargs, "preset": {**preset, "background_image": str(bad_bg)}}
    out = tmp_path / "out"
    args: dict[str, Any] = {"out_dir": out, **kwargs}
    with pytest.raises(error, match=message) as caught:
        BatchRemover([io.BytesIO()], tiny_model.spec, registry=tiny_model.registry, **args)
    assert "\n" not in str(caught.value) and not out.exists()  # one line, nothing made
