"""Calibration data for static quantization: images fed exactly as the wrapped model feeds them.

:class:`ImageCalibrationReader` reads one image per ``get_next`` call and runs
the wrapper's own preprocessing graph on it (RGBA -> premultiplied RGB ->
antialiased Resize -> normalisation), so the ranges are measured on what the
bare model really sees in both runtimes.

Images are read by the project's one loader (:func:`segmentation.images.load_image`),
with its checks: :func:`pick_calibration_images` decodes each candidate once, as
the reader will, and leaves out (saying why, one line each) what is not a
readable image within the pixel limit (a decompression bomb, a folder called
``x.png``, a FIFO, a truncated file), so a bad file never stops a quantization
half-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from segmentation.conversion.wrapper import PIXELS, WRAPPER_OPSET, _pre_nodes
from segmentation.errors import ImageError
from segmentation.images import image_files, load_image
from segmentation.models.spec import ModelSpec

#: Long side calibration images are shrunk to before preprocessing (JPEG: decoded reduced).
CALIBRATION_MAX_SIDE = 1536


@dataclass(frozen=True)
class CalibrationImages:
    """Calibration images that the loader reads, and the candidates left out.

    Attributes
    ----------
    images : list of Path
        The usable images, in the order given.
    skipped : list of str
        One line per candidate left out: the loader's message (file and reason).

    """

    images: list[Path]
    skipped: list[str] = field(default_factory=list)


def pick_calibration_images(
    candidates: Iterable[Path], count: int, *, max_pixels: int | None = None
) -> CalibrationImages:
    """Return the first ``count`` candidates that decode, and why the others were left out.

    Each candidate is decoded once as :class:`ImageCalibrationReader` will
    decode it (``max_side`` :data:`CALIBRATION_MAX_SIDE`, pixel limit
    ``max_pixels``); candidates after the ``count``-th usable one are not read.
    """
    if count < 1:
        raise ValueError(f"the number of calibration images must be at least 1, got {count}")
    picked = CalibrationImages([])
    for path in candidates:
        if len(picked.images) == count:
            break
        try:
            load_image(path, max_side=CALIBRATION_MAX_SIDE, max_pixels=max_pixels)
        except ImageError as exc:
            picked.skipped.append(str(exc))
            continue
        picked.images.append(Path(path))
    return picked


def calibration_folder(
    folder: Path, count: int, *, max_pixels: int | None = None, last: bool = False
) -> CalibrationImages:
    """Pick ``count`` usable images among the image files of ``folder`` (sorted by name).

    Only regular files named like images are candidates (see
    :func:`segmentation.images.image_files`); ``last`` takes them from the end.

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a folder.
    ValueError
        No candidate is a usable image (the message says why the first were left out).

    """
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"calibration folder {folder} {what}")
    files = image_files(folder)
    picked = pick_calibration_images(
        reversed(files) if last else files, count, max_pixels=max_pixels
    )
    if not picked.images:
        why = f": {'; '.join(picked.skipped[:3])}" if picked.skipped else ""
        raise ValueError(f"calibration folder {folder} holds no usable images{why}")
    if last:
        picked.images.reverse()
    return picked


def preprocess_model(spec: ModelSpec, size: tuple[int, int]) -> onnx.ModelProto:
    """Build the wrapper's preprocessing alone: ``pixels`` uint8 [H, W, 4] -> model input."""
    fed = replace(spec, input_size=size)
    graph = helper.make_graph(
        _pre_nodes(fed),
        "pixel-liberation/preprocess",
        [helper.make_tensor_value_info(PIXELS, TensorProto.UINT8, ["height", "width", 4])],
        [helper.make_tensor_value_info(spec.input_name, TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", WRAPPER_OPSET)])


class ImageCalibrationReader:
    """A ``CalibrationDataReader`` that preprocesses one image per ``get_next`` call.

    Parameters
    ----------
    spec : ModelSpec
        How the model is fed (input name, normalisation).
    size : tuple of int
        Model input ``(height, width)``.
    images : sequence of Path
        Calibration images; each is read only when it is needed.
    max_pixels : int, optional
        Pixel limit of :func:`~segmentation.images.load_image` (default: its own).

    """

    def __init__(
        self,
        spec: ModelSpec,
        size: tuple[int, int],
        images: Sequence[Path],
        max_pixels: int | None = None,
    ) -> None:
        import onnxruntime as ort

        if not images:
            raise ValueError("static quantization needs at least one calibration image")
        self._pre = ort.InferenceSession(
            preprocess_model(spec, size).SerializeToString(), providers=["CPUExecutionProvider"]
        )
        self._images = list(images)
        self._max_pixels = max_pixels
        self._input = spec.input_name
        self._start, self._end, self._pos = 0, len(self._images), 0

    def __len__(self) -> int:
        return len(self._images)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Restrict the reader to ``images[start_index:end_index]`` (strided calibration)."""
        self._start, self._end = start_index, min(end_index, len(self._images))
        self._pos = self._start

    def get_next(self) -> dict[str, np.ndarray] | None:
        """Return the next preprocessed image, or None when the range is exhausted."""
        if self._pos >= self._end:
            return None
        path = self._images[self._pos]
        rgba = load_image(path, max_side=CALIBRATION_MAX_SIDE, max_pixels=self._max_pixels).pixels
        self._pos += 1
        (x,) = self._pre.run(None, {PIXELS: rgba})
        return {self._input: x}

    def rewind(self) -> None:
        """Start over at the beginning of the current range."""
        self._pos = self._start
