"""The widget's export panel in real JupyterLab + Chromium, against ``w.product_photo``.

The view runs the tiny model, mounts the editor and, folded under it, the product-photo
panel; opened, the panel runs the product step in the page's engine worker on the view's
pixels and the editor's mask. The file it offers for download must hold the pixels the
kernel's ``w.product_photo(preset)`` makes (within one level on 99.9 % of the pixels; in
practice bit for bit), for a built-in preset and one added from Python, and again after
the mask was edited.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from tests.e2e.conftest import NotebookFactory
from widget.testing.notebook import Notebook

SETUP = """\
import base64, numpy as np, widget
from tests.tinymodel import build_tiny_model
_, spec = build_tiny_model({tmp!r})
h, w_ = 150, 200
yy, xx = np.mgrid[0:h, 0:w_].astype(np.float64)
img = np.empty((h, w_, 4), np.uint8)
img[..., 0], img[..., 1], img[..., 2], img[..., 3] = 40 + 30 * yy / h, 120 + 80 * xx / w_, 160, 255
inside = np.clip(1.2 - np.hypot((xx - 110) / 50, (yy - 75) / 40), 0, 1)
a = np.clip(inside * 3, 0, 1)[..., None]  # a red shape with a soft edge: decontamination works
img[..., :3] = (a * (220, 30, 30) + (1 - a) * img[..., :3]).astype(np.uint8)
def photo_b64(name):
    p = w.product_photo(name).pixels
    return [p.shape[0], p.shape[1], base64.b64encode(p.tobytes()).decode()]
"""
MAKE = """\
w = widget.BackgroundRemover(img, spec)
w.add_product_presets({"white-png": {"extends": "shopify", "canvas": [240, 200], "format": "png"}})
w"""

PANEL = ".pl-product"


def downloaded(nb: Notebook) -> np.ndarray:
    """The panel's download, fetched from its blob URL and decoded (RGBA)."""
    data = nb.page.evaluate(
        """async () => {
          const a = document.querySelector('[data-name="product-download"]');
          const buf = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
          let s = "";
          for (let i = 0; i < buf.length; i += 0x8000)
            s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
          return btoa(s);
        }"""
    )
    with Image.open(io.BytesIO(base64.b64decode(data))) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGBA"))


def kernel_photo(nb: Notebook, name: str) -> np.ndarray:
    h, w, data = nb.kernel_eval(f"photo_b64({name!r})")
    return np.frombuffer(base64.b64decode(data), np.uint8).reshape(h, w, 4)


def choose(nb: Notebook, name: str, rev: int = 0) -> None:
    nb.page.locator('[data-name="product-preset"]').select_option(name)
    ready = f"{PANEL}[data-state='ready'][data-preset='{name}'][data-rev='{rev}']"
    nb.page.locator(ready).wait_for(state="attached", timeout=60_000)


def same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    assert (np.abs(got.astype(int) - want).max(axis=2) <= 1).mean() >= 0.999
    np.testing.assert_array_equal(got, want)  # in practice: bit for bit


def test_export_panel_downloads_what_product_photo_makes(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook([SETUP.format(tmp=str(tmp_path)), MAKE])
    nb.run_all()
    page = nb.page
    page.locator(".ple-root[data-ready='1']").wait_for(state="visible", timeout=120_000)
    opener = page.locator('[data-name="product-open"]')
    assert page.locator(PANEL).count() == 0  # folded: nothing ran yet
    opener.click()
    options = page.locator('[data-name="product-preset"] option').all_inner_texts()
    assert options == ["amazon", "shopify", "transparent", "white-png"]

    choose(nb, "transparent")
    assert nb.kernel_eval("w.backend_used") == "browser"  # the view's own mask and pixels
    first = downloaded(nb)
    same(first, kernel_photo(nb, "transparent"))
    choose(nb, "white-png")
    white = downloaded(nb)
    assert white.shape == (200, 240, 4) and (white[..., 3] == 255).all()
    same(white, kernel_photo(nb, "white-png"))

    # an edit (the right part of the shape cut away) reaches the panel through the editor
    nb.execute("m = w.mask.copy(); m[:, 130:] = 0; w.mask = m")
    rev = nb.kernel_eval("w.edit_rev")
    page.locator(f"{PANEL}[data-state='ready'][data-rev='{rev}']").wait_for(
        state="attached", timeout=60_000
    )
    choose(nb, "transparent", rev)
    narrow = downloaded(nb)
    same(narrow, kernel_photo(nb, "transparent"))
    assert narrow.shape[1] < first.shape[1] - 20
    nb.screenshot("product-export-panel")
