"""Your own model for the command line: a JSON file naming the ONNX file and how to feed it.

::

    {"path": "my-model.onnx", "name": "my-model", "input_size": [320, 320],
     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "activation": "sigmoid"}

``path`` (relative paths start at the JSON file's folder) and ``name`` are
required; every other key is a :class:`~segmentation.models.spec.ModelSpec`
field (``precision`` defaults to ``"custom"``). Unknown keys are refused, so a
typo does not silently change the masks. :func:`read_spec_file` returns the
file and the spec, for :meth:`~segmentation.models.registry.Registry.register_file`.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from segmentation.errors import SegmentationError
from segmentation.models.spec import ModelSpec

_TUPLES = ("input_size", "mean", "std")
_SETTABLE = tuple(f.name for f in fields(ModelSpec) if f.name not in ("sources", "online_only"))


def read_spec_file(path: str | Path) -> tuple[Path, ModelSpec]:
    """Return ``(onnx_file, spec)`` described by a JSON spec file.

    Raises
    ------
    SegmentationError
        The file is missing or not JSON, ``path`` or ``name`` is missing, a key
        is unknown or a value has the wrong type.

    """
    spec_path = Path(path).expanduser()
    try:
        data: Any = json.loads(spec_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SegmentationError(f"model spec {spec_path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SegmentationError(f"model spec {spec_path}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise SegmentationError(f"model spec {spec_path}: expected a JSON object")
    unknown = sorted(set(data) - {"path", *_SETTABLE})
    if unknown:
        raise SegmentationError(
            f"model spec {spec_path}: unknown keys {unknown}; known: path, {', '.join(_SETTABLE)}"
        )
    for key in ("path", "name"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise SegmentationError(f"model spec {spec_path}: {key!r} (a string) is required")
    model_file = Path(data.pop("path")).expanduser()
    if not model_file.is_absolute():
        model_file = spec_path.parent / model_file
    for key in _TUPLES:
        if key in data:
            if not isinstance(data[key], list):
                raise SegmentationError(f"model spec {spec_path}: {key!r} must be a list")
            data[key] = tuple(data[key])
    data.setdefault("precision", "custom")
    try:
        spec = ModelSpec(sources=(), **data)
    except TypeError as exc:
        raise SegmentationError(f"model spec {spec_path}: {exc}") from None
    return model_file, spec
