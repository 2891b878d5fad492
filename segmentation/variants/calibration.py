"""Calibration data for static quantization: images fed exactly as the wrapped model feeds them.

:class:`ImageCalibrationReader` reads one image per ``get_next`` call and runs
the wrapper's own preprocessing graph on it (RGBA -> premultiplied RGB ->
antialiased Resize -> normalisation), so the ranges are measured on what the
bare model really sees in both runtimes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from segmentation.images import load_image
from segmentation.models.spec import ModelSpec
from segmentation.variants.wrapper import PIXELS, WRAPPER_OPSET, _pre_nodes


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

    """

    def __init__(self, spec: ModelSpec, size: tuple[int, int], images: Sequence[Path]) -> None:
        import onnxruntime as ort

        if not images:
            raise ValueError("static quantization needs at least one calibration image")
        self._pre = ort.InferenceSession(
            preprocess_model(spec, size).SerializeToString(), providers=["CPUExecutionProvider"]
        )
        self._images = list(images)
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
        rgba = load_image(self._images[self._pos], max_side=1536).pixels
        self._pos += 1
        (x,) = self._pre.run(None, {PIXELS: rgba})
        return {self._input: x}

    def rewind(self) -> None:
        """Start over at the beginning of the current range."""
        self._pos = self._start
