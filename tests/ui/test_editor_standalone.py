"""The mask editor in a plain Chromium page: mouse and keyboard edits, checked in Python.

Every edit the page emits is replayed with :mod:`segmentation.maskops`; the tests assert the
replayed mask against geometry computed here, and that it equals the browser's bit for bit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from segmentation import maskops
from tests.ui.editor_support import (
    ARTIFACTS,
    build_page,
    capsule,
    edits,
    open_editor,
    page_mask,
    serve,
    set_input,
    stroke,
    to_client,
)

W, H = 600, 400


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(build_page(tmp_path_factory.mktemp("editor-page"))) as base:
        yield base


@pytest.fixture
def editor(page: Page, site: str) -> Page:
    open_editor(page, site, W, H)
    return page


def python_mask(page: Page) -> np.ndarray:
    """``w.mask`` as the kernel would compute it: the emitted log replayed on the model mask."""
    e = edits(page)
    return maskops.replay(page_mask(page, "model"), e["log"][: e["cursor"]])


def shot(page: Page, name: str) -> np.ndarray:
    """Screenshot the editor's canvas into test-artifacts/editor/NAME.png; return its pixels."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.mouse.move(1, 1)  # away from the canvas: no brush cursor in the picture
    page.mouse.move(0, 0)
    page.wait_for_timeout(100)  # one animation frame at least
    box = page.locator(".ple-stage canvas").bounding_box()
    assert box is not None
    clip = {"x": round(box["x"]), "y": round(box["y"])}
    clip |= {"width": round(box["width"]), "height": round(box["height"])}
    page.screenshot(path=str(path), clip=clip)  # type: ignore[arg-type]
    return np.asarray(Image.open(path).convert("RGB"))


def test_brush_stroke_changes_exactly_its_capsule(editor: Page) -> None:
    model = page_mask(editor, "model")
    set_input(editor, "radius", "12")
    set_input(editor, "hardness", "1")
    a, b = (60.0, 40.0), (300.0, 40.0)  # across the sky, above both objects
    stroke(editor, [a, b])
    e = edits(editor)
    assert e["cursor"] == 1 and e["log"][0]["op"] == "brush" and e["log"][0]["mode"] == "add"
    assert e["log"][0]["radius"] == 12 and e["log"][0]["hardness"] == 1
    assert e["log"][0]["points"][:2] == list(a) and e["log"][0]["points"][-2:] == list(b)
    mask = python_mask(editor)
    expected = capsule(H, W, a, b, 12)
    np.testing.assert_array_equal(mask != model, expected & (model < 255))
    assert (mask[expected] == 255).all()
    np.testing.assert_array_equal(page_mask(editor), mask)  # browser == kernel, bit for bit


def test_erase_then_undo_restores_bit_for_bit(editor: Page) -> None:
    model = page_mask(editor, "model")
    set_input(editor, "radius", "10")
    set_input(editor, "hardness", "1")
    editor.locator('[data-name="tool-erase"]').click()
    a, b = (120.0, 200.0), (240.0, 200.0)  # through object A (the disc)
    stroke(editor, [a, b])
    mask = python_mask(editor)
    expected = capsule(H, W, a, b, 10)
    np.testing.assert_array_equal(mask != model, expected & (model > 0))
    assert (mask[expected] == 0).all()
    before = page_mask(editor).copy()
    stroke(editor, [(150.0, 260.0), (200.0, 150.0)])
    assert edits(editor)["cursor"] == 2 and not np.array_equal(page_mask(editor), before)
    editor.locator(".ple-root").focus()
    editor.keyboard.press("Control+z")
    editor.wait_for_function("window.__edits.cursor === 1")
    np.testing.assert_array_equal(page_mask(editor), before)
    np.testing.assert_array_equal(python_mask(editor), before)
    editor.keyboard.press("Control+Shift+z")
    editor.wait_for_function("window.__edits.cursor === 2")
    editor.locator('[data-name="undo"]').click()
    editor.locator('[data-name="undo"]').click()
    editor.wait_for_function("window.__edits.cursor === 0")
    np.testing.assert_array_equal(page_mask(editor), model)


def test_click_to_keep_removes_the_second_object(editor: Page) -> None:
    model = page_mask(editor, "model")
    assert model[200, 450] == 230  # object B is in the model's mask
    editor.locator('[data-name="tool-keep"]').click()
    x, y = to_client(editor, 180, 200)  # object A
    editor.mouse.click(x, y)
    editor.wait_for_function("window.__edits.cursor === 1")
    assert edits(editor)["log"][0] == {"op": "keep", "x": 180, "y": 200}
    mask = python_mask(editor)
    assert mask[:, 360:].max() == 0  # object B is gone
    np.testing.assert_array_equal(mask[:, :330], model[:, :330])  # object A untouched
    np.testing.assert_array_equal(page_mask(editor), mask)


def test_threshold_and_background_show_on_screen(editor: Page) -> None:
    model = page_mask(editor, "model")
    set_input(editor, "view", "cutout")
    set_input(editor, "background", "color")
    set_input(editor, "color", "#00ff00")
    img = shot(editor, "cutout-green")
    # Sky pixels (mask 0) show the colour; object A shows its red; its soft edge blends.
    assert tuple(img[20, 20]) == (0, 255, 0)
    assert tuple(img[200, 180]) == (220, 60, 40)
    edge = tuple(int(v) for v in img[200, 180 - 100 - 1])  # ~1 px inside the disc's soft edge
    assert edge not in ((0, 255, 0), (220, 60, 40))
    set_input(editor, "threshold", "200")
    editor.wait_for_function("window.__edits.cursor === 1")
    mask = python_mask(editor)
    np.testing.assert_array_equal(mask, np.where(model >= 200, 255, 0))
    img = shot(editor, "cutout-green-threshold-200")
    ys, xs = np.nonzero((model > 0) & (model < 200))  # soft pixels that the threshold cut away
    assert len(ys) > 0 and all(tuple(img[y, x]) == (0, 255, 0) for y, x in zip(ys, xs, strict=True))


def test_screenshots_of_each_view(editor: Page) -> None:
    set_input(editor, "radius", "30")
    stroke(editor, [(420.0, 60.0), (560.0, 90.0)])  # an added stroke, so views differ from model
    pictures = {}
    for view in ("overlay", "cutout", "mask"):
        set_input(editor, "view", view)
        pictures[view] = shot(editor, f"view-{view}")
    mask = page_mask(editor)
    # Mask view: grey = mask; overlay: tinted object; cutout: checkerboard on background.
    np.testing.assert_array_equal(pictures["mask"][..., 0], mask)
    sky = pictures["cutout"][0:8, 0:16, 0]
    assert {int(v) for v in np.unique(sky)} == {204, 255}  # checkerboard squares
    overlay_obj = pictures["overlay"][200, 180].astype(int)
    assert overlay_obj[0] > 220 - 1 and overlay_obj[2] > 40 + 30  # red + pink tint
    editor.locator('[data-name="compare"]').check()  # "Before": the model's mask
    before = shot(editor, "view-mask-before")
    np.testing.assert_array_equal(before[..., 0], page_mask(editor, "model"))


def test_frame_times_on_a_12_megapixel_image(page: Page, site: str) -> None:
    """Brush on 4000x3000: records per-frame work (ms) into test-artifacts (no timing assert)."""
    open_editor(page, site, 4000, 3000, hostw=1000)
    page.evaluate("window.__editor.stage.frameMs.length = 0")
    set_input(page, "radius", "60")
    pts = [(400.0 + 100 * i, 1500.0 + 400 * np.sin(i / 3)) for i in range(31)]
    stroke(page, pts, steps=4)
    stats = page.evaluate("window.__editor.frameStats()")
    assert stats["frames"] > 30
    e = edits(page)
    assert e["cursor"] == 1 and len(e["log"][0]["points"]) > 60
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = {k: stats[k] for k in ("frames", "mean", "p95", "max")}
    (ARTIFACTS / "frame-times-12mp.json").write_text(json.dumps(out, indent=1))
    print(f"\n12 MP brush stroke: {json.dumps(out)} (ms of work per frame)")
    shot(page, "stroke-12mp")
