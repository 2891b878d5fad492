"""Bookkeeping of a batch: which image has a mask, from whom, when, or why not.

:class:`BatchResults` assembles the masks the browser sends in chunks (one per
image index, byte-exact, with :class:`widget.protocol.assembly.PendingMasks`),
records per-image failures and kernel-twin masks, and summarises
the timings (per image: pool worker, start and end on the page's clock). It has
no widget in it, so the rules are tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from widget.protocol.assembly import PendingMasks
from widget.protocol.batch import ImageBegin, ImageChunk
from widget.protocol.common import WireError


@dataclass
class ImageRecord:
    """What is known about one image of the batch."""

    size: tuple[int, int] | None
    """``(width, height)`` of the loaded image; None when it could not be read."""
    error: str = ""
    """Why this image has no mask (unreadable, or neither runtime could do it)."""
    browser: np.ndarray | None = None
    checksum: int | None = None
    kernel: np.ndarray | None = None
    kernel_ms: float = float("nan")
    fallback_reason: str = ""
    timing: dict[str, Any] = field(default_factory=dict)
    saved: Path | None = None
    """The mask's file in the batch's output folder (written once the mask exists)."""

    @property
    def mask(self) -> np.ndarray | None:
        """The browser's mask if it sent one, else the kernel twin's (None: neither yet)."""
        return self.browser if self.browser is not None else self.kernel

    @property
    def finished(self) -> bool:
        """Whether this image has a mask or a final error."""
        return self.mask is not None or self.saved is not None or bool(self.error)


class BatchResults:
    """Per-image state of a batch of ``len(sizes)`` images.

    Parameters
    ----------
    sizes : list of (width, height) or None
        Each image's size, None for an image that could not be read.
    errors : list of str
        Each image's read error ("" when it was read).

    """

    def __init__(self, sizes: list[tuple[int, int] | None], errors: list[str]) -> None:
        if len(sizes) != len(errors):
            raise ValueError(f"{len(sizes)} sizes but {len(errors)} errors")
        self.records = [ImageRecord(s, e) for s, e in zip(sizes, errors, strict=True)]
        self._pending: PendingMasks[int, ImageBegin] = PendingMasks()

    def __len__(self) -> int:
        return len(self.records)

    def record(self, index: int) -> ImageRecord:
        """Return image ``index``'s record (WireError if the index is out of range)."""
        if not 0 <= index < len(self.records):
            raise WireError(f"image index {index} is outside the batch of {len(self.records)}")
        return self.records[index]

    @property
    def done(self) -> int:
        """Images with a mask or a final error."""
        return sum(r.finished for r in self.records)

    @property
    def pending_bytes(self) -> int:
        """Bytes held by masks still arriving."""
        return self._pending.held_bytes

    def begin(self, head: ImageBegin, limit: int = 1) -> None:
        """Start assembling image ``head.index``'s mask (its size must be the image's).

        ``limit`` is how many masks may be arriving at once (the pool's workers).
        Nothing is allocated unless the header fits the image.
        """
        rec = self.record(head.index)
        if rec.size is None:
            raise WireError(f"image {head.index} could not be read, yet a mask arrived for it")
        if rec.browser is not None:
            raise WireError(f"image {head.index}'s browser mask was already received")
        size = (head.width, head.height)
        what = f"image {head.index}'s mask"
        self._pending.begin(head.index, head, size, head.total, rec.size, limit=limit, what=what)

    def chunk(self, msg: ImageChunk) -> bool:
        """Add a chunk; True once image ``msg.index``'s mask is complete (then stored)."""
        self.record(msg.index)
        what = f"image {msg.index}'s mask"
        done = self._pending.add(msg.index, msg.seq, msg.offset, msg.data, what)
        if done is None:
            return False
        head, mask = done
        rec = self.records[msg.index]
        rec.browser = mask
        rec.checksum = head.checksum
        rec.fallback_reason = ""
        rec.timing = {
            "backend": "browser",
            "worker": head.worker,
            "start": head.start,
            "end": head.end,
            "threads": head.threads,
            **head.timings,
        }
        return True

    def drop(self, index: int) -> None:
        """Forget image ``index``'s mask in progress, if any."""
        self._pending.drop(index)

    def drop_all(self) -> None:
        """Forget every mask in progress."""
        self._pending.clear()

    def set_kernel(self, index: int, mask: np.ndarray, ms: float, reason: str) -> None:
        """Store the kernel twin's mask of image ``index`` and why the kernel computed it."""
        rec = self.record(index)
        rec.kernel, rec.kernel_ms = mask, ms
        if rec.browser is None:
            rec.fallback_reason = reason
            rec.timing = {"backend": "kernel", "worker": None, "inference": ms}

    def pending(self) -> list[int]:
        """Return the indices of readable images that have no mask yet."""
        return [i for i, r in enumerate(self.records) if r.size is not None and not r.finished]

    def timings(self) -> dict[str, Any]:
        """Per-image timings plus a summary of the browser's work.

        Returns
        -------
        dict
            ``images``: one dict per image (``backend``, ``worker``, ``start``, ``end``,
            ``decode``, ``session_create``, ``inference``; empty when not done);
            ``workers_used``: distinct pool workers that produced a mask;
            ``wall``: milliseconds from the first browser start to the last end;
            ``busy``: summed per-image browser milliseconds (``end - start``).

        """
        images = [dict(r.timing) for r in self.records]
        ran = [t for t in images if t.get("backend") == "browser"]
        wall = max(t["end"] for t in ran) - min(t["start"] for t in ran) if ran else 0.0
        return {
            "images": images,
            "workers_used": len({t["worker"] for t in ran}),
            "wall": wall,
            "busy": sum(t["end"] - t["start"] for t in ran),
        }


def overlapping_workers(images: list[dict[str, Any]]) -> int:
    """Return the most pool workers whose browser intervals overlap at one instant.

    Parameters
    ----------
    images : list of dict
        ``timings()["images"]``; entries without ``start``/``end`` are ignored.

    """
    events: list[tuple[float, int, Any]] = []
    for t in images:
        if t.get("backend") == "browser":
            events += [(t["start"], 1, t["worker"]), (t["end"], -1, t["worker"])]
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    active: dict[Any, int] = {}
    best = 0
    for _, step, worker in events:
        active[worker] = active.get(worker, 0) + step
        best = max(best, sum(1 for n in active.values() if n > 0))
    return best
