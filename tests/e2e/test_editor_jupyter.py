"""The mask editor inside the widget, in real JupyterLab + Chromium, with the tiny model.

A user's mouse and keyboard edit the mask in the view; the kernel's ``w.mask`` (the edit log
replayed with :mod:`segmentation.mask_edits`) must change exactly where the stroke went.
"""

from __future__ import annotations

import base64
import itertools
import time
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Locator, Page

from tests.e2e.conftest import NotebookFactory
from widget.testing.notebook import Notebook
from widget.testing.pages import ARTIFACTS, capsule

H, W = 300, 400
SETUP = f"""\
import base64, numpy as np, widget
from tests.tinymodel import build_tiny_model
_, spec = build_tiny_model({{tmp!r}})
img = np.full(({H}, {W}, 4), (128, 128, 128, 255), np.uint8)
img[60:240, 40:180, :3] = (220, 30, 30)   # object A
img[100:200, 260:360, :3] = (220, 30, 30)  # object B
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a, np.uint8).tobytes()).decode()
"""


def cells(tmp: Path, extra: list[str] | None = None) -> list[str]:
    make = "w = widget.BackgroundRemover(img, spec)\nw"
    return [SETUP.format(tmp=str(tmp)), make, *(extra or [])]


def kernel_array(nb: Notebook, expr: str) -> np.ndarray:
    raw = base64.b64decode(nb.kernel_eval(f"b64({expr})"))
    return np.frombuffer(raw, np.uint8).reshape(H, W)


def editor(nb: Notebook, index: int = 0) -> Locator:
    root = nb.page.locator(".ple-root[data-ready='1']").nth(index)
    root.wait_for(state="visible", timeout=120_000)
    root.scroll_into_view_if_needed()
    return root


def to_client(root: Locator, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image point (x, y): the stage fits the image, centred."""
    box = root.locator(".ple-stage canvas").bounding_box()
    assert box is not None
    s = min(box["width"] / W, box["height"] / H)
    ox, oy = (box["width"] - W * s) / 2, (box["height"] - H * s) / 2
    return box["x"] + ox + x * s, box["y"] + oy + y * s


def drag(page: Page, root: Locator, pts: list[tuple[float, float]]) -> None:
    page.mouse.move(*to_client(root, *pts[0]))
    page.mouse.down()
    for p in pts[1:]:
        page.mouse.move(*to_client(root, *p), steps=10)
    page.mouse.up()


def wait_kernel(nb: Notebook, expr: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not nb.kernel_eval(expr):
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel never saw {expr}")
        time.sleep(0.3)


def polyline_region(points: list[float], radius: float) -> np.ndarray:
    """Union of the capsules of a recorded stroke (independent geometry, not mask_edits)."""
    xy = list(zip(points[0::2], points[1::2], strict=True))
    out = np.zeros((H, W), bool)
    for a, b in itertools.pairwise(xy):
        out |= capsule(H, W, a, b, radius)
    return out


def set_input(root: Locator, name: str, value: str) -> None:
    root.locator(f'[data-name="{name}"]').evaluate(
        """(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true}));
                        el.dispatchEvent(new Event('change', {bubbles: true})); }""",
        value,
    )


def at(shot: np.ndarray, x: float, y: float) -> tuple[int, ...]:
    """RGB of image point (x, y) in a screenshot of the stage (fitted, centred)."""
    ch, cw = shot.shape[:2]
    s = min(cw / W, ch / H)
    ox, oy = (cw - W * s) / 2, (ch - H * s) / 2
    return tuple(int(v) for v in shot[int(oy + y * s), int(ox + x * s)])


def canvas_pixels(page: Page, root: Locator, name: str) -> np.ndarray:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.wait_for_timeout(150)
    path = ARTIFACTS / f"jupyter-{name}.png"
    root.locator(".ple-stage canvas").screenshot(path=str(path))
    return np.asarray(Image.open(path).convert("RGB"))


def test_edits_in_the_view_reach_w_mask(notebook: NotebookFactory, tmp_path: Path) -> None:
    nb = notebook(cells(tmp_path))
    nb.run_all()
    root = editor(nb)
    page = nb.page
    model = kernel_array(nb, "w.model_mask")
    assert model[150, 100] > 200 and model[150, 310] > 200 and model[10, 10] < 10

    # Paint across the grey background with a hard brush.
    set_input(root, "radius", "9")
    set_input(root, "hardness", "1")
    drag(page, root, [(30.0, 20.0), (370.0, 30.0)])
    wait_kernel(nb, "w.edit_cursor == 1")
    op = nb.kernel_eval("w.edit_log[0]")
    assert op["op"] == "brush" and op["mode"] == "add" and op["radius"] == 9
    assert abs(op["points"][0] - 30) < 1.5 and abs(op["points"][-2] - 370) < 1.5
    mask = kernel_array(nb, "w.mask")
    region = polyline_region(op["points"], 9)
    np.testing.assert_array_equal(mask != model, region & (model < 255))
    assert (mask[region] == 255).all()

    # Shortcuts reach the editor, not JupyterLab (in command mode "b" inserts a cell below).
    count = nb.cell_count()
    root.focus()
    page.keyboard.press("e")
    assert root.locator('[data-name="tool-erase"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("b")
    assert root.locator('[data-name="tool-brush"]').get_attribute("aria-pressed") == "true"
    assert nb.cell_count() == count

    # Erase through object A, then undo with the keyboard: bit-for-bit the previous mask.
    root.locator('[data-name="tool-erase"]').click()
    drag(page, root, [(60.0, 150.0), (160.0, 150.0)])
    wait_kernel(nb, "w.edit_cursor == 2")
    erased = kernel_array(nb, "w.mask")
    op = nb.kernel_eval("w.edit_log[1]")
    region = polyline_region(op["points"], 9)
    np.testing.assert_array_equal(erased != mask, region & (mask > 0))
    assert (erased[region] == 0).all()
    root.focus()
    page.keyboard.press("Control+z")
    wait_kernel(nb, "w.edit_cursor == 1")
    np.testing.assert_array_equal(kernel_array(nb, "w.mask"), mask)
    assert root.get_attribute("data-sync") == "ok" or page.wait_for_function(
        "document.querySelector('.ple-root').dataset.sync === 'ok'"
    )

    # Click-to-keep on object A removes object B.
    root.locator('[data-name="tool-keep"]').click()
    page.mouse.click(*to_client(root, 100, 150))
    wait_kernel(nb, "w.edit_cursor == 2")
    kept = kernel_array(nb, "w.mask")
    assert kept[100:200, 260:360].max() == 0
    a = mask[60:240, 40:180] >= 128  # object A keeps its pixels; nothing is added anywhere
    np.testing.assert_array_equal(kept[60:240, 40:180][a], mask[60:240, 40:180][a])
    assert (kept <= mask).all()

    # Threshold and a colour background: on screen and in w.cutout().
    set_input(root, "view", "cutout")
    set_input(root, "color", "#0000ff")
    set_input(root, "threshold", "128")
    wait_kernel(nb, "w.edit_cursor == 3")
    final = kernel_array(nb, "w.mask")
    np.testing.assert_array_equal(final, np.where(kept >= 128, 255, 0))
    spots = "((100, 150), (10, 290))"
    cut = nb.kernel_eval(f"[list(map(int, w.cutout().getpixel(p))) for p in {spots}]")
    assert cut == [[220, 30, 30, 255], [0, 0, 255, 255]]
    shot = canvas_pixels(page, root, "cutout-blue")
    assert at(shot, 100, 150) == (220, 30, 30)
    assert at(shot, 10, 290) == (0, 0, 255)
    for view in ("overlay", "mask"):
        set_input(root, "view", view)
        canvas_pixels(page, root, f"view-{view}")
    set_input(root, "view", "mask")
    nb.screenshot("editor-jupyterlab")


def test_redisplay_and_python_edits_show_the_edited_mask(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(cells(tmp_path, ["w"]))
    nb.run_cell(0)
    nb.run_cell(1)
    root = editor(nb)
    set_input(root, "view", "mask")
    root.locator('[data-name="tool-remove"]').click()
    nb.page.mouse.click(*to_client(root, 310, 150))  # remove object B
    wait_kernel(nb, "w.edit_cursor == 1")
    nb.run_cell(2)  # display w again: a second view of the same model
    second = editor(nb, 1)
    shot = canvas_pixels(nb.page, second, "redisplay-mask")
    assert at(shot, 310, 150)[0] == 0  # B is gone in the new view
    assert at(shot, 100, 150)[0] > 200  # A is still there
    # An edit made in Python shows in the views.
    nb.execute("m = w.mask.copy(); m[:] = 0; m[0:150, 0:200] = 255; w.mask = m")
    nb.page.wait_for_function(
        "[...document.querySelectorAll('.ple-root')].every(r => r.dataset.edits === '2')"
    )
    shot = canvas_pixels(nb.page, second, "python-edit-mask")
    assert at(shot, 50, 50)[0] == 255
    assert at(shot, 100, 250)[0] == 0


def test_kernel_restart_during_editing_keeps_the_edit(
    notebook: NotebookFactory, tmp_path: Path
) -> None:
    nb = notebook(cells(tmp_path))
    nb.run_all()
    root = editor(nb)
    set_input(root, "view", "mask")
    nb.page.evaluate(
        "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
    )
    drag(nb.page, root, [(30.0, 280.0), (370.0, 280.0)])  # along the bottom edge
    nb.page.wait_for_function(
        "document.querySelector('.ple-root').dataset.sync === 'error'", timeout=20_000
    )
    assert "could not sync" in root.locator(".ple-sync").inner_text()
    shot = canvas_pixels(nb.page, root, "unsynced-stroke")
    assert at(shot, 200, 280)[0] == 255  # the stroke is still shown


RAF = """() => {
    const gaps = []; let last = performance.now(); let on = true;
    const tick = (t) => { gaps.push(t - last); last = t; if (on) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.__stopRaf = () => { on = false; return gaps.slice(1); };
}"""


def test_12_megapixel_stroke_in_jupyterlab(notebook: NotebookFactory, tmp_path: Path) -> None:
    """A 4000x3000 photo end to end; prints rAF intervals during a stroke (no timing assert)."""
    big = f"""\
import numpy as np, widget
from tests.tinymodel import build_tiny_model
_, spec = build_tiny_model({str(tmp_path)!r})
big = np.full((3000, 4000, 4), (128, 128, 128, 255), np.uint8)
big[600:2400, 400:1800, :3] = (220, 30, 30)
wb = widget.BackgroundRemover(big, spec)
wb"""
    nb = notebook([big])
    nb.run_all()
    root = editor(nb)
    set_input(root, "radius", "80")
    box = root.locator(".ple-stage canvas").bounding_box()
    assert box is not None
    s = min(box["width"] / 4000, box["height"] / 3000)
    ox, oy = box["x"] + (box["width"] - 4000 * s) / 2, box["y"] + (box["height"] - 3000 * s) / 2
    nb.page.evaluate(RAF)
    nb.page.mouse.move(ox + 2000 * s, oy + 300 * s)
    nb.page.mouse.down()
    for i in range(1, 41):
        nb.page.mouse.move(ox + (2000 + 45 * i) * s, oy + (300 + 60 * i) * s, steps=2)
    nb.page.mouse.up()
    gaps = sorted(nb.page.evaluate("window.__stopRaf()"))
    wait_kernel(nb, "wb.edit_cursor == 1", timeout_s=60)
    changed = nb.kernel_eval("int((wb.mask != wb.model_mask).sum())")
    assert changed > 100_000
    # The saved-state snapshot of the edit: box-averaged under 2 MP, encoded in the worker.
    wait_kernel(nb, "wb.snapshot_info.get('key', '').startswith(f'{wb.edit_rev}:1:')", 60)
    info = nb.kernel_eval("dict(wb.snapshot_info, size=list(wb.snapshot_image().size))")
    assert (info["source_width"], info["source_height"]) == (4000, 3000)
    assert info["size"] == [info["width"], info["height"]] == [1334, 1000]
    p95 = gaps[int(len(gaps) * 0.95)]
    line = f"12 MP stroke in JupyterLab: {len(gaps)} frames, rAF interval mean"
    line += f" {np.mean(gaps):.1f} ms, p95 {p95:.1f} ms, max {gaps[-1]:.1f} ms"
    print("\n" + line)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "frame-times-12mp-jupyterlab.txt").write_text(line + "\n")
    canvas_pixels(nb.page, root, "stroke-12mp")
