"""Segment many images in a row, showing progress and going on past bad files."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from tqdm.auto import tqdm

from segmentation.errors import SegmentationError
from segmentation.images import ImageSource, LoadedImage, load_image

OnError = Literal["report", "raise"]


class PixelRunner(Protocol):
    """Anything that maps RGBA pixels to a mask, like :class:`~segmentation.session.Segmenter`."""

    def run_pixels(self, rgba: np.ndarray) -> np.ndarray:
        """Return the uint8 ``[H, W]`` mask of uint8 ``[H, W, 4]`` pixels."""
        ...


@dataclass
class Result:
    """What happened to one image of a batch.

    Attributes
    ----------
    source : str
        The path, or a label such as ``"<array #3>"``.
    mask : numpy.ndarray or None
        uint8 ``[H, W]`` mask, None if the image failed.
    error : str or None
        Why it failed (one line), None on success.
    seconds : float
        Wall time spent on this image (decode + inference).
    image : LoadedImage or None
        The decoded image, kept only when asked for (``keep_images=True``).

    """

    source: str
    mask: np.ndarray | None = None
    error: str | None = None
    seconds: float = 0.0
    image: LoadedImage | None = None

    @property
    def ok(self) -> bool:
        """True if the mask was computed."""
        return self.error is None


def _label(src: ImageSource, index: int) -> str:
    if isinstance(src, str | Path):
        return str(src)
    return f"<{type(src).__name__} #{index}>"


def iter_results(
    segmenter: PixelRunner,
    images: Iterable[ImageSource],
    *,
    progress: bool | None = True,
    on_error: OnError = "report",
    keep_images: bool = False,
) -> Iterator[Result]:
    """Yield one :class:`Result` per image, in order.

    Parameters
    ----------
    segmenter : PixelRunner
        Runs the model (a :class:`~segmentation.session.Segmenter`).
    images : iterable
        Paths, bytes, PIL images or arrays.
    progress : bool or None
        Show a tqdm bar; None shows it only when stderr is a terminal.
    on_error : {"report", "raise"}
        ``"report"`` records the failure in the result and goes on;
        ``"raise"`` re-raises the first error.
    keep_images : bool
        Keep each decoded :class:`LoadedImage` in its result.

    """
    if on_error not in ("report", "raise"):
        raise ValueError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    items = list(images)
    bar = tqdm(
        items, desc="segmenting", unit="img", disable=None if progress is None else not progress
    )
    failures = 0
    for index, src in enumerate(bar):
        label = _label(src, index)
        start = time.perf_counter()
        try:
            loaded = load_image(src, name=label if not isinstance(src, str | Path) else None)
            mask = segmenter.run_pixels(loaded.pixels)
        except (SegmentationError, OSError, ValueError) as exc:
            if on_error == "raise":
                raise
            failures += 1
            bar.set_postfix(failed=failures)
            yield Result(label, error=str(exc), seconds=time.perf_counter() - start)
            continue
        yield Result(
            label,
            mask=mask,
            seconds=time.perf_counter() - start,
            image=loaded if keep_images else None,
        )
    bar.close()
