"""How a batch stays within bounded memory: images streamed a few at a time, masks stored.

:class:`ImageStream` decides which images are in flight: read, sent to the view and not
yet answered for. At most ``window`` are (the view's pool size plus one, so that a worker
that finishes finds the next image already there); an image's bytes are released once
its mask arrived or the browser gave up on it. :class:`MaskStore` keeps the finished
masks as the user asked: in memory (``keep_masks=True``), as PNG files in an output
folder, or both. With an output folder and ``keep_masks=False``, the kernel's memory does
not depend on the number of images.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from segmentation.files import atomic_path
from widget.batch.sharing import SharedQueue


class ImageStream:
    """The images of a batch that still have to cross to the view, a window at a time.

    Parameters
    ----------
    indices : SharedQueue or iterable of int
        Images to send, in this order: the batch's queue, whose back the kernel may take
        from at the same time (:mod:`widget.batch.sharing`), or a plain list.
    window : int
        Most images in flight at once (>= 1).

    """

    def __init__(self, indices: SharedQueue | Iterable[int], window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._queue = indices if isinstance(indices, SharedQueue) else SharedQueue(indices)
        self.in_flight: set[int] = set()
        self.peak = 0
        """Most images that were in flight at one time."""

    def take(self) -> int | None:
        """Return the next image to send, or None when the window is full or nothing is left."""
        if len(self.in_flight) >= self.window:
            return None
        index = self._queue.front()
        if index is None:
            return None
        self.in_flight.add(index)
        self.peak = max(self.peak, len(self.in_flight))
        return index

    def finish(self, index: int) -> bool:
        """Image ``index`` got its mask or gave up: free its place; False if it was not sent."""
        if index not in self.in_flight:
            return False
        self.in_flight.discard(index)
        return True

    @property
    def queued(self) -> int:
        """Images not sent yet."""
        return len(self._queue)


def mask_file_names(sources: Sequence[object]) -> list[str]:
    """One file name per image: ``0007-photo.png`` (the source's stem), ``0007.png`` otherwise.

    The index prefix keeps two sources with the same name (``a/x.jpg``, ``b/x.jpg``) apart.
    """
    names = []
    for i, src in enumerate(sources):
        stem = Path(os.fspath(src)).stem if isinstance(src, str | os.PathLike) else ""
        names.append(f"{i:04d}-{stem}.png" if stem else f"{i:04d}.png")
    return names


class MaskStore:
    """Where a batch's finished masks go.

    Parameters
    ----------
    out_dir : path, optional
        Folder that receives one PNG (mode ``L``) per mask, written atomically.
    keep_masks : bool
        Whether masks also stay in memory. False needs ``out_dir``.
    sources : sequence
        The batch's images: names the files, and no input file may be overwritten.

    Raises
    ------
    ValueError
        ``keep_masks=False`` without ``out_dir`` (the masks would be lost), an ``out_dir``
        that cannot be created, or an output file that would replace an input image.

    """

    def __init__(
        self, out_dir: str | os.PathLike[str] | None, keep_masks: bool, sources: Sequence[object]
    ) -> None:
        if not keep_masks and out_dir is None:
            raise ValueError("keep_masks=False needs out_dir=...: the masks would be lost")
        self.keep = keep_masks
        self.out_dir = None if out_dir is None else Path(os.fspath(out_dir)).expanduser()
        self._names = mask_file_names(sources)
        if self.out_dir is not None:
            if self.out_dir.exists() and not self.out_dir.is_dir():
                raise ValueError(f"out_dir {self.out_dir} exists and is not a folder")
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"out_dir {self.out_dir}: {exc.strerror or exc}") from None
            inputs = {
                Path(os.fspath(s)).expanduser().resolve()
                for s in sources
                if isinstance(s, str | os.PathLike)
            }
            for name in self._names:
                if (self.out_dir / name).resolve() in inputs:
                    clash = self.out_dir / name
                    raise ValueError(f"out_dir would overwrite the input image {clash}")

    def path(self, index: int) -> Path | None:
        """Where image ``index``'s mask is (or will be) written; None without ``out_dir``."""
        return None if self.out_dir is None else self.out_dir / self._names[index]

    def write(self, index: int, mask: np.ndarray) -> Path | None:
        """Write image ``index``'s mask (when there is an ``out_dir``); return its path."""
        dest = self.path(index)
        if dest is None:
            return None
        with atomic_path(dest) as tmp:
            Image.fromarray(mask, "L").save(tmp, format="PNG", compress_level=1)
        return dest

    @staticmethod
    def read(path: Path) -> np.ndarray:
        """Read a mask written by :meth:`write` back as uint8 ``[H, W]``."""
        with Image.open(path) as im:
            return np.asarray(im.convert("L")).copy()
