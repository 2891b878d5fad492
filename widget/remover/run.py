"""Who makes a :class:`~widget.remover.widget.BackgroundRemover`'s mask: one small state machine.

A widget has one :class:`MaskRun`. Its phase says where the mask stands::

    waiting --(a view is told to run)--> browser --(its mask)--> done (first: browser)
    waiting/browser --(the kernel answers first)--> kernel_first (a view still runs)
    kernel_first --(the browser's mask: compared)--> done (first: kernel, parity recorded)
    kernel_first --(the browser fails or goes)--> done (first: kernel)
    browser --(the browser fails, no view left)--> the kernel answers --> done
    any --(close)--> closed

The first full answer is the mask (:attr:`MaskRun.current`); when the browser's arrives after
the kernel's and is byte-identical it takes its place (so ``source`` becomes ``"browser"``),
else the kernel's stays and the difference is kept in :attr:`MaskRun.parity` (rounding
apart, or a real difference). Nothing here
talks to a view: the widget does, and asks the run what is true.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from widget.engine.kernel_twin import compare_masks
from widget.protocol.assembly import PendingMasks
from widget.protocol.remover import MaskBegin

Phase = Literal["waiting", "browser", "kernel_first", "done", "closed"]
Source = Literal["browser", "kernel"]
#: Browser masks that may be arriving at once (one per view told to run; views send a
#: whole mask in one go, so more than one in flight means several pages run the widget).
MAX_MASKS_IN_FLIGHT = 4


@dataclass(frozen=True)
class Answer:
    """A full mask and where it came from."""

    mask: np.ndarray
    source: Source
    ms: float
    """Milliseconds its runtime spent (the browser's inference, the kernel twin's run)."""
    checksum: int | None = None
    """The browser's checksum of the pixels it fed the model (None for the kernel)."""


#: Largest difference (levels of 255) that counts as rounding: the int8 model's float head
#: may round a pixel one level apart in the browser and in the kernel.
ROUNDING_LEVELS = 1


@dataclass(frozen=True)
class Parity:
    """The browser's mask against the kernel's, once both exist."""

    identical: bool
    iou: float
    differing_pixels: int
    max_levels: int

    @property
    def agrees(self) -> bool:
        """Byte-identical, or apart by rounding only (at most :data:`ROUNDING_LEVELS`)."""
        return self.identical or self.max_levels <= ROUNDING_LEVELS

    def describe(self) -> str:
        """``"identical"``, rounding apart, or how much the masks differ."""
        if self.identical:
            return "identical"
        if self.agrees:
            return f"equal within {self.max_levels} level on {self.differing_pixels} pixels"
        return (
            f"differs: IoU {self.iou:.4f}, {self.differing_pixels} pixels,"
            f" up to {self.max_levels} levels"
        )


class MaskRun:
    """The state of one widget's mask: phase, the views running it, answers, parity."""

    def __init__(self) -> None:
        self.phase: Phase = "waiting"
        self.runners: set[str] = set()
        """Views told to run the model."""
        self.delivered_by = ""
        """The view whose browser mask was accepted."""
        self.pending: PendingMasks[str, MaskBegin] = PendingMasks()
        self.browser: Answer | None = None
        self.kernel: Answer | None = None
        self.first: Source | None = None
        """Who answered first (never changes once set)."""
        self.parity: Parity | None = None
        self._browser_patch: tuple[np.ndarray, np.ndarray] | None = None
        """Where the browser's mask differs from the kernel's (flat indices, its values), when
        both are kept as one array: a widget holds one full mask, not two near-copies."""

    # ------------------------------------------------------------------ questions
    @property
    def browser_running(self) -> bool:
        """Whether a view runs the model and its mask has not arrived (nor failed)."""
        return self.phase in ("browser", "kernel_first")

    @property
    def answered(self) -> bool:
        """Whether a full mask exists."""
        return self.first is not None

    @property
    def current(self) -> Answer | None:
        """Return the answer the mask is: the first, or the browser's identical one after it."""
        if self.first is None:
            return None
        if self.browser is not None and (self.first == "browser" or self._identical):
            return self.browser
        return self.kernel if self.first == "kernel" else self.browser

    def browser_mask(self) -> np.ndarray | None:
        """Return the browser's own full mask (None: it has not arrived)."""
        if self.browser is None:
            return None
        if self._browser_patch is None:
            return self.browser.mask
        idx, values = self._browser_patch
        mask = np.array(self.browser.mask)
        mask.flat[idx] = values
        return mask

    @property
    def _identical(self) -> bool:
        return self.parity is not None and self.parity.identical

    # ------------------------------------------------------------------ events
    def view_runs(self, view: str) -> None:
        """Record that a view was told to run the model."""
        self.runners.add(view)
        if self.phase == "waiting":
            self.phase = "browser"

    def kernel_answered(self, mask: np.ndarray, ms: float) -> None:
        """Record the kernel twin's mask (first, or as the reference for parity)."""
        self.kernel = Answer(mask, "kernel", ms)
        if self.first is None:
            self.first = "kernel"
            self.phase = "kernel_first" if self.phase == "browser" else "done"
        self._compare()

    def browser_answered(self, view: str, mask: np.ndarray, checksum: int, ms: float) -> None:
        """Record view ``view``'s full mask (other views' masks are no longer wanted)."""
        self.pending.clear()
        self.browser = Answer(mask, "browser", ms, checksum)
        self.delivered_by = view
        if self.first is None:
            self.first = "browser"
        self.phase = "done"
        self._compare()

    def browser_gone(self) -> None:
        """Record that the browser will not answer (it failed, timed out, or no view is left)."""
        self.pending.clear()
        if self.phase == "browser":
            self.phase = "waiting"
        elif self.phase == "kernel_first":
            self.phase = "done"

    def close(self) -> None:
        """Forget the masks and views; nothing more can happen."""
        self.pending.clear()
        self.runners.clear()
        self.browser = self.kernel = None
        self._browser_patch = None
        self.phase = "closed"

    def _compare(self) -> None:
        if self.browser is None or self.kernel is None or self.parity is not None:
            return
        browser, kernel = self.browser.mask, self.kernel.mask
        diff = compare_masks(browser, kernel)
        identical = bool(np.array_equal(browser, kernel))
        levels = round(float(diff["max_abs_diff"]) * 255)
        self.parity = Parity(identical, float(diff["iou"]), int(diff["differing_pixels"]), levels)
        # keep one full mask where one is enough: the same bytes, or the kernel's plus the
        # few pixels rounding put one level apart
        if identical:
            self.kernel = replace(self.kernel, mask=browser)
        elif self.parity.agrees:
            idx = np.flatnonzero(browser.ravel() != kernel.ravel())
            self._browser_patch = (idx, browser.ravel()[idx].copy())
            self.browser = replace(self.browser, mask=kernel)
