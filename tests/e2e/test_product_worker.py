"""The product step in the engine's real worker (real Chromium), against numpy.

A standalone page (``js/test/page/product-page.ts``) starts the widget's engine worker,
runs the tiny model on a served photo, then the ``product`` request, per preset, with and
without shadow; the kernel computes the same mask with onnxruntime and the same step with
numpy. They must agree within one level on at least 99.9 % of the pixels (they agree bit
for bit). One IS-Net case (marked ``isnet``) feeds the kernel's IS-Net mask of a real
photo to the worker's step.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from segmentation.images import load_image
from segmentation.product.compose import product_pixels
from segmentation.product.presets import resolve_preset
from segmentation.product.spec import ProductSpec
from segmentation.session import Segmenter
from segmentation.store import ensure_wrapped
from tests.conftest import TinyModel
from widget.testing.pages import ESBUILD, ROOT, serve

PAGE = ROOT / "js" / "test" / "page"
WASM = ROOT / "widget" / "static" / "ort-wasm-simd-threaded.wasm"

SPECS: list[tuple[str, dict[str, Any]]] = [
    ("amazon", {"canvas": [320, 320]}),
    ("amazon", {"canvas": [320, 320], "shadow": True}),
    ("shopify", {"canvas": [300, 360]}),  # its shadow is on
    ("shopify", {"canvas": [300, 360], "shadow": None}),
    ("transparent", {}),
    ("transparent", {"shadow": {"offset_x": 2, "offset_y": 3, "blur": 4, "opacity": 0.5}}),
]


def photo(h: int = 180, w: int = 240) -> np.ndarray:
    """A red bottle-ish shape with a soft edge over a green-blue gradient (the tiny model's red)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 4), np.uint8)
    img[..., 0] = 40 + 30 * yy / h
    img[..., 1] = 120 + 80 * xx / w
    img[..., 2] = 160
    img[..., 3] = 255
    inside = np.clip(1.2 - np.hypot((xx - w * 0.55) / 60, (yy - h * 0.5) / 45), 0, 1)
    a = np.clip(inside * 3, 0, 1)[..., None]
    img[..., :3] = (a * (220, 30, 30) + (1 - a) * img[..., :3]).astype(np.uint8)
    return img


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The page, the engine worker inlined as the widget inlines it, and a folder to serve."""
    if not ESBUILD.exists() or not WASM.exists():
        pytest.fail("run `bash scripts/setup.sh` (js/node_modules and widget/static are needed)")
    out = tmp_path_factory.mktemp("product-page")
    common = ["--bundle", "--format=esm", "--target=es2022", "--log-level=warning"]
    worker = out / "worker.txt"
    subprocess.run([str(ESBUILD), str(ROOT / "js/src/engine/worker-wasm.ts"), *common,
                    f"--outfile={worker}"], check=True)  # fmt: skip
    subprocess.run([str(ESBUILD), str(PAGE / "product-page.ts"), *common,
                    f"--alias:virtual:worker-source={worker}", "--loader:.txt=text",
                    f"--outfile={out / 'product-page.js'}"], check=True)  # fmt: skip
    shutil.copy(PAGE / "product.html", out / "index.html")
    shutil.copy(WASM, out / "ort.wasm")
    with serve(out) as base:
        yield base, out


def serve_file(folder: Path, name: str, data: bytes) -> dict[str, str]:
    (folder / name).write_bytes(data)
    return {"url": f"/{name}", "sha256": hashlib.sha256(data).hexdigest()}


def open_page(page: Page, base: str) -> None:
    page.goto(f"{base}/index.html")
    page.wait_for_function("document.body.dataset.ready === '1'")


def unpack(out: dict[str, Any]) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(out["pixels"]), np.uint8)
    return raw.reshape(out["height"], out["width"], 4)


def agree(browser: np.ndarray, kernel: np.ndarray) -> None:
    assert browser.shape == kernel.shape
    close = (np.abs(browser.astype(int) - kernel).max(axis=2) <= 1).mean()
    assert close >= 0.999, close
    np.testing.assert_array_equal(browser, kernel)  # what the two sides give in practice


def check_encoded(out: dict[str, Any], pixels: np.ndarray, spec: ProductSpec) -> None:
    data = base64.b64decode(out["encoded"])
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[spec.format]
        back = np.asarray(im.convert("RGBA"))
    if spec.format == "png":
        np.testing.assert_array_equal(back, pixels)  # our own encoder: exact
    else:
        assert np.abs(back.astype(int) - pixels).mean() < 3  # the browser's lossy encoder


def segment_in_page(
    page: Page, site: tuple[str, Path], tiny_model: TinyModel
) -> tuple[np.ndarray, bytes, dict[str, Any]]:
    """Load the tiny model in the test page and segment :func:`photo` sent as a PNG.

    Returns the photo, its PNG bytes and what the page's ``segment`` returned.
    """
    base, folder = site
    model = ensure_wrapped(tiny_model.spec, registry=tiny_model.registry)
    img = photo()
    buf = io.BytesIO()
    Image.fromarray(img[..., :3]).save(buf, format="PNG")
    open_page(page, base)
    page.evaluate(
        "([w, m]) => window.__product.load(w, m)",
        [serve_file(folder, "ort.wasm", WASM.read_bytes()),
         serve_file(folder, "model.onnx", model.read_bytes())],
    )  # fmt: skip
    image = serve_file(folder, "photo.png", buf.getvalue()) | {
        "mime": "image/png", "width": img.shape[1], "height": img.shape[0]}  # fmt: skip
    return img, buf.getvalue(), page.evaluate("(i) => window.__product.segment(i)", image)


def test_worker_product_equals_numpy_per_preset_with_and_without_shadow(
    page: Page, site: tuple[str, Path], tiny_model: TinyModel
) -> None:
    img, png, shot = segment_in_page(page, site, tiny_model)
    pixels = np.frombuffer(base64.b64decode(shot["pixels"]), np.uint8).reshape(img.shape)
    mask = np.frombuffer(base64.b64decode(shot["mask"]), np.uint8).reshape(img.shape[:2])
    np.testing.assert_array_equal(pixels, load_image(png).pixels)
    seg = Segmenter(tiny_model.spec.name, registry=tiny_model.registry)
    np.testing.assert_array_equal(mask, seg.run_pixels(pixels))
    assert 0 < (mask >= 128).mean() < 0.5  # the model found the red shape, not everything
    for preset, overrides in SPECS:
        spec = resolve_preset(preset, **overrides)
        out = page.evaluate("(s) => window.__product.product(s, {})", spec.to_dict())
        want = product_pixels(pixels, mask, spec)
        agree(unpack(out), want.pixels)
        assert abs(out["fill"] - want.fill) < 1e-12 and out["box"] == list(want.frame.box)
        check_encoded(out, want.pixels, spec)
    bad = resolve_preset("amazon").to_dict() | {"margin": "60%", "fill": None}
    with pytest.raises(Exception, match="below 50% of the subject"):
        page.evaluate("(s) => window.__product.product(s, {})", bad)


def test_worker_product_with_a_background_image(page: Page, site: tuple[str, Path]) -> None:
    base, folder = site
    img = photo(120, 150)
    mask = np.asarray(Image.fromarray(img[..., 0]).point(lambda v: 255 if v > 150 else 0))
    bg = photo(90, 70)[::-1].copy()
    spec = resolve_preset("shopify", canvas=[200, 150], background_fit="contain",
                          background="#223344", shadow=True)  # fmt: skip
    open_page(page, base)
    serve_file(folder, "p.raw", img.tobytes())
    serve_file(folder, "m.raw", np.ascontiguousarray(mask, np.uint8).tobytes())
    serve_file(folder, "bg.raw", bg.tobytes())
    source = {"pixels": "/p.raw", "mask": "/m.raw", "width": 150, "height": 120,
              "background": {"url": "/bg.raw", "width": 70, "height": 90}}  # fmt: skip
    out = page.evaluate("([s, src]) => window.__product.product(s, src)", [spec.to_dict(), source])
    want = product_pixels(img, np.ascontiguousarray(mask, np.uint8), spec, background=bg)
    agree(unpack(out), want.pixels)


@pytest.mark.isnet
def test_worker_product_on_an_isnet_photo(page: Page, site: tuple[str, Path]) -> None:
    import skimage.data

    base, folder = site
    rgba = load_image(skimage.data.chelsea()).pixels
    mask = Segmenter().mask(rgba)
    h, w = mask.shape
    open_page(page, base)
    serve_file(folder, "p.raw", rgba.tobytes())
    serve_file(folder, "m.raw", mask.tobytes())
    cases = [(p, {"shadow": shadow} | ({"canvas": [400, 400]} if p != "transparent" else {}))
             for p in ("amazon", "shopify", "transparent") for shadow in (True, None)]  # fmt: skip
    for preset, overrides in cases:
        spec = resolve_preset(preset, **overrides)
        source = {"pixels": "/p.raw", "mask": "/m.raw", "width": w, "height": h, "encode": False}
        out = page.evaluate("([s, src]) => window.__product.product(s, src)",
                            [spec.to_dict(), source])  # fmt: skip
        agree(unpack(out), product_pixels(rgba, mask, spec).pixels)


def test_export_panel_previews_each_preset_and_downloads_the_file(
    page: Page, site: tuple[str, Path], tiny_model: TinyModel
) -> None:
    img, png, shot = segment_in_page(page, site, tiny_model)
    mask = np.frombuffer(base64.b64decode(shot["mask"]), np.uint8).reshape(img.shape[:2])
    pixels = load_image(png).pixels
    amazon = resolve_preset("amazon", canvas=[300, 240])
    clear = resolve_preset("transparent")
    presets = [{"name": "amazon", "spec": amazon.to_dict(), "note": "white, 85 %"},
               {"name": "transparent", "spec": clear.to_dict()}]  # fmt: skip
    page.evaluate("(p) => window.__product.panel(p)", presets)
    panel = page.locator(".pl-product")
    page.wait_for_function("document.querySelector('.pl-product').dataset.state === 'ready'")
    assert (panel.get_attribute("data-width"), panel.get_attribute("data-height")) == ("300", "240")
    assert "fills 85.0 %" in page.locator(".pl-product-status").inner_text()
    corner = page.evaluate(
        "Array.from(document.querySelector('.pl-product-preview').getContext('2d')"
        ".getImageData(0, 0, 1, 1).data)"
    )
    assert corner == [255, 255, 255, 255]  # the white of the amazon preset
    page.locator("[data-name=product-preset]").select_option("transparent")
    page.wait_for_function(
        "(() => { const d = document.querySelector('.pl-product').dataset;"
        " return d.state === 'ready' && d.preset === 'transparent'; })()"
    )
    with page.expect_download() as info:
        page.locator("[data-name=product-download]").click()
    download = info.value
    assert download.suggested_filename == "photo-transparent.png"
    data = Path(download.path()).read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        got = np.asarray(im.convert("RGBA"))
    np.testing.assert_array_equal(got, product_pixels(pixels, mask, clear).pixels)
