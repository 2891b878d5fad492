"""A batch's product photos: ``BatchRemover(..., preset=...)`` writes one per image.

:class:`ProductWriter` resolves the preset and decodes its background image when the batch
is made, so a bad preset is a one-line error before any image is read; then, each time an
image's mask is stored, it frames that image's product photo
(:func:`~segmentation.product.photo.make_product_photo`) and writes it atomically next to
the mask, as ``0007-photo-amazon.jpg``. A mask with no subject is that image's error
("no subject found"), never a blank photo written as a success.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from segmentation.errors import SegmentationError
from segmentation.images import ImageSource, load_image
from segmentation.product.framing import NoSubjectError
from segmentation.product.photo import load_background, make_product_photo
from segmentation.product.presets import PresetArg, resolve_preset
from widget.batch.stream import mask_file_names


def product_file_names(sources: Sequence[object], preset: str, suffix: str) -> list[str]:
    """One name per image: the mask's name with the preset's and the format's suffix."""
    tag = re.sub(r"[^A-Za-z0-9_.]+", "-", preset).strip("-.") or "product"
    return [f"{Path(n).stem}-{tag}{suffix}" for n in mask_file_names(sources)]


class ProductWriter:
    """Frame and write each image's product photo into the batch's output folder.

    Parameters
    ----------
    preset : str, path, dict or ProductSpec
        Anything :func:`~segmentation.product.presets.resolve_preset` takes.
    out_dir : path or None
        The batch's output folder (required: the photos are written there).
    sources : sequence
        The batch's images: names the files; no input may be overwritten.

    Raises
    ------
    ValueError
        No ``out_dir``, or a photo's file would replace an input image.
    ProductSpecError, ImageError
        An unknown or invalid preset, a canvas above the pixel limit, a background image
        that does not decode.

    """

    def __init__(
        self, preset: PresetArg, out_dir: str | os.PathLike[str] | None, sources: Sequence[object]
    ) -> None:
        if out_dir is None:
            raise ValueError("preset=... needs out_dir=...: the product photos are written there")
        self.spec = resolve_preset(preset)
        self._background = load_background(self.spec)
        self.out_dir = Path(os.fspath(out_dir)).expanduser()
        names = product_file_names(sources, self.spec.name, self.spec.suffix)
        self._paths = [self.out_dir / n for n in names]
        inputs = {
            Path(os.fspath(s)).expanduser().resolve()
            for s in sources
            if isinstance(s, str | os.PathLike)
        }
        for path in self._paths:
            if path.resolve() in inputs:
                raise ValueError(f"out_dir would overwrite the input image {path}")
        self.written: list[Path | None] = [None] * len(names)
        """Per image, its product photo once written."""

    def write(self, index: int, source: ImageSource, mask: np.ndarray) -> str:
        """Frame image ``index`` with ``mask`` and write it; return its error ("" if none)."""
        try:
            photo = make_product_photo(
                load_image(source), mask, self.spec, background=self._background
            )
            self.written[index] = photo.save(self._paths[index])
        except NoSubjectError:
            return f"image {index}: no subject found (the mask is empty), no product photo"
        except (SegmentationError, OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            return f"image {index}: no product photo ({why})"
        return ""
