"""widget.remover.editing: edited-mask state (edit log, undo/redo, Python-side edits, cutout)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import traitlets as t
from PIL import Image, ImageFilter

from segmentation import mask_edits
from segmentation.images import LoadedImage, load_image
from widget.remover.editing import MaskEditing


class Host(MaskEditing):
    """A minimal host: a fixed image and model mask."""

    def __init__(self, image: LoadedImage, model: np.ndarray, **kwargs: object) -> None:
        self._img, self._model = image, model
        super().__init__(**kwargs)

    def _editing_model_mask(self) -> np.ndarray:
        return self._model

    def _editing_image(self) -> LoadedImage:
        return self._img


@pytest.fixture
def host() -> Host:
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[10:30, 10:25] = (10, 20, 240)
    model = np.zeros((40, 60), np.uint8)
    model[10:30, 10:25] = 255
    model[5:15, 40:55] = 180
    return Host(load_image(rgb), model)


def brush_op(x0: float, x1: float) -> dict:
    pts = [x0, 35.0, x1, 35.0]
    return {"op": "brush", "mode": "add", "points": pts, "radius": 3, "hardness": 1}


def test_log_replay_undo_redo(host: Host) -> None:
    model = host.model_mask
    np.testing.assert_array_equal(host.mask, model)
    host.edit_log = [brush_op(5, 50), {"op": "keep", "x": 12, "y": 12}]
    host.edit_cursor = 1
    one = host.mask
    assert (one[33:38, 10:45] == 255).any() and one[10, 45] == 180
    host.edit_cursor = 2
    np.testing.assert_array_equal(host.mask, mask_edits.replay(model, host.edit_log))
    assert host.mask[10, 45] == 0
    assert host.undo() and host.edit_cursor == 1
    np.testing.assert_array_equal(host.mask, one)
    assert host.redo() and not host.redo()
    host.reset_mask()
    np.testing.assert_array_equal(host.mask, model)
    assert host.undo() and host.mask[10, 45] == 0


def test_setting_mask_from_python_is_an_undoable_edit(host: Host) -> None:
    rev = host.edit_rev
    new = np.zeros_like(host.model_mask)
    new[0:5, 0:5] = 255
    host.mask = new
    assert host.edit_log[-1]["op"] == "load" and host.edit_rev == rev + 1 == host.edit_ack
    np.testing.assert_array_equal(host.mask, new)
    host.mask = np.ones((40, 60), bool)
    assert (host.mask == 255).all()
    host.undo()
    np.testing.assert_array_equal(host.mask, new)
    with pytest.raises(ValueError, match=r"uint8 or bool of shape \(40, 60\)"):
        host.mask = np.zeros((4, 4), np.uint8)


def test_view_revision_is_acknowledged(host: Host) -> None:
    host.edit_rev = 7
    assert host.edit_ack == 7


def test_cutout_follows_editor_background(host: Host) -> None:
    host.edit_log, host.edit_cursor = [{"op": "remove", "x": 12, "y": 12}], 1
    cut = np.asarray(host.cutout())
    assert cut[20, 15, 3] == 0 and cut[10, 45, 3] == 180  # transparent where removed
    host.editor_settings = {"background": "color", "color": "#00ff00"}
    cut = np.asarray(host.cutout())
    assert tuple(cut[20, 15]) == (0, 255, 0, 255)
    host.editor_settings = {"background": "blur", "blur": 4}
    blurred = np.asarray(host._img.to_pil().convert("RGB").filter(ImageFilter.GaussianBlur(4)))
    assert tuple(np.asarray(host.cutout())[20, 15, :3]) == tuple(blurred[20, 15])
    assert tuple(np.asarray(host.cutout(None))[20, 15]) == (10, 20, 240, 0)
    with pytest.raises(t.TraitError, match="background must be one of"):
        host.editor_settings = {"background": "plaid"}


def test_malformed_python_edit_is_refused(host: Host) -> None:
    with pytest.raises(mask_edits.MaskEditError, match="unknown edit op"):
        host.push_edit({"op": "smudge"})
    assert host.edit_log == []


def test_edits_carry_over_to_a_new_widget_as_json(host: Host) -> None:
    host.push_edit(brush_op(5, 50))
    host.push_edit({"op": "remove", "x": 12, "y": 12})
    saved = json.loads(json.dumps(host.edit_log[: host.edit_cursor]))
    again = Host(host._img, host.model_mask, edit_log=saved, edit_cursor=len(saved))
    np.testing.assert_array_equal(again.mask, host.mask)


def test_snapshot_from_a_view_is_checked_and_readable(host: Host) -> None:
    assert host.snapshot_image() is None
    buf = io.BytesIO()
    Image.new("RGBA", (8, 6), (255, 0, 0, 128)).save(buf, "WEBP")
    host.snapshot = buf.getvalue()
    img = host.snapshot_image()
    assert img is not None and img.size == (8, 6)
    with pytest.raises(t.TraitError, match="PNG or WebP"):
        host.snapshot = b"GIF89a" + bytes(20)
    with pytest.raises(t.TraitError, match="limit is 4 MiB"):
        host.snapshot = b"RIFF" + bytes(5 * 2**20)
