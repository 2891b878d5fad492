"""Edited-mask state of the widget: the editor's edit log, undo/redo, view and background.

The source of truth for edits is an *edit log* (JSON ops, see :mod:`segmentation.mask_edits`)
with a cursor: ``edit_log[:edit_cursor]`` applied to the model's mask gives :attr:`mask`.
The log lives in synced traits, so edits survive re-displaying the widget, show in every view,
and are saved with the notebook's widget state; the view and the kernel replay it with twin
implementations that agree bit for bit (tested). Browser -> kernel messages stay small
(a stroke is a few hundred bytes, not a 12-MP mask).

Edits outlive a kernel as JSON: ``log = w.edit_log[: w.edit_cursor]`` can be stored and given
back as ``BackgroundRemover(image, edit_log=log, edit_cursor=len(log))``.

Sync handshake: a view bumps ``edit_rev`` with each edit; the kernel answers by setting
``edit_ack`` to it. A view that gets no answer (kernel restarted, comm gone) keeps its edits
and says they could not be synced.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import traitlets as t
from ipywidgets import DOMWidget
from PIL import Image, ImageFilter

from segmentation import mask_edits
from segmentation.cutouts import Background, compose
from segmentation.images import LoadedImage

VIEWS = ("cutout", "original", "overlay", "mask")
BACKGROUNDS = ("transparent", "color", "image", "blur")
#: Largest background image a view may send (the websocket drops frames over 10 MiB).
MAX_BACKGROUND_BYTES = 8 * 1024 * 1024
#: Largest snapshot a view may send (views write <= 3 MiB, downscaled to <= 2 MP).
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
_SNAPSHOT_MAGIC = (b"\x89PNG\r\n\x1a\n", b"RIFF")


def _bytes_from_json(value: Any, _widget: object) -> bytes:
    """Accept the memoryview / bytes a view sends for a Bytes trait."""
    return b"" if value is None else bytes(value)


class MaskEditing(DOMWidget):
    """Traits and API of the interactive mask editor (mixed into ``BackgroundRemover``).

    A host class provides :meth:`_editing_model_mask` (the untouched model mask) and
    :meth:`_editing_image` (the pixels the mask belongs to).
    """

    edit_log = t.List(t.Dict(), default_value=[]).tag(sync=True)
    """Edit ops (``{"op": "brush", ...}``; see :mod:`segmentation.mask_edits`), oldest first."""

    edit_cursor = t.Int(0, min=0).tag(sync=True)
    """Number of ops of :attr:`edit_log` in effect (the rest is the redo tail)."""

    edit_rev = t.Int(0).tag(sync=True)
    """Revision of the log, bumped by whoever changes it."""

    edit_ack = t.Int(0).tag(sync=True)
    """Last revision the kernel has taken in (the views show unsynced edits)."""

    editor_settings = t.Dict({}).tag(sync=True)
    """View state: ``view`` (cutout, the default|original|overlay|mask), ``opacity``, ``tool``,
    ``radius``,
    ``hardness``, ``background`` (transparent|color|image|blur), ``color`` (#rrggbb), ``blur``."""

    background_image = t.Bytes(b"").tag(sync=True, from_json=_bytes_from_json)
    """Encoded image (PNG/JPEG) picked as background in a view, or set from Python."""

    snapshot = t.Bytes(b"").tag(sync=True, from_json=_bytes_from_json, echo_update=False)
    """WebP/PNG of the edited cutout (<= 2 MP), written by a view shortly after edits settle.

    It is part of the saved widget state: a notebook reopened without its kernel shows it
    read-only (the image and the model's mask travel by messages and are not saved)."""

    snapshot_info = t.Dict({}).tag(sync=True)
    """What :attr:`snapshot` shows: ``key`` (edit revision, cursor, background), ``width``,
    ``height``, ``source_width``, ``source_height``, ``mime``."""

    def __init__(self, **kwargs: Any) -> None:
        self._replayed: tuple[list[dict[str, Any]], np.ndarray] | None = None
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ host hooks
    def _editing_model_mask(self) -> np.ndarray:
        raise NotImplementedError

    def _editing_image(self) -> LoadedImage:
        raise NotImplementedError

    def _model_mask_changed(self) -> None:
        """Tell the editor that :attr:`model_mask` is now another mask (forget the replay)."""
        self._replayed = None

    # ------------------------------------------------------------------ public API
    @property
    def model_mask(self) -> np.ndarray:
        """The model's mask, untouched by edits (uint8 ``[H, W]``).

        While a browser view is running the model, reading it waits for the browser's answer
        (``wait()``) rather than starting a competing kernel inference; with no view it is
        the kernel twin's mask (and ``fallback_reason`` says why).
        """
        return self._editing_model_mask()

    @property
    def mask(self) -> np.ndarray:
        """The edited mask: the applied part of the edit log replayed on :attr:`model_mask`.

        Setting it (uint8 ``[H, W]`` array, or bool) records a ``load`` edit, so it can be
        undone and shows in the views.
        """
        ops = list(self.edit_log[: self.edit_cursor])
        cached = self._replayed
        if cached is not None and cached[0] == ops:
            return cached[1].copy()
        model = self.model_mask
        if not ops:  # no edit: the model's mask, without caching a second full-size copy
            self._replayed = None
            return model.copy()
        if cached is not None and ops[: len(cached[0])] == cached[0]:
            mask = mask_edits.replay(model, ops[len(cached[0]) :], start=cached[1])  # new ops only
        else:
            mask = mask_edits.replay(model, ops)
        if mask.shape != model.shape:
            raise mask_edits.MaskEditError(f"edited mask {mask.shape} != model mask {model.shape}")
        self._replayed = (ops, mask)
        return mask.copy()

    @mask.setter
    def mask(self, value: np.ndarray) -> None:
        arr = np.asarray(value)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8) * 255
        shape = self.model_mask.shape
        if arr.shape != shape or arr.dtype != np.uint8:
            raise ValueError(
                f"mask must be uint8 or bool of shape {shape}, got {arr.dtype} {arr.shape}"
            )
        self.push_edit(mask_edits.encode_mask(arr))

    def push_edit(self, op: Mapping[str, Any]) -> None:
        """Apply one edit op from Python (validated first) after the cursor; drop redo ops."""
        current = self.mask
        mask_edits.apply_op(current, op, self.model_mask)  # raises MaskEditError if malformed
        self._set_log([*self.edit_log[: self.edit_cursor], dict(op)], self.edit_cursor + 1)

    def undo(self) -> bool:
        """Undo the last edit; False when there is none."""
        if self.edit_cursor == 0:
            return False
        self._set_log(list(self.edit_log), self.edit_cursor - 1)
        return True

    def redo(self) -> bool:
        """Redo the next edit; False when there is none."""
        if self.edit_cursor >= len(self.edit_log):
            return False
        self._set_log(list(self.edit_log), self.edit_cursor + 1)
        return True

    def reset_mask(self) -> None:
        """Go back to the model's mask (as an edit, so it can be undone)."""
        self.push_edit({"op": "reset"})

    def cutout(self, background: Background | str = "editor") -> Image.Image:
        """Return the image cut out with the edited :attr:`mask`.

        Parameters
        ----------
        background : colour, image, None or ``"editor"``
            ``"editor"`` (default) uses the background chosen in the view: transparent,
            a colour, the picked image, or the original blurred. None is transparent;
            anything else is passed to :func:`segmentation.cutouts.compose`.

        """
        image = self._editing_image()
        if isinstance(background, str) and background == "editor":
            background = self._editor_background(image)
        return compose(image, self.mask, background)

    def snapshot_image(self) -> Image.Image | None:
        """Return the view's last :attr:`snapshot` as a PIL image (None before one was written)."""
        if not self.snapshot:
            return None
        img = Image.open(io.BytesIO(self.snapshot))
        img.load()
        return img

    def _editor_background(self, image: LoadedImage) -> Background:
        s = self.editor_settings
        kind = s.get("background", "transparent")
        if kind == "color":
            return str(s.get("color", "#ffffff"))
        if kind == "image" and self.background_image:
            return Image.open(io.BytesIO(self.background_image)).convert("RGB")
        if kind == "blur":
            radius = float(s.get("blur", 12))
            return image.to_pil().convert("RGB").filter(ImageFilter.GaussianBlur(radius))
        return None

    # ------------------------------------------------------------------ sync
    def _set_log(self, log: Sequence[Mapping[str, Any]], cursor: int) -> None:
        rev = max(self.edit_rev, self.edit_ack) + 1
        with self.hold_sync():
            self.edit_log = [dict(op) for op in log]
            self.edit_cursor = cursor
            self.edit_rev = rev
            self.edit_ack = rev

    @t.validate("editor_settings")
    def _check_settings(self, proposal: t.Bunch) -> dict[str, Any]:
        s = dict(proposal["value"])
        if s.get("view", "cutout") not in VIEWS:
            raise t.TraitError(f"editor view must be one of {VIEWS}, got {s['view']!r}")
        if s.get("background", "transparent") not in BACKGROUNDS:
            got = s["background"]
            raise t.TraitError(f"background must be one of {BACKGROUNDS}, got {got!r}")
        return s

    @t.validate("background_image")
    def _check_background(self, proposal: t.Bunch) -> bytes:
        data = bytes(proposal["value"])
        if len(data) > MAX_BACKGROUND_BYTES:
            mib = len(data) / 2**20
            raise t.TraitError(f"background image is {mib:.1f} MiB; the limit is 8 MiB")
        return data

    @t.validate("snapshot")
    def _check_snapshot(self, proposal: t.Bunch) -> bytes:
        data = bytes(proposal["value"])
        if len(data) > MAX_SNAPSHOT_BYTES:
            mib = len(data) / 2**20
            raise t.TraitError(f"snapshot is {mib:.1f} MiB; the limit is 4 MiB")
        if data and not data.startswith(_SNAPSHOT_MAGIC):
            raise t.TraitError(f"snapshot must be a PNG or WebP image, got {data[:12]!r}")
        return data

    @t.observe("edit_rev")
    def _acknowledge(self, change: t.Bunch) -> None:
        if self.edit_ack != change["new"]:
            self.edit_ack = change["new"]
