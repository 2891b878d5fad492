"""A notebook saved with widget state and reopened without its kernel shows the edited cutout.

Real JupyterLab + Chromium with the tiny model: paint in the editor, save with
``@jupyter-widgets/jupyterlab-manager``'s ``saveState`` on, shut the kernel down, reload the
page. The image and the mask travel by messages (not saved), so the reopened view shows the
snapshot the editor wrote into the model state, read-only, and says the kernel is not connected.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import NotebookFactory
from tests.e2e.test_editor_jupyter import (
    H,
    W,
    cells,
    drag,
    editor,
    kernel_array,
    set_input,
    wait_kernel,
)
from widget.testing.jupyter_server import JupyterServer
from widget.testing.notebook import Notebook
from widget.testing.pages import ARTIFACTS

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SETTINGS = Path("@jupyter-widgets") / "jupyterlab-manager" / "plugin.jupyterlab-settings"
ERASED = (110, 150)  # on object A, under the erase stroke
KEPT = (110, 90)  # on object A, untouched
OUTSIDE = (320, 40)  # grey background, outside the model's mask


@pytest.fixture
def save_widget_state(jupyter_server: JupyterServer) -> Iterator[None]:
    """Turn on saving widget state into notebooks (user setting) for one test."""
    path = jupyter_server.base / "settings" / SETTINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"saveState": True}))
    yield
    path.unlink()


def saved_snapshot(path: Path) -> tuple[dict[str, Any], Image.Image]:
    """The widget model in the saved notebook that has a snapshot, and the snapshot."""
    meta = json.loads(path.read_text())["metadata"].get("widgets", {}).get(WIDGET_STATE)
    assert meta, f"{path.name} has no saved widget state"
    for model in meta["state"].values():
        for buf in model.get("buffers", []):
            if buf["path"] == ["snapshot"]:
                raw = base64.b64decode(buf["data"])
                return model["state"], Image.open(io.BytesIO(raw)).convert("RGBA")
    raise AssertionError("no widget model in the saved state carries a snapshot")


def wait_saved(path: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if WIDGET_STATE in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{path.name} was not saved with widget state")


def at(img: np.ndarray, x: float, y: float) -> np.ndarray:
    """Pixel of image point (x, y) of the W x H photo in a picture of it of any size."""
    h, w = img.shape[:2]
    return img[int(y * h / H), int(x * w / W)].astype(int)


def is_red(px: np.ndarray) -> bool:
    return bool(px[0] > 180 and px[1] < 80 and px[2] < 80)


def is_checker(px: np.ndarray) -> bool:
    """The light grey/white checkerboard behind a transparent cutout."""
    return bool(min(px[:3]) > 190 and max(px[:3]) - min(px[:3]) < 12)


def test_reopened_notebook_shows_the_edited_snapshot(
    notebook: NotebookFactory, tmp_path: Path, save_widget_state: None
) -> None:
    nb: Notebook = notebook(cells(tmp_path))
    nb.run_all()
    root = editor(nb)
    model = kernel_array(nb, "w.model_mask")
    for x, y in (ERASED, KEPT):
        assert model[y, x] > 200, "object A must be in the model's mask"
    assert model[OUTSIDE[1], OUTSIDE[0]] < 10

    # Erase a band through object A with a hard brush.
    set_input(root, "radius", "14")
    set_input(root, "hardness", "1")
    root.locator('[data-name="tool-erase"]').click()
    drag(nb.page, root, [(30.0, 150.0), (190.0, 150.0)])
    wait_kernel(nb, "w.edit_cursor == 1")
    assert kernel_array(nb, "w.mask")[ERASED[1], ERASED[0]] == 0
    # The view writes the snapshot shortly after the edit; the kernel receives it too.
    wait_kernel(nb, "w.snapshot_info.get('key', '').startswith(f'{w.edit_rev}:1:')")
    ksnap = nb.kernel_eval(
        "[w.snapshot_info, list(w.snapshot_image().size), len(w.snapshot),"
        f" [list(w.snapshot_image().convert('RGBA').getpixel(p)) for p in {(ERASED, KEPT)}]]"
    )
    info, size, nbytes, (erased_px, kept_px) = ksnap
    assert size == [info["width"], info["height"]] and size[0] * size[1] <= 2_000_000
    assert [info["source_width"], info["source_height"]] == [W, H]
    assert nbytes < 3 * 2**20
    assert erased_px[3] < 30 and kept_px[3] > 220 and is_red(np.array(kept_px))

    # Save with widget state, then the snapshot is in the file.
    nb.page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    wait_saved(nb.path)
    state, snap = saved_snapshot(nb.path)
    assert state["edit_cursor"] == 1 and state["edit_log"][0]["mode"] == "erase"
    px = np.asarray(snap)
    assert at(px, *ERASED)[3] < 30 and at(px, *KEPT)[3] > 220 and at(px, *OUTSIDE)[3] < 30
    size_kib = len(nb.path.read_bytes()) / 1024
    print(f"\nsaved notebook {size_kib:.0f} KiB; snapshot {snap.size} {info['mime']}")

    # Kernel gone, page reloaded: the snapshot shows, read-only, with the reason.
    nb.server.shutdown_kernels()
    nb.page.reload(wait_until="domcontentloaded")
    fig = nb.page.locator(".pl-snapshot[data-state='offline']")
    fig.wait_for(state="visible", timeout=90_000)
    caption = fig.locator("figcaption").inner_text()
    assert "kernel is not connected" in caption and "Re-run the cell" in caption
    assert nb.page.locator(".ple-root").count() == 0  # no editor without the image
    img = fig.locator("img")
    nb.page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle()
    )
    img.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot_path = ARTIFACTS / "jupyter-reopened-snapshot.png"
    img.screenshot(path=str(shot_path))
    nb.screenshot("editor-reopened-without-kernel")
    shot = np.asarray(Image.open(shot_path).convert("RGB"))
    assert is_red(at(shot, *KEPT)), at(shot, *KEPT)
    assert is_checker(at(shot, *ERASED)), at(shot, *ERASED)  # the erased band shows through
    assert is_checker(at(shot, *OUTSIDE)), at(shot, *OUTSIDE)
